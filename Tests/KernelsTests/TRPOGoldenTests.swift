import Foundation
import Testing
import TestSupport
@testable import Kernels

/// reference/trpo/golden.json, made by reference/trpo/make_golden.py with PyTorch in float64
/// through Stable-Baselines3-contrib's algorithm (Benchmarks/peers/torch_trpo_step.py).
struct TRPOGolden: Decodable {
    struct Case: Decodable, CustomTestStringConvertible {
        let layerSizes: [Int], head: String, count: Int
        let parameterSeed: UInt64, batchSeed: UInt64, cgSeed: UInt64, cgIterations: Int
        let maxKL: Double, damping: Double
        let theta: [Double], states: [Double], actions: [Double], advantages: [Double], oldLogProbabilities: [Double]
        let v: [Double], fvpDamped: [Double], fvp: [Double]
        let gradient: [Double], direction: [Double], cgIterationsTaken: Int, quadraticForm: Double, stepScale: Double
        let accepted: Bool, coefficient: Double, tries: Int, kl: Double, surrogateBefore: Double, surrogateAfter: Double
        let thetaNew: [Double]

        enum CodingKeys: String, CodingKey {
            case layerSizes = "layer_sizes", head, count, parameterSeed = "parameter_seed", batchSeed = "batch_seed"
            case cgSeed = "cg_seed", cgIterations = "cg_iterations", maxKL = "max_kl", damping, theta, states, actions, advantages
            case oldLogProbabilities = "old_log_probabilities", v, fvpDamped = "fvp_damping_0_1", fvp = "fvp_damping_0", gradient, direction
            case cgIterationsTaken = "cg_iterations_taken", quadraticForm = "quadratic_form", stepScale = "step_scale", accepted
            case coefficient, tries, kl, surrogateBefore = "surrogate_before", surrogateAfter = "surrogate_after", thetaNew = "theta_new"
        }

        var network: PolicyNetwork { try! PolicyNetwork(layerSizes: layerSizes, head: head == "gaussian" ? .gaussian : .categorical) }
        var testDescription: String { network.description }

        func batch<T: PolicyScalar>(as _: T.Type) -> PolicyBatch<T> {
            PolicyBatch(count: count, states: states.map { T($0) },
                        actions: head == "gaussian" ? .continuous(actions.map { T($0) }) : .discrete(actions.map { Int($0) }),
                        advantages: advantages.map { T($0) }, oldLogProbabilities: oldLogProbabilities.map { T($0) })
        }

        var options: TRPOOptions {
            TRPOOptions(maxKL: maxKL, damping: damping, conjugateGradient: .stableBaselines3(iterations: cgIterations, seed: cgSeed))
        }
    }
    let cases: [Case]
}

func relativeDifference<T: BinaryFloatingPoint>(_ computed: [T], _ exact: [Double]) -> Double {
    var difference = 0.0, norm = 0.0
    for (c, e) in zip(computed, exact) {
        difference += (Double(c) - e) * (Double(c) - e)
        norm += e * e
    }
    return (difference / norm).squareRoot()
}

@Suite("TRPO against PyTorch")
struct TRPOGoldenTests {
    static let cases = loadReference("reference/trpo/golden.json", as: TRPOGolden.self)?.cases ?? []

    /// The seeded θ and batch are the script's, value for value: the recipe the peer script
    /// reimplements is the one Swift runs.
    @Test(arguments: cases)
    func seededInputsMatchThePythonRecipe(golden: TRPOGolden.Case) throws {
        let network = golden.network
        let theta: [Double] = network.seededParameters(seed: golden.parameterSeed)
        #expect(theta == golden.theta)
        let batch = try PolicyBatch.seeded(network: network, parameters: theta, count: golden.count, seed: golden.batchSeed)
        let reference = golden.batch(as: Double.self)
        #expect(batch.states == reference.states)
        #expect(batch.actions == reference.actions)
        #expect(batch.advantages == reference.advantages)
        #expect(relativeDifference(batch.oldLogProbabilities, golden.oldLogProbabilities) < 1e-14)
    }

    /// The Fisher-vector product against autograd's double backpropagation, with and without
    /// damping, in Double and Float: within the rounding bound of the product (both the golden
    /// value and ours round in Double; Float inputs are the rounded golden ones).
    @Test(arguments: cases)
    func fisherVectorProduct(golden: TRPOGolden.Case) throws {
        let network = golden.network
        let reference = try ReferenceFisher(network: network, parameters: golden.theta, states: golden.states)
        let bound = fisherDepth(network, count: golden.count)
        for (damping, expected) in [(golden.damping, golden.fvpDamped), (0, golden.fvp)] {
            let scale = reference.absoluteProduct(golden.v, damping: damping)
            let double = try makeFisherOperator(network: network, parameters: golden.theta, states: golden.states, damping: damping)
            #expect(errorRatio(fisherProduct(double, golden.v), expected, scale: scale) <= 2 * bound)
            let float = try makeFisherOperator(network: network, parameters: golden.theta.map(Float.init), states: golden.states.map(Float.init), damping: Float(damping))
            // Rounding θ, the states and v to Float changes the product by about u_Float·scale
            // per input, with the depth of the chain: the same bound in Float's unit.
            #expect(errorRatio(fisherProduct(float, golden.v.map(Float.init)), expected, scale: scale) <= 2 * bound)
        }
    }

    /// The whole update in Double against SB3-contrib's in float64: gradient, CG direction after
    /// the same iterations from the same start, β, the line search and θ after it.
    @Test(arguments: cases)
    func update(golden: TRPOGolden.Case) throws {
        let network = golden.network
        let result = try trpoStep(network: network, parameters: golden.theta, batch: golden.batch(as: Double.self), options: golden.options)
        let u = Double.ulpOfOne / 2
        #expect(relativeDifference(result.gradient, golden.gradient) < 100 * u)
        #expect(result.conjugateGradient.iterations == golden.cgIterationsTaken)
        // Ten iterations: the drift between two CG runs is still near rounding (see
        // `TRPOStepVerification.directionRelativeError`).
        #expect(relativeDifference(result.direction, golden.direction) < 1e-10)
        #expect(abs(result.quadraticForm / golden.quadraticForm - 1) < 1e-10)
        #expect(abs(result.stepScale / golden.stepScale - 1) < 1e-10)
        #expect(result.accepted == golden.accepted && result.lineSearchIterations == golden.tries)
        #expect(result.backtrackingCoefficient == golden.coefficient)
        #expect(abs(result.kl / golden.kl - 1) < 1e-9)
        #expect(abs(result.surrogateBefore - golden.surrogateBefore) < 1e-14)
        #expect(abs(result.improvement / (golden.surrogateAfter - golden.surrogateBefore) - 1) < 1e-9)
        #expect(relativeDifference(result.parameters, golden.thetaNew) < 1e-12)
    }

    /// The update in Float against the float64 golden one: the CG drift of Float
    /// (`TRPOStepVerification.directionRelativeError`) dominates.
    @Test(arguments: cases)
    func updateInFloat(golden: TRPOGolden.Case) throws {
        let network = golden.network
        let result = try trpoStep(network: network, parameters: golden.theta.map(Float.init), batch: golden.batch(as: Float.self), options: golden.options)
        #expect(relativeDifference(result.gradient, golden.gradient) < 1e-5)
        #expect(relativeDifference(result.direction, golden.direction) < 0.05)
        #expect(result.accepted == golden.accepted && result.lineSearchIterations == golden.tries)
        #expect(abs(result.kl / golden.kl - 1) < 0.05)
    }
}
