#if canImport(Glibc)
import Glibc
#endif

/// Scratch memory kept between calls, so that a kernel's large temporary buffers (im2col
/// matrices, Winograd tiles, the GEMM engine's packed panels) do not cost a fresh mapping per
/// call. Measured on this machine: a freshly mapped buffer costs its page faults on first touch,
/// 6 ms for 26 MB (the Winograd buffers of a 7² 512-channel layer), more than the work done in it;
/// glibc maps a repeated allocation of the size it last unmapped afresh every time. oneDNN keeps
/// its scratchpad for the same reason.
///
/// Blocks are handed out whole to one caller at a time (concurrent callers get different
/// blocks) and returned to a pool when the caller is done; the pool keeps at most
/// `retainedBytesLimit` of idle blocks and frees the rest.
enum ScratchMemory {
    /// Idle memory kept for reuse: beyond this, returned blocks are freed.
    static let retainedBytesLimit = 512 << 20
    /// Blocks are sized in multiples of this, so that calls of slightly different sizes share them.
    static let granularity = 1 << 20

    private struct Block: @unchecked Sendable {
        let address: UnsafeMutableRawPointer
        let bytes: Int
    }

    /// The idle blocks, guarded by `lock`: a pthread mutex rather than `Synchronization.Mutex`,
    /// because ThreadSanitizer on Linux sees neither the futex-based `Mutex` nor the ordering it
    /// gives (every concurrent take/give was reported as a race), and this pool is shared by the
    /// threaded kernels that `swift test --sanitize=thread` must check.
    nonisolated(unsafe) private static var blocks: [Block] = []
    private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        return lock
    }()

    private static func withIdle<R>(_ body: (inout [Block]) -> R) -> R {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return body(&blocks)
    }

    /// Runs `body` with `count` uninitialized elements of T, 64-byte aligned, taken from the pool
    /// (or newly allocated) and returned to it afterwards. O(blocks in the pool) to take and return.
    static func withElements<T, R>(_: T.Type, count: Int, _ body: (UnsafeMutablePointer<T>) throws -> R) rethrows -> R {
        let bytes = max(1, count) * MemoryLayout<T>.stride
        let block = take(bytes: bytes)
        defer { give(block) }
        return try body(block.address.bindMemory(to: T.self, capacity: max(1, count)))
    }

    /// The smallest idle block of at least `bytes`, or a new one.
    private static func take(bytes: Int) -> Block {
        let reused: Block? = withIdle { blocks in
            guard let index = blocks.indices.filter({ blocks[$0].bytes >= bytes }).min(by: { blocks[$0].bytes < blocks[$1].bytes }) else { return nil }
            return blocks.remove(at: index)
        }
        if let reused { return reused }
        let size = (bytes + granularity - 1) / granularity * granularity
        return Block(address: UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), bytes: size)
    }

    /// Returns `block` to the pool, freeing the smallest idle blocks while the pool holds more
    /// than `retainedBytesLimit`.
    private static func give(_ block: Block) {
        let freed: [Block] = withIdle { blocks in
            blocks.append(block)
            blocks.sort { $0.bytes > $1.bytes }
            var kept = 0, freed: [Block] = []
            blocks.removeAll { candidate in
                if kept + candidate.bytes <= retainedBytesLimit { kept += candidate.bytes; return false }
                freed.append(candidate)
                return true
            }
            return freed
        }
        for block in freed { block.address.deallocate() }
    }
}
