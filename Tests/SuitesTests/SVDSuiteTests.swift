import Crosscheck
import Foundation
import Kernels
import Testing
@testable import Suites

/// Every SVD variant on matrices with known spectra, through the cases and error models `bench`
/// uses, and against singular values computed by NumPy.
@Suite("SVD suite")
struct SVDSuiteTests {
    static let shapes = [(40, 24), (24, 40)]
    static let ranks = [4, 8]

    /// Whether the Gram route can be expected to pass: it squares the condition number, so the
    /// wanted σ_r must stand well above √u·σ₁ (and be non-zero, or U_r is undefined).
    static func gramApplies(_ spectrum: Spectrum, rank: Int, k: Int) -> Bool {
        let sigma = spectrum.values(k)
        return sigma[rank - 1] > 0 && sigma[rank - 1] / sigma[0] >= 1e-2
    }

    static func check<T: SVDScalar>(_ spectrum: Spectrum, _: T.Type) throws {
        for (m, n) in shapes {
            let spec = SVDSpec(m: m, n: n, spectrum: spectrum, ranks: ranks)
            let instance = try SVDInstance<T>(spec)
            for variant in SVDSuite.variants(for: spec) {
                let rank = Int(variant.name.split(separator: "r").last.map(String.init) ?? "") ?? 0
                if variant.name.hasPrefix("gram"), !gramApplies(spectrum, rank: rank, k: min(m, n)) { continue }
                let v = try instance.verify(variant, threads: 2)
                #expect(v.passed, "\(variant.name) \(T.self) \(spec): err_ratio \(v.errRatio) > \(v.errBound); \(v.note)")
            }
        }
    }

    @Test(arguments: Spectrum.allCases)
    func everyVariantFloat(spectrum: Spectrum) throws { try Self.check(spectrum, Float.self) }

    @Test(arguments: Spectrum.allCases)
    func everyVariantDouble(spectrum: Spectrum) throws { try Self.check(spectrum, Double.self) }

    @Test func randomizedIsReproducibleBySeed() throws {
        let matrix = try KnownSpectrumMatrix(SVDSpec(m: 60, n: 50))
        let a = matrix.a.map { Float($0) }
        let first = try randomizedSVD(a, m: 60, n: 50, options: RandomizedSVDOptions(rank: 5, seed: 1))
        let again = try randomizedSVD(a, m: 60, n: 50, options: RandomizedSVDOptions(rank: 5, seed: 1))
        let other = try randomizedSVD(a, m: 60, n: 50, options: RandomizedSVDOptions(rank: 5, seed: 2))
        #expect(first.u == again.u && first.vt == again.vt && first.singularValues == again.singularValues)
        #expect(first.u != other.u)
    }

    @Test func lapackReportsIllegalInputAsAnError() {
        var a = [Double](repeating: 1, count: 12)
        a[5] = .nan
        #expect(throws: LAPACKError.self) { try lapackSVD(a, m: 3, n: 4) }
    }

    struct GoldenFile: Decodable { let generator: String; let cases: [GoldenCase] }
    struct GoldenCase: Decodable, CustomStringConvertible {
        let name: String, spectrum: String, m: Int, n: Int
        let a: [Double], sigma: [Double]
        var description: String { name }
    }

    static let golden: [GoldenCase] = loadReference("reference/svd/golden.json", as: GoldenFile.self)?.cases ?? []

    /// The full variants reproduce NumPy's singular values (and pass the residual and
    /// orthogonality checks) on the stored matrices of reference/svd/make_golden.py.
    @Test(arguments: golden)
    func agreesWithNumPy(golden: GoldenCase) throws {
        let spectrum = Spectrum(rawValue: golden.spectrum)!
        let spec = SVDSpec(m: golden.m, n: golden.n, spectrum: spectrum, ranks: [4])
        func check<T: SVDScalar>(_: T.Type) throws {
            let instance = SVDInstance<T>(spec, a: golden.a.map { T($0) }, sigma: golden.sigma)
            for variant in [SVDSuite.reference, SVDSuite.lapack] {
                let v = try instance.verify(variant, threads: 1)
                #expect(v.passed, "\(golden.name) \(T.self) \(variant.name): \(v.note)")
            }
        }
        try check(Float.self)
        try check(Double.self)
    }

    @Test func shapesParse() throws {
        #expect(try SVDSuite.parse("384x1536") == (384, 1536))
        #expect(try SVDSuite.parse("1024") == (1024, 1024))
        #expect(throws: CaseRequestError.self) { try SVDSuite.parse("0x5") }
    }
}
