import Crosscheck
import Foundation
import Kernels
import Testing
@testable import Suites

/// Every matmul variant against the reference, at the edge shapes of DESIGN.md, through the same
/// cases and error model `bench` uses.
@Suite("Matmul suite")
struct MatmulSuiteTests {
    /// Micro-tile 6 × 32 (Float) / 6 × 16 (Double); blocking mc 72/48, kc 512.
    static let edgeShapes: [MatmulSpec] = [
        MatmulSpec(m: 1, n: 1, k: 1),
        MatmulSpec(m: 7, n: 13, k: 17),
        MatmulSpec(m: 5, n: 31, k: 511), MatmulSpec(m: 6, n: 32, k: 512), MatmulSpec(m: 7, n: 33, k: 513),
        MatmulSpec(m: 71, n: 15, k: 47), MatmulSpec(m: 73, n: 17, k: 49), MatmulSpec(m: 47, n: 65, k: 515),
        MatmulSpec(m: 49, n: 100, k: 3), MatmulSpec(m: 97, n: 16, k: 1),
        MatmulSpec(m: 1000, n: 16, k: 1000), MatmulSpec(m: 16, n: 1000, k: 16),
        MatmulSpec(m: 0, n: 5, k: 3), MatmulSpec(m: 5, n: 0, k: 3), MatmulSpec(m: 5, n: 3, k: 0),
        MatmulSpec(m: 5, n: 3, k: 0, beta: 0.5),
    ]

    static let transposesAndScalars: [MatmulSpec] = [
        MatmulSpec(m: 23, n: 41, k: 37, transA: true),
        MatmulSpec(m: 23, n: 41, k: 37, transB: true),
        MatmulSpec(m: 23, n: 41, k: 37, transA: true, transB: true),
        MatmulSpec(m: 50, n: 70, k: 300, transA: true, transB: true, padding: 5),
        MatmulSpec(m: 29, n: 35, k: 40, padding: 3),
        MatmulSpec(m: 29, n: 35, k: 40, alpha: 2.5),
        MatmulSpec(m: 29, n: 35, k: 40, alpha: -1, beta: 1),
        MatmulSpec(m: 29, n: 35, k: 40, transB: true, alpha: 0.5, beta: -2, padding: 2),
        MatmulSpec(m: 29, n: 35, k: 40, alpha: 0, beta: 1.5),
        MatmulSpec(m: 300, n: 290, k: 600, transA: true, alpha: 1, beta: 1),
        // Multi-threaded paths (products large enough to get threads): a shared panel of B
        // (over 4 MB per thread, with n > NR·2), B read in place with the column split (m ≤ 48),
        // A read in place with the row split (n ≤ 2·NR), with padded operands.
        MatmulSpec(m: 200, n: 2100, k: 520),
        MatmulSpec(m: 40, n: 3000, k: 200, padding: 3),
        MatmulSpec(m: 300, n: 40, k: 700, transB: true, beta: 1, padding: 1),
    ]

    static func checkAllVariants<T: GEMMScalar>(_ spec: MatmulSpec, _ type: T.Type) throws {
        let testCase = MatmulSuite.makeCase(spec, type)
        let prepared = try testCase.prepare()
        for variant in testCase.variants {
            for threads in variant.isThreaded ? [1, 2, 3] : [1] {
                let v = try prepared.verify(variant, threads: threads)
                #expect(v.passed, "\(variant.name) threads=\(threads) \(testCase.dtype) \(spec): err_ratio \(v.errRatio) > \(v.errBound) at \(v.worst); \(v.note)")
            }
        }
    }

    @Test(arguments: edgeShapes + transposesAndScalars)
    func everyVariantFloat(spec: MatmulSpec) throws { try Self.checkAllVariants(spec, Float.self) }

    @Test(arguments: edgeShapes + transposesAndScalars)
    func everyVariantDouble(spec: MatmulSpec) throws { try Self.checkAllVariants(spec, Double.self) }

    /// The check can fail: a product computed with B's transpose flag wrong is caught.
    @Test func wrongProductFails() throws {
        let spec = MatmulSpec(m: 16, n: 16, k: 16, transB: true)
        var wrong = spec
        wrong.transB = false
        let right = MatmulInstance<Float>(spec)
        let wrongInstance = MatmulInstance<Float>(spec, a: Array(right.a), b: Array(right.b), c: Array(right.initialC),
                                                  expected: MatmulInstance<Float>(wrong, a: Array(right.a), b: Array(right.b), c: Array(right.initialC), expected: nil).reference)
        let v = try wrongInstance.verify(MatmulSuite.reference, threads: 1)
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
        #expect(MatmulInstance<Float>.leadingDimensions(spec) == (golden.lda, golden.ldb, golden.ldc))
        func check<T: GEMMScalar>(_: T.Type) throws {
            let instance = MatmulInstance<T>(spec, a: golden.a.map { T($0) }, b: golden.b.map { T($0) },
                                             c: golden.c.map { T($0) }, expected: golden.expected)
            for variant in MatmulSuite.variants {
                for threads in variant.isThreaded ? [1, 2] : [1] {
                    let v = try instance.verify(variant, threads: threads)
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
    }
}
