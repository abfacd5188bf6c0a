import Testing
import Synchronization
@testable import Kernels

/// `parallelFor` on the persistent pool: every part runs exactly once, whoever calls it and
/// however calls nest or overlap.
@Suite("Thread pool")
struct ThreadingTests {
    /// Runs `parts` parts, each counting its own index; every index must be counted once.
    func counts(_ parts: Int, repeats: Int = 1, body: (Int) -> Void = { _ in }) -> [Int] {
        let counters = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts)
        defer { counters.deallocate() }
        counters.initialize(repeating: 0)
        for _ in 0..<repeats {
            parallelFor(parts) { part in
                counters[part] += 1
                body(part)
            }
        }
        return Array(counters)
    }

    @Test(arguments: [1, 2, 3, 8, 64, 65])
    func everyPartRunsOnce(parts: Int) {
        #expect(counts(parts, repeats: 50) == [Int](repeating: 50, count: parts))
    }

    /// Calls made from inside a part (the pool is busy) run on Dispatch instead, and complete.
    @Test func nestedCallsComplete() {
        let inner = Atomic<Int>(0)
        _ = counts(3, repeats: 20) { _ in
            parallelFor(2) { _ in inner.add(1, ordering: .relaxed) }
        }
        #expect(inner.load(ordering: .relaxed) == 3 * 20 * 2)
    }

    /// Concurrent callers (one owns the pool, the others fall back to Dispatch) all finish with
    /// every part run once.
    @Test func concurrentCallersComplete() {
        let total = Atomic<Int>(0)
        parallelFor(4) { _ in
            for _ in 0..<200 {
                parallelFor(2) { _ in total.add(1, ordering: .relaxed) }
            }
        }
        #expect(total.load(ordering: .relaxed) == 4 * 200 * 2)
    }

    /// Parts after the workers have parked (the spin ends) are still run.
    @Test func callsAfterWorkersParkComplete() async throws {
        for _ in 0..<3 {
            #expect(counts(2) == [1, 1])
            try await Task.sleep(nanoseconds: 2 * WorkerPool.spinNanoseconds)
        }
    }

    @Test(arguments: [(10, 3), (2, 5), (0, 2), (7, 1)])
    func sharesCoverEveryItemOnce(count: Int, parts: Int) {
        var covered = [Int](repeating: 0, count: count)
        var sizes: [Int] = []
        for part in 0..<parts {
            let (first, end) = share(of: count, part: part, parts: parts)
            sizes.append(end - first)
            for i in first..<end { covered[i] += 1 }
        }
        #expect(covered.allSatisfy { $0 == 1 })
        #expect(sizes.max()! - sizes.min()! <= 1)
    }
}
