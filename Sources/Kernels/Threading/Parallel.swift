import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The one place where kernels start threads. Every family (GEMM, convolution, solvers,
/// upsampling, the algorithm kernels) splits its work with `parallelFor` and `share`, so that a
/// change of thread pool is made here once.
///
/// The parts run on a persistent pool (`WorkerPool`) whose workers spin for a while after each
/// call before they park on a condition variable, so that back-to-back calls find them awake,
/// and whose caller takes parts too, so that a late worker never holds a call up by more than
/// the part it took. Measured on this 2-core Zen 4 VM against `DispatchQueue.concurrentPerform`
/// (see `Benchmarks/baselines/README.md`): an empty two-part call 0.1–0.2 µs against 0.1–5.7 µs;
/// with a free core, 96³ Float on two threads 8.7 µs against Dispatch's 16.7 (16.1 on one
/// thread); on a loaded machine, where the second core is seldom free, 0–4% over one thread
/// against Dispatch's 5–120%.

/// Runs `body(part)` for every `part` in `0..<parts`, concurrently when `parts > 1`, and returns
/// when all have finished. Parts are claimed by the calling thread and up to `parts − 1` pool
/// workers, in no fixed assignment: a part must not wait for another part. `parts == 1` runs on
/// the calling thread with no synchronization. A call made while the pool serves another caller
/// (a nested call, or concurrent callers) runs its parts on Dispatch's pool instead.
///
/// - Complexity: the bodies' work, plus about 0.2 µs per call when the workers are spinning,
///   and a thread wake-up (10–30 µs here) when they have parked.
@inline(__always)
public func parallelFor(_ parts: Int, _ body: (Int) -> Void) {
    if parts <= 1 {
        body(0)
    } else if threadsOnDispatch {
        DispatchQueue.concurrentPerform(iterations: parts, execute: body)
    } else {
        WorkerPool.shared.run(parts, body)
    }
}

/// `CROSSCHECK_THREADS=dispatch` in the environment runs every `parallelFor` on Dispatch's pool
/// instead of `WorkerPool`: the comparison that chose the pool, repeatable in one session
/// (`Benchmarks/baselines/README.md`). Read once, at the first threaded call.
let threadsOnDispatch: Bool = getenv("CROSSCHECK_THREADS").map { String(cString: $0) == "dispatch" } ?? false

/// The `part`-th of `parts` nearly equal contiguous shares of `count` items, as a half-open
/// range `(first, end)`: shares differ in size by at most one, larger shares first, and together
/// they cover `0..<count` exactly once. O(1).
@inline(__always)
public func share(of count: Int, part: Int, parts: Int) -> (Int, Int) {
    let base = count / parts, extra = count % parts
    let first = part * base + min(part, extra)
    return (first, first + base + (part < extra ? 1 : 0))
}

/// A persistent pool of worker threads, started on first use and grown to the largest number of
/// parts asked for less one (at most `maximumWorkers`); they live as long as the process.
///
/// One caller at a time owns the pool (`owner`). It publishes a call as one atomic word, `claims`:
/// a generation, the number of parts and the next unclaimed part. The caller and the workers
/// claim parts from that word with compare-and-swap, so the caller runs every part itself when
/// the workers are late (a parked worker takes 10–25 µs to wake here), and a worker that wakes
/// after the call has ended finds another generation and touches nothing. A part's body is read
/// only after its claim succeeded, when the call is still running. Workers spin on `claims` for
/// `spinNanoseconds` after their last part, then park on a condition variable; a caller that finds
/// parked workers wakes them all. The caller waits for `finished` to reach the number of parts
/// the same way: spinning, then parked.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Workers spin this long after their last part before they park, and a caller this long
    /// before it parks waiting for them (measured: see `Benchmarks/baselines/README.md`).
    static let spinNanoseconds: UInt64 = 200_000
    /// Spinning yields the processor after this long (see `spin`).
    static let yieldAfterNanoseconds: UInt64 = 5_000
    static let maximumWorkers = 63

    /// `claims` holds generation << 32 | parts << 16 | next part.
    private static let partBits = 16
    private static let partMask = (1 << partBits) - 1

    /// Whether a caller owns the pool.
    private let owner = Atomic<Bool>(false)
    private let claims = Atomic<Int>(0)
    /// The current call's body: the address of a closure in the caller's frame.
    private let body = Atomic<UInt>(0)
    /// Parts of the current call that have finished.
    private let finished = Atomic<Int>(0)
    private let callerParked = Atomic<Bool>(false)
    private let parkedWorkers = Atomic<Int>(0)
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let callerWakeup: UnsafeMutablePointer<pthread_cond_t>
    private let workerWakeup: UnsafeMutablePointer<pthread_cond_t>
    /// Started workers; only the owner changes it.
    private var workers = 0

    private init() {
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        callerWakeup = .allocate(capacity: 1)
        pthread_cond_init(callerWakeup, nil)
        workerWakeup = .allocate(capacity: 1)
        pthread_cond_init(workerWakeup, nil)
    }

    func run(_ parts: Int, _ body: (Int) -> Void) {
        if parts - 1 > Self.maximumWorkers || !owner.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            DispatchQueue.concurrentPerform(iterations: parts, execute: body)
            return
        }
        defer { owner.store(false, ordering: .releasing) }
        while workers < parts - 1 {
            startWorker()
            workers += 1
        }
        withoutActuallyEscaping(body) { body in
            var closure = body
            withUnsafeMutablePointer(to: &closure) { closure in
                self.body.store(UInt(bitPattern: closure), ordering: .relaxed)
                finished.store(0, ordering: .relaxed)
                let generation = (claims.load(ordering: .relaxed) >> 32) &+ 1
                let published = generation << 32 | parts << Self.partBits
                claims.store(published, ordering: .sequentiallyConsistent)
                if parkedWorkers.load(ordering: .sequentiallyConsistent) > 0 {
                    pthread_mutex_lock(lock)
                    pthread_cond_broadcast(workerWakeup)
                    pthread_mutex_unlock(lock)
                }
                work(generation: generation)
                waitForParts(parts)
            }
        }
    }

    /// Claims and runs parts of call `generation` until none is left (or the call has ended).
    private func work(generation: Int) {
        var word = claims.load(ordering: .acquiring)
        while word >> 32 == generation {
            let parts = (word >> Self.partBits) & Self.partMask, part = word & Self.partMask
            if part >= parts { return }
            let (exchanged, current) = claims.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                runPart(part)
                if finished.add(1, ordering: .sequentiallyConsistent).newValue == parts
                    && callerParked.load(ordering: .sequentiallyConsistent) {
                    pthread_mutex_lock(lock)
                    pthread_cond_signal(callerWakeup)
                    pthread_mutex_unlock(lock)
                }
                word = claims.load(ordering: .acquiring)
            } else {
                word = current
            }
        }
    }

    /// Runs one claimed part. A function of its own so that the copy of the body it makes is
    /// released when it returns, before the part is counted as finished
    /// (`withoutActuallyEscaping` checks that no reference is left).
    @inline(never)
    private func runPart(_ part: Int) {
        let closure = UnsafePointer<(Int) -> Void>(bitPattern: body.load(ordering: .relaxed))!
        closure.pointee(part)
    }

    private func waitForParts(_ parts: Int) {
        if spin(until: { finished.load(ordering: .acquiring) == parts }) { return }
        pthread_mutex_lock(lock)
        callerParked.store(true, ordering: .sequentiallyConsistent)
        while finished.load(ordering: .sequentiallyConsistent) != parts { pthread_cond_wait(callerWakeup, lock) }
        callerParked.store(false, ordering: .relaxed)
        pthread_mutex_unlock(lock)
    }

    private func startWorker() {
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { _ in WorkerPool.shared.workerLoop() }, nil)
        if started != 0 { fatalError("parallelFor: cannot start a worker thread (pthread_create returned \(started))") }
        pthread_detach(thread)
    }

    private func workerLoop() -> Never {
        var seen = claims.load(ordering: .acquiring) >> 32
        while true {
            if !spin(until: { claims.load(ordering: .acquiring) >> 32 != seen }) {
                pthread_mutex_lock(lock)
                parkedWorkers.add(1, ordering: .sequentiallyConsistent)
                while claims.load(ordering: .sequentiallyConsistent) >> 32 == seen { pthread_cond_wait(workerWakeup, lock) }
                parkedWorkers.subtract(1, ordering: .relaxed)
                pthread_mutex_unlock(lock)
            }
            seen = claims.load(ordering: .acquiring) >> 32
            work(generation: seen)
        }
    }
}

/// Spins until `condition()` holds or `WorkerPool.spinNanoseconds` have passed; whether it holds.
/// After the first `yieldAfterNanoseconds` it yields the processor between checks, so that on a
/// machine with more runnable threads than cores the thread it waits for can run in its place
/// (measured on this loaded 2-core machine: 256³ Float on two threads took 546 µs with a pure
/// spin, against 324 µs on one thread).
@inline(__always)
private func spin(until condition: () -> Bool) -> Bool {
    var start: UInt64 = 0
    var round = 0
    while true {
        if condition() { return true }
        round &+= 1
        if round & 63 == 0 {
            let now = monotonicNanoseconds()
            if start == 0 {
                start = now
            } else if now - start >= WorkerPool.spinNanoseconds {
                return false
            } else if now - start >= WorkerPool.yieldAfterNanoseconds {
                sched_yield()
            }
        }
    }
}

private func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
