/// A (possibly truncated) singular value decomposition A ≈ U·diag(s)·Vᵀ of an m × n matrix.
///
/// Row-major: `u` is m × rank, `vt` is rank × n, `singularValues` descending. Signs are normalized
/// so that the largest-magnitude entry of each column of U is positive (the SVD determines
/// each singular pair only up to a common sign).
public struct SVDResult<T: BinaryFloatingPoint & Sendable>: Sendable {
    public let m: Int, n: Int, rank: Int
    public var u: [T]
    public var singularValues: [T]
    public var vt: [T]

    public init(m: Int, n: Int, rank: Int, u: [T], singularValues: [T], vt: [T]) {
        precondition(u.count == m * rank && singularValues.count == rank && vt.count == rank * n,
                     "SVDResult: factor sizes do not match \(m) × \(n), rank \(rank)")
        self.m = m
        self.n = n
        self.rank = rank
        self.u = u
        self.singularValues = singularValues
        self.vt = vt
    }

    /// Flips singular pairs so that the largest-magnitude entry of each column of U is positive.
    /// O((m + n)·rank).
    public mutating func normalizeSigns() {
        for j in 0..<rank {
            var largest = T.zero
            for i in 0..<m where abs(u[i * rank + j]) > abs(largest) { largest = u[i * rank + j] }
            if largest < 0 {
                for i in 0..<m { u[i * rank + j] = -u[i * rank + j] }
                for i in 0..<n { vt[j * n + i] = -vt[j * n + i] }
            }
        }
    }

    /// The first `r` singular triplets.
    public func truncated(to r: Int) -> SVDResult {
        precondition(r >= 0 && r <= rank, "truncated(to: \(r)) of a rank-\(rank) SVD")
        var uTruncated = [T](repeating: 0, count: m * r)
        for i in 0..<m { for j in 0..<r { uTruncated[i * r + j] = u[i * rank + j] } }
        return SVDResult(m: m, n: n, rank: r, u: uTruncated, singularValues: Array(singularValues[0..<r]),
                         vt: Array(vt[0..<(r * n)]))
    }
}

/// The `lapack` variant: thin SVD by LAPACK's ?gesdd (divide and conquer), falling back to
/// ?gesvd (QR iteration) when ?gesdd reports that it did not converge.
///
/// - Complexity: O(m·n·min(m, n)) flops, O(m·n) extra memory.
/// - Error: backward stable: the computed factors are the exact SVD of A + E with
///   ‖E‖ ≤ p(m, n)·u·‖A‖ for a modest p; U and V are orthonormal to p(m, n)·u.
/// - Throws: `LAPACKError` when both routines fail or an argument is illegal.
public func lapackSVD<T: SVDScalar>(_ a: UnsafePointer<T>, m: Int, n: Int, threads: Int = 1) throws -> SVDResult<T> {
    try T.lapackSVDEntry(a, m: m, n: n, threads: threads)
}

func runLAPACKSVD<T: SVDScalar>(_ a: UnsafePointer<T>, m: Int, n: Int, threads: Int) throws -> SVDResult<T> {
    if m < 0 || n < 0 { fatalError("lapackSVD: negative dimension \(m) × \(n)") }
    let k = min(m, n)
    if k == 0 { return SVDResult(m: m, n: n, rank: 0, u: [], singularValues: [], vt: []) }
    var work = Array(UnsafeBufferPointer(start: a, count: m * n))
    var s = [T](repeating: 0, count: k), u = [T](repeating: 0, count: m * k), vt = [T](repeating: 0, count: k * n)
    var info = T.gesdd(m: m, n: n, a: &work, s: &s, u: &u, vt: &vt, threads: threads)
    if info > 0 {
        // ?gesdd's divide and conquer did not converge: ?gesvd's QR iteration on a fresh copy.
        work = Array(UnsafeBufferPointer(start: a, count: m * n))
        info = T.gesvd(m: m, n: n, a: &work, s: &s, u: &u, vt: &vt, threads: threads)
        if info != 0 { throw LAPACKError(routine: T.self == Float.self ? "sgesvd" : "dgesvd", info: info) }
    } else if info < 0 {
        throw LAPACKError(routine: T.self == Float.self ? "sgesdd" : "dgesdd", info: info)
    }
    var result = SVDResult(m: m, n: n, rank: k, u: u, singularValues: s, vt: vt)
    result.normalizeSigns()
    return result
}
