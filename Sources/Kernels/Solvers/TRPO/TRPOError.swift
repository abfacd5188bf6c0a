/// Bad input to the policy, Fisher and TRPO kernels, or a step that cannot be taken. Every public
/// entry point of the family throws one of these instead of returning NaN or crashing.
public enum TRPOError: Error, CustomStringConvertible, Equatable {
    /// Fewer than three layer sizes (no hidden layer), a size below 1, a categorical head with
    /// fewer than two actions, or a parameter count that overflows.
    case invalidLayerSizes([Int], head: PolicyHead)
    /// A buffer whose length does not match the network and batch.
    case sizeMismatch(argument: String, expected: Int, got: Int)
    /// NaN or ±∞ in an input.
    case nonFinite(argument: String, index: Int, value: Double)
    /// A batch of no states.
    case emptyBatch
    /// A discrete action outside `0..<actions`.
    case actionOutOfRange(index: Int, action: Int, actions: Int)
    /// An option outside its domain.
    case invalidOption(name: String, value: Double, requirement: String)
    /// The surrogate's gradient is zero (for example all advantages equal): there is no
    /// direction to step in, and β = √(2δ / xᵀ(F + λI)x) would be infinite.
    case zeroGradient
    /// xᵀ(F + λI)x ≤ 0 for the conjugate-gradient direction x: F + λI is not positive definite
    /// along x (F is only semi-definite; use a positive damping λ).
    case nonPositiveCurvature(quadraticForm: Double)
    /// A NaN or ±∞ appeared during the computation (overflow of exp in the probability ratio,
    /// or of the network's activations).
    case nonFiniteResult(stage: String)

    public var description: String {
        switch self {
        case let .invalidLayerSizes(sizes, head):
            return "policy network: layer sizes \(sizes) with a \(head) head are invalid (need [inputs, hidden…, outputs], at least one hidden layer, every size ≥ 1, at least 2 categorical actions)"
        case let .sizeMismatch(argument, expected, got):
            return "\(argument): expected \(expected) values, got \(got)"
        case let .nonFinite(argument, index, value):
            return "\(argument)[\(index)] is \(value); every value must be finite"
        case .emptyBatch:
            return "batch: no states (count is 0)"
        case let .actionOutOfRange(index, action, actions):
            return "actions[\(index)] = \(action) is outside 0..<\(actions)"
        case let .invalidOption(name, value, requirement):
            return "\(name) = \(value): must be \(requirement)"
        case .zeroGradient:
            return "the surrogate objective's gradient is zero (advantages constant?): no TRPO step to take"
        case let .nonPositiveCurvature(quadraticForm):
            return "xᵀ(F + λI)x = \(quadraticForm) ≤ 0 along the search direction: F + λI is not positive definite there (use damping > 0)"
        case let .nonFiniteResult(stage):
            return "\(stage): a NaN or infinity appeared (overflow)"
        }
    }
}
