import Kernels
import SafeTensors
import Synchronization

/// The order and concurrency of an extraction's tensor pairs.
///
/// Large pairs (four million elements or more) come first, one at a time with every thread, so
/// that memory holds one large pair; then `jobs` workers take the others, each factoring with
/// threads / jobs threads, because small matrices leave LAPACK's sequential parts on one core
/// when done one at a time. Memory: about one pair per job. Workers start through `parallelFor`,
/// the project's one thread pool; the next pair is handed out by an atomic counter.
struct PairSchedule {
    /// Indices of the large pairs, then of the small ones.
    let large: [Int], small: [Int]
    let threads: Int, jobs: Int

    /// Pairs of at least this many elements are large.
    static let largeElements = 4_000_000

    init(elementCounts: [Int], threads: Int, jobs: Int, largeElements: Int = PairSchedule.largeElements) {
        large = elementCounts.indices.filter { elementCounts[$0] >= largeElements }
        small = elementCounts.indices.filter { elementCounts[$0] < largeElements }
        self.threads = max(1, threads)
        self.jobs = max(1, min(jobs, small.count))
    }

    /// Runs `work(index, threads)` for every index as described above. After the first error no
    /// new pair starts; that error is rethrown once the running ones finish.
    func run(_ work: (_ index: Int, _ threads: Int) throws -> Void) throws {
        for index in large { try work(index, threads) }
        let next = Atomic<Int>(0)
        let failure = Locked<Error?>(nil)
        let smallThreads = max(1, threads / jobs)
        parallelFor(jobs) { _ in
            while true {
                let position = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if position >= small.count || failure.withLock({ $0 != nil }) { return }
                do { try work(small[position], smallThreads) } catch {
                    failure.withLock { $0 = $0 ?? error }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
