import Crosscheck
import Foundation
import Kernels
import Testing
import TestSupport
@testable import Suites

/// The SVD family's own checks: reproducibility, LAPACK errors, agreement with NumPy, and the
/// size notation. Every variant on every known spectrum is walked by `FamilyWalkerTests`.
@Suite("SVD suite")
struct SVDSuiteTests {
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
            // The full SVDs: the Jacobi reference and every LAPACK.
            for variant in SVDSuite.variants(for: spec, T.self) where variant.name == "jacobi" || variant.name.hasPrefix("lapack-") {
                guard let (v, _) = try verifyUnlessSkipped(variant, instance, threads: 1) else { continue }
                #expect(v.passed, "\(golden.name) \(T.self) \(variant.name): \(v.note)")
            }
        }
        try check(Float.self)
        try check(Double.self)
    }

    @Test func shapesParse() throws {
        #expect(try SVDSuite.parse("384x1536") == SVDSpec(m: 384, n: 1536))
        #expect(try SVDSuite.parse("1024") == SVDSpec(m: 1024, n: 1024))
        #expect(throws: CaseRequestError.self) { try SVDSuite.parse("0x5") }
        #expect(throws: CaseRequestError.self) { try SVDSuite.parse("99999999999x99999999999") }
    }

    /// A "full" SVD with fewer triplets than min(m, n) fails, even on A = 0 where every residual
    /// of an empty result is zero.
    @Test func fullSVDMustHaveEveryTriplet() throws {
        let spec = SVDSpec(m: 40, n: 24, spectrum: .zero, ranks: [4])
        let instance = try SVDInstance<Double>(spec)
        let empty = SVDResult<Double>(m: 40, n: 24, rank: 0, u: [], singularValues: [], vt: [])
        #expect(!instance.check(SVDOutput(empty)).passed)
    }
}
