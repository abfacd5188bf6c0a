import Crosscheck
import Kernels
import Testing
@testable import Suites

/// The receptive-field family's own checks: its size notation, and that its exact model fails
/// when a recursion is wrong. Every built-in network is walked by `FamilyWalkerTests`.
@Suite("Receptive-field suite")
struct ReceptiveFieldSuiteTests {
    @Test func sizeNotation() throws {
        #expect(try ReceptiveFieldSpec.parse("resnet50") == ReceptiveFieldSpec(network: "resnet50"))
        #expect(try ReceptiveFieldSpec.parse("unet@572") == ReceptiveFieldSpec(network: "unet", input: Spatial(square: 572)))
        #expect(try ReceptiveFieldSpec.parse("vgg_16@320x240") == ReceptiveFieldSpec(network: "vgg_16", input: Spatial(320, 240)))
        // vgg_16@1: its layers' outputs would be empty, a usage error before the case is prepared.
        for bad in ["vgg", "vgg_16@", "vgg_16@0", "vgg_16@3x4x5", "vgg_16@ax3", "@224", "vgg_16@1", "unet@7"] {
            #expect(throws: CaseRequestError.self, "\(bad)") { try ReceptiveFieldSpec.parse(bad) }
        }
    }

    @Test func wrongFieldsFail() throws {
        let instance = try ReceptiveFieldCase(ReceptiveFieldSpec(network: "alexnet_v2"))
        let right = try instance.network.receptiveFieldsBottomUp()
        #expect(instance.check(zip(right, instance.topDown).map { ReceptiveFieldComparison(item: $0.layer, holds: $0 == $1, detail: "") }).passed)
        // A bottom-up recursion that forgot the dilation, say, gets one layer's jump wrong: caught.
        var wrong = right
        wrong[5].field.width.jump = Rational(3)
        let verification = instance.check(zip(wrong, instance.topDown).map { ReceptiveFieldComparison(item: $0.layer, holds: $0 == $1, detail: "") })
        #expect(!verification.passed && verification.worst == right[5].layer && verification.errRatio == 1)
    }

    /// A variant that compares nothing (or only some layers) fails: every layer must be compared.
    @Test func comparingNothingFails() throws {
        let instance = try ReceptiveFieldCase(ReceptiveFieldSpec(network: "vgg_16"))
        let none = instance.check([])
        #expect(!none.passed && none.failedCriteria == ["missing"])
        let some = instance.check([ReceptiveFieldComparison(item: instance.topDown[0].layer, holds: true, detail: "")])
        #expect(!some.passed)
    }

    /// The arithmetic reproduces PyTorch's sizes and rejections (more than 50 rejections in the
    /// table), and a wrong size is caught.
    @Test func arithmeticMatchesPyTorch() throws {
        let instance = try ConvolutionArithmeticCase()
        var results = instance.compute()
        #expect(results.count > 3000)
        #expect(results.filter { if case .failure = $0.result { true } else { false } }.count > 50)
        let verification = instance.check(results)
        #expect(verification.passed, "\(verification.note): \(verification.worst)")
        if let index = results.firstIndex(where: { if case .success = $0.result { true } else { false } }) {
            results[index].result = .success(-1)
            #expect(!instance.check(results).passed)
        }
        #expect(!instance.check([]).passed)
    }
}
