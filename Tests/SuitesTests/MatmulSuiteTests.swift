import Crosscheck
import Foundation
import Kernels
import Testing
import TestSupport
@testable import Suites

/// The matmul family's own checks: the error model can fail, agreement with NumPy, and the
/// size notation. Every variant at the edge shapes is walked by `FamilyWalkerTests`.
@Suite("Matmul suite")
struct MatmulSuiteTests {
    /// The check can fail: a product computed with B's transpose flag wrong is caught.
    @Test func wrongProductFails() throws {
        let spec = MatmulSpec(m: 16, n: 16, k: 16, transB: true)
        var wrong = spec
        wrong.transB = false
        let right = MatmulInstance<Float>(spec)
        let (a, b, c) = (Array(right.storedA), Array(right.storedB), Array(right.initialC))
        let wrongInstance = MatmulInstance<Float>(spec, a: a, b: b, c: c, expected: MatmulInstance<Float>(wrong, a: a, b: b, c: c, expected: nil).reference)
        let (v, _) = try MatmulSuite.variants(Float.self)[0].verify(wrongInstance)
        #expect(!v.passed)
        #expect(v.errRatio > 1e4)
    }

    struct GoldenFile: Decodable {
        let generator: String
        let cases: [GoldenCase]
    }

    struct GoldenCase: Decodable, CustomStringConvertible {
        let name: String, dtype: String
        let m: Int, n: Int, k: Int
        let transA: Bool, transB: Bool
        let alpha: Double, beta: Double
        let lda: Int, ldb: Int, ldc: Int
        let a: [Double], b: [Double], c: [Double], expected: [Double]
        var description: String { name }
        var padding: Int { ldc - n }
    }

    static let golden: [GoldenCase] = loadReference("reference/matmul/golden.json", as: GoldenFile.self)?.cases ?? []

    /// Every variant against products computed by NumPy (reference/matmul/make_golden.py).
    @Test(arguments: golden)
    func agreesWithNumPy(golden: GoldenCase) throws {
        let spec = MatmulSpec(m: golden.m, n: golden.n, k: golden.k, transA: golden.transA, transB: golden.transB,
                              alpha: golden.alpha, beta: golden.beta, padding: golden.padding)
        #expect(spec.leadingDimensions == (golden.lda, golden.ldb, golden.ldc))
        func check<T: GEMMScalar>(_: T.Type) throws {
            let instance = MatmulInstance<T>(spec, a: golden.a.map { T($0) }, b: golden.b.map { T($0) },
                                             c: golden.c.map { T($0) }, expected: golden.expected)
            for variant in MatmulSuite.variants(T.self) {
                for threads in variant.isThreaded ? [1, 2] : [1] {
                    // A single-threaded provider skips the 2-thread call, with its reason.
                    guard let (v, _) = try verifyUnlessSkipped(variant, instance, threads: threads) else { continue }
                    #expect(v.passed, "\(golden.name) \(variant.name) threads=\(threads): err_ratio \(v.errRatio) > \(v.errBound) at \(v.worst)")
                }
            }
        }
        if golden.dtype == "f32" { try check(Float.self) } else { try check(Double.self) }
    }

    @Test func sizesParse() throws {
        #expect(try MatmulSuite.parse("512") == MatmulSpec(m: 512, n: 512, k: 512))
        #expect(try MatmulSuite.parse("4096x16x4096-tB") == MatmulSpec(m: 4096, n: 16, k: 4096, transB: true))
        #expect(throws: CaseRequestError.self) { try MatmulSuite.parse("12x") }
        #expect(throws: CaseRequestError.self) { try MatmulSuite.parse("12-tC") }
        #expect(throws: CaseRequestError.self) { try MatmulSuite.parse("-5") }
        #expect(throws: CaseRequestError.self) { try MatmulSuite.parse("") }
        #expect(throws: CaseRequestError.self) { try MatmulSuite.parse("99999999x99999999x99999999") }
    }
}

/// The statistical tier of the matmul error model: no false failures over many seeded correct
/// cases, and a kernel with a few bits of accumulator precision missing is caught.
@Suite("Matmul error model, statistical tier")
struct MatmulStatisticalTierTests {
    static let shapes: [MatmulSpec] = [
        MatmulSpec(m: 64, n: 64, k: 64), MatmulSpec(m: 127, n: 131, k: 137, transB: true),
        MatmulSpec(m: 150, n: 120, k: 700), MatmulSpec(m: 33, n: 400, k: 300, nonnegative: true),
        MatmulSpec(m: 90, n: 70, k: 1030, alpha: -1.5, beta: 0.5, nonnegative: true),
    ]

    /// Every variant, 20 seeds per shape, both element types: each case may fail the statistical
    /// tier with probability at most 1e-6 if the model holds, so any failure here is a finding.
    @Test(arguments: shapes)
    func noFalseFailures(shape: MatmulSpec) throws {
        func check<T: GEMMScalar>(_: T.Type) throws {
            for seed in 1...20 {
                var spec = shape
                spec.seed = UInt64(seed)
                let instance = MatmulInstance<T>(spec)
                for variant in MatmulSuite.variants(T.self) {
                    guard let (v, _) = try verifyUnlessSkipped(variant, instance, threads: 2) else { continue }
                    #expect(v.passed, "\(variant.name) \(T.self) \(spec) seed \(seed): \(v.criteria.map(\.summary)) \(v.note)")
                }
            }
        }
        try check(Float.self)
        try check(Double.self)
    }

    /// x rounded to a 16-bit significand (8 bits fewer than Float's): about 256× the rounding error.
    static func shortened(_ x: Float) -> Float {
        guard x.isFinite else { return x }
        return Float(bitPattern: (x.bitPattern &+ 0x80) & ~0xFF)
    }

    /// C = A·B (α = 1, β = 0) with every partial sum kept to a 16-bit significand.
    static let shortAccumulators = Variant<MatmulInstance<Float>>("short-accumulators") { p, _ in
        for i in 0..<p.m {
            for j in 0..<p.n {
                var sum: Float = 0
                for l in 0..<p.k { sum = shortened(sum + p.a[i, l] * p.b[l, j]) }
                p.c[i * p.ldc + j] = sum
            }
        }
    }

    /// Caught on every shape with nonnegative inputs (errors add up; the statistical bound, ≈ 7.5√k
    /// units, is far below the ≈ 150√k they reach), and on signed inputs at small k; beyond
    /// k ≈ 1000 signed inputs let such a kernel reach only ≈ 240 units, at the statistical bound,
    /// which is why the quick sizes include nonnegative cases. The hard bound (k + 2 units)
    /// misses it from k ≈ 300 on: the statistical tier is what catches it.
    @Test(arguments: [
        MatmulSpec(m: 64, n: 64, k: 64, nonnegative: true), MatmulSpec(m: 128, n: 128, k: 128, nonnegative: true),
        MatmulSpec(m: 64, n: 64, k: 1000, nonnegative: true), MatmulSpec(m: 16, n: 256, k: 4096, nonnegative: true),
        MatmulSpec(m: 64, n: 64, k: 64), MatmulSpec(m: 40, n: 40, k: 256),
    ])
    func shortAccumulatorsFail(spec: MatmulSpec) throws {
        let (v, _) = try Self.shortAccumulators.verify(MatmulInstance<Float>(spec))
        #expect(!v.passed, "\(spec): \(v.criteria.map(\.summary))")
        #expect(v.criteria.contains { $0.tier == .statistical && !$0.passed })
    }
}

/// `variant.verify`, or nil when the variant cannot run here (`Skip`, for example a BLAS that
/// cannot change its thread count).
func verifyUnlessSkipped<Instance: PreparedCase>(_ variant: Variant<Instance>, _ instance: Instance, threads: Int) throws -> (Verification, CallReport)? {
    do { return try variant.verify(instance, threads: threads) } catch is Skip { return nil }
}
