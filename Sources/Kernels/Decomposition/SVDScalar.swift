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

/// LAPACKE's routines for one element type (`LAPACKE_s…` or `LAPACKE_d…`), so that the logic
/// around them is written once.
public struct LAPACKRoutines<T> {
    public typealias Pointer = UnsafeMutablePointer<T>?
    let gesdd: (Int32, CChar, Int32, Int32, Pointer, Int32, Pointer, Pointer, Int32, Pointer, Int32) -> Int32
    let gesvd: (Int32, CChar, CChar, Int32, Int32, Pointer, Int32, Pointer, Pointer, Int32, Pointer, Int32, Pointer) -> Int32
    let geqrf: (Int32, Int32, Int32, Pointer, Int32, Pointer) -> Int32
    let orgqr: (Int32, Int32, Int32, Int32, Pointer, Int32, UnsafePointer<T>?) -> Int32
    let syevr: (Int32, CChar, CChar, CChar, Int32, Pointer, Int32, T, T, Int32, Int32, T,
                UnsafeMutablePointer<Int32>?, Pointer, Pointer, Int32, UnsafeMutablePointer<Int32>?) -> Int32
    let gesv: (Int32, Int32, Int32, Pointer, Int32, UnsafeMutablePointer<Int32>?, Pointer, Int32) -> Int32
    /// Cholesky solve of a symmetric positive definite system (used by the solvers family).
    let posv: (Int32, CChar, Int32, Int32, Pointer, Int32, Pointer, Int32) -> Int32
    /// The prefix of the routines' names in error messages: "s" or "d".
    let prefix: String
}

/// A type the decomposition family serves: the GEMM engine's types, plus LAPACK's routines for
/// them (LAPACKE) and entry points compiled for the type (see `GEMMScalar`).
public protocol SVDScalar: GEMMScalar {
    static var lapack: LAPACKRoutines<Self> { get }

    static func lapackSVDEntry(_ a: UnsafePointer<Self>, m: Int, n: Int, threads: Int) throws -> SVDResult<Self>
    static func randomizedSVDEntry(_ a: UnsafePointer<Self>, m: Int, n: Int, options: RandomizedSVDOptions, threads: Int) throws -> SVDResult<Self>
    static func gramSVDEntry(_ a: UnsafePointer<Self>, m: Int, n: Int, rank: Int, threads: Int) throws -> SVDResult<Self>
}

// LAPACK is column-major; a row-major m × n matrix is the column-major n × m matrix Aᵀ. The SVD
// and eigenvalue wrappers call LAPACKE in column-major layout on that transpose where that spares
// the copies LAPACKE's row-major layout makes (measured: the SVD of the 32 × 1024 sketch took
// 0.49 ms this way against 1.28 ms through the row-major layout).
extension SVDScalar {
    private static var jobS: CChar { CChar(UInt8(ascii: "S")) }

    /// ?gesdd, thin (`jobz = 'S'`), on row-major A (m × n) = U (m × k) Σ Vᵀ (k × n), k = min(m, n),
    /// all row-major. A is destroyed. Returns LAPACK's info.
    public static func gesdd(m: Int, n: Int, a: UnsafeMutablePointer<Self>, s: UnsafeMutablePointer<Self>,
                             u: UnsafeMutablePointer<Self>, vt: UnsafeMutablePointer<Self>, threads: Int = 1) -> Int {
        OpenBLAS.withThreads(threads) { gesddUnguarded(m: m, n: n, a: a, s: s, u: u, vt: vt) }
    }

    private static func gesddUnguarded(m: Int, n: Int, a: UnsafeMutablePointer<Self>, s: UnsafeMutablePointer<Self>,
                                       u: UnsafeMutablePointer<Self>, vt: UnsafeMutablePointer<Self>) -> Int {
        let k = min(m, n)
        if m > n {
            // Tall: LAPACKE's row-major layout copies A into a tall column-major matrix, which
            // ?gesdd reduces by QR (measured 0.9 s against 1.4 s for the wide transpose's LQ
            // path on a 30522 × 384 delta).
            return Int(lapack.gesdd(LAPACK_ROW_MAJOR, jobS, Int32(m), Int32(n), a, Int32(max(1, n)),
                                    s, u, Int32(max(1, k)), vt, Int32(max(1, n))))
        }
        // Wide or square: Aᵀ (n × m, column-major) = U'ΣV'ᵀ, so U = V' and Vᵀ = U'ᵀ: the
        // column-major V'ᵀ (k × m) is the row-major U, and the column-major U' (n × k) is the
        // row-major Vᵀ. No copy.
        return Int(lapack.gesdd(LAPACK_COL_MAJOR, jobS, Int32(n), Int32(m), a, Int32(max(1, n)),
                                s, vt, Int32(max(1, n)), u, Int32(max(1, k))))
    }

    /// ?gesvd, thin (`jobu = jobvt = 'S'`), same layout as `gesdd` (column-major on Aᵀ). A is
    /// destroyed.
    public static func gesvd(m: Int, n: Int, a: UnsafeMutablePointer<Self>, s: UnsafeMutablePointer<Self>,
                             u: UnsafeMutablePointer<Self>, vt: UnsafeMutablePointer<Self>, threads: Int = 1) -> Int {
        let k = min(m, n)
        var superb = [Self](repeating: 0, count: max(1, k - 1))
        return OpenBLAS.withThreads(threads) {
            Int(lapack.gesvd(LAPACK_COL_MAJOR, jobS, jobS, Int32(n), Int32(m),
                             a, Int32(max(1, n)), s, vt, Int32(max(1, n)), u, Int32(max(1, k)), &superb))
        }
    }

    /// Overwrites row-major A (m × n, m ≥ n) with the n orthonormal columns of its Householder
    /// QR factorization (?geqrf, ?orgqr). Here LAPACKE's row-major layout is used on purpose:
    /// measured on 1024 × 32, its copy to a tall column-major matrix made the QR 2.5× faster
    /// than ?gelqf/?orglq on the short-wide transpose (0.36 ms against 0.92 ms).
    public static func orthonormalize(m: Int, n: Int, a: UnsafeMutablePointer<Self>, threads: Int = 1) throws {
        var tau = [Self](repeating: 0, count: max(1, n))
        try OpenBLAS.withThreads(threads) {
            try LAPACKError.check(lapack.prefix + "geqrf", lapack.geqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), a, Int32(max(1, n)), &tau))
            try LAPACKError.check(lapack.prefix + "orgqr", lapack.orgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(n), a, Int32(max(1, n)), &tau))
        }
    }

    /// ?gesv: solves A·X = B for the n × n matrix A and the n × nrhs right-hand sides B, both
    /// row-major, by LU factorization with partial pivoting. A is overwritten by its factors and
    /// B by X. Returns LAPACK's info (positive: U(info, info) is exactly zero, A is singular).
    public static func gesv(n: Int, nrhs: Int, a: UnsafeMutablePointer<Self>, b: UnsafeMutablePointer<Self>, threads: Int = 1) -> Int {
        var pivots = [Int32](repeating: 0, count: max(1, n))
        return OpenBLAS.withThreads(threads) {
            Int(lapack.gesv(LAPACK_ROW_MAJOR, Int32(n), Int32(nrhs), a, Int32(max(1, n)), &pivots, b, Int32(max(1, nrhs))))
        }
    }

    /// ?syevr for eigenvalues `first...last` (1-based, ascending) of the symmetric n × n matrix A
    /// (one triangle read, A destroyed). Writes them ascending to `w` (which must hold n values,
    /// as LAPACK requires) and their eigenvectors as the rows of `z` (count × n, row-major):
    /// column-major, lower triangle (the row-major upper one), Z column-major n × count.
    public static func syevr(n: Int, a: UnsafeMutablePointer<Self>, first: Int, last: Int,
                             w: UnsafeMutablePointer<Self>, z: UnsafeMutablePointer<Self>, threads: Int = 1) -> Int {
        var found: Int32 = 0
        var support = [Int32](repeating: 0, count: 2 * max(1, n))
        return OpenBLAS.withThreads(threads) {
            Int(lapack.syevr(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "I")), CChar(UInt8(ascii: "L")),
                             Int32(n), a, Int32(max(1, n)), 0, 0, Int32(first), Int32(last), 0,
                             &found, w, z, Int32(max(1, n)), &support))
        }
    }
}

extension Float: SVDScalar {
    public static var lapack: LAPACKRoutines<Float> {
        LAPACKRoutines(gesdd: LAPACKE_sgesdd, gesvd: LAPACKE_sgesvd, geqrf: LAPACKE_sgeqrf, orgqr: LAPACKE_sorgqr,
                       syevr: LAPACKE_ssyevr, gesv: LAPACKE_sgesv, posv: LAPACKE_sposv, prefix: "s")
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
    public static var lapack: LAPACKRoutines<Double> {
        LAPACKRoutines(gesdd: LAPACKE_dgesdd, gesvd: LAPACKE_dgesvd, geqrf: LAPACKE_dgeqrf, orgqr: LAPACKE_dorgqr,
                       syevr: LAPACKE_dsyevr, gesv: LAPACKE_dgesv, posv: LAPACKE_dposv, prefix: "d")
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
