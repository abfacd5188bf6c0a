import Foundation
import Synchronization
import COpenBLAS

/// The `blas` variant: OpenBLAS's `cblas_?gemm` (row-major) on `threads` threads.
///
/// OpenBLAS's thread count is process-wide; it is set only when it changes, because setting it
/// costs more than a small product does.
public func gemmBLAS<T: GEMMScalar>(
    m: Int, n: Int, k: Int,
    alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int, threads: Int
) {
    OpenBLAS.setThreads(threads)
    T.blasGEMM(
        transA: a.isTransposed, transB: b.isTransposed, m: m, n: n, k: k,
        alpha: alpha, a: a.base, lda: max(1, a.ld), b: b.base, ldb: max(1, b.ld),
        beta: beta, c: c, ldc: max(1, ldc))
}

/// OpenBLAS's process-wide settings and self-description.
public enum OpenBLAS {
    private static let currentThreads = Atomic<Int>(-1)
    private static let lock = NSLock()

    /// Sets OpenBLAS's thread count if it differs from the last one set here. Safe to call from
    /// several threads; the count is process-wide, so callers running LAPACK concurrently should
    /// agree on it. The common case, no change, is one atomic load: the `blas` variant calls this
    /// before every timed call, and a lock there would add to OpenBLAS's measured time.
    public static func setThreads(_ threads: Int) {
        if currentThreads.load(ordering: .relaxed) == threads { return }
        lock.lock()
        defer { lock.unlock() }
        if currentThreads.load(ordering: .relaxed) != threads {
            openblas_set_num_threads(Int32(threads))
            currentThreads.store(threads, ordering: .relaxed)
        }
    }

    /// The kernel set OpenBLAS chose for this CPU (for example `Haswell`, `SkylakeX`, `Zen`).
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's build configuration string.
    public static var config: String { String(cString: openblas_get_config()) }
    public static var maxThreads: Int { Int(openblas_get_num_threads()) }
}
