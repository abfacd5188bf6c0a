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
        try surrogateAndGradient(batch: batch, normalizesAdvantages: normalizesAdvantages, needsGradient: false).surrogate
    }

    /// Σ_i |Jᵢ|ᵀ·|∂L/∂outputs_i| (plus |∂L/∂log σ| summed termwise): the elementwise scale of the
    /// rounding error of a computed gradient, which sums these terms over the states.
    public func absoluteSurrogateGradient<T: PolicyScalar>(batch: PolicyBatch<T>, normalizesAdvantages: Bool) throws -> [Double] {
        try surrogateAndGradient(batch: batch, normalizesAdvantages: normalizesAdvantages, absolute: true).gradient
    }

    func surrogateAndGradient<T: PolicyScalar>(batch: PolicyBatch<T>, normalizesAdvantages: Bool, absolute: Bool = false,
                                               needsGradient: Bool = true) throws -> (surrogate: Double, gradient: [Double]) {
        try batch.validate(for: network)
        let advantages = try surrogateAdvantages(batch.advantages, normalizing: normalizesAdvantages)
        let n = network.outputCount, parameterCount = network.parameterCount, logStd = self.logStd
        let math = PolicyHeadMath(head: network.head, outputs: n)
        var gradient = [Double](repeating: 0, count: parameterCount), surrogate = 0.0
        for i in 0..<count {
            let layers = activations(state: i)
            let outputs = layers.last!, jacobian = needsGradient ? self.jacobian(state: i, activations: layers) : []
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
            if !needsGradient { continue }
            func term(_ x: Double) -> Double { absolute ? abs(x) : x }
            for a in 0..<n {
                for p in 0..<parameterCount { gradient[p] += term(jacobian[a * parameterCount + p]) * term(weight * derivative[a]) }
            }
            if let offset = network.logStandardDeviationOffset {
                for a in 0..<n { gradient[offset + a] += term(weight * logStdDerivative[a]) }
            }
        }
        return (surrogate, gradient)
    }
}

/// How one TRPO update compares with the Double reference (see `verifyTRPOStep`).
public struct TRPOStepVerification: Sendable, Equatable {
    /// ‖g − g_ref‖ / ‖g_ref‖: the surrogate gradient against `ReferenceFisher.surrogateGradient`.
    public var gradientRelativeError: Double
    /// max_j |g_j − g_ref,j| / (u·s_j), s = `absoluteSurrogateGradient`: the gradient's error in
    /// units of its rounding scale, at most γ_K for K = `FisherOperator.roundingDepth`.
    public var gradientErrorRatio: Double
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
    /// ‖g_ref − A·x‖/‖g_ref‖ and ‖g_ref − A·x_ref‖/‖g_ref‖ (A = F + λI, reference): how well the
    /// direction and the reference's solve the system.
    public var directionResidual: Double
    public var referenceResidual: Double
    /// The reference's relative residual after ⌈k/2⌉ iterations from the same start. Rounding
    /// delays CG's convergence (Greenbaum and Strakoš): a Float run needs more iterations than an
    /// exact one for the same residual, by an amount no a-priori bound gives. The check
    /// (`directionResidualBound`) asks that the delay be at most half the iterations: an
    /// empirical criterion, not a rounding bound. Measured on a 5 → 8 → 7 → 3 Gaussian policy
    /// (κ = 44, 15 iterations): Float's residual 4.3·10⁻⁴ against the reference's 1.7·10⁻⁴, and
    /// Double's equal to the reference's to 10⁻¹³.
    public var halfIterationsResidual: Double
    /// u·(k + K + 2)·‖|A||x|‖/‖g‖: the attainable relative residual of k CG iterations whose
    /// products carry the rounding γ_K·|A||x| (`attainableRelativeResidual` with the product's
    /// depth K for the row count and |A||x| for ‖A‖‖x‖).
    public var residualFloor: Double
    /// ½β²·xᵀ(F + λI)x / δ with the step's β and x and the reference operator: 1 up to the
    /// rounding of the step's own quadratic form.
    public var trustRegionRatio: Double
    /// (|x|ᵀ|A||x|)/(xᵀAx): the condition of the quadratic form; |ratio − 1| ≤ γ_K·this (plus the
    /// square root's and the sum's roundings) in T's unit roundoff.
    public var trustRegionScale: Double
    /// The mean KL at the returned parameters, in Double from the reference forward pass.
    public var trueKL: Double
    /// ½·sᵀF·s for the applied step s (undamped F): the quadratic model of the KL. The true KL
    /// differs from it by O(‖s‖³); it is at most c²·δ (c the accepted coefficient) because
    /// λ ≥ 0 makes ½c²β²xᵀFx ≤ ½c²β²xᵀ(F + λI)x = c²δ.
    public var quadraticKL: Double
    /// The surrogate at θ_old and at the returned parameters, in Double from the reference.
    public var surrogateBefore: Double
    public var surrogateAfter: Double
    /// K (`FisherOperator.roundingDepth`) and u of the step's element type.
    public var roundingDepth: Int
    public var unitRoundoff: Double

    /// γ_K/u: the bound on `gradientErrorRatio`.
    public var gradientErrorBound: Double {
        let ku = Double(roundingDepth) * unitRoundoff
        return ku < 1 ? Double(roundingDepth) / (1 - ku) : .infinity
    }
    /// The bound on |trustRegionRatio − 1|/u: γ_K/u·trustRegionScale for the quadratic form's
    /// product, plus 4 for the dot product (summed in Double), the division, the square root and
    /// squaring β.
    public var trustRegionErrorBound: Double { gradientErrorBound * trustRegionScale + 4 }
    /// The bound on `directionResidual`: the reference's residual after half the iterations plus
    /// the attainable floor.
    public var directionResidualBound: Double { halfIterationsResidual + residualFloor }
}

/// One TRPO update recomputed in Double with the reference (`ReferenceFisher`) and
/// `conjugateGradientReference`, for the suite's error model and the tests: what does not depend
/// on the step's result is computed once here, `verify` compares a result.
public final class TRPOStepReference<T: PolicyScalar> {
    public let network: PolicyNetwork
    let parameters: [T]
    let batch: PolicyBatch<T>
    let options: TRPOOptions
    let reference: ReferenceFisher
    let damping: Double
    /// g_ref and its rounding scale Σ|J|ᵀ|∂L/∂outputs|.
    public let gradient: [Double]
    let absoluteGradient: [Double]
    /// x_ref after the options' iterations, and after half of them, from the same start.
    public let direction: [Double]
    public let iterations: Int
    let halfDirection: [Double]
    public let surrogateBefore: Double

    /// - Complexity: 1.5·(CG iterations) + 3 reference products or gradients, O(N·n_L·P) each:
    ///   seconds for P ≈ 6000 at N = 2048.
    /// - Throws: `TRPOError` or `SolverError` for inputs the step itself would reject.
    public init(network: PolicyNetwork, parameters: [T], batch: PolicyBatch<T>, options: TRPOOptions) throws {
        self.network = network
        self.parameters = parameters
        self.batch = batch
        self.options = options
        let reference = try ReferenceFisher(network: network, parameters: parameters, states: batch.states)
        self.reference = reference
        let damping = Double(T(options.damping))
        self.damping = damping
        gradient = try reference.surrogateGradient(batch: batch, normalizesAdvantages: options.normalizesAdvantages)
        absoluteGradient = try reference.absoluteSurrogateGradient(batch: batch, normalizesAdvantages: options.normalizesAdvantages)
        var direction = [Double](repeating: 0, count: network.parameterCount)
        let report = try conjugateGradientReference(product: { reference.product($0, damping: damping) }, b: gradient,
                                                    x: &direction, options: options.conjugateGradient)
        self.direction = direction
        iterations = report.iterations
        var halfOptions = options.conjugateGradient, halfDirection = [Double](repeating: 0, count: network.parameterCount)
        halfOptions.maximumIterations = (report.iterations + 1) / 2
        _ = try conjugateGradientReference(product: { reference.product($0, damping: damping) }, b: gradient,
                                           x: &halfDirection, options: halfOptions)
        self.halfDirection = halfDirection
        surrogateBefore = try reference.surrogate(batch: batch, normalizesAdvantages: options.normalizesAdvantages)
    }

    /// Compares one result of `trpoStep` on this reference's inputs.
    ///
    /// - Complexity: 5 reference products and 3 reference forward passes.
    public func verify(_ result: TRPOStepResult<T>) throws -> TRPOStepVerification {
        let reference = self.reference, damping = self.damping
        func relativeError(_ computed: [T], _ exact: [Double]) -> Double {
            var difference = 0.0, norm = 0.0
            for j in exact.indices {
                difference += (Double(computed[j]) - exact[j]) * (Double(computed[j]) - exact[j])
                norm += exact[j] * exact[j]
            }
            return (difference / norm).squareRoot()
        }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        func norm(_ v: [Double]) -> Double { dot(v, v).squareRoot() }
        let x = result.direction.map(Double.init), step = result.step.map(Double.init)
        let beta = result.stepScale, u = Double(T.ulpOfOne) / 2
        let difference = zip(x, direction).map { $0 - $1 }
        var gradientRatio = 0.0
        for j in gradient.indices {
            let error = abs(Double(result.gradient[j]) - gradient[j])
            gradientRatio = max(gradientRatio, error == 0 ? 0 : error / (u * absoluteGradient[j]))
        }
        let product = reference.product(x, damping: damping), absoluteProduct = reference.absoluteProduct(x, damping: damping)
        let referenceProduct = reference.product(direction, damping: damping)
        let differenceProduct = zip(product, referenceProduct).map { $0 - $1 }
        func residual(_ ax: [Double]) -> Double { norm(zip(gradient, ax).map { $0 - $1 }) / norm(gradient) }
        let depth = FisherOperator<T>.roundingDepth(network: network, count: batch.count)
        let newReference = try ReferenceFisher(network: network, parameters: result.parameters, states: batch.states)
        let stepProduct = reference.product(step, damping: 0)
        return TRPOStepVerification(
            gradientRelativeError: relativeError(result.gradient, gradient),
            gradientErrorRatio: gradientRatio,
            directionRelativeError: relativeError(result.direction, direction),
            directionEnergyError: (dot(difference, differenceProduct) / dot(direction, referenceProduct)).squareRoot(),
            referenceIterations: iterations,
            directionResidual: residual(product),
            referenceResidual: residual(referenceProduct),
            halfIterationsResidual: residual(reference.product(halfDirection, damping: damping)),
            residualFloor: attainableRelativeResidual(unitRoundoff: u, iterations: result.conjugateGradient.iterations, nonzerosPerRow: depth,
                                                      matrixNorm: norm(absoluteProduct) / norm(x), solutionNorm: norm(x),
                                                      rightHandSideNorm: norm(gradient)),
            trustRegionRatio: 0.5 * beta * beta * dot(x, product) / options.maxKL,
            trustRegionScale: dot(x.map(abs), absoluteProduct) / dot(x, product),
            trueKL: try reference.meanKL(to: result.parameters, direction: options.klDirection),
            quadraticKL: 0.5 * dot(step, stepProduct),
            surrogateBefore: surrogateBefore,
            surrogateAfter: try newReference.surrogate(batch: batch, normalizesAdvantages: options.normalizesAdvantages),
            roundingDepth: depth, unitRoundoff: u)
    }
}

/// `TRPOStepReference(...).verify(result)`.
public func verifyTRPOStep<T: PolicyScalar>(network: PolicyNetwork, parameters: [T], batch: PolicyBatch<T>, options: TRPOOptions,
                                            result: TRPOStepResult<T>) throws -> TRPOStepVerification {
    try TRPOStepReference(network: network, parameters: parameters, batch: batch, options: options).verify(result)
}
