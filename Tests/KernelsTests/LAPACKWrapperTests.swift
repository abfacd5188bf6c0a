import Testing
import Dispatch
import SeededRandom
import Synchronization
@testable import Kernels

/// The LAPACK wrappers' layouts: ?gesvd (the fallback of the `lapack` variant, otherwise only
/// reached when ?gesdd fails to converge) and ?gesdd both reproduce A = U·Σ·Vᵀ, tall and wide.
@Suite("LAPACK wrappers")
struct LAPACKWrapperTests {
    @Test(arguments: [(5, 3), (3, 5), (4, 4)])
    func gesvdAndGesddReconstructA(shape: (Int, Int)) {
        let (m, n) = shape
        let k = min(m, n)
        let a: [Double] = (0..<(m * n)).map { (i: Int) -> Double in
            let wrapped = Double((i * 7919) % 13)
            return wrapped - 6 + Double(i) / 10
        }
        for useGesvd in [false, true] {
            var work = a
            var s = [Double](repeating: 0, count: k), u = [Double](repeating: 0, count: m * k), vt = [Double](repeating: 0, count: k * n)
            let info = useGesvd ? Double.gesvd(m: m, n: n, a: &work, s: &s, u: &u, vt: &vt)
                                : Double.gesdd(m: m, n: n, a: &work, s: &s, u: &u, vt: &vt)
            #expect(info == 0)
            #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 }, "singular values not descending")
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for p in 0..<k { sum += u[i * k + p] * s[p] * vt[p * n + j] }
                    worst = max(worst, abs(sum - a[i * n + j]))
                }
            }
            #expect(worst < 1e-12, "\(useGesvd ? "gesvd" : "gesdd") \(m)×\(n): reconstruction error \(worst)")
        }
    }
}

/// OpenBLAS's thread count is process-wide: calls asking for different counts at once must not
/// corrupt each other. (Found by the family walker: a Double ?syevr on a matrix with all singular
/// values equal returned non-orthogonal vectors while a concurrent call switched the count.)
@Suite("OpenBLAS thread count")
struct OpenBLASThreadCountTests {
    @Test func concurrentCallsWithDifferentThreadCounts() throws {
        let (m, n, rank) = (40, 24, 4)
        var generator = SeededGenerator(seed: 11)
        var q = [Double].gaussian(count: m * n, using: &generator)
        try Double.orthonormalize(m: m, n: n, a: &q)   // A = Q: every singular value is 1
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 64) { call in
            let threads = call % 3 + 1
            for _ in 0..<20 {
                guard let svd = try? gramSVD(q, m: m, n: n, rank: rank, threads: threads),
                      let full = try? lapackSVD(q, m: m, n: n, threads: threads) else { failures.add(1, ordering: .relaxed); continue }
                for i in 0..<rank {
                    for j in 0..<rank {
                        var dot = 0.0
                        for c in 0..<n { dot += svd.vt[i * n + c] * svd.vt[j * n + c] }
                        if abs(dot - (i == j ? 1 : 0)) > 1e-12 { failures.add(1, ordering: .relaxed) }
                    }
                }
                if full.singularValues.contains(where: { abs($0 - 1) > 1e-12 }) { failures.add(1, ordering: .relaxed) }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }
}
