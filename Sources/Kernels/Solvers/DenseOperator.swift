import COpenBLAS

/// Throws unless n ≥ 0 and ld ≥ max(1, n).
func checkDenseShape(dimension n: Int, ld: Int) throws {
    if n < 0 { throw SolverError.invalidArgument(name: "dimension", value: "\(n)", expected: "at least 0") }
    if ld < max(1, n) { throw SolverError.invalidArgument(name: "ld", value: "\(ld)", expected: "at least max(1, dimension) = \(max(1, n))") }
}

/// A dense symmetric matrix (row-major n × n at `a`, leading dimension `ld`) as an operator,
/// applied by the project's SIMD symmetric matrix-vector product (`symmetricProduct`): only the
/// upper triangle is read, each row once, as a dot product and an axpy, four rows at a time;
/// blocks of rows split across threads for large n.
///
/// Measured decision (n = 2000, Double, one thread): a SIMD GEMV over the whole matrix (four rows
/// per vector of x, eight FMA chains) took 1.05 ms, OpenBLAS's dgemv 1.2 ms; reading the upper
/// triangle only, 0.34 ms — half the bytes, and 16 MB stays in this machine's 32 MB L3 where
/// 32 MB does not.
///
/// The operator keeps the pointer, not a copy: the caller keeps the matrix alive and unchanged
/// while the operator is used. Symmetry is the caller's promise (CG needs it); the lower
/// triangle is never read.
///
/// - Complexity: `apply` 2n² flops, n²/2 + O(n) values streamed.
/// - Error: each yᵢ is a sum of n products with fused multiply-adds,
///   |ŷ − y| ≤ γ_{n+8}·|A||x| elementwise (see `symmetricProduct`).
public struct DenseSymmetricOperator<Scalar: SolverScalar>: LinearOperator {
    public let dimension: Int
    public let ld: Int
    public let matrix: UnsafePointer<Scalar>

    /// - Throws: `SolverError.invalidArgument` for n < 0 or ld < max(1, n).
    public init(_ matrix: UnsafePointer<Scalar>, dimension: Int, ld: Int) throws {
        try checkDenseShape(dimension: dimension, ld: ld)
        self.matrix = matrix
        self.dimension = dimension
        self.ld = ld
    }

    /// y ← A·x.
    public func apply(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, threads: Int) {
        Scalar.solverSymmetricProduct(matrix, ld: ld, n: dimension, x: x, into: y, threads: threads)
    }
}

/// The BLAS peer: conjugate gradient with every pass an OpenBLAS call, as SciPy's `cg` on a NumPy
/// matrix does it — `cblas_?gemv` for A·p, `?axpby` for p ← z + β·p, `?dot`, `?axpy` for the
/// updates of x and r — on `threads` OpenBLAS threads (`OpenBLAS.withThreads`).
///
/// Same pointer contract as `DenseSymmetricOperator`.
///
/// - Complexity: per iteration 2n² + 10n flops; the vector passes stream 11n values (unfused).
/// - Error: OpenBLAS's: each (A·x)ᵢ within γ_n·(|A||x|)ᵢ.
public struct BLASDenseOperator<Scalar: SolverScalar>: LinearOperator {
    /// The matrix: its pointer, dimension and leading dimension.
    public let matrix: DenseSymmetricOperator<Scalar>

    /// - Throws: `SolverError.invalidArgument` for n < 0, ld < max(1, n), or ld beyond BLAS's 32-bit sizes.
    public init(_ matrix: UnsafePointer<Scalar>, dimension: Int, ld: Int) throws {
        if ld > Int(Int32.max) { throw SolverError.invalidArgument(name: "ld", value: "\(ld)", expected: "at most \(Int32.max) (BLAS sizes)") }
        self.matrix = try DenseSymmetricOperator(matrix, dimension: dimension, ld: ld)
    }

    public var dimension: Int { matrix.dimension }

    private var count: blasint { blasint(dimension) }

    /// y ← A·x by `cblas_?gemv`, OpenBLAS's thread count already set.
    private func product(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>) {
        Scalar.blasVector.gemv(CblasRowMajor, CblasNoTrans, count, count, 1, matrix.matrix, blasint(matrix.ld), x, 1, 0, y, 1)
    }

    /// y ← A·x by `cblas_?gemv`.
    public func apply(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, threads: Int) {
        OpenBLAS.withThreads(threads) { product(x, into: y) }
    }

    /// p ← z + β·p (`?axpby`), q ← A·p (`?gemv`), pᵀq (`?dot`).
    public func conjugateGradientDirection(from z: UnsafePointer<Scalar>, beta: Scalar, direction p: UnsafeMutablePointer<Scalar>,
                                           product q: UnsafeMutablePointer<Scalar>, threads: Int) -> Double {
        OpenBLAS.withThreads(threads) {
            Scalar.blasVector.axpby(count, 1, z, 1, beta, p, 1)
            product(p, into: q)
            return Double(Scalar.blasVector.dot(count, p, 1, q, 1))
        }
    }

    /// x ← x + α·p, r ← r − α·q (`?axpy` twice), rᵀr (`?dot`).
    public func conjugateGradientUpdate(alpha: Scalar, direction p: UnsafePointer<Scalar>, product q: UnsafePointer<Scalar>,
                                        solution x: UnsafeMutablePointer<Scalar>, residual r: UnsafeMutablePointer<Scalar>, threads: Int) -> Double {
        OpenBLAS.withThreads(threads) {
            Scalar.blasVector.axpy(count, alpha, p, 1, x, 1)
            Scalar.blasVector.axpy(count, -alpha, q, 1, r, 1)
            return Double(Scalar.blasVector.dot(count, r, 1, r, 1))
        }
    }
}

/// Fewest matrix elements per thread of a dense product (2¹⁸: 2 MB of Double, about 100 µs).
let minimumMatrixElementsPerThread = 1 << 18
