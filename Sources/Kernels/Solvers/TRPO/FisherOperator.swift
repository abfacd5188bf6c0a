import Foundation

/// The damped Fisher information of a policy at θ on a batch of N states, applied without
/// forming it:
///
///     (F + λI)·v = (1/N)·Σᵢ Jᵢᵀ Mᵢ Jᵢ v + F_σ v + λv
///
/// Jᵢ = ∂(network outputs at state sᵢ)/∂θ; Mᵢ the Fisher information of the head with respect to
/// its inputs: diag(1/σ²) on the means (Gaussian), diag(pᵢ) − pᵢpᵢᵀ on the logits (categorical).
/// F_σ is the log-σ block of a Gaussian head, 2·I (the Fisher information of a diagonal Gaussian
/// with respect to log σ is 2 per action dimension, whatever the state; the mean–log σ block is
/// zero). This is the Hessian at θ of the mean KL between π_θ and π_θ' (either direction), which is
/// what PyTorch's double backpropagation computes in Stable-Baselines3-contrib's TRPO.
///
/// One product is a forward-mode (tangent) pass for J·v, the head's Mᵢ, and a reverse-mode
/// (adjoint) pass for Jᵀ·u, batched over the states as GEMMs (see `PolicyLinearization`). The
/// forward pass at θ runs once, when the operator is made.
///
/// A `LinearOperator`, so that `conjugateGradient` solves (F + λI)·x = g with it. Not safe for
/// concurrent `apply` calls on one operator (they share its buffers).
public final class FisherOperator<T: PolicyScalar>: LinearOperator {
    public let network: PolicyNetwork
    /// States N.
    public let count: Int
    /// λ.
    public let damping: T
    let linearization: PolicyLinearization<T>
    /// Gaussian: 1/σ_a², n_L values; categorical: empty.
    let inverseVariances: [T]
    /// Categorical: softmax of the outputs at θ, N × n_L; Gaussian: empty.
    let probabilities: [T]

    /// Runs the forward pass at θ. Inputs already validated.
    init(validatedNetwork network: PolicyNetwork, parameters: UnsafePointer<T>, states: UnsafePointer<T>, count: Int, damping: T, threads: Int) {
        self.network = network
        self.count = count
        self.damping = damping
        linearization = PolicyLinearization(network: network, parameters: parameters, states: states, count: count, threads: threads)
        let math = PolicyHeadMath(head: network.head, outputs: network.outputCount)
        switch network.head {
        case .gaussian:
            let logStd = parameters + network.logStandardDeviationOffset!
            inverseVariances = (0..<network.outputCount).map { T(exp(-2 * Double(logStd[$0]))) }
            probabilities = []
        case .categorical:
            inverseVariances = []
            let outputs = linearization.outputs, classes = network.outputCount
            var p = [T](repeating: 0, count: count * classes)
            for i in 0..<count {
                for c in 0..<classes { p[i * classes + c] = T(exp(math.logSoftmax(logits: outputs + i * classes, c))) }
            }
            probabilities = p
        }
    }

    /// Parameters: the length of v and of (F + λI)·v.
    public var dimension: Int { network.parameterCount }
    /// Threads a product may use: the count the operator was made for, fewer for small batches
    /// (each thread needs 256 states to pay for its wake-up).
    public var threads: Int { linearization.threads }

    /// Floating-point operations of the GEMMs in one product (FMA = 2): the tangent pass
    /// 2N·(n₁n₀ + Σ_{l≥2} 2n_l·n_{l−1}) and the adjoint pass 2N·(Σ_l n_l·n_{l−1} + Σ_{l≥2} n_l·n_{l−1});
    /// 4.02·10⁴·N for 17 → 64 → 64 → 6 (2.01·10⁸ at N = 5000), 3.48·10⁴·N for 4 → 64 → 64 → 2.
    /// The elementwise work (tanh', Mᵢ, biases) adds O(N·Σn_l).
    public var flopsPerProduct: Double { Self.flopsPerProduct(network: network, count: count) }

    /// `flopsPerProduct` of an operator on `count` states.
    public static func flopsPerProduct(network: PolicyNetwork, count: Int) -> Double {
        // Tangent 2(n₁n₀ + Σ 2n_l·n_{l−1}) plus adjoint 2(Σ_l n_l·n_{l−1} + Σ_{l≥2} n_l·n_{l−1}).
        let sizes = network.layerSizes.map(Double.init)
        var perState = 4 * sizes[1] * sizes[0]
        for l in 2..<sizes.count { perState += 8 * sizes[l] * sizes[l - 1] }
        return Double(count) * perState
    }

    /// Bytes one product moves if nothing stays in cache between its passes: the states read by
    /// both passes, each hidden layer's [T | H] buffer (2n_l values a state) read three times and
    /// written twice, the output-space vectors written and read twice. The chunks keep most of
    /// this in L2, so the real traffic to memory is lower.
    public static func bytesPerProduct(network: PolicyNetwork, count: Int) -> Double {
        let sizes = network.layerSizes.map(Double.init), hiddenWidths = sizes.dropFirst().dropLast().reduce(0, +)
        return Double(count) * Double(MemoryLayout<T>.size) * (2 * sizes[0] + 5 * 2 * hiddenWidths + 4 * sizes[sizes.count - 1])
    }

    /// Flops of one forward pass of the network on `count` states: 2N·Σ_l n_l·n_{l−1}.
    public static func flopsPerForwardPass(network: PolicyNetwork, count: Int) -> Double {
        let sizes = network.layerSizes.map(Double.init)
        return Double(count) * (1..<sizes.count).reduce(0) { $0 + 2 * sizes[$1] * sizes[$1 - 1] }
    }

    /// K of the rounding bound |ŷ − y| ≤ γ_K·((1/N)·Σᵢ|Jᵢ|ᵀ|Mᵢ||Jᵢ||v| + F_σ|v| + λ|v|) elementwise
    /// (the scale is `ReferenceFisher.absoluteProduct`): the sums over the N states (the adjoint's
    /// weight and bias gradients), plus the depths along the chain through the network, at most
    /// n₀ + Σ_{l≥2} 2n_{l−1} for the tangent and Σ_l n_l for the adjoint, bounded by 3·Σ n_l; plus a
    /// few roundings per layer and in the head (tanh ≤ 3 ulps, tanh' = 1 − h², Mᵢ's two or three
    /// operations, the 1/N scaling, the bias and damping additions), at most 8 per layer
    /// (8·(L + 1)). First-order: the products of the roundings along the chain are neglected.
    public static func roundingDepth(network: PolicyNetwork, count: Int) -> Int {
        count + 3 * network.layerSizes.reduce(0, +) + 8 * network.layerSizes.count
    }

    /// y ← (F + λI)·v, both `dimension` long (θ's layout), on min(`threads`, `self.threads`)
    /// threads (default `self.threads`).
    ///
    /// - Complexity: `flopsPerProduct` flops, O(N·Σn_l) memory traffic; one parallel region.
    /// - Error: in exact arithmetic y is the damped Fisher product above. Computed in T, each
    ///   element of y is a sum over the N states of products through the network; its rounding
    ///   error is at most γ_K times `ReferenceFisher.absoluteProduct` elementwise, K =
    ///   `roundingDepth` (to first order). Measured ratios are 0.5–2.5 u·scale on small policies.
    public func apply(_ v: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, threads: Int) {
        T.fisherProductEntry(self, v, y, threads)
    }

    /// `apply` on the operator's threads.
    public func apply(_ v: UnsafePointer<T>, into y: UnsafeMutablePointer<T>) {
        T.fisherProductEntry(self, v, y, threads)
    }

    /// `apply` for one concrete type.
    func run(_ v: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, threads: Int) {
        let outputs = network.outputCount, scale = 1 / T(count)
        let inverseVariances = self.inverseVariances
        linearization.transposedJacobianProduct(direction: v, outputWeights: { _, rows, u in
            let rowCount = rows.count
            if network.head == .gaussian {
                for a in 0..<outputs {
                    let row = u + a * rowCount, weight = inverseVariances[a] * scale
                    for i in 0..<rowCount { row[i] *= weight }
                }
            } else {
                probabilities.withUnsafeBufferPointer { p in
                    for i in 0..<rowCount {
                        let probability = p.baseAddress! + (rows.lowerBound + i) * outputs
                        var mean: T = 0
                        for c in 0..<outputs { mean += probability[c] * u[c * rowCount + i] }
                        for c in 0..<outputs { u[c * rowCount + i] = probability[c] * (u[c * rowCount + i] - mean) * scale }
                    }
                }
            }
        }, into: y, threads: threads)
        let affine = network.layerParameterCount
        for j in 0..<affine { y[j] += damping * v[j] }
        for j in affine..<network.parameterCount { y[j] = (2 + damping) * v[j] }
    }
}

/// The damped Fisher operator of `network` at `parameters` on the `states` (N × n₀, row-major,
/// N = states.count / n₀): runs the network's forward pass once and keeps what each product needs.
///
/// - Complexity: 2N·Σ_l n_l·n_{l−1} flops and N·Σ_{l<L} n_l tanh; O(N·Σn_l) memory.
/// - Throws: `TRPOError` when θ's size does not match the network, θ or a state is not finite,
///   there are no states, `states.count` is not a multiple of n₀, damping is negative or not
///   finite, or threads < 1.
public func makeFisherOperator<T: PolicyScalar>(
    network: PolicyNetwork, parameters: [T], states: [T], damping: T = 0.1, threads: Int = 1
) throws -> FisherOperator<T> {
    try T.fisherOperatorEntry(network: network, parameters: parameters, states: states, damping: damping, threads: threads)
}

/// The network's outputs at `parameters` on the `states` (N × n₀): means (Gaussian) or logits
/// (categorical), N × n_L row-major, computed as in the Fisher operator's forward pass.
///
/// - Complexity: 2N·Σ_l n_l·n_{l−1} flops.
/// - Error: each layer is a GEMM of depth n_{l−1} (γ_{n_{l−1}+2} elementwise) followed by tanh
///   (≤ 3 ulps); the errors propagate through the layers with the network's Lipschitz constants.
/// - Throws: `TRPOError` for bad sizes, non-finite values, no states, threads < 1.
public func policyOutputs<T: PolicyScalar>(network: PolicyNetwork, parameters: [T], states: [T], threads: Int = 1) throws -> [T] {
    try T.policyOutputsEntry(network: network, parameters: parameters, states: states, threads: threads)
}

/// log π_θ(aᵢ | sᵢ) for every state and action of `batch` (its old log-probabilities are not
/// read), in Double from the outputs and rounded to T.
///
/// - Complexity: one forward pass, O(N·n_L) more.
/// - Throws: `TRPOError` for bad sizes, non-finite values, out-of-range actions, threads < 1.
public func policyLogProbabilities<T: PolicyScalar>(network: PolicyNetwork, parameters: [T], batch: PolicyBatch<T>, threads: Int = 1) throws -> [T] {
    try T.policyLogProbabilitiesEntry(network: network, parameters: parameters, batch: batch, threads: threads)
}

/// Checks the states (N × n₀, N ≥ 1), θ and threads; returns N.
func validatedStateCount<T: BinaryFloatingPoint>(network: PolicyNetwork, parameters: [T], states: [T], threads: Int) throws -> Int {
    if threads < 1 { throw TRPOError.invalidOption(name: "threads", value: Double(threads), requirement: "at least 1") }
    let count = states.count / network.inputCount
    if count < 1 { throw TRPOError.emptyBatch }
    try checkFinite(states, argument: "states", expected: count * network.inputCount)
    try parameters.withUnsafeBufferPointer { try network.validate(parameters: $0) }
    return count
}

/// `makeFisherOperator` for one concrete type.
func runMakeFisherOperator<T: PolicyScalar>(network: PolicyNetwork, parameters: [T], states: [T], damping: T, threads: Int) throws -> FisherOperator<T> {
    if !(damping >= 0) || !damping.isFinite { throw TRPOError.invalidOption(name: "damping", value: Double(damping), requirement: "finite and ≥ 0") }
    let count = try validatedStateCount(network: network, parameters: parameters, states: states, threads: threads)
    return parameters.withUnsafeBufferPointer { theta in
        states.withUnsafeBufferPointer { states in
            FisherOperator(validatedNetwork: network, parameters: theta.baseAddress!, states: states.baseAddress!, count: count, damping: damping, threads: threads)
        }
    }
}

/// `policyOutputs` for one concrete type.
func runPolicyOutputs<T: PolicyScalar>(network: PolicyNetwork, parameters: [T], states: [T], threads: Int) throws -> [T] {
    let count = try validatedStateCount(network: network, parameters: parameters, states: states, threads: threads)
    let linearization = parameters.withUnsafeBufferPointer { theta in
        states.withUnsafeBufferPointer { states in
            PolicyLinearization(network: network, parameters: theta.baseAddress!, states: states.baseAddress!, count: count, threads: threads)
        }
    }
    return Array(UnsafeBufferPointer(start: linearization.outputs, count: count * network.outputCount))
}

/// `policyLogProbabilities` for one concrete type.
func runPolicyLogProbabilities<T: PolicyScalar>(network: PolicyNetwork, parameters: [T], batch: PolicyBatch<T>, threads: Int) throws -> [T] {
    try batch.validate(for: network, checkingOldLogProbabilities: false)
    let outputs = try runPolicyOutputs(network: network, parameters: parameters, states: batch.states, threads: threads)
    let logStd = network.logStandardDeviations(parameters)
    return outputs.withUnsafeBufferPointer { outputs in
        (0..<batch.count).map { i in T(logProbability(network: network, logStd: logStd, outputs: outputs.baseAddress!, actions: batch.actions, state: i)) }
    }
}

/// log π(aᵢ | sᵢ) of state i from the outputs (N × n_L) and, for a Gaussian head, log σ.
func logProbability<T: PolicyScalar>(network: PolicyNetwork, logStd: [Double], outputs: UnsafePointer<T>, actions: PolicyActions<T>, state i: Int) -> Double {
    let math = PolicyHeadMath(head: network.head, outputs: network.outputCount), n = network.outputCount
    switch actions {
    case let .continuous(values):
        return values.withUnsafeBufferPointer { math.gaussianLogProbability(mean: outputs + i * n, logStd: logStd, action: $0.baseAddress! + i * n) }
    case let .discrete(indices):
        return math.logSoftmax(logits: outputs + i * n, indices[i])
    }
}
