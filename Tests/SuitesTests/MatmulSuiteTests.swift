import Crosscheck
import Foundation
import Kernels
import Testing
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
                    let (v, _) = try variant.verify(instance, threads: threads)
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
