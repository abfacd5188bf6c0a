import COpenBLAS

/// The `blas` variant: OpenBLAS's `cblas_?gemm` (row-major) on `threads` threads.
///
/// OpenBLAS's thread count is process-wide: see `OpenBLAS.withThreads`.
public func gemmBLAS<T: GEMMScalar>(
    m: Int, n: Int, k: Int,
    alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int, threads: Int
) {
    OpenBLAS.withThreads(threads) {
        T.blasGEMM(
            transA: a.isTransposed, transB: b.isTransposed, m: m, n: n, k: k,
            alpha: alpha, a: a.base, lda: max(1, a.ld), b: b.base, ldb: max(1, b.ld),
            beta: beta, c: c, ldc: max(1, ldc))
    }
}

/// OpenBLAS's process-wide settings and self-description.
public enum OpenBLAS {
    /// OpenBLAS's thread count (0.3.21 has no per-thread setting): see `LibraryThreadCount`.
    public static let threadCount = LibraryThreadCount(library: "OpenBLAS") { openblas_set_num_threads($0) }

    /// Runs `body` — calls into OpenBLAS or its LAPACK — with OpenBLAS's thread count set to
    /// `threads`, waiting for calls in flight under another count to finish first.
    public static func withThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        try threadCount.with(threads, body)
    }

    /// The kernel set OpenBLAS chose for this CPU (for example `Haswell`, `SkylakeX`, `Zen`).
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's build configuration string.
    public static var config: String { String(cString: openblas_get_config()) }
    public static var maxThreads: Int { Int(openblas_get_num_threads()) }
}
