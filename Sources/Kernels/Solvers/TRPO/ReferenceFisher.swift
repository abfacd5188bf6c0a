import Foundation

/// The reference for the Fisher-vector product: the policy's per-state Jacobians Jᵢ = ∂outputs/∂θ
/// formed explicitly, in Double, with plain loops (one backpropagation per output), and
///
///     F + λI = (1/N)·Σᵢ Jᵢᵀ Mᵢ Jᵢ + F_σ + λI
///
/// applied to vectors (`product`) or formed as a matrix (`matrix`, for small policies). Mᵢ is
/// diag(1/σ²) (Gaussian) or diag(pᵢ) − pᵢpᵢᵀ (categorical), F_σ = 2I on the log σ entries. Written
/// for obviousness, not speed: it shares no code with `FisherOperator` but the head's formulas.
public struct ReferenceFisher: Sendable {
    public let network: PolicyNetwork
    /// States N.
    public let count: Int
    let parameters: [Double]
    let states: [Double]

    /// - Throws: `TRPOError` for bad sizes, non-finite values or no states.
    public init<T: BinaryFloatingPoint>(network: PolicyNetwork, parameters: [T], states: [T]) throws {
        let count = states.count / network.inputCount
        if count < 1 { throw TRPOError.emptyBatch }
        try checkFinite(states, argument: "states", expected: count * network.inputCount)
        try parameters.withUnsafeBufferPointer { try network.validate(parameters: $0) }
        self.network = network
        self.count = count
        self.parameters = parameters.map(Double.init)
        self.states = states.map(Double.init)
    }

    /// Log σ of a Gaussian head (empty for a categorical one).
    var logStd: [Double] { network.logStandardDeviations(parameters) }

    /// The activations of state i: [input, tanh(Z₁), …, tanh(Z_{L−1}), outputs].
    func activations(state i: Int) -> [[Double]] {
        let sizes = network.layerSizes
        var layers = [Array(states[(i * sizes[0])..<((i + 1) * sizes[0])])]
        for l in 1...network.layerCount {
            let input = layers[l - 1]
            var output = [Double](repeating: 0, count: sizes[l])
            for o in 0..<sizes[l] {
                var sum = parameters[network.biasOffsets[l - 1] + o]
                for j in 0..<sizes[l - 1] { sum += parameters[network.weightOffsets[l - 1] + o * sizes[l - 1] + j] * input[j] }
                output[o] = l < network.layerCount ? tanh(sum) : sum
            }
            layers.append(output)
        }
        return layers
    }

    /// The network's outputs (means or logits) at every state, N × n_L.
    public func outputs() -> [Double] {
        (0..<count).flatMap { activations(state: $0).last! }
    }

    /// Jᵢ, n_L × P row-major (the log σ columns are zero), by one backpropagation per output.
    func jacobian(state i: Int, activations layers: [[Double]]) -> [Double] {
        let sizes = network.layerSizes, parameterCount = network.parameterCount, L = network.layerCount
        var jacobian = [Double](repeating: 0, count: network.outputCount * parameterCount)
        for o in 0..<network.outputCount {
            // δ = ∂output_o/∂Z_l, from the last layer down.
            var delta = [Double](repeating: 0, count: sizes[L])
            delta[o] = 1
            for l in stride(from: L, through: 1, by: -1) {
                let input = layers[l - 1]
                for j in 0..<sizes[l] {
                    jacobian[o * parameterCount + network.biasOffsets[l - 1] + j] = delta[j]
                    for k in 0..<sizes[l - 1] {
                        jacobian[o * parameterCount + network.weightOffsets[l - 1] + j * sizes[l - 1] + k] = delta[j] * input[k]
                    }
                }
                if l == 1 { break }
                var previous = [Double](repeating: 0, count: sizes[l - 1])
                for k in 0..<sizes[l - 1] {
                    var sum = 0.0
                    for j in 0..<sizes[l] { sum += parameters[network.weightOffsets[l - 1] + j * sizes[l - 1] + k] * delta[j] }
                    previous[k] = sum * (1 - input[k] * input[k])
                }
                delta = previous
            }
        }
        return jacobian
    }

    /// Mᵢ, n_L × n_L row-major, from the outputs of state i.
    func outputFisher(outputs: [Double]) -> [Double] {
        let n = network.outputCount
        var m = [Double](repeating: 0, count: n * n)
        switch network.head {
        case .gaussian:
            let logStd = self.logStd
            for a in 0..<n { m[a * n + a] = exp(-2 * logStd[a]) }
        case .categorical:
            let largest = outputs.max()!
            let weights = outputs.map { exp($0 - largest) }
            let total = weights.reduce(0, +)
            let p = weights.map { $0 / total }
            for a in 0..<n { for b in 0..<n { m[a * n + b] = (a == b ? p[a] : 0) - p[a] * p[b] } }
        }
        return m
    }

    /// (F + λI)·v (or (|F| + λI)·|v| with `absolute`, see `absoluteProduct`).
    func product(_ v: [Double], damping: Double, absolute: Bool) -> [Double] {
        let parameterCount = network.parameterCount, n = network.outputCount
        let input = absolute ? v.map(abs) : v
        var y = [Double](repeating: 0, count: parameterCount)
        for i in 0..<count {
            let layers = activations(state: i)
            var jacobian = self.jacobian(state: i, activations: layers)
            var m = outputFisher(outputs: layers.last!)
            if absolute {
                jacobian = jacobian.map(abs)
                m = m.map(abs)
            }
            var jv = [Double](repeating: 0, count: n)
            for a in 0..<n { for p in 0..<parameterCount { jv[a] += jacobian[a * parameterCount + p] * input[p] } }
            var u = [Double](repeating: 0, count: n)
            for a in 0..<n { for b in 0..<n { u[a] += m[a * n + b] * jv[b] } }
            for a in 0..<n { for p in 0..<parameterCount { y[p] += jacobian[a * parameterCount + p] * u[a] } }
        }
        for p in 0..<parameterCount { y[p] = y[p] / Double(count) + damping * input[p] }
        if let offset = network.logStandardDeviationOffset {
            for p in offset..<parameterCount { y[p] += 2 * input[p] }
        }
        return y
    }

    /// (F + λI)·v in Double. O(N·n_L·P) flops (plus N backpropagations), O(n_L·P) memory.
    /// Error: Double rounding only, negligible against a Float operator's.
    public func product(_ v: [Double], damping: Double) -> [Double] {
        product(v, damping: damping, absolute: false)
    }

    /// (1/N)·Σᵢ |Jᵢ|ᵀ|Mᵢ||Jᵢ||v| + 2|v_σ| + λ|v|: the elementwise scale of the rounding error of a
    /// computed (F + λI)·v. A product computed in precision u through GEMMs of depth at most K
    /// satisfies |ŷ − y| ≲ γ_K·(this) elementwise; K is N (the sums over the states) plus the
    /// layers' depths. O(N·n_L·P).
    public func absoluteProduct(_ v: [Double], damping: Double) -> [Double] {
        product(v, damping: damping, absolute: true)
    }

    /// F + λI as a dense P × P row-major matrix. O(N·n_L·P²) flops and P² memory: for small
    /// policies (P of a few hundred) and N ≤ 256.
    public func matrix(damping: Double) -> [Double] {
        let parameterCount = network.parameterCount, n = network.outputCount
        var f = [Double](repeating: 0, count: parameterCount * parameterCount)
        for i in 0..<count {
            let layers = activations(state: i)
            let jacobian = self.jacobian(state: i, activations: layers), m = outputFisher(outputs: layers.last!)
            // F += Jᵀ·(M·J)
            var mj = [Double](repeating: 0, count: n * parameterCount)
            for a in 0..<n { for b in 0..<n { for p in 0..<parameterCount { mj[a * parameterCount + p] += m[a * n + b] * jacobian[b * parameterCount + p] } } }
            for a in 0..<n {
                for p in 0..<parameterCount where jacobian[a * parameterCount + p] != 0 {
                    let jap = jacobian[a * parameterCount + p]
                    for q in 0..<parameterCount { f[p * parameterCount + q] += jap * mj[a * parameterCount + q] }
                }
            }
        }
        for e in 0..<(parameterCount * parameterCount) { f[e] /= Double(count) }
        for p in 0..<parameterCount { f[p * parameterCount + p] += damping }
        if let offset = network.logStandardDeviationOffset {
            for p in offset..<parameterCount { f[p * parameterCount + p] += 2 }
        }
        return f
    }

    /// The "true KL" a step reaches: the mean over the states of KL(π_new ‖ π_old) (or
    /// KL(π_old ‖ π_new), see `KLDirection`), π_old the policy at this reference's parameters and
    /// π_new at `newParameters`, in Double. O(N·Σ n_l·n_{l−1}).
    public func meanKL<T: BinaryFloatingPoint>(to newParameters: [T], direction: KLDirection = .newFromOld) throws -> Double {
        let otherReference = try ReferenceFisher(network: network, parameters: newParameters.map(Double.init), states: states)
        let mine = outputs(), theirs = otherReference.outputs(), n = network.outputCount
        let math = PolicyHeadMath(head: network.head, outputs: n)
        var sum = 0.0
        mine.withUnsafeBufferPointer { mine in
            theirs.withUnsafeBufferPointer { theirs in
                for i in 0..<count {
                    let (p, q) = (mine.baseAddress! + i * n, theirs.baseAddress! + i * n)
                    sum += direction == .newFromOld
                        ? math.kl(q, logStdP: otherReference.logStd, p, logStdQ: logStd)
                        : math.kl(p, logStdP: logStd, q, logStdQ: otherReference.logStd)
                }
            }
        }
        return sum / Double(count)
    }
}
