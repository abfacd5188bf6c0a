import Testing
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
