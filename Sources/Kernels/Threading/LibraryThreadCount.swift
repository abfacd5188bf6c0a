import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A library's process-wide thread count (OpenBLAS's, BLIS's), shared safely by concurrent
/// callers that may ask for different counts.
///
/// Changing such a count while another thread is inside a threaded call of the library corrupts
/// that call's result (seen with OpenBLAS: a Double ?syevr returned non-orthogonal vectors while a
/// concurrent test switched the count). So calls asking for the count in force run concurrently,
/// and a call asking for another waits until none is in flight, then changes it. The common case,
/// the count already in force, costs two atomic operations — library variants are timed through
/// here, and a lock would add to the library's measured time.
public final class LibraryThreadCount: @unchecked Sendable {
    /// The count in force (bits 32 and up) and the calls in flight under it (low 32 bits). A count
    /// of 0 means none set yet; `changing` marks a change in progress.
    private let state = Atomic<Int>(0)
    private static let changing = 0x3FFF_FFFF
    private let setCount: (Int32) -> Void
    /// The library's name, for error messages.
    public let library: String

    /// `setCount` changes the library's count (for example `openblas_set_num_threads`).
    public init(library: String, setCount: @escaping (Int32) -> Void) {
        self.library = library
        self.setCount = setCount
    }

    /// Runs `body` — calls into the library — with its thread count set to `threads`.
    public func with<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        if threads < 1 || threads >= Self.changing { fatalError("\(library): thread count \(threads) out of range") }
        enter(threads)
        defer { state.wrappingSubtract(1, ordering: .releasing) }
        return try body()
    }

    private func enter(_ threads: Int) {
        while true {
            let current = state.load(ordering: .acquiring)
            let inForce = current >> 32, active = current & 0xFFFF_FFFF
            if inForce == threads {
                if state.compareExchange(expected: current, desired: current + 1, ordering: .acquiring).exchanged { return }
            } else if inForce != Self.changing && active == 0 {
                if state.compareExchange(expected: current, desired: Self.changing << 32, ordering: .acquiring).exchanged {
                    setCount(Int32(threads))
                    state.store(threads << 32 | 1, ordering: .releasing)
                    return
                }
            } else {
                sched_yield()
            }
        }
    }
}
