import Crosscheck
import Kernels
import Testing
@testable import Suites

/// The trpo family's error models reject wrong kernels.
@Suite("trpo error model")
struct TRPOSuiteTests {
    static let spec = TRPOSuite.testSpecs[2]

    /// A product without the damping, or computed at other parameters, fails; the right one passes.
    @Test func fisherProductModelCatchesWrongProducts() throws {
        let instance = try FisherProductInstance<Float>(Self.spec)
        #expect(instance.check(instance.reference.product(instance.v, damping: instance.damping)).passed)
        #expect(!instance.check(instance.reference.product(instance.v, damping: 0)).passed)
        let moved: [Float] = Self.spec.network.seededParameters(seed: 99)
        let theta: [Float] = Self.spec.network.seededParameters(seed: TRPOSpec.parameterSeed)
        let states = try PolicyBatch.seeded(network: Self.spec.network, parameters: theta, count: Self.spec.count, seed: TRPOSpec.batchSeed).states
        let other = try ReferenceFisher(network: Self.spec.network, parameters: moved, states: states)
        #expect(!instance.check(other.product(instance.v, damping: instance.damping)).passed)
    }

    /// Steepest ascent instead of the CG direction fails `direction`; a step past the trust
    /// region fails `kl`; a step that lowers the surrogate fails `improvement`.
    @Test func stepModelCatchesWrongUpdates() throws {
        let instance = try TRPOStepInstance<Float>(Self.spec)
        let result = try trpoStep(network: Self.spec.network, parameters: instance.parameters, batch: instance.batch, options: instance.options)
        #expect(try instance.check(result).passed)

        var steepest = result
        steepest.direction = result.gradient
        #expect(try instance.check(steepest).failedCriteria.contains("direction"))

        var tooFar = result
        tooFar.step = result.step.map { 4 * $0 }
        tooFar.parameters = zip(instance.parameters, tooFar.step).map { $0 + $1 }
        #expect(try instance.check(tooFar).failedCriteria.contains("kl"))

        var backwards = result
        backwards.step = result.step.map { -$0 }
        backwards.parameters = zip(instance.parameters, backwards.step).map { $0 + $1 }
        #expect(try instance.check(backwards).failedCriteria.contains("improvement"))
    }
}
