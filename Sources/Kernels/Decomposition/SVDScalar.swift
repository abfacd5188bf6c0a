import CLAPACKE

/// A LAPACK routine reported failure. `info` is LAPACK's: negative for an illegal argument
/// (−info is its position), positive for a numerical failure (for ?gesdd/?gesvd: that many
/// superdiagonals of an intermediate bidiagonal form did not converge).
public struct LAPACKError: Error, CustomStringConvertible, Equatable {
    public let routine: String
    public let info: Int

    public var description: String {
        info < 0
            ? "\(routine): argument \(-info) had an illegal value"
            : "\(routine): did not converge (info=\(info))"
    }

    /// Throws unless `info` is zero.
    static func check(_ routine: String, _ info: Int32) throws {
        if info != 0 { throw LAPACKError(routine: routine, info: Int(info)) }
    }
}

/// A type the decomposition family serves: the GEMM engine's types, plus LAPACK's routines for
/// them (LAPACKE) and entry points compiled for the type (see `GEMMScalar`).
public protocol SVDScalar: GEMMScalar {
    // LAPACK is column-major; a row-major m × n matrix is the column-major n × m matrix Aᵀ. The
    // SVD and eigenvalue wrappers call LAPACKE in column-major layout on that transpose, which
    // spares the copies LAPACKE's row-major layout makes (measured: the SVD of the 32 × 1024
    // sketch took 0.49 ms this way against 1.28 ms through the row-major layout).

    /// ?gesdd, thin (`jobz = 'S'`), on row-major A (m × n) = U (m × k) Σ Vᵀ (k × n), k = min(m, n),
    /// all row-major. A is destroyed. Returns LAPACK's info.
    static func gesdd(m: Int, n: Int, a: UnsafeMutablePointer<Self>, s: UnsafeMutablePointer<Self>,
                      u: UnsafeMutablePointer<Self>, vt: UnsafeMutablePointer<Self>) -> Int
    /// ?gesvd, thin (`jobu = jobvt = 'S'`), same layout as `gesdd`. A is destroyed.
    static func gesvd(m: Int, n: Int, a: UnsafeMutablePointer<Self>, s: UnsafeMutablePointer<Self>,
                      u: UnsafeMutablePointer<Self>, vt: UnsafeMutablePointer<Self>) -> Int
    /// Overwrites row-major A (m × n, m ≥ n) with the n orthonormal columns of its Householder
    /// QR factorization (?geqrf, ?orgqr). Here LAPACKE's row-major layout is used on purpose:
    /// measured on 1024 × 32, its copy to a tall column-major matrix made the QR 2.5× faster
    /// than ?gelqf/?orglq on the short-wide transpose (0.36 ms against 0.92 ms).
    static func orthonormalize(m: Int, n: Int, a: UnsafeMutablePointer<Self>) throws
    /// ?syevr for eigenvalues `first...last` (1-based, ascending) of the symmetric n × n matrix A
    /// (one triangle read, A destroyed). Writes them ascending to `w` (which must hold n values,
    /// as LAPACK requires) and their eigenvectors as the rows of `z` (count × n, row-major).
    static func syevr(n: Int, a: UnsafeMutablePointer<Self>, first: Int, last: Int,
                      w: UnsafeMutablePointer<Self>, z: UnsafeMutablePointer<Self>) -> Int

    static func lapackSVDEntry(_ a: UnsafePointer<Self>, m: Int, n: Int, threads: Int) throws -> SVDResult<Self>
    static func randomizedSVDEntry(_ a: UnsafePointer<Self>, m: Int, n: Int, options: RandomizedSVDOptions, threads: Int) throws -> SVDResult<Self>
    static func gramSVDEntry(_ a: UnsafePointer<Self>, m: Int, n: Int, rank: Int, threads: Int) throws -> SVDResult<Self>
}

extension Float: SVDScalar {
    public static func gesdd(m: Int, n: Int, a: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>,
                             u: UnsafeMutablePointer<Float>, vt: UnsafeMutablePointer<Float>) -> Int {
        let k = min(m, n)
        if m > n {
            // Tall: LAPACKE's row-major layout copies A into a tall column-major matrix, which
            // ?gesdd reduces by QR (measured 0.9 s against 1.4 s for the wide transpose's LQ
            // path on a 30522 × 384 delta).
            return Int(LAPACKE_sgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), a, Int32(max(1, n)),
                                      s, u, Int32(max(1, k)), vt, Int32(max(1, n))))
        }
        // Wide or square: Aᵀ (n × m, column-major) = U'ΣV'ᵀ, so U = V' and Vᵀ = U'ᵀ: the
        // column-major V'ᵀ (k × m) is the row-major U, and the column-major U' (n × k) is the
        // row-major Vᵀ. No copy.
        return Int(LAPACKE_sgesdd(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "S")), Int32(n), Int32(m), a, Int32(max(1, n)),
                                  s, vt, Int32(max(1, n)), u, Int32(max(1, k))))
    }

    public static func gesvd(m: Int, n: Int, a: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>,
                             u: UnsafeMutablePointer<Float>, vt: UnsafeMutablePointer<Float>) -> Int {
        let k = min(m, n)
        var superb = [Float](repeating: 0, count: max(1, k - 1))
        return Int(LAPACKE_sgesvd(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "S")), CChar(UInt8(ascii: "S")), Int32(n), Int32(m),
                                  a, Int32(max(1, n)), s, vt, Int32(max(1, n)), u, Int32(max(1, k)), &superb))
    }

    public static func orthonormalize(m: Int, n: Int, a: UnsafeMutablePointer<Float>) throws {
        var tau = [Float](repeating: 0, count: max(1, n))
        try LAPACKError.check("sgeqrf", LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), a, Int32(max(1, n)), &tau))
        try LAPACKError.check("sorgqr", LAPACKE_sorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(n), a, Int32(max(1, n)), &tau))
    }

    public static func syevr(n: Int, a: UnsafeMutablePointer<Float>, first: Int, last: Int,
                             w: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>) -> Int {
        // Column-major, lower triangle (the row-major upper one); Z, column-major n × count, is
        // row-major count × n: eigenvectors as rows.
        var found: Int32 = 0
        var support = [Int32](repeating: 0, count: 2 * max(1, n))
        return Int(LAPACKE_ssyevr(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "I")), CChar(UInt8(ascii: "L")),
                                  Int32(n), a, Int32(max(1, n)), 0, 0, Int32(first), Int32(last), 0,
                                  &found, w, z, Int32(max(1, n)), &support))
    }

    public static func lapackSVDEntry(_ a: UnsafePointer<Float>, m: Int, n: Int, threads: Int) throws -> SVDResult<Float> {
        try runLAPACKSVD(a, m: m, n: n, threads: threads)
    }
    public static func randomizedSVDEntry(_ a: UnsafePointer<Float>, m: Int, n: Int, options: RandomizedSVDOptions, threads: Int) throws -> SVDResult<Float> {
        try runRandomizedSVD(a, m: m, n: n, options: options, threads: threads)
    }
    public static func gramSVDEntry(_ a: UnsafePointer<Float>, m: Int, n: Int, rank: Int, threads: Int) throws -> SVDResult<Float> {
        try runGramSVD(a, m: m, n: n, rank: rank, threads: threads)
    }
}

extension Double: SVDScalar {
    public static func gesdd(m: Int, n: Int, a: UnsafeMutablePointer<Double>, s: UnsafeMutablePointer<Double>,
                             u: UnsafeMutablePointer<Double>, vt: UnsafeMutablePointer<Double>) -> Int {
        let k = min(m, n)
        if m > n {
            // Tall: LAPACKE's row-major layout copies A into a tall column-major matrix, which
            // ?gesdd reduces by QR (measured 0.9 s against 1.4 s for the wide transpose's LQ
            // path on a 30522 × 384 delta).
            return Int(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), a, Int32(max(1, n)),
                                      s, u, Int32(max(1, k)), vt, Int32(max(1, n))))
        }
        // Wide or square: Aᵀ (n × m, column-major) = U'ΣV'ᵀ, so U = V' and Vᵀ = U'ᵀ: the
        // column-major V'ᵀ (k × m) is the row-major U, and the column-major U' (n × k) is the
        // row-major Vᵀ. No copy.
        return Int(LAPACKE_dgesdd(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "S")), Int32(n), Int32(m), a, Int32(max(1, n)),
                                  s, vt, Int32(max(1, n)), u, Int32(max(1, k))))
    }

    public static func gesvd(m: Int, n: Int, a: UnsafeMutablePointer<Double>, s: UnsafeMutablePointer<Double>,
                             u: UnsafeMutablePointer<Double>, vt: UnsafeMutablePointer<Double>) -> Int {
        let k = min(m, n)
        var superb = [Double](repeating: 0, count: max(1, k - 1))
        return Int(LAPACKE_dgesvd(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "S")), CChar(UInt8(ascii: "S")), Int32(n), Int32(m),
                                  a, Int32(max(1, n)), s, vt, Int32(max(1, n)), u, Int32(max(1, k)), &superb))
    }

    public static func orthonormalize(m: Int, n: Int, a: UnsafeMutablePointer<Double>) throws {
        var tau = [Double](repeating: 0, count: max(1, n))
        try LAPACKError.check("dgeqrf", LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), a, Int32(max(1, n)), &tau))
        try LAPACKError.check("dorgqr", LAPACKE_dorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(n), a, Int32(max(1, n)), &tau))
    }

    public static func syevr(n: Int, a: UnsafeMutablePointer<Double>, first: Int, last: Int,
                             w: UnsafeMutablePointer<Double>, z: UnsafeMutablePointer<Double>) -> Int {
        // Column-major, lower triangle (the row-major upper one); Z, column-major n × count, is
        // row-major count × n: eigenvectors as rows.
        var found: Int32 = 0
        var support = [Int32](repeating: 0, count: 2 * max(1, n))
        return Int(LAPACKE_dsyevr(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "I")), CChar(UInt8(ascii: "L")),
                                  Int32(n), a, Int32(max(1, n)), 0, 0, Int32(first), Int32(last), 0,
                                  &found, w, z, Int32(max(1, n)), &support))
    }

    public static func lapackSVDEntry(_ a: UnsafePointer<Double>, m: Int, n: Int, threads: Int) throws -> SVDResult<Double> {
        try runLAPACKSVD(a, m: m, n: n, threads: threads)
    }
    public static func randomizedSVDEntry(_ a: UnsafePointer<Double>, m: Int, n: Int, options: RandomizedSVDOptions, threads: Int) throws -> SVDResult<Double> {
        try runRandomizedSVD(a, m: m, n: n, options: options, threads: threads)
    }
    public static func gramSVDEntry(_ a: UnsafePointer<Double>, m: Int, n: Int, rank: Int, threads: Int) throws -> SVDResult<Double> {
        try runGramSVD(a, m: m, n: n, rank: rank, threads: threads)
    }
}
