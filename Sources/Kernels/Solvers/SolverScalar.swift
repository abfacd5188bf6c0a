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
///
/// Each type implements them itself, forwarding to the generic loop: measured, default
/// implementations in a protocol extension are not specialized when called statically from
/// another module (`Double.solverDot` from a test ran 250 ns per element, unspecialized).
public protocol SolverScalar: SVDScalar {
    /// `cblas_s…` or `cblas_d…`.
    static var blasVector: BLASVectorRoutines<Self> { get }

    /// xᵀy (`vectorDot`).
    static func solverDot(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, count: Int, threads: Int) -> Double
    /// p ← z + β·p (`vectorDirection`).
    static func solverDirection(_ z: UnsafePointer<Self>, beta: Self, direction p: UnsafeMutablePointer<Self>, count: Int, threads: Int)
    /// x ← x + α·p, r ← r − α·q, returns rᵀr (`vectorUpdate`).
    static func solverUpdate(alpha: Self, direction p: UnsafePointer<Self>, product q: UnsafePointer<Self>,
                             solution x: UnsafeMutablePointer<Self>, residual r: UnsafeMutablePointer<Self>, count: Int, threads: Int) -> Double
    /// r ← b − q, returns rᵀr (`vectorResidual`).
    static func solverResidual(_ b: UnsafePointer<Self>, product q: UnsafePointer<Self>, residual r: UnsafeMutablePointer<Self>, count: Int, threads: Int) -> Double
    /// z ← d ⊙ r, returns rᵀz (`vectorDiagonalScale`).
    static func solverDiagonalScale(_ r: UnsafePointer<Self>, by d: UnsafePointer<Self>, into z: UnsafeMutablePointer<Self>, count: Int, threads: Int) -> Double

    /// y ← A·x for a dense symmetric row-major matrix, from its upper triangle (`symmetricProduct`).
    static func solverSymmetricProduct(_ a: UnsafePointer<Self>, ld: Int, n: Int, x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, threads: Int)

    /// y ← A·p for the Poisson stencil (`stencilProduct`).
    static func solverStencilProduct(_ grid: PoissonGrid, _ p: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, threads: Int)
    /// The stencil's fused direction step (`stencilDirection`).
    static func solverStencilDirection(_ grid: PoissonGrid, _ z: UnsafePointer<Self>, beta: Self, direction p: UnsafeMutablePointer<Self>, threads: Int) -> Double
    /// The stencil's fused update step (`stencilUpdate`).
    static func solverStencilUpdate(_ grid: PoissonGrid, alpha: Self, direction p: UnsafePointer<Self>,
                                    solution x: UnsafeMutablePointer<Self>, residual r: UnsafeMutablePointer<Self>, threads: Int) -> Double
    /// z ← M_SSOR⁻¹·r, returns rᵀz (`stencilSSOR`).
    static func solverStencilSSOR(_ grid: PoissonGrid, omega: Self, _ r: UnsafePointer<Self>, into z: UnsafeMutablePointer<Self>) -> Double

    /// y ← A·x for a CSR matrix (`sparseProduct`).
    static func solverSparseProduct(_ matrix: CSRMatrix<Self>, _ x: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, threads: Int)
}

extension Float: SolverScalar {
    public static var blasVector: BLASVectorRoutines<Float> {
        BLASVectorRoutines(gemv: cblas_sgemv, axpy: cblas_saxpy, axpby: cblas_saxpby, dot: cblas_sdot)
    }

    public static func solverDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int, threads: Int) -> Double {
        vectorDot(x, y, count: count, threads: threads)
    }
    public static func solverDirection(_ z: UnsafePointer<Float>, beta: Float, direction p: UnsafeMutablePointer<Float>, count: Int, threads: Int) {
        vectorDirection(z, beta: beta, direction: p, count: count, threads: threads)
    }
    public static func solverUpdate(alpha: Float, direction p: UnsafePointer<Float>, product q: UnsafePointer<Float>,
                                    solution x: UnsafeMutablePointer<Float>, residual r: UnsafeMutablePointer<Float>, count: Int, threads: Int) -> Double {
        vectorUpdate(alpha: alpha, direction: p, product: q, solution: x, residual: r, count: count, threads: threads)
    }
    public static func solverResidual(_ b: UnsafePointer<Float>, product q: UnsafePointer<Float>, residual r: UnsafeMutablePointer<Float>, count: Int, threads: Int) -> Double {
        vectorResidual(b, product: q, residual: r, count: count, threads: threads)
    }
    public static func solverDiagonalScale(_ r: UnsafePointer<Float>, by d: UnsafePointer<Float>, into z: UnsafeMutablePointer<Float>, count: Int, threads: Int) -> Double {
        vectorDiagonalScale(r, by: d, into: z, count: count, threads: threads)
    }
    public static func solverSymmetricProduct(_ a: UnsafePointer<Float>, ld: Int, n: Int, x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, threads: Int) {
        symmetricProduct(a, ld: ld, n: n, x: x, into: y, threads: threads)
    }
    public static func solverStencilProduct(_ grid: PoissonGrid, _ p: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, threads: Int) {
        stencilProduct(grid, p, into: y, threads: threads)
    }
    public static func solverStencilDirection(_ grid: PoissonGrid, _ z: UnsafePointer<Float>, beta: Float, direction p: UnsafeMutablePointer<Float>, threads: Int) -> Double {
        stencilDirection(grid, z, beta: beta, direction: p, threads: threads)
    }
    public static func solverStencilUpdate(_ grid: PoissonGrid, alpha: Float, direction p: UnsafePointer<Float>,
                                           solution x: UnsafeMutablePointer<Float>, residual r: UnsafeMutablePointer<Float>, threads: Int) -> Double {
        stencilUpdate(grid, alpha: alpha, direction: p, solution: x, residual: r, threads: threads)
    }
    public static func solverStencilSSOR(_ grid: PoissonGrid, omega: Float, _ r: UnsafePointer<Float>, into z: UnsafeMutablePointer<Float>) -> Double {
        stencilSSOR(grid, omega: omega, r, into: z)
    }
    public static func solverSparseProduct(_ matrix: CSRMatrix<Float>, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, threads: Int) {
        sparseProduct(matrix, x, into: y, threads: threads)
    }
}

extension Double: SolverScalar {
    public static var blasVector: BLASVectorRoutines<Double> {
        BLASVectorRoutines(gemv: cblas_dgemv, axpy: cblas_daxpy, axpby: cblas_daxpby, dot: cblas_ddot)
    }

    public static func solverDot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, count: Int, threads: Int) -> Double {
        vectorDot(x, y, count: count, threads: threads)
    }
    public static func solverDirection(_ z: UnsafePointer<Double>, beta: Double, direction p: UnsafeMutablePointer<Double>, count: Int, threads: Int) {
        vectorDirection(z, beta: beta, direction: p, count: count, threads: threads)
    }
    public static func solverUpdate(alpha: Double, direction p: UnsafePointer<Double>, product q: UnsafePointer<Double>,
                                    solution x: UnsafeMutablePointer<Double>, residual r: UnsafeMutablePointer<Double>, count: Int, threads: Int) -> Double {
        vectorUpdate(alpha: alpha, direction: p, product: q, solution: x, residual: r, count: count, threads: threads)
    }
    public static func solverResidual(_ b: UnsafePointer<Double>, product q: UnsafePointer<Double>, residual r: UnsafeMutablePointer<Double>, count: Int, threads: Int) -> Double {
        vectorResidual(b, product: q, residual: r, count: count, threads: threads)
    }
    public static func solverDiagonalScale(_ r: UnsafePointer<Double>, by d: UnsafePointer<Double>, into z: UnsafeMutablePointer<Double>, count: Int, threads: Int) -> Double {
        vectorDiagonalScale(r, by: d, into: z, count: count, threads: threads)
    }
    public static func solverSymmetricProduct(_ a: UnsafePointer<Double>, ld: Int, n: Int, x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, threads: Int) {
        symmetricProduct(a, ld: ld, n: n, x: x, into: y, threads: threads)
    }
    public static func solverStencilProduct(_ grid: PoissonGrid, _ p: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, threads: Int) {
        stencilProduct(grid, p, into: y, threads: threads)
    }
    public static func solverStencilDirection(_ grid: PoissonGrid, _ z: UnsafePointer<Double>, beta: Double, direction p: UnsafeMutablePointer<Double>, threads: Int) -> Double {
        stencilDirection(grid, z, beta: beta, direction: p, threads: threads)
    }
    public static func solverStencilUpdate(_ grid: PoissonGrid, alpha: Double, direction p: UnsafePointer<Double>,
                                           solution x: UnsafeMutablePointer<Double>, residual r: UnsafeMutablePointer<Double>, threads: Int) -> Double {
        stencilUpdate(grid, alpha: alpha, direction: p, solution: x, residual: r, threads: threads)
    }
    public static func solverStencilSSOR(_ grid: PoissonGrid, omega: Double, _ r: UnsafePointer<Double>, into z: UnsafeMutablePointer<Double>) -> Double {
        stencilSSOR(grid, omega: omega, r, into: z)
    }
    public static func solverSparseProduct(_ matrix: CSRMatrix<Double>, _ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, threads: Int) {
        sparseProduct(matrix, x, into: y, threads: threads)
    }
}
