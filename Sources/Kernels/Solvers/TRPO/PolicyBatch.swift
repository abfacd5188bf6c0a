import SeededRandom

/// The actions of a batch: `count × n_L` values for a Gaussian head, one index in `0..<n_L` per
/// state for a categorical head.
public enum PolicyActions<T: BinaryFloatingPoint & Sendable>: Sendable, Equatable {
    case continuous([T])
    case discrete([Int])
}

/// One TRPO update's data: N states (row-major, N × n₀), the actions taken, their advantages and
/// their log-probabilities under the policy that collected them (π_old).
public struct PolicyBatch<T: PolicyScalar>: Sendable {
    public var count: Int
    public var states: [T]
    public var actions: PolicyActions<T>
    public var advantages: [T]
    public var oldLogProbabilities: [T]

    public init(count: Int, states: [T], actions: PolicyActions<T>, advantages: [T], oldLogProbabilities: [T]) {
        self.count = count
        self.states = states
        self.actions = actions
        self.advantages = advantages
        self.oldLogProbabilities = oldLogProbabilities
    }

    /// A seeded batch for `network` at `parameters`, reproducible by a script that reimplements
    /// `SeededGenerator` (see `Benchmarks/peers/torch_trpo_step.py`). From one
    /// `SeededGenerator(seed:)`, in this order:
    ///
    ///     states          count·n₀ values nextGaussian(), row-major
    ///     actions         Gaussian: count·n_L values nextGaussian(), row-major;
    ///                     categorical: Int(next() % n_L) per state
    ///     advantages      count values nextGaussian()
    ///
    /// each rounded once from Double to T. The old log-probabilities are log π_θ(a | s) at
    /// `parameters`, as a rollout buffer stores them (so the probability ratio starts at 1).
    /// Actions are drawn independently of the policy so that every input but the old
    /// log-probabilities is bit-identical in any implementation of the generator.
    ///
    /// - Complexity: O(count·(n₀ + n_L)) draws and one forward pass of the network.
    /// - Throws: `TRPOError` for bad parameters or `count` < 1.
    public static func seeded(network: PolicyNetwork, parameters: [T], count: Int, seed: UInt64, threads: Int = 1) throws -> PolicyBatch<T> {
        if count < 1 { throw TRPOError.emptyBatch }
        var generator = SeededGenerator(seed: seed)
        let states: [T] = .gaussian(count: checkedProduct(count, network.inputCount), using: &generator)
        let actions: PolicyActions<T> = network.head == .gaussian
            ? .continuous(.gaussian(count: checkedProduct(count, network.outputCount), using: &generator))
            : .discrete((0..<count).map { _ in Int(generator.next() % UInt64(network.outputCount)) })
        let advantages: [T] = .gaussian(count: count, using: &generator)
        var batch = PolicyBatch(count: count, states: states, actions: actions, advantages: advantages, oldLogProbabilities: [])
        batch.oldLogProbabilities = try policyLogProbabilities(network: network, parameters: parameters, batch: batch, threads: threads)
        return batch
    }

    /// Throws unless every array has the size `network` and `count` call for, every value is
    /// finite, and discrete actions lie in `0..<n_L`. The old log-probabilities are checked only
    /// when `checkingOldLogProbabilities`. O(count·(n₀ + n_L)).
    func validate(for network: PolicyNetwork, checkingOldLogProbabilities: Bool = true) throws {
        if count < 1 { throw TRPOError.emptyBatch }
        try checkFinite(states, argument: "states", expected: checkedProduct(count, network.inputCount))
        switch (actions, network.head) {
        case let (.continuous(values), .gaussian):
            try checkFinite(values, argument: "actions", expected: checkedProduct(count, network.outputCount))
        case let (.discrete(indices), .categorical):
            if indices.count != count { throw TRPOError.sizeMismatch(argument: "actions", expected: count, got: indices.count) }
            if let i = indices.firstIndex(where: { $0 < 0 || $0 >= network.outputCount }) {
                throw TRPOError.actionOutOfRange(index: i, action: indices[i], actions: network.outputCount)
            }
        case (.continuous, _):
            throw TRPOError.sizeMismatch(argument: "actions (continuous, for a categorical head: give indices)", expected: count, got: 0)
        case (.discrete, _):
            throw TRPOError.sizeMismatch(argument: "actions (indices, for a Gaussian head: give count × n_L values)", expected: checkedProduct(count, network.outputCount), got: 0)
        }
        try checkFinite(advantages, argument: "advantages", expected: count)
        if checkingOldLogProbabilities { try checkFinite(oldLogProbabilities, argument: "oldLogProbabilities", expected: count) }
    }
}

/// Throws unless `values` has `expected` entries, all finite.
func checkFinite<T: BinaryFloatingPoint>(_ values: [T], argument: String, expected: Int) throws {
    if values.count != expected { throw TRPOError.sizeMismatch(argument: argument, expected: expected, got: values.count) }
    if let i = values.firstIndex(where: { !$0.isFinite }) { throw TRPOError.nonFinite(argument: argument, index: i, value: Double(values[i])) }
}
