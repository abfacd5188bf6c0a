import SeededRandom

#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// # Markov reward processes and their exact values
///
/// A Markov reward process on S non-terminal states 0..<S and one terminal state S: from s the
/// process moves to s′ with probability P[s][s′] (row s sums to 1 over the S + 1 columns) and
/// collects the reward R[s][s′]; an episode ends on reaching S. Episodes start in
/// `startStates[k mod count]` for episode k (round robin, so every listed state starts as many
/// episodes as the others).
///
/// The value of s is the expected discounted return V(s) = E[Σ_{t≥0} γᵗ R_{t+1} | S₀ = s], which
/// solves the Bellman equation V = r + γ·P_SS·V (r(s) = Σ_{s′} P[s][s′]·R[s][s′], P_SS the
/// non-terminal block): `exactValues` solves (I − γP_SS)·V = r with LAPACK's ?gesv.
///
/// Also here: the classic random walks (Sutton & Barto, Example 6.2 with 5 states, and
/// Example 7.1 with 19), seeded random processes, the alias-method sampler every estimator uses,
/// the linear TD fixed point (`linearTDFixedPoint`), and the confidence bound the estimators are
/// checked against (`hoeffdingRadius`).

/// Bad input to the policy-evaluation kernels.
public enum PolicyEvaluationError: Error, CustomStringConvertible, Equatable {
    case noStates
    case shapeMismatch(argument: String, expected: Int, actual: Int)
    case invalidProbability(row: Int, column: Int, value: Double)
    case rowSumNotOne(row: Int, sum: Double)
    case invalidDiscount(Double)
    case invalidStartState(Int)
    /// From this state the terminal state cannot be reached: episodes would never end.
    case neverTerminates(state: Int)
    case invalidArgument(name: String, value: Double)
    /// LAPACK's ?gesv found the system singular (info = the zero pivot's position).
    case singularSystem(info: Int)

    public var description: String {
        switch self {
        case .noStates: "policy evaluation: the process needs at least one non-terminal state"
        case .shapeMismatch(let argument, let expected, let actual):
            "policy evaluation: \(argument) must have \(expected) entries, got \(actual)"
        case .invalidProbability(let row, let column, let value):
            "policy evaluation: P[\(row)][\(column)] = \(value) is not a probability"
        case .rowSumNotOne(let row, let sum): "policy evaluation: row \(row) of P sums to \(sum), not 1"
        case .invalidDiscount(let gamma): "policy evaluation: the discount must lie in [0, 1], got \(gamma)"
        case .invalidStartState(let state): "policy evaluation: start state \(state) is not a non-terminal state"
        case .neverTerminates(let state): "policy evaluation: the terminal state cannot be reached from state \(state)"
        case .invalidArgument(let name, let value): "policy evaluation: \(name) = \(value) is out of range"
        case .singularSystem(let info): "policy evaluation: the linear system is singular (?gesv info = \(info))"
        }
    }
}

/// A Markov reward process with a terminal state (see the file's overview).
public struct MarkovRewardProcess: Sendable {
    /// S, the number of non-terminal states; the terminal state is S.
    public let states: Int
    /// P, S × (S + 1), row-major; column S is termination.
    public let transitions: [Double]
    /// R, S × (S + 1), row-major: the reward of the move s → s′.
    public let rewards: [Double]
    /// γ in [0, 1]; γ = 1 is allowed because every episode terminates.
    public let discount: Double
    /// Episode k starts in `startStates[k % startStates.count]`.
    public let startStates: [Int]

    /// Checks that P's rows are probability vectors (within 1e-9 of summing to 1), that the
    /// terminal state is reachable from every state (so I − P_SS is invertible and episodes end
    /// with probability 1), and that γ and the start states are valid.
    public init(states: Int, transitions: [Double], rewards: [Double], discount: Double, startStates: [Int]) throws {
        if states < 1 { throw PolicyEvaluationError.noStates }
        let (cells, overflow) = states.multipliedReportingOverflow(by: states + 1)
        if overflow { throw PolicyEvaluationError.shapeMismatch(argument: "transitions", expected: Int.max, actual: transitions.count) }
        if transitions.count != cells { throw PolicyEvaluationError.shapeMismatch(argument: "transitions", expected: cells, actual: transitions.count) }
        if rewards.count != cells { throw PolicyEvaluationError.shapeMismatch(argument: "rewards", expected: cells, actual: rewards.count) }
        if !(discount >= 0 && discount <= 1) { throw PolicyEvaluationError.invalidDiscount(discount) }
        if startStates.isEmpty { throw PolicyEvaluationError.shapeMismatch(argument: "startStates", expected: 1, actual: 0) }
        for start in startStates where !(0..<states).contains(start) { throw PolicyEvaluationError.invalidStartState(start) }
        for s in 0..<states {
            var sum = 0.0
            for j in 0...states {
                let p = transitions[s * (states + 1) + j]
                if !(p >= 0 && p <= 1) { throw PolicyEvaluationError.invalidProbability(row: s, column: j, value: p) }
                if !rewards[s * (states + 1) + j].isFinite { throw PolicyEvaluationError.invalidArgument(name: "R[\(s)][\(j)]", value: rewards[s * (states + 1) + j]) }
                sum += p
            }
            if abs(sum - 1) > 1e-9 { throw PolicyEvaluationError.rowSumNotOne(row: s, sum: sum) }
        }
        // Backwards search from the terminal state over edges with positive probability.
        var reaches = [Bool](repeating: false, count: states + 1)
        reaches[states] = true
        var changed = true
        while changed {
            changed = false
            for s in 0..<states where !reaches[s] {
                if (0...states).contains(where: { reaches[$0] && transitions[s * (states + 1) + $0] > 0 }) {
                    reaches[s] = true
                    changed = true
                }
            }
        }
        if let stuck = reaches.firstIndex(of: false) { throw PolicyEvaluationError.neverTerminates(state: stuck) }
        self.states = states
        self.transitions = transitions
        self.rewards = rewards
        self.discount = discount
        self.startStates = startStates
    }

    /// The same process with another discount (used, for instance, to build a deliberately
    /// wrong estimator in a test).
    public func withDiscount(_ gamma: Double) throws -> MarkovRewardProcess {
        try MarkovRewardProcess(states: states, transitions: transitions, rewards: rewards, discount: gamma, startStates: startStates)
    }

    /// r(s) = Σ_{s′} P[s][s′]·R[s][s′], the expected reward of leaving s.
    public var expectedRewards: [Double] {
        (0..<states).map { s in
            (0...states).reduce(0.0) { $0 + transitions[s * (states + 1) + $1] * rewards[s * (states + 1) + $1] }
        }
    }

    /// An interval that holds every return G from every state, or nil if none is known.
    ///
    /// With r_min, r_max the extreme rewards of possible moves: for γ < 1, G ≥ r_min if
    /// r_min ≥ 0 (at least one reward, the rest non-negative), else G ≥ r_min/(1 − γ); likewise
    /// above. For γ = 1 a bound is known only when every non-terminal move pays 0: then G is the
    /// reward of the terminating move.
    public var returnBounds: (lower: Double, upper: Double)? {
        var smallest = Double.infinity, largest = -Double.infinity
        var terminalSmallest = Double.infinity, terminalLargest = -Double.infinity
        var nonTerminalRewards = false
        for s in 0..<states {
            for j in 0...states where transitions[s * (states + 1) + j] > 0 {
                let reward = rewards[s * (states + 1) + j]
                smallest = min(smallest, reward)
                largest = max(largest, reward)
                if j == states {
                    terminalSmallest = min(terminalSmallest, reward)
                    terminalLargest = max(terminalLargest, reward)
                } else if reward != 0 {
                    nonTerminalRewards = true
                }
            }
        }
        if discount < 1 {
            let horizon = 1 / (1 - discount)
            return (smallest >= 0 ? smallest : smallest * horizon, largest <= 0 ? largest : largest * horizon)
        }
        return nonTerminalRewards ? nil : (terminalSmallest, terminalLargest)
    }

    /// Sutton & Barto's random walk: `states` states in a row (5 in Example 6.2, 19 in
    /// Example 7.1), each step left or right with probability ½, episodes starting in the
    /// middle state and ending off either end, γ = 1. With 5 states the right end pays +1 and
    /// the left 0 (values (i + 1)/6); otherwise the right end pays +1 and the left −1 (values
    /// 2(i + 1)/(S + 1) − 1: −0.9, −0.8, …, 0.9 for 19 states).
    public static func randomWalk(states: Int) throws -> MarkovRewardProcess {
        if states < 1 || states % 2 == 0 { throw PolicyEvaluationError.invalidArgument(name: "random walk states (odd)", value: Double(states)) }
        let width = states + 1
        var p = [Double](repeating: 0, count: states * width), r = [Double](repeating: 0, count: states * width)
        let leftReward: Double = states == 5 ? 0 : -1
        for s in 0..<states {
            let left = s == 0 ? states : s - 1, right = s == states - 1 ? states : s + 1
            p[s * width + left] += 0.5
            p[s * width + right] += 0.5
            if s == 0 { r[s * width + states] = leftReward }
            if s == states - 1 { r[s * width + states] = 1 }
        }
        return try MarkovRewardProcess(states: states, transitions: p, rewards: r, discount: 1, startStates: [states / 2])
    }

    /// A random process: each row of P is a flat Dirichlet draw (normalized −log U) over the S
    /// non-terminal states, scaled to 1 − `termination`, with probability `termination` of
    /// ending; rewards uniform in [0, 1) (so that values are large enough for a wrong discount
    /// to show); episodes start round robin in every state. Seeded. O(S²).
    public static func random(states: Int, termination: Double, discount: Double, seed: UInt64) throws -> MarkovRewardProcess {
        if !(termination > 0 && termination <= 1) { throw PolicyEvaluationError.invalidArgument(name: "termination", value: termination) }
        if states < 1 { throw PolicyEvaluationError.noStates }
        var g = SeededGenerator(seed: seed)
        let width = states + 1
        var p = [Double](repeating: 0, count: states * width), r = [Double](repeating: 0, count: states * width)
        for s in 0..<states {
            var weights = (0..<states).map { _ in -log(Double((g.next() >> 11) + 1) * 0x1p-53) }
            let total = weights.reduce(0, +)
            for j in 0..<states { weights[j] *= (1 - termination) / total }
            for j in 0..<states { p[s * width + j] = weights[j] }
            p[s * width + states] = termination
            for j in 0...states { r[s * width + j] = 0.5 * (g.nextSigned() + 1) }
        }
        return try MarkovRewardProcess(states: states, transitions: p, rewards: r, discount: discount, startStates: Array(0..<states))
    }
}

/// V = (I − γP_SS)⁻¹·r by LAPACK's ?gesv (LU with partial pivoting) — the exact values the
/// estimators are checked against.
///
/// - Complexity: O(S³).
/// - Error: backward stable; |V̂ − V| ≲ κ(I − γP_SS)·S·u·|V|, negligible next to the sampling
///   error of any estimator.
/// - Throws: `PolicyEvaluationError.singularSystem` if LAPACK finds the system singular.
public func exactValues(of mrp: MarkovRewardProcess) throws -> [Double] {
    let s = mrp.states, width = s + 1
    var a = [Double](repeating: 0, count: s * s)
    for i in 0..<s {
        for j in 0..<s { a[i * s + j] = (i == j ? 1 : 0) - mrp.discount * mrp.transitions[i * width + j] }
    }
    var values = mrp.expectedRewards
    let info = Double.gesv(n: s, nrhs: 1, a: &a, b: &values)
    if info != 0 { throw PolicyEvaluationError.singularSystem(info: info) }
    return values
}

/// The expected number of visits to each state per episode, averaged over the start states:
/// d = (I − P_SS)⁻ᵀ·μ with μ the start distribution. It weights the linear TD fixed point.
///
/// - Complexity: O(S³) (?gesv).
public func stateOccupancy(of mrp: MarkovRewardProcess) throws -> [Double] {
    let s = mrp.states, width = s + 1
    var a = [Double](repeating: 0, count: s * s)
    for i in 0..<s {
        for j in 0..<s { a[j * s + i] = (i == j ? 1 : 0) - mrp.transitions[i * width + j] }
    }
    var occupancy = [Double](repeating: 0, count: s)
    for start in mrp.startStates { occupancy[start] += 1 / Double(mrp.startStates.count) }
    let info = Double.gesv(n: s, nrhs: 1, a: &a, b: &occupancy)
    if info != 0 { throw PolicyEvaluationError.singularSystem(info: info) }
    return occupancy
}

/// The fixed point of linear TD(0) with features Φ (S × k, row-major; the terminal state's
/// features are 0): the weights w* solving A·w = b with A = Φᵀ·D·(I − γP_SS)·Φ and
/// b = Φᵀ·D·r, D = diag(`stateOccupancy`). Semi-gradient TD(0) and LSTD both converge to it;
/// with tabular features (Φ = I) it is the exact value function.
///
/// - Complexity: O(S²·k + k³).
/// - Throws: `PolicyEvaluationError` for a wrong feature count or a singular A.
public func linearTDFixedPoint(of mrp: MarkovRewardProcess, features: [Double], featureCount k: Int) throws -> [Double] {
    let s = mrp.states, width = s + 1
    try validateFeatures(features, states: s, featureCount: k)
    let d = try stateOccupancy(of: mrp)
    let r = mrp.expectedRewards
    // M = D·(I − γP_SS)·Φ  (S × k), then A = Φᵀ·M, b = Φᵀ·D·r.
    var m = [Double](repeating: 0, count: s * k)
    for i in 0..<s {
        for c in 0..<k {
            var next = 0.0
            for j in 0..<s { next += mrp.transitions[i * width + j] * features[j * k + c] }
            m[i * k + c] = d[i] * (features[i * k + c] - mrp.discount * next)
        }
    }
    var a = [Double](repeating: 0, count: k * k), b = [Double](repeating: 0, count: k)
    for i in 0..<s {
        for row in 0..<k {
            for column in 0..<k { a[row * k + column] += features[i * k + row] * m[i * k + column] }
            b[row] += features[i * k + row] * d[i] * r[i]
        }
    }
    let info = Double.gesv(n: k, nrhs: 1, a: &a, b: &b)
    if info != 0 { throw PolicyEvaluationError.singularSystem(info: info) }
    return b
}

/// Random features for linear value estimation: S × k, each row uniform in [0, 1) and then
/// scaled to unit Euclidean norm (which keeps TD's step size meaningful). Seeded. O(S·k).
public func randomFeatures(states: Int, featureCount k: Int, seed: UInt64) -> [Double] {
    if states < 1 || k < 1 { fatalError("randomFeatures: states and featureCount must be positive, got \(states), \(k)") }
    var g = SeededGenerator(seed: seed)
    var phi = (0..<(states * k)).map { _ in 0.5 * (g.nextSigned() + 1) }
    for i in 0..<states {
        let norm = (0..<k).reduce(0.0) { $0 + phi[i * k + $1] * phi[i * k + $1] }.squareRoot()
        for c in 0..<k { phi[i * k + c] /= max(norm, .leastNormalMagnitude) }
    }
    return phi
}

func validateFeatures(_ features: [Double], states: Int, featureCount k: Int) throws {
    if k < 1 { throw PolicyEvaluationError.invalidArgument(name: "featureCount", value: Double(k)) }
    let (cells, overflow) = states.multipliedReportingOverflow(by: k)
    if overflow || features.count != cells { throw PolicyEvaluationError.shapeMismatch(argument: "features", expected: overflow ? Int.max : cells, actual: features.count) }
    for (index, value) in features.enumerated() where !value.isFinite {
        throw PolicyEvaluationError.invalidArgument(name: "features[\(index)]", value: value)
    }
}

/// Walker's alias method on every row of P: one uniform draw picks a column in O(1).
public struct TransitionSampler: Sendable {
    let columns: Int
    /// For row s, column j: keep j with probability `keep[s·columns + j]`, else take `alias`.
    let keep: [Double]
    let alias: [Int32]

    /// Builds the tables (Vose's construction), O(S²).
    public init(_ mrp: MarkovRewardProcess) {
        let n = mrp.states + 1
        columns = n
        var keep = [Double](repeating: 1, count: mrp.states * n)
        var alias = [Int32](repeating: 0, count: mrp.states * n)
        for s in 0..<mrp.states {
            var scaled = (0..<n).map { mrp.transitions[s * n + $0] * Double(n) }
            var small = scaled.indices.filter { scaled[$0] < 1 }, large = scaled.indices.filter { scaled[$0] >= 1 }
            for j in 0..<n { alias[s * n + j] = Int32(j) }
            while let l = small.popLast(), let g = large.popLast() {
                keep[s * n + l] = scaled[l]
                alias[s * n + l] = Int32(g)
                scaled[g] = (scaled[g] + scaled[l]) - 1
                if scaled[g] < 1 { small.append(g) } else { large.append(g) }
            }
            // What remains is 1 up to rounding.
            for j in small + large { keep[s * n + j] = 1 }
        }
        self.keep = keep
        self.alias = alias
    }

    /// The next state from `state` (the terminal state is `states`).
    @inline(__always)
    public func next(from state: Int, using generator: inout SeededGenerator) -> Int {
        let x = Double(generator.next() >> 11) * 0x1p-53 * Double(columns)
        let column = min(Int(x), columns - 1)
        let index = state * columns + column
        return x - Double(column) < keep[index] ? column : Int(alias[index])
    }
}

/// The Hoeffding–Bonferroni confidence radius: if each of `states` estimates is the mean of
/// `samples` independent returns in an interval of width `returnRange`, then with probability
/// at least 1 − `failureProbability` every estimate is within
///
///     returnRange · √( ln(2·states/failureProbability) / (2·samples) )
///
/// of its value (Hoeffding's inequality, 2·exp(−2nε²/range²) per state, union bound over the
/// states). Infinite for zero samples.
public func hoeffdingRadius(returnRange: Double, samples: Int, states: Int, failureProbability: Double) -> Double {
    if samples == 0 { return .infinity }
    return returnRange * (log(2 * Double(states) / failureProbability) / (2 * Double(samples))).squareRoot()
}
