import Foundation

extension ReferenceFisher {
    /// g = ∇L(θ) of the surrogate L(θ) = mean_i Â_i·exp(log π_θ(a_i|s_i) − log π_old_i) at this
    /// reference's θ, in Double from the per-state Jacobians: g = Σ_i Jᵢᵀ·∂L/∂outputs_i plus, for a
    /// Gaussian head, ∂L/∂log σ. O(N·n_L·P).
    ///
    /// - Throws: `TRPOError` for a batch that does not fit the network.
    public func surrogateGradient<T: PolicyScalar>(batch: PolicyBatch<T>, normalizesAdvantages: Bool) throws -> [Double] {
        try surrogateAndGradient(batch: batch, normalizesAdvantages: normalizesAdvantages).gradient
    }

    /// L(θ) at this reference's θ, in Double. O(N·Σ n_l·n_{l−1}) plus the Jacobians.
    public func surrogate<T: PolicyScalar>(batch: PolicyBatch<T>, normalizesAdvantages: Bool) throws -> Double {
        try surrogateAndGradient(batch: batch, normalizesAdvantages: normalizesAdvantages).surrogate
    }

    func surrogateAndGradient<T: PolicyScalar>(batch: PolicyBatch<T>, normalizesAdvantages: Bool) throws -> (surrogate: Double, gradient: [Double]) {
        try batch.validate(for: network)
        let advantages = try surrogateAdvantages(batch.advantages, normalizing: normalizesAdvantages)
        let n = network.outputCount, parameterCount = network.parameterCount, logStd = self.logStd
        let math = PolicyHeadMath(head: network.head, outputs: n)
        var gradient = [Double](repeating: 0, count: parameterCount), surrogate = 0.0
        for i in 0..<count {
            let layers = activations(state: i)
            let outputs = layers.last!, jacobian = self.jacobian(state: i, activations: layers)
            var logProbability = 0.0, derivative = [Double](repeating: 0, count: n), logStdDerivative = [Double](repeating: 0, count: n)
            switch batch.actions {
            case .continuous(let actions):
                for a in 0..<n {
                    let residual = Double(actions[i * n + a]) - outputs[a], variance = exp(2 * logStd[a])
                    logProbability += -0.5 * residual * residual / variance - logStd[a] - PolicyHeadMath.halfLogTwoPi
                    derivative[a] = residual / variance
                    logStdDerivative[a] = residual * residual / variance - 1
                }
            case .discrete(let actions):
                logProbability = outputs.withUnsafeBufferPointer { math.logSoftmax(logits: $0.baseAddress!, actions[i]) }
                for c in 0..<n {
                    let probability = outputs.withUnsafeBufferPointer { exp(math.logSoftmax(logits: $0.baseAddress!, c)) }
                    derivative[c] = (c == actions[i] ? 1 : 0) - probability
                }
            }
            let weight = advantages[i] * exp(logProbability - Double(batch.oldLogProbabilities[i])) / Double(count)
            surrogate += weight
            for a in 0..<n {
                for p in 0..<parameterCount { gradient[p] += jacobian[a * parameterCount + p] * weight * derivative[a] }
            }
            if let offset = network.logStandardDeviationOffset {
                for a in 0..<n { gradient[offset + a] += weight * logStdDerivative[a] }
            }
        }
        return (surrogate, gradient)
    }
}

/// How one TRPO update compares with the Double reference (see `verifyTRPOStep`).
public struct TRPOStepVerification: Sendable, Equatable {
    /// ‖g − g_ref‖ / ‖g_ref‖: the surrogate gradient against `ReferenceFisher.surrogateGradient`.
    public var gradientRelativeError: Double
    /// ‖x − x_ref‖ / ‖x_ref‖: the CG direction against `conjugateGradientReference` in Double on
    /// the reference operator and gradient, from the same start with the same options.
    ///
    /// Conjugate gradient's iterates are not forward stable: once Ritz values converge, two runs
    /// whose products differ by rounding drift apart much faster than κ(A)·u (Greenbaum,
    /// "Iterative Methods for Solving Linear Systems", ch. 4). Measured on a 5 → 8 → 7 → 3
    /// Gaussian policy (P = 138, N = 200, κ(F + λI) = 44), Double against the reference:
    /// 2·10⁻¹⁵ after 1 iteration, 7·10⁻¹⁵ after 9, 2·10⁻¹³ after 11, 7·10⁻¹⁰ after 15; Float:
    /// 3·10⁻⁷, 6·10⁻⁶, 2·10⁻⁴, 2·10⁻³. So the direction is checked against a bound that
    /// catches a wrong product or recurrence (which differ at O(1)), not against rounding.
    public var directionRelativeError: Double
    /// ‖x − x_ref‖_A / ‖x_ref‖_A with A = F + λI (reference): the difference in the norm that
    /// scales the step, so that the quadratic KL model ½(βx)ᵀA(βx) and the predicted improvement
    /// gᵀ(βx) of the two directions differ by at most about twice this, relatively.
    public var directionEnergyError: Double
    /// Iterations the reference CG took (the step's are in its result).
    public var referenceIterations: Int
    /// ½β²·xᵀ(F + λI)x / δ with the step's β and x and the reference operator: 1 up to the
    /// rounding of the step's own quadratic form.
    public var trustRegionRatio: Double
    /// The mean KL at the returned parameters, in Double from the reference forward pass.
    public var trueKL: Double
    /// ½·sᵀF·s for the applied step s (undamped F): the quadratic model of the KL. The true KL
    /// differs from it by O(‖s‖³); it is at most c²·δ (c the accepted coefficient) because
    /// λ ≥ 0 makes ½c²β²xᵀFx ≤ ½c²β²xᵀ(F + λI)x = c²δ.
    public var quadraticKL: Double
}

/// Recomputes one TRPO update's pieces in Double with the reference (`ReferenceFisher`) and
/// `conjugateGradientReference`, for the suite's error model and the tests.
///
/// - Complexity: (CG iterations + 5) reference products, O(N·n_L·P) each, plus two reference
///   forward passes: seconds for P ≈ 6000 at N = 2048.
/// - Throws: `TRPOError` or `SolverError` for inputs the step itself would reject.
public func verifyTRPOStep<T: PolicyScalar>(network: PolicyNetwork, parameters: [T], batch: PolicyBatch<T>, options: TRPOOptions,
                                            result: TRPOStepResult<T>) throws -> TRPOStepVerification {
    let reference = try ReferenceFisher(network: network, parameters: parameters, states: batch.states)
    let referenceGradient = try reference.surrogateGradient(batch: batch, normalizesAdvantages: options.normalizesAdvantages)
    var referenceDirection = [Double](repeating: 0, count: network.parameterCount)
    let damping = Double(T(options.damping))
    let report = try conjugateGradientReference(product: { reference.product($0, damping: damping) }, b: referenceGradient,
                                                x: &referenceDirection, options: options.conjugateGradient)
    func relativeError(_ computed: [T], _ exact: [Double]) -> Double {
        var difference = 0.0, norm = 0.0
        for j in exact.indices {
            difference += (Double(computed[j]) - exact[j]) * (Double(computed[j]) - exact[j])
            norm += exact[j] * exact[j]
        }
        return (difference / norm).squareRoot()
    }
    func quadratic(_ v: [Double], damping: Double) -> Double {
        zip(v, reference.product(v, damping: damping)).reduce(0) { $0 + $1.0 * $1.1 }
    }
    let direction = result.direction.map(Double.init), step = result.step.map(Double.init)
    let beta = result.stepScale
    let difference = zip(direction, referenceDirection).map { $0 - $1 }
    return TRPOStepVerification(
        gradientRelativeError: relativeError(result.gradient, referenceGradient),
        directionRelativeError: relativeError(result.direction, referenceDirection),
        directionEnergyError: (quadratic(difference, damping: damping) / quadratic(referenceDirection, damping: damping)).squareRoot(),
        referenceIterations: report.iterations,
        trustRegionRatio: 0.5 * beta * beta * quadratic(direction, damping: damping) / options.maxKL,
        trueKL: try reference.meanKL(to: result.parameters, direction: options.klDirection),
        quadraticKL: 0.5 * quadratic(step, damping: 0))
}
