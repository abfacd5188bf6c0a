import COpenBLAS

/// Throws unless n ≥ 0 and ld ≥ max(1, n).
func checkDenseShape(dimension n: Int, ld: Int) throws {
    if n < 0 { throw SolverError.invalidArgument(name: "dimension", value: "\(n)", expected: "at least 0") }
    if ld < max(1, n) { throw SolverError.invalidArgument(name: "ld", value: "\(ld)", expected: "at least max(1, dimension) = \(max(1, n))") }
}

/// A dense symmetric matrix (row-major n × n at `a`, leading dimension `ld`) as an operator,
/// applied by the project's SIMD matrix-vector product: four rows at a time against each vector
/// of x, two accumulators per row, rows split across threads for large n.
///
/// The operator keeps the pointer, not a copy: the caller keeps the matrix alive and unchanged
/// while the operator is used. Symmetry is the caller's promise (CG needs it; the product uses
/// every element of A).
///
/// - Complexity: `apply` 2n² flops, n² + 2n values streamed.
/// - Error: each yᵢ is a sum of n products with fused multiply-adds,
///   |ŷ − y| ≤ γ_n·|A||x| elementwise.
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
        Scalar.solverDenseProduct(matrix, ld: ld, n: dimension, x: x, into: y, threads: threads)
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

/// y ← A·x for row-major A (n × n, leading dimension ld).
func denseProduct<T: SolverScalar>(_ a: UnsafePointer<T>, ld: Int, n: Int, x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, threads: Int) {
    let rowGroups = (n + 3) / 4
    let parts = max(1, min(threads, rowGroups, n * n / minimumMatrixElementsPerThread))
    parallelFor(parts) { part in
        let (firstGroup, endGroup) = share(of: rowGroups, part: part, parts: parts)
        var i = 4 * firstGroup
        let end = min(n, 4 * endGroup)
        while i + 4 <= end {
            denseFourRows(a + i * ld, ld: ld, n: n, x: x, into: y + i)
            i += 4
        }
        while i < end {
            y[i] = denseRow(a + i * ld, n: n, x: x)
            i += 1
        }
    }
}

/// y[0..<4] ← four rows of A (at `rows`, `ld` apart) times x: each vector of x loaded once for
/// the four rows, two accumulators per row (eight independent FMA chains).
@inline(__always)
func denseFourRows<T: SolverScalar>(_ rows: UnsafePointer<T>, ld: Int, n: Int, x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>) {
    let width = T.Vector.scalarCount
    let (row0, row1, row2, row3) = (rows, rows + ld, rows + 2 * ld, rows + 3 * ld)
    var a0 = T.Vector(), a1 = T.Vector(), a2 = T.Vector(), a3 = T.Vector()
    var b0 = T.Vector(), b1 = T.Vector(), b2 = T.Vector(), b3 = T.Vector()
    var j = 0
    while j + 2 * width <= n {
        let x0: T.Vector = loadVector(x + j), x1: T.Vector = loadVector(x + j + width)
        a0 = a0.addingProduct(loadVector(row0 + j), x0); b0 = b0.addingProduct(loadVector(row0 + j + width), x1)
        a1 = a1.addingProduct(loadVector(row1 + j), x0); b1 = b1.addingProduct(loadVector(row1 + j + width), x1)
        a2 = a2.addingProduct(loadVector(row2 + j), x0); b2 = b2.addingProduct(loadVector(row2 + j + width), x1)
        a3 = a3.addingProduct(loadVector(row3 + j), x0); b3 = b3.addingProduct(loadVector(row3 + j + width), x1)
        j += 2 * width
    }
    if j + width <= n {
        let x0: T.Vector = loadVector(x + j)
        a0 = a0.addingProduct(loadVector(row0 + j), x0)
        a1 = a1.addingProduct(loadVector(row1 + j), x0)
        a2 = a2.addingProduct(loadVector(row2 + j), x0)
        a3 = a3.addingProduct(loadVector(row3 + j), x0)
        j += width
    }
    var s0 = (a0 + b0).sum(), s1 = (a1 + b1).sum(), s2 = (a2 + b2).sum(), s3 = (a3 + b3).sum()
    while j < n {
        let xj = x[j]
        s0 = s0.addingProduct(row0[j], xj); s1 = s1.addingProduct(row1[j], xj)
        s2 = s2.addingProduct(row2[j], xj); s3 = s3.addingProduct(row3[j], xj)
        j += 1
    }
    y[0] = s0; y[1] = s1; y[2] = s2; y[3] = s3
}

/// One row of A times x.
@inline(__always)
func denseRow<T: SolverScalar>(_ row: UnsafePointer<T>, n: Int, x: UnsafePointer<T>) -> T {
    let width = T.Vector.scalarCount
    var sum = T.Vector()
    var j = 0
    while j + width <= n {
        sum = sum.addingProduct(loadVector(row + j), loadVector(x + j))
        j += width
    }
    var total = sum.sum()
    while j < n {
        total = total.addingProduct(row[j], x[j])
        j += 1
    }
    return total
}
