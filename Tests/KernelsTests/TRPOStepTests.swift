import Foundation
import Testing
@testable import Kernels
import SeededRandom

/// A seeded problem: θ, a batch of `count` states for `network`.
func trpoProblem<T: PolicyScalar>(_ network: PolicyNetwork, count: Int, seed: UInt64, as _: T.Type = T.self) throws -> ([T], PolicyBatch<T>) {
    let theta: [T] = network.seededParameters(seed: seed)
    return (theta, try PolicyBatch.seeded(network: network, parameters: theta, count: count, seed: seed + 1))
}

@Suite("TRPO step")
struct TRPOStepTests {
    static let networks = [smallGaussianPolicy, smallCategoricalPolicy]

    /// The whole update against the Double reference: gradient, CG direction from the same
    /// start, ½β²xᵀ(F + λI)x = δ, and the true KL against its quadratic model.
    @Test(arguments: networks)
    func stepMatchesReference(network: PolicyNetwork) throws {
        for useDouble in [true, false] {
            let verification: TRPOStepVerification, result: (accepted: Bool, kl: Double, iterations: Int, coefficient: Double)
            let options = TRPOOptions()
            if useDouble {
                let (theta, batch) = try trpoProblem(network, count: 200, seed: 21, as: Double.self)
                let step = try trpoStep(network: network, parameters: theta, batch: batch, options: options)
                verification = try verifyTRPOStep(network: network, parameters: theta, batch: batch, options: options, result: step)
                result = (step.accepted, step.kl, step.conjugateGradient.iterations, step.backtrackingCoefficient)
            } else {
                let (theta, batch) = try trpoProblem(network, count: 200, seed: 21, as: Float.self)
                let step = try trpoStep(network: network, parameters: theta, batch: batch, options: options)
                verification = try verifyTRPOStep(network: network, parameters: theta, batch: batch, options: options, result: step)
                result = (step.accepted, step.kl, step.conjugateGradient.iterations, step.backtrackingCoefficient)
            }
            let u = useDouble ? Double.ulpOfOne / 2 : Double(Float.ulpOfOne) / 2
            #expect(result.accepted)
            #expect(result.iterations == verification.referenceIterations)
            #expect(verification.gradientErrorRatio <= verification.gradientErrorBound)
            #expect(verification.directionResidual <= verification.directionResidualBound)
            #expect(abs(verification.trustRegionRatio - 1) / u <= verification.trustRegionErrorBound)
            #expect(verification.surrogateAfter > verification.surrogateBefore)
            #expect(verification.trueKL < options.maxKL)
            // CG's iterates drift apart faster than rounding (see `directionRelativeError`); these
            // bounds are 10–50 times the drift measured here and catch a wrong product or
            // recurrence, which differ at O(1).
            #expect(verification.directionRelativeError < (useDouble ? 1e-6 : 0.05))
            #expect(verification.directionEnergyError < (useDouble ? 1e-6 : 0.02))
            #expect(abs(verification.trueKL - result.kl) <= 1e3 * u * result.kl)
            #expect(result.kl < options.maxKL)
            #expect(verification.quadraticKL <= result.coefficient * result.coefficient * options.maxKL * (1 + 100 * u))
            // The cubic remainder of the KL at δ = 0.01 is a few percent; a KL formula off by a
            // constant (σ for σ², a lost ½) moves the ratio to 2 or ½.
            #expect(abs(verification.trueKL / verification.quadraticKL - 1) < 0.2)
        }
    }

    /// δ = 0.5 on the Gaussian policy: the full step's true KL exceeds δ (the KL of log σ grows
    /// faster than its quadratic model), so the search shrinks once. Each trial is recomputed with
    /// the reference.
    @Test func lineSearchShrinksWhenTheFullStepViolatesTheBound() throws {
        let network = smallGaussianPolicy
        let (theta, batch) = try trpoProblem(network, count: 200, seed: 21, as: Double.self)
        let options = TRPOOptions(maxKL: 0.5)
        let result = try trpoStep(network: network, parameters: theta, batch: batch, options: options)
        let reference = try ReferenceFisher(network: network, parameters: theta, states: batch.states)
        let before = try reference.surrogate(batch: batch, normalizesAdvantages: true)
        #expect(abs(result.surrogateBefore - before) < 1e-12)
        #expect(result.accepted && result.lineSearchIterations == 2 && result.backtrackingCoefficient == 0.8)
        for k in 0..<result.lineSearchIterations {
            let c = pow(options.shrinkFactor, Double(k))
            let trial = zip(theta, result.direction).map { $0 + c * result.stepScale * $1 }
            let kl = try reference.meanKL(to: trial)
            let surrogate = try ReferenceFisher(network: network, parameters: trial, states: batch.states).surrogate(batch: batch, normalizesAdvantages: true)
            let acceptable = kl < options.maxKL && surrogate > before
            #expect(acceptable == (k == result.lineSearchIterations - 1), "trial \(k): KL \(kl), surrogate \(surrogate) against \(before)")
            if acceptable {
                #expect(abs(kl - result.kl) < 1e-12)
                #expect(abs(surrogate - result.surrogateAfter) < 1e-12)
                #expect(result.parameters == trial)
            }
        }
        #expect(result.improvement > 0)
    }

    /// With one trial and a full step that violates the bound, nothing changes.
    @Test func rejectedSearchLeavesTheParameters() throws {
        let network = smallGaussianPolicy
        let (theta, batch) = try trpoProblem(network, count: 200, seed: 21, as: Float.self)
        let result = try trpoStep(network: network, parameters: theta, batch: batch, options: TRPOOptions(maxKL: 0.5, lineSearchTries: 1))
        #expect(!result.accepted && result.lineSearchIterations == 1)
        #expect(result.parameters == theta)
        #expect(result.step.allSatisfy { $0 == 0 } && result.kl == 0 && result.improvement == 0)
    }

    /// KL(π_old ‖ π_new), the baselines' direction, is the other argument order of the same formula.
    @Test func klDirections() throws {
        let network = smallCategoricalPolicy
        let (theta, batch) = try trpoProblem(network, count: 100, seed: 3, as: Double.self)
        for direction in [KLDirection.newFromOld, .oldFromNew] {
            let options = TRPOOptions(klDirection: direction)
            let result = try trpoStep(network: network, parameters: theta, batch: batch, options: options)
            let reference = try ReferenceFisher(network: network, parameters: theta, states: batch.states)
            #expect(abs(try reference.meanKL(to: result.parameters, direction: direction) - result.kl) < 1e-12)
        }
    }

    /// Run to convergence, CG on the Fisher operator reaches LAPACK's Cholesky solution of the
    /// explicit F + λI.
    @Test(arguments: networks)
    func convergedDirectionMatchesCholesky(network: PolicyNetwork) throws {
        let (theta, batch) = try trpoProblem(network, count: 150, seed: 8, as: Double.self)
        let options = TRPOOptions(conjugateGradient: .scipy(rtol: 1e-13, maximumIterations: 1000))
        let result = try trpoStep(network: network, parameters: theta, batch: batch, options: options)
        #expect(result.conjugateGradient.outcome == .converged)
        let reference = try ReferenceFisher(network: network, parameters: theta, states: batch.states)
        let f = reference.matrix(damping: options.damping), g = result.gradient, n = g.count
        var exact = [Double](repeating: 0, count: n)
        try f.withUnsafeBufferPointer { f in
            try g.withUnsafeBufferPointer { g in
                try exact.withUnsafeMutableBufferPointer { try choleskySolve(f.baseAddress!, dimension: n, ld: n, b: g, x: $0) }
            }
        }
        // κ(F + λI) ≤ (‖F‖ + λ)/λ ≤ 50 here: rtol 1e-13 gives a forward error below κ·1e-13.
        let error = zip(result.direction, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let norm = exact.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(error / norm < 50 * 1e-13)
    }
}

@Suite("TRPO bad inputs")
struct TRPOBadInputTests {
    @Test func nonFiniteParametersAndAdvantages() throws {
        let network = smallGaussianPolicy
        let (theta, batch) = try trpoProblem(network, count: 20, seed: 4, as: Float.self)
        var badTheta = theta
        badTheta[7] = .nan
        // NaN is not equal to itself: match the case.
        #expect {
            try trpoStep(network: network, parameters: badTheta, batch: batch)
        } throws: { error in
            guard case TRPOError.nonFinite(argument: "parameters", index: 7, let value) = error else { return false }
            return value.isNaN
        }
        var badBatch = batch
        badBatch.advantages[3] = .infinity
        #expect(throws: TRPOError.nonFinite(argument: "advantages", index: 3, value: .infinity)) {
            try trpoStep(network: network, parameters: theta, batch: badBatch)
        }
        badBatch = batch
        badBatch.states[0] = -.infinity
        #expect(throws: TRPOError.nonFinite(argument: "states", index: 0, value: -.infinity)) {
            try makeFisherOperator(network: network, parameters: theta, states: badBatch.states)
        }
    }

    @Test func zeroGradient() throws {
        let network = smallCategoricalPolicy
        let (theta, seeded) = try trpoProblem(network, count: 20, seed: 4, as: Double.self)
        var batch = seeded
        // Equal advantages standardize to zero.
        batch.advantages = [Double](repeating: 2.5, count: 20)
        #expect(throws: TRPOError.zeroGradient) { try trpoStep(network: network, parameters: theta, batch: batch) }
        batch.advantages = [Double](repeating: 0, count: 20)
        #expect(throws: TRPOError.zeroGradient) {
            try trpoStep(network: network, parameters: theta, batch: batch, options: TRPOOptions(normalizesAdvantages: false))
        }
    }

    @Test func invalidShapesAndOptions() throws {
        let network = smallCategoricalPolicy
        let (theta, batch) = try trpoProblem(network, count: 20, seed: 4, as: Double.self)
        #expect(throws: TRPOError.sizeMismatch(argument: "parameters", expected: network.parameterCount, got: 3)) {
            try trpoStep(network: network, parameters: [1, 2, 3], batch: batch)
        }
        var badBatch = batch
        badBatch.actions = .discrete([Int](repeating: 0, count: 19) + [3])
        #expect(throws: TRPOError.actionOutOfRange(index: 19, action: 3, actions: 3)) {
            try trpoStep(network: network, parameters: theta, batch: badBatch)
        }
        #expect(throws: TRPOError.invalidOption(name: "shrinkFactor", value: 1.5, requirement: "in (0, 1)")) {
            try trpoStep(network: network, parameters: theta, batch: batch, options: TRPOOptions(shrinkFactor: 1.5))
        }
        #expect(throws: TRPOError.emptyBatch) { try PolicyBatch<Float>.seeded(network: network, parameters: theta.map(Float.init), count: 0, seed: 1) }
        #expect(throws: TRPOError.invalidLayerSizes([4, 2], head: .gaussian)) { try PolicyNetwork(layerSizes: [4, 2], head: .gaussian) }
        #expect(throws: TRPOError.invalidLayerSizes([4, 8, 1], head: .categorical)) { try PolicyNetwork(layerSizes: [4, 8, 1], head: .categorical) }
    }
}
