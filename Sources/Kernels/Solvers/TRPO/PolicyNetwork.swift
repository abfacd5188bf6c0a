import SeededRandom

/// The distribution a policy network's outputs parameterize.
public enum PolicyHead: Sendable, Equatable, CustomStringConvertible {
    /// A diagonal Gaussian over continuous actions: the outputs are the means μ(s), and the
    /// network has one learned, state-independent log standard deviation per action dimension
    /// (the last parameters of θ). Fisher information: 1/σ² on each mean output, 2 on each log σ.
    case gaussian
    /// A categorical distribution over discrete actions: the outputs are logits z(s),
    /// p = softmax(z). Fisher information on the logits: diag(p) − ppᵀ.
    case categorical

    public var description: String { self == .gaussian ? "gaussian" : "categorical" }
}

/// A multilayer perceptron policy π_θ(a | s): affine layers with tanh between them (none after
/// the last), then a Gaussian or categorical head. The shapes of the policies in OpenAI baselines
/// and Stable-Baselines3 (`MlpPolicy`: two hidden layers of 64, tanh).
///
/// Parameter layout of θ, one flat vector, matching PyTorch's `nn.Linear` (weight `[out, in]`
/// row-major, then bias `[out]`) in the order of `nn.Sequential(Linear, Tanh, …, Linear)`:
///
///     W₁ [n₁ × n₀], b₁ [n₁], W₂ [n₂ × n₁], b₂ [n₂], …, W_L [n_L × n_{L−1}], b_L [n_L], (log σ [n_L])
///
/// where `layerSizes = [n₀, n₁, …, n_L]`, n₀ the state dimension, n_L the action dimensions
/// (Gaussian) or the number of actions (categorical). `log σ` is present for the Gaussian head
/// only. For 17 → 64 → 64 → 6 (HalfCheetah) θ has 1152 + 4160 + 390 + 6 = 5708 entries; for the
/// categorical 4 → 64 → 64 → 2 (CartPole) 320 + 4160 + 130 = 4610.
public struct PolicyNetwork: Sendable, Equatable, CustomStringConvertible {
    /// `[n₀, n₁, …, n_L]`: inputs, hidden widths, outputs. At least one hidden layer.
    public let layerSizes: [Int]
    public let head: PolicyHead
    /// Entries of θ.
    public let parameterCount: Int
    /// Where W_l starts in θ, for l = 1…L (index l − 1).
    public let weightOffsets: [Int]
    /// Where b_l starts in θ, for l = 1…L (index l − 1).
    public let biasOffsets: [Int]

    /// - Throws: `TRPOError.invalidLayerSizes` unless there are at least three sizes (one hidden
    ///   layer), all positive, a categorical head has at least two actions, and θ's size does
    ///   not overflow `Int`.
    public init(layerSizes: [Int], head: PolicyHead) throws {
        if layerSizes.count < 3 || layerSizes.contains(where: { $0 < 1 }) || (head == .categorical && layerSizes.last! < 2) {
            throw TRPOError.invalidLayerSizes(layerSizes, head: head)
        }
        var offset = 0, weights: [Int] = [], biases: [Int] = []
        for l in 1..<layerSizes.count {
            let (weightCount, overflow) = layerSizes[l].multipliedReportingOverflow(by: layerSizes[l - 1])
            if overflow || offset > Int.max / 4 - weightCount - 2 * layerSizes[l] { throw TRPOError.invalidLayerSizes(layerSizes, head: head) }
            weights.append(offset)
            biases.append(offset + weightCount)
            offset += weightCount + layerSizes[l]
        }
        self.layerSizes = layerSizes
        self.head = head
        weightOffsets = weights
        biasOffsets = biases
        parameterCount = offset + (head == .gaussian ? layerSizes.last! : 0)
    }

    /// 17 → 64 → 64 → 6, tanh, Gaussian: the policy of MuJoCo's HalfCheetah in the baselines.
    public static let halfCheetah = try! PolicyNetwork(layerSizes: [17, 64, 64, 6], head: .gaussian)
    /// 4 → 64 → 64 → 2, tanh, categorical: a CartPole policy.
    public static let cartPole = try! PolicyNetwork(layerSizes: [4, 64, 64, 2], head: .categorical)

    /// Affine layers (L).
    public var layerCount: Int { layerSizes.count - 1 }
    /// State dimension n₀.
    public var inputCount: Int { layerSizes[0] }
    /// Outputs n_L: action dimensions (Gaussian) or actions (categorical).
    public var outputCount: Int { layerSizes[layerSizes.count - 1] }
    /// Where log σ starts in θ (Gaussian head), else nil.
    public var logStandardDeviationOffset: Int? { head == .gaussian ? parameterCount - outputCount : nil }
    /// Parameters of the affine layers (θ without log σ).
    public var layerParameterCount: Int { head == .gaussian ? parameterCount - outputCount : parameterCount }

    /// `17x64x64x6-gaussian`.
    public var description: String { layerSizes.map(String.init).joined(separator: "x") + "-\(head)" }

    /// Seeded initial parameters: each weight and bias of layer l uniform in [−1/√n_{l−1}, 1/√n_{l−1})
    /// (the range of PyTorch's default `nn.Linear` initialization), drawn in layout order from
    /// `SeededGenerator(seed:)` with `nextSigned()`, then each log σ = −0.5 + 0.1·nextSigned().
    /// Each value is computed in Double and rounded once to T, so a script reimplementing the
    /// generator reproduces θ exactly. O(parameterCount).
    public func seededParameters<T: BinaryFloatingPoint>(seed: UInt64) -> [T] {
        var generator = SeededGenerator(seed: seed)
        var theta: [T] = []
        theta.reserveCapacity(parameterCount)
        for l in 1..<layerSizes.count {
            let scale = 1 / Double(layerSizes[l - 1]).squareRoot()
            for _ in 0..<(layerSizes[l] * (layerSizes[l - 1] + 1)) { theta.append(T(generator.nextSigned() * scale)) }
        }
        if head == .gaussian {
            for _ in 0..<outputCount { theta.append(T(-0.5 + 0.1 * generator.nextSigned())) }
        }
        return theta
    }

    /// log σ of a Gaussian head from θ, in Double (empty for a categorical head).
    func logStandardDeviations<T: BinaryFloatingPoint>(_ theta: [T]) -> [Double] {
        guard let offset = logStandardDeviationOffset else { return [] }
        return (0..<outputCount).map { Double(theta[offset + $0]) }
    }

    /// Throws unless θ has `parameterCount` finite entries. O(parameterCount).
    func validate<T: BinaryFloatingPoint>(parameters theta: UnsafeBufferPointer<T>) throws {
        if theta.count != parameterCount { throw TRPOError.sizeMismatch(argument: "parameters", expected: parameterCount, got: theta.count) }
        if let i = theta.firstIndex(where: { !$0.isFinite }) { throw TRPOError.nonFinite(argument: "parameters", index: i, value: Double(theta[i])) }
    }
}
