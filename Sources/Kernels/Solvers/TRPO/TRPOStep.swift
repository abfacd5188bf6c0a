import Foundation

/// The options of one TRPO update. The defaults are Stable-Baselines3-contrib's
/// (`sb3_contrib/trpo/trpo.py`, v2.x): `target_kl=0.01`, `cg_damping=0.1`, `cg_max_steps=15`,
/// `line_search_shrinking_factor=0.8`, `line_search_max_iter=10`, `normalize_advantage=True`,
/// conjugate gradient from x₀ = 1e-4·randn with the stopping test rᵀr < 1e-10
/// (`conjugate_gradient_solver` in `sb3_contrib/common/utils.py`).
public struct TRPOOptions: Sendable, Equatable {
    /// δ, the bound on the mean KL divergence (SB3-contrib: `target_kl`).
    public var maxKL: Double
    /// λ, added to the Fisher matrix in every product, including the one that scales the step
    /// (SB3-contrib: `cg_damping`, added in `hessian_vector_product`).
    public var damping: Double
    /// Conjugate gradient's iterations, start and stopping rule.
    public var conjugateGradient: CGOptions
    /// The step is multiplied by this after each rejected trial (`line_search_shrinking_factor`).
    public var shrinkFactor: Double
    /// Trials of the backtracking line search (`line_search_max_iter`).
    public var lineSearchTries: Int
    /// Whether advantages are standardized first, (A − mean) / (std + 1e-8) with the unbiased
    /// standard deviation, as SB3-contrib does by default.
    public var normalizesAdvantages: Bool
    /// Which KL the line search bounds (SB3-contrib: KL(π_new ‖ π_old)).
    public var klDirection: KLDirection
    /// Threads for the forward passes and Fisher-vector products.
    public var threads: Int

    public init(maxKL: Double = 0.01, damping: Double = 0.1,
                conjugateGradient: CGOptions = .stableBaselines3(iterations: 15, seed: 0x7270_6F5F_6367),
                shrinkFactor: Double = 0.8, lineSearchTries: Int = 10, normalizesAdvantages: Bool = true,
                klDirection: KLDirection = .newFromOld, threads: Int = 1) {
        self.maxKL = maxKL
        self.damping = damping
        self.conjugateGradient = conjugateGradient
        self.shrinkFactor = shrinkFactor
        self.lineSearchTries = lineSearchTries
        self.normalizesAdvantages = normalizesAdvantages
        self.klDirection = klDirection
        self.threads = threads
    }

    /// Throws `TRPOError.invalidOption` unless δ > 0, λ ≥ 0, 0 < shrink < 1, tries ≥ 1 and
    /// threads ≥ 1, all finite.
    func validate() throws {
        if !(maxKL > 0) || !maxKL.isFinite { throw TRPOError.invalidOption(name: "maxKL", value: maxKL, requirement: "finite and > 0") }
        if !(damping >= 0) || !damping.isFinite { throw TRPOError.invalidOption(name: "damping", value: damping, requirement: "finite and ≥ 0") }
        if !(shrinkFactor > 0 && shrinkFactor < 1) { throw TRPOError.invalidOption(name: "shrinkFactor", value: shrinkFactor, requirement: "in (0, 1)") }
        if lineSearchTries < 1 { throw TRPOError.invalidOption(name: "lineSearchTries", value: Double(lineSearchTries), requirement: "at least 1") }
        if threads < 1 { throw TRPOError.invalidOption(name: "threads", value: Double(threads), requirement: "at least 1") }
    }
}

/// What one TRPO update did.
public struct TRPOStepResult<T: PolicyScalar>: Sendable {
    /// θ_new: θ_old plus the accepted step, or θ_old when no trial was accepted.
    public var parameters: [T]
    /// θ_new − θ_old as applied: c·β·x for the accepted coefficient c, zero when rejected.
    public var step: [T]
    /// x, conjugate gradient's approximation of (F + λI)⁻¹·g.
    public var direction: [T]
    /// g, the gradient of the surrogate objective at θ_old.
    public var gradient: [T]
    /// xᵀ(F + λI)x, from one more Fisher-vector product.
    public var quadraticForm: Double
    /// β = √(2δ / xᵀ(F + λI)x): the full step β·x has ½(βx)ᵀ(F + λI)(βx) = δ.
    public var stepScale: Double
    /// c = shrinkᵏ of the accepted trial k; 0 when rejected.
    public var backtrackingCoefficient: Double
    /// Whether a trial met the conditions (KL < δ and the surrogate improved).
    public var accepted: Bool
    /// The mean KL at θ_new (the true KL, not its quadratic estimate); 0 when rejected.
    public var kl: Double
    /// The surrogate objective mean(Â·π_θ(a|s)/π_old(a|s)) at θ_old and at θ_new.
    public var surrogateBefore: Double
    public var surrogateAfter: Double
    /// Conjugate gradient's report (iterations, outcome, residual).
    public var conjugateGradient: CGReport
    /// Trials the line search evaluated (1…lineSearchTries).
    public var lineSearchIterations: Int

    /// surrogateAfter − surrogateBefore (0 when rejected).
    public var improvement: Double { surrogateAfter - surrogateBefore }
}

/// One TRPO policy update, Stable-Baselines3-contrib's algorithm (`TRPO.train`):
///
///     Â      = advantages, standardized (option)
///     L(θ)   = mean_i Â_i·exp(log π_θ(a_i|s_i) − log π_old_i)         (surrogate)
///     g      = ∇L(θ_old)                                               (reverse pass)
///     x      ≈ (F + λI)⁻¹·g    conjugate gradient, matrix-free         (Fisher-vector products)
///     β      = √(2δ / xᵀ(F + λI)x)
///     for k = 0 ..< tries:  θ_k = θ_old + c_k·β·x,  c_k = shrinkᵏ
///         accept the first θ_k with mean KL(θ_k) < δ and L(θ_k) > L(θ_old)
///
/// F is the Fisher information of the policy at θ_old on the batch's states (`FisherOperator`);
/// the KL and L are computed in Double from the network's outputs in T. Nothing of θ changes when
/// no trial is accepted (as in SB3-contrib, which then restores θ_old).
///
/// - Complexity: one forward and one reverse pass for g; (iterations + 2) Fisher-vector products
///   (one for r₀ from SB3-contrib's non-zero start, one for the quadratic form), each
///   `FisherOperator.flopsPerProduct`; one forward pass per line-search trial; O(P) per CG
///   iteration for the vector updates.
/// - Error: every product is computed in T with the bounds of `FisherOperator.apply`; the
///   direction follows CG's rounding in T (compare with `conjugateGradientReference` from the
///   same start, see `verifyTRPOStep`); β is exact for the computed quadratic form.
/// - Throws: `TRPOError` for bad inputs (sizes, NaN or ±∞ in θ, states, actions, advantages or old
///   log-probabilities, out-of-range actions, invalid options, a batch of one state with
///   normalized advantages), a zero gradient, xᵀ(F + λI)x ≤ 0, or a NaN or infinity met on the
///   way; `SolverError` for invalid CG options.
public func trpoStep<T: PolicyScalar>(network: PolicyNetwork, parameters: [T], batch: PolicyBatch<T>, options: TRPOOptions = TRPOOptions()) throws -> TRPOStepResult<T> {
    try T.trpoStepEntry(network: network, parameters: parameters, batch: batch, options: options)
}

/// `trpoStep` for one concrete type.
func runTRPOStep<T: PolicyScalar>(network: PolicyNetwork, parameters theta: [T], batch: PolicyBatch<T>, options: TRPOOptions) throws -> TRPOStepResult<T> {
    try options.validate()
    try theta.withUnsafeBufferPointer { try network.validate(parameters: $0) }
    try batch.validate(for: network)
    let problem = try TRPOProblem(network: network, parameters: theta, batch: batch, options: options)
    let gradient = try problem.surrogateGradient()
    if gradient.allSatisfy({ $0 == 0 }) { throw TRPOError.zeroGradient }

    // x ≈ (F + λI)⁻¹·g.
    let fisher = problem.fisher, dimension = network.parameterCount
    var direction = [T](repeating: 0, count: dimension)
    let report = try gradient.withUnsafeBufferPointer { g in
        try direction.withUnsafeMutableBufferPointer { x in
            try conjugateGradient(fisher, b: g, x: x, options: options.conjugateGradient, threads: fisher.threads)
        }
    }
    switch report.outcome {
    case .converged, .reachedMaximumIterations: break
    case .notPositiveDefinite(let curvature): throw TRPOError.nonPositiveCurvature(quadraticForm: curvature)
    case .zeroRightHandSide: throw TRPOError.zeroGradient
    case .nonFinite(let value): throw TRPOError.nonFiniteResult(stage: "conjugate gradient (\(value.rawValue))")
    case .preconditionerNotPositiveDefinite: fatalError("trpoStep: unpreconditioned CG reported a preconditioner failure")
    }

    // β = √(2δ / xᵀ(F + λI)x).
    var product = [T](repeating: 0, count: dimension)
    direction.withUnsafeBufferPointer { x in product.withUnsafeMutableBufferPointer { fisher.apply(x.baseAddress!, into: $0.baseAddress!) } }
    var quadraticForm = 0.0
    for j in 0..<dimension { quadraticForm += Double(direction[j]) * Double(product[j]) }
    if !quadraticForm.isFinite { throw TRPOError.nonFiniteResult(stage: "xᵀ(F + λI)x") }
    if quadraticForm <= 0 { throw TRPOError.nonPositiveCurvature(quadraticForm: quadraticForm) }
    let stepScale = (2 * options.maxKL / quadraticForm).squareRoot()

    // Backtracking line search.
    var result = TRPOStepResult(
        parameters: theta, step: [T](repeating: 0, count: dimension), direction: direction, gradient: gradient,
        quadraticForm: quadraticForm, stepScale: stepScale, backtrackingCoefficient: 0, accepted: false, kl: 0,
        surrogateBefore: problem.surrogateBefore, surrogateAfter: problem.surrogateBefore,
        conjugateGradient: report, lineSearchIterations: 0)
    var coefficient = 1.0, trial = theta, step = theta
    for _ in 0..<options.lineSearchTries {
        result.lineSearchIterations += 1
        let scale = coefficient * stepScale
        for j in 0..<dimension {
            step[j] = T(scale * Double(direction[j]))
            trial[j] = theta[j] + step[j]
        }
        let (surrogate, kl) = try problem.evaluate(at: trial)
        if kl < options.maxKL && surrogate > problem.surrogateBefore {
            result.parameters = trial
            result.step = step
            result.backtrackingCoefficient = coefficient
            result.accepted = true
            result.kl = kl
            result.surrogateAfter = surrogate
            break
        }
        coefficient *= options.shrinkFactor
    }
    return result
}

/// One update's fixed data: the Fisher operator at θ_old (whose forward pass gives the old
/// outputs), the standardized advantages, the probability ratios at θ_old and the surrogate there.
final class TRPOProblem<T: PolicyScalar> {
    let network: PolicyNetwork
    let batch: PolicyBatch<T>
    let options: TRPOOptions
    let fisher: FisherOperator<T>
    let oldLogStd: [Double]
    /// Â_i·exp(log π_old(a_i|s_i) at θ_old − the batch's old log-probability), per state.
    let weightedRatios: [Double]
    let advantages: [Double]
    let surrogateBefore: Double
    /// Activations for the trial parameters of the line search.
    let trialActivations: PolicyActivations<T>

    init(network: PolicyNetwork, parameters theta: [T], batch: PolicyBatch<T>, options: TRPOOptions) throws {
        self.network = network
        self.batch = batch
        self.options = options
        let count = batch.count
        fisher = theta.withUnsafeBufferPointer { theta in
            batch.states.withUnsafeBufferPointer { states in
                FisherOperator(validatedNetwork: network, parameters: theta.baseAddress!, states: states.baseAddress!, count: count,
                               damping: T(options.damping), threads: options.threads)
            }
        }
        oldLogStd = network.logStandardDeviations(theta)
        let advantages = try surrogateAdvantages(batch.advantages, normalizing: options.normalizesAdvantages)
        self.advantages = advantages
        let outputs = fisher.linearization.outputs, logStd = oldLogStd
        weightedRatios = (0..<count).map { i in
            let logProbability = Kernels.logProbability(network: network, logStd: logStd, outputs: outputs, actions: batch.actions, state: i)
            return advantages[i] * exp(logProbability - Double(batch.oldLogProbabilities[i]))
        }
        surrogateBefore = weightedRatios.reduce(0, +) / Double(count)
        if !surrogateBefore.isFinite { throw TRPOError.nonFiniteResult(stage: "surrogate objective at θ_old") }
        trialActivations = PolicyActivations(network: network, count: count)
    }

    /// g = ∇L(θ_old): the reverse pass with the output cotangents
    ///   Gaussian:    ∂L/∂μ_ia = (Â_i r_i / N)·(a_ia − μ_ia)/σ_a²,  ∂L/∂log σ_a = Σ_i (Â_i r_i / N)·((a_ia − μ_ia)²/σ_a² − 1)
    ///   categorical: ∂L/∂z_ic = (Â_i r_i / N)·(1[c = a_i] − p_ic)
    func surrogateGradient() throws -> [T] {
        let count = batch.count, outputs = network.outputCount, outputValues = fisher.linearization.outputs
        let weights = weightedRatios.map { $0 / Double(count) }
        var gradient = [T](repeating: 0, count: network.parameterCount)
        let inverseVariances = oldLogStd.map { exp(-2 * $0) }
        let math = PolicyHeadMath(head: network.head, outputs: outputs)
        switch batch.actions {
        case .continuous(let actions):
            actions.withUnsafeBufferPointer { actions in
                gradient.withUnsafeMutableBufferPointer { g in
                    fisher.linearization.transposedJacobianProduct(direction: nil, outputWeights: { _, rows, u in
                        for (column, i) in rows.enumerated() {
                            for a in 0..<outputs {
                                let residual = Double(actions[i * outputs + a]) - Double(outputValues[i * outputs + a])
                                u[a * rows.count + column] = T(weights[i] * residual * inverseVariances[a])
                            }
                        }
                    }, into: g.baseAddress!, threads: fisher.threads)
                }
                let offset = network.logStandardDeviationOffset!
                for a in 0..<outputs {
                    var sum = 0.0
                    for i in 0..<count {
                        let residual = Double(actions[i * outputs + a]) - Double(outputValues[i * outputs + a])
                        sum += weights[i] * (residual * residual * inverseVariances[a] - 1)
                    }
                    gradient[offset + a] = T(sum)
                }
            }
        case .discrete(let actions):
            gradient.withUnsafeMutableBufferPointer { g in
                fisher.linearization.transposedJacobianProduct(direction: nil, outputWeights: { _, rows, u in
                    for (column, i) in rows.enumerated() {
                        let logits = outputValues + i * outputs
                        for c in 0..<outputs {
                            let probability = exp(math.logSoftmax(logits: logits, c))
                            u[c * rows.count + column] = T(weights[i] * ((c == actions[i] ? 1 : 0) - probability))
                        }
                    }
                }, into: g.baseAddress!, threads: fisher.threads)
            }
        }
        if let j = gradient.firstIndex(where: { !$0.isFinite }) {
            throw TRPOError.nonFiniteResult(stage: "surrogate gradient (entry \(j))")
        }
        return gradient
    }

    /// (L(θ), mean KL between π_θ and π_old) at trial parameters θ, one forward pass.
    func evaluate(at theta: [T]) throws -> (surrogate: Double, kl: Double) {
        let linearization = fisher.linearization, activations = trialActivations
        theta.withUnsafeBufferPointer { linearization.forward(parameters: $0.baseAddress!, into: activations) }
        let count = batch.count, outputs = network.outputCount
        let newLogStd = network.logStandardDeviations(theta), oldOutputs = linearization.outputs, newOutputs = activations.outputs
        let math = PolicyHeadMath(head: network.head, outputs: outputs)
        var surrogate = 0.0, kl = 0.0
        for i in 0..<count {
            let logProbability = Kernels.logProbability(network: network, logStd: newLogStd, outputs: UnsafePointer(newOutputs), actions: batch.actions, state: i)
            surrogate += advantages[i] * exp(logProbability - Double(batch.oldLogProbabilities[i]))
            let (new, old) = (UnsafePointer(newOutputs + i * outputs), UnsafePointer(oldOutputs + i * outputs))
            kl += options.klDirection == .newFromOld
                ? math.kl(new, logStdP: newLogStd, old, logStdQ: oldLogStd)
                : math.kl(old, logStdP: oldLogStd, new, logStdQ: newLogStd)
        }
        surrogate /= Double(count)
        kl /= Double(count)
        if !surrogate.isFinite || !kl.isFinite { throw TRPOError.nonFiniteResult(stage: "line search (surrogate \(surrogate), KL \(kl))") }
        return (surrogate, kl)
    }
}

/// The advantages the surrogate weighs, in Double: as given, or standardized as SB3-contrib does,
/// (A − mean) / (std + 1e-8) with the unbiased (N − 1) standard deviation.
func surrogateAdvantages<T: BinaryFloatingPoint>(_ values: [T], normalizing: Bool) throws -> [Double] {
    let advantages = values.map(Double.init), count = Double(values.count)
    if !normalizing { return advantages }
    if values.count < 2 { throw TRPOError.invalidOption(name: "normalizesAdvantages with a batch of", value: count, requirement: "at least 2 states") }
    let mean = advantages.reduce(0, +) / count
    let variance = advantages.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (count - 1)
    let scale = 1 / (variance.squareRoot() + 1e-8)
    return advantages.map { ($0 - mean) * scale }
}
