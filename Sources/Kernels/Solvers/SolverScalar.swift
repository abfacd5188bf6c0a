import COpenBLAS

/// OpenBLAS's level-1 and level-2 routines for one element type (`cblas_s…` or `cblas_d…`), in
/// the table pattern of `LAPACKRoutines`, so that the BLAS peer of conjugate gradient is
/// written once for both types.
public struct BLASVectorRoutines<T> {
    let gemv: (CBLAS_ORDER, CBLAS_TRANSPOSE, blasint, blasint, T, UnsafePointer<T>?, blasint,
               UnsafePointer<T>?, blasint, T, UnsafeMutablePointer<T>?, blasint) -> Void
    let axpy: (blasint, T, UnsafePointer<T>?, blasint, UnsafeMutablePointer<T>?, blasint) -> Void
    let axpby: (blasint, T, UnsafePointer<T>?, blasint, T, UnsafeMutablePointer<T>?, blasint) -> Void
    let dot: (blasint, UnsafePointer<T>?, blasint, UnsafePointer<T>?, blasint) -> T
}

/// A type the solvers family serves: the decomposition family's types (GEMM engine, LAPACK
/// table, to which `?posv` belongs), OpenBLAS's vector routines, and the solvers' loops compiled
/// for the type.
///
/// The `solver…` requirements are entry points, as in `GEMMScalar`: the generic operators and
/// the conjugate-gradient driver forward every O(n) loop here, so that a caller in another module
/// (or a generic caller) runs code specialized for Float or Double. Only O(1) work per iteration
/// (scalar recurrences, the stopping test) runs generically. Callers use the public operators
/// and functions instead of these.
public protocol SolverScalar: SVDScalar {
    static var blasVector: BLASVectorRoutines<Self> { get }

    static func solverDot(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, count: Int, threads: Int) -> Double
    static func solverDirection(_ z: UnsafePointer<Self>, beta: Self, direction p: UnsafeMutablePointer<Self>, count: Int, threads: Int)
    static func solverUpdate(alpha: Self, direction p: UnsafePointer<Self>, product q: UnsafePointer<Self>,
                             solution x: UnsafeMutablePointer<Self>, residual r: UnsafeMutablePointer<Self>, count: Int, threads: Int) -> Double
    static func solverResidual(_ b: UnsafePointer<Self>, product q: UnsafePointer<Self>, residual r: UnsafeMutablePointer<Self>, count: Int, threads: Int) -> Double
    static func solverDiagonalScale(_ r: UnsafePointer<Self>, by d: UnsafePointer<Self>, into z: UnsafeMutablePointer<Self>, count: Int, threads: Int) -> Double

    static func solverDenseProduct(_ a: UnsafePointer<Self>, ld: Int, n: Int, x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, threads: Int)

    static func solverStencilProduct(_ grid: PoissonGrid, _ p: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, threads: Int)
    static func solverStencilDirection(_ grid: PoissonGrid, _ z: UnsafePointer<Self>, beta: Self, direction p: UnsafeMutablePointer<Self>, threads: Int) -> Double
    static func solverStencilUpdate(_ grid: PoissonGrid, alpha: Self, direction p: UnsafePointer<Self>,
                                    solution x: UnsafeMutablePointer<Self>, residual r: UnsafeMutablePointer<Self>, threads: Int) -> Double
    static func solverStencilSSOR(_ grid: PoissonGrid, omega: Self, _ r: UnsafePointer<Self>, into z: UnsafeMutablePointer<Self>) -> Double

    static func solverSparseProduct(_ matrix: CSRMatrix<Self>, _ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, threads: Int)
}

extension SolverScalar {
    public static func solverDot(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, count: Int, threads: Int) -> Double {
        vectorDot(x, y, count: count, threads: threads)
    }
    public static func solverDirection(_ z: UnsafePointer<Self>, beta: Self, direction p: UnsafeMutablePointer<Self>, count: Int, threads: Int) {
        vectorDirection(z, beta: beta, direction: p, count: count, threads: threads)
    }
    public static func solverUpdate(alpha: Self, direction p: UnsafePointer<Self>, product q: UnsafePointer<Self>,
                                    solution x: UnsafeMutablePointer<Self>, residual r: UnsafeMutablePointer<Self>, count: Int, threads: Int) -> Double {
        vectorUpdate(alpha: alpha, direction: p, product: q, solution: x, residual: r, count: count, threads: threads)
    }
    public static func solverResidual(_ b: UnsafePointer<Self>, product q: UnsafePointer<Self>, residual r: UnsafeMutablePointer<Self>, count: Int, threads: Int) -> Double {
        vectorResidual(b, product: q, residual: r, count: count, threads: threads)
    }
    public static func solverDiagonalScale(_ r: UnsafePointer<Self>, by d: UnsafePointer<Self>, into z: UnsafeMutablePointer<Self>, count: Int, threads: Int) -> Double {
        vectorDiagonalScale(r, by: d, into: z, count: count, threads: threads)
    }
    public static func solverDenseProduct(_ a: UnsafePointer<Self>, ld: Int, n: Int, x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, threads: Int) {
        denseProduct(a, ld: ld, n: n, x: x, into: y, threads: threads)
    }
    public static func solverStencilProduct(_ grid: PoissonGrid, _ p: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, threads: Int) {
        stencilProduct(grid, p, into: y, threads: threads)
    }
    public static func solverStencilDirection(_ grid: PoissonGrid, _ z: UnsafePointer<Self>, beta: Self, direction p: UnsafeMutablePointer<Self>, threads: Int) -> Double {
        stencilDirection(grid, z, beta: beta, direction: p, threads: threads)
    }
    public static func solverStencilUpdate(_ grid: PoissonGrid, alpha: Self, direction p: UnsafePointer<Self>,
                                           solution x: UnsafeMutablePointer<Self>, residual r: UnsafeMutablePointer<Self>, threads: Int) -> Double {
        stencilUpdate(grid, alpha: alpha, direction: p, solution: x, residual: r, threads: threads)
    }
    public static func solverStencilSSOR(_ grid: PoissonGrid, omega: Self, _ r: UnsafePointer<Self>, into z: UnsafeMutablePointer<Self>) -> Double {
        stencilSSOR(grid, omega: omega, r, into: z)
    }
    public static func solverSparseProduct(_ matrix: CSRMatrix<Self>, _ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, threads: Int) {
        sparseProduct(matrix, x, into: y, threads: threads)
    }
}

extension Float: SolverScalar {
    public static var blasVector: BLASVectorRoutines<Float> {
        BLASVectorRoutines(gemv: cblas_sgemv, axpy: cblas_saxpy, axpby: cblas_saxpby, dot: cblas_sdot)
    }
}

extension Double: SolverScalar {
    public static var blasVector: BLASVectorRoutines<Double> {
        BLASVectorRoutines(gemv: cblas_dgemv, axpy: cblas_daxpy, axpby: cblas_daxpby, dot: cblas_ddot)
    }
}
