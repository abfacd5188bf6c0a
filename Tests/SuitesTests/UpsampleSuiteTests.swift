import Crosscheck
import Kernels
import Testing
@testable import Suites

/// The upsample family's size notation and error models. Every variant at the test sizes is
/// walked by `FamilyWalkerTests`; the kernels' own tests (golden data from PyTorch) are in
/// `Tests/KernelsTests/Upsampling*.swift`.
@Suite("Upsample suite")
struct UpsampleSuiteTests {
    @Test(arguments: ["1x64x256x256-bilinear-x2", "8x3x512x512-nearest-exact-x1.5:2.7-rc", "1x2x5x7-bicubic-ac-to9x11-nhwc",
                      "1x256x128x128-shuffle-r2", "1x64x256x256-unshuffle-r2-nhwc", "2x3x4x5-nearest-x0.5"])
    func notationRoundTrips(entry: String) throws {
        #expect(try UpsampleSuite.parse(entry).description == entry)
    }

    @Test func parsedSpecs() throws {
        let spec = try UpsampleSuite.parse("8x3x512x512-bilinear-ac-x1.5:2.7-rc-nhwc")
        #expect(spec.input == ImageShape(batch: 8, channels: 3, height: 512, width: 512))
        #expect(spec.operation == .interpolate(.bilinear(alignCorners: true)))
        #expect(spec.scaleFactor == [1.5, 2.7] && spec.size == nil && spec.recomputeScaleFactor && spec.layout == .nhwc)
        #expect(try UpsampleSuite.parse("1x9x4x4-shuffle-r3").operation == .pixelShuffle(.shuffle, factor: 3))
    }

    /// Malformed entries and the kernels' own argument errors are usage errors quoting the entry.
    @Test(arguments: ["1x2x3-bilinear-x2", "1x2x3x4", "1x2x3x4-linear-x2", "1x2x3x4-nearest-ac-x2", "1x2x3x4-bilinear",
                      "1x2x3x4-bilinear-x0", "1x2x3x4-bilinear-x-1", "1x2x3x4-bilinear-xnan", "1x2x3x4-bilinear-to0x5",
                      "1x2x3x4-bilinear-to5x5-rc", "1x6x3x4-shuffle-r2", "1x1x5x4-unshuffle-r2", "1x4x3x4-shuffle-r0",
                      "1x2x3x4-bilinear-x2-sideways", "99999999999x99999999999x9x9-nearest-x2"])
    func badEntriesAreUsageErrors(entry: String) {
        #expect(throws: CaseRequestError.self) { try UpsampleSuite.parse(entry) }
        do { _ = try UpsampleSuite.parse(entry) } catch { #expect("\(error)".contains(entry)) }
    }

    /// A one-ulp change of one output fails the exact model of a nearest mode; the bilinear model
    /// accepts the kernel's output and fails once an output is off by more than γ₆·Σ|w||x|.
    @Test func errorModelsFailWrongOutputs() throws {
        let nearest = UpsampleInstance(UpsampleSpec.interpolate(1, 2, 8, 40, .nearest, by: 2),
                                       try UpsampleInstance.Geometry(.interpolate(1, 2, 8, 40, .nearest, by: 2)))
        nearest.runKernel(threads: 1)
        #expect(nearest.check(()).passed)
        nearest.output[17] = nearest.output[17].nextUp
        #expect(!nearest.check(()).passed)

        let spec = UpsampleSpec.interpolate(1, 2, 8, 40, .bilinear(alignCorners: false), by: 2)
        let bilinear = UpsampleInstance(spec, try UpsampleInstance.Geometry(spec))
        bilinear.runKernel(threads: 1)
        let good = bilinear.check(())
        #expect(good.passed && good.errRatio <= good.errBound)
        let i = 100
        bilinear.output[i] = Float(bilinear.reference[i] + 7 * 0x1p-24 * bilinear.magnitude[i])
        #expect(!bilinear.check(()).passed)
        bilinear.resetForVerification()
        #expect(!bilinear.check(()).passed, "an unwritten (NaN) output must fail")
    }
}
