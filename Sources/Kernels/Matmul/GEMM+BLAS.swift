import Foundation
import Synchronization
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
    /// The thread count in force (bits 32 and up) and the calls in flight under it (low 32 bits).
    /// A count of 0 means none set yet; `changing` marks a change in progress.
    private static let state = Atomic<Int>(0)
    private static let changing = 0x3FFF_FFFF

    /// Runs `body` — calls into OpenBLAS or LAPACK — with OpenBLAS's thread count set to `threads`.
    ///
    /// The count is process-wide (OpenBLAS 0.3.21 has no per-thread setting), and changing it
    /// while another thread is inside a threaded call corrupts that call's result (seen: a
    /// Double ?syevr returning non-orthogonal vectors while a concurrent test switched the count).
    /// So calls asking for the count in force run concurrently, and a call asking for another
    /// waits until none is in flight, then changes it. The common case, the count already in
    /// force, costs two atomic operations: `blas` variants are timed through here, and a lock
    /// would add to OpenBLAS's measured time.
    public static func withThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        if threads < 1 || threads >= changing { fatalError("OpenBLAS.withThreads: thread count \(threads) out of range") }
        enter(threads)
        defer { state.wrappingSubtract(1, ordering: .releasing) }
        return try body()
    }

    private static func enter(_ threads: Int) {
        while true {
            let current = state.load(ordering: .acquiring)
            let inForce = current >> 32, active = current & 0xFFFF_FFFF
            if inForce == threads {
                if state.compareExchange(expected: current, desired: current + 1, ordering: .acquiring).exchanged { return }
            } else if inForce != changing && active == 0 {
                if state.compareExchange(expected: current, desired: changing << 32, ordering: .acquiring).exchanged {
                    openblas_set_num_threads(Int32(threads))
                    state.store(threads << 32 | 1, ordering: .releasing)
                    return
                }
            } else {
                sched_yield()
            }
        }
    }

    /// The kernel set OpenBLAS chose for this CPU (for example `Haswell`, `SkylakeX`, `Zen`).
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's build configuration string.
    public static var config: String { String(cString: openblas_get_config()) }
    public static var maxThreads: Int { Int(openblas_get_num_threads()) }
}
