import SeededRandom

#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// # Policy evaluation: Monte Carlo and temporal-difference estimates of V
///
/// Each estimator simulates `episodes` episodes of a `MarkovRewardProcess` with a generator
/// seeded by `seed` (the alias-method `TransitionSampler`; same seed, same trajectories) and
/// estimates V(s) = E[G | S₀ = s]:
///
/// - `monteCarloFirstVisit` — the mean of the returns that follow the first visit to s in each
///   episode.
/// - `monteCarloEveryVisit` — the mean of the returns that follow every visit to s.
/// - `temporalDifferenceZero` — TD(0): V(s) += α·(r + γV(s′) − V(s)) after every move.
/// - `temporalDifferenceLambda` — TD(λ) with accumulating eligibility traces, updating only the
///   states visited in the current episode; `temporalDifferenceLambdaDense` is the textbook form
///   that decays and applies all S traces every step (the reference for it: same results, bit
///   for bit).
/// - `linearTemporalDifference` — semi-gradient TD(0) on features, v(s) = φ(s)·w.
/// - `leastSquaresTemporalDifference` — LSTD: Â·w = b̂ from the sampled moves, solved by ?gesv.
///
/// The TD variants take a `TDStepSize` and return the Polyak–Ruppert average of their iterates
/// over the second half of the episodes (per coordinate, accumulated lazily, so O(1) per update).
/// A constant step α leaves a floor: the last iterate fluctuates with a variance of order α, and
/// even the average keeps a bias of order α, because the state a move starts from is correlated
/// with the recent updates (measured on the 19-state walk, averaged TD(0): max bias 0.012, 0.062,
/// 0.125 for α = 0.02, 0.1, 0.2, the same after 4·10³ and 6.4·10⁴ episodes). Robbins–Monro steps
/// α_t = α₀·(1 + t/t₀)^(−0.6) (Σα = ∞, Σα² < ∞) remove the floor: the averaged iterate then
/// converges to V (or to the linear TD fixed point) whatever α₀ and t₀, so a different step size
/// is not a fault, while a wrong γ or a wrong sign moves or destroys the fixed point.
///
/// ## The error model (`checkPolicyEstimate`)
///
/// Every estimate is compared with the exact values (`exactValues`, or `linearTDFixedPoint` for
/// the linear variants) state by state, against the Hoeffding–Bonferroni radius
/// ε_s = (b − a)·√(ln(2S/δ)/(2n_s)), with [a, b] = `returnBounds`, n_s the number of episodes that
/// visited s and δ = 10⁻⁶.
///
/// - Proven for first-visit Monte Carlo: by the strong Markov property, the return after the
///   first visit to s in an episode is distributed as G from s, independently of everything
///   before it, and episodes are independent; so, given the visit counts, the n_s first-visit
///   returns are i.i.d. in [a, b] with mean V(s), and Hoeffding's inequality with a union bound
///   over the S states gives P(some |V̂(s) − V(s)| > ε_s) ≤ δ.
/// - Empirical for the others: every-visit returns within an episode are dependent (the
///   estimator is a ratio of sums, consistent but not a mean of i.i.d. terms); averaged TD's
///   error is asymptotically normal with the variance of the certainty-equivalence estimate,
///   at most Monte Carlo's in these chains, but no finite-sample bound with these constants is
///   proven here. The tests show that they stay well inside ε_s and that a wrong γ or sign does
///   not.

/// The output of an estimator.
public struct PolicyEstimate: Sendable {
    /// V̂(s) for every non-terminal state.
    public var values: [Double]
    /// n_s: the number of episodes that visited s (at least once).
    public var visitingEpisodes: [Int]
    /// The number of moves simulated: the work of the call.
    public var transitions: Int
}

/// The output of a linear estimator: its weights, and the values v(s) = φ(s)·w they give.
public struct LinearPolicyEstimate: Sendable {
    public var weights: [Double]
    public var values: [Double]
    public var visitingEpisodes: [Int]
    public var transitions: Int

    /// The values with their visit counts, checked like a tabular estimate.
    public var valueEstimate: PolicyEstimate {
        PolicyEstimate(values: values, visitingEpisodes: visitingEpisodes, transitions: transitions)
    }
}

/// How far an estimate is from the exact values, in units of the confidence radius.
public struct PolicyEvaluationCheck: Sendable {
    /// max over states of |V̂(s) − V(s)| / ε_s: at most 1 to pass.
    public var ratio: Double
    /// The state where it occurs.
    public var state: Int
    /// max over states of |V̂(s) − V(s)|.
    public var largestError: Double
}

/// Compares `estimate` with `exact` state by state against the Hoeffding–Bonferroni radius
/// `hoeffdingRadius(returnRange:samples: n_s, states: S, failureProbability:)`. NaN in the
/// estimate gives an infinite ratio.
public func checkPolicyEstimate(_ estimate: [Double], exact: [Double], visitingEpisodes: [Int],
                                returnRange: Double, failureProbability: Double = 1e-6) -> PolicyEvaluationCheck {
    if estimate.count != exact.count || visitingEpisodes.count != exact.count {
        fatalError("checkPolicyEstimate: counts differ: \(estimate.count), \(exact.count), \(visitingEpisodes.count)")
    }
    var check = PolicyEvaluationCheck(ratio: 0, state: 0, largestError: 0)
    for s in exact.indices {
        let error = abs(estimate[s] - exact[s])
        let radius = hoeffdingRadius(returnRange: returnRange, samples: visitingEpisodes[s], states: exact.count,
                                     failureProbability: failureProbability)
        let ratio = error.isNaN ? Double.infinity : error / radius
        if ratio > check.ratio || s == 0 { (check.ratio, check.state) = (ratio, s) }
        if !(error <= check.largestError) { check.largestError = error }
    }
    return check
}

/// The step sizes of the TD variants.
public enum TDStepSize: Sendable, Equatable {
    /// α for every update. The averaged iterate keeps a bias of order α (see the overview).
    case constant(Double)
    /// Robbins–Monro: α₀·(1 + t/t₀)^(−0.6), t the moves made before the current episode (the
    /// step is set once per episode, which spares a power per move).
    case robbinsMonro(initial: Double, scale: Double)

    /// The step for an episode that starts after `moves` moves.
    @inline(__always)
    func value(afterMoves moves: Int) -> Double {
        switch self {
        case .constant(let alpha): alpha
        case .robbinsMonro(let initial, let scale): initial * pow(1 + Double(moves) / scale, -0.6)
        }
    }
}

func validateEstimation(episodes: Int, stepSize: TDStepSize? = nil, lambda: Double? = nil) throws {
    if episodes < 1 { throw PolicyEvaluationError.invalidArgument(name: "episodes", value: Double(episodes)) }
    switch stepSize {
    case .constant(let alpha)?, .robbinsMonro(let alpha, _)?:
        if !(alpha > 0 && alpha <= 1) { throw PolicyEvaluationError.invalidArgument(name: "step size", value: alpha) }
    case nil: break
    }
    if case .robbinsMonro(_, let scale)? = stepSize, !(scale >= 1 && scale.isFinite) {
        throw PolicyEvaluationError.invalidArgument(name: "step size scale", value: scale)
    }
    if let lambda, !(lambda >= 0 && lambda <= 1) { throw PolicyEvaluationError.invalidArgument(name: "lambda", value: lambda) }
}

/// What an estimator does as episodes are simulated (`simulate`). A struct with mutating
/// methods rather than closures: closures that mutate captured arrays box them, and every
/// access then pays an exclusivity check (measured: TD(0) at 2.5·10⁷ moves/s with closures).
protocol EpisodeVisitor {
    /// Before episode k, after t moves in all.
    mutating func beginEpisode(_ k: Int, moves t: Int)
    /// Move number t, s → s′ (s′ = the number of states: termination), with its reward;
    /// `firstVisit` says whether s is visited for the first time in this episode.
    mutating func move(from s: Int, to next: Int, reward: Double, firstVisit: Bool, moves t: Int)
    /// After episode k.
    mutating func endEpisode(_ k: Int)
}

/// Runs `episodes` episodes of `mrp` with the alias sampler and a generator seeded with `seed`,
/// reporting them to `visitor`. Returns the visiting-episode counts and the number of moves.
func simulate<Visitor: EpisodeVisitor>(_ mrp: MarkovRewardProcess, episodes: Int, seed: UInt64,
                                       visitor: inout Visitor) -> (visitingEpisodes: [Int], transitions: Int) {
    let sampler = TransitionSampler(mrp)
    var generator = SeededGenerator(seed: seed)
    let terminal = mrp.states, width = mrp.states + 1
    var visiting = [Int](repeating: 0, count: mrp.states)
    var lastEpisode = [Int](repeating: -1, count: mrp.states)
    var t = 0
    mrp.rewards.withUnsafeBufferPointer { rewards in
        for k in 0..<episodes {
            visitor.beginEpisode(k, moves: t)
            var s = mrp.startStates[k % mrp.startStates.count]
            while s != terminal {
                let next = sampler.next(from: s, using: &generator)
                let first = lastEpisode[s] != k
                if first {
                    lastEpisode[s] = k
                    visiting[s] += 1
                }
                visitor.move(from: s, to: next, reward: rewards[s * width + next], firstVisit: first, moves: t)
                t += 1
                s = next
            }
            visitor.endEpisode(k)
        }
    }
    return (visiting, t)
}

/// The Polyak–Ruppert average of iterates over a window that opens at `begin(at:)`: each
/// coordinate's value is weighted by the number of moves it was held, accumulated when it is
/// about to change (`willChange`), so an update costs O(1) whatever the number of coordinates.
struct TailAverage {
    var sums: [Double]
    var lastChange: [Int]
    var start = 0
    var open = false

    init(count: Int) {
        sums = [Double](repeating: 0, count: count)
        lastChange = [Int](repeating: 0, count: count)
    }

    mutating func begin(at t: Int) {
        open = true
        start = t
        for i in lastChange.indices { lastChange[i] = t }
    }

    /// Coordinate i held `value` until move t, when it changes.
    @inline(__always)
    mutating func willChange(_ i: Int, from value: Double, at t: Int) {
        if open {
            sums[i] += value * Double(t - lastChange[i])
            lastChange[i] = t
        }
    }

    /// The averages, the window closing at move t with the coordinates at `values`.
    func averages(final values: [Double], at t: Int) -> [Double] {
        let length = Double(max(1, t - start))
        return values.indices.map { i in (sums[i] + values[i] * Double(t - lastChange[i])) / length }
    }
}

/// First-visit Monte Carlo: V̂(s) = the mean, over the episodes that visit s, of the return
/// that follows the first visit. Returns are computed backwards at the end of each episode,
/// G_t = R_{t+1} + γG_{t+1}.
///
/// - Complexity: O(moves + S) time, O(longest episode + S) memory.
/// - Error: proven: within the Hoeffding–Bonferroni radius with probability ≥ 1 − δ (see the
///   overview).
/// - Throws: `PolicyEvaluationError.invalidArgument` for episodes < 1.
public func monteCarloFirstVisit(_ mrp: MarkovRewardProcess, episodes: Int, seed: UInt64) throws -> PolicyEstimate {
    try validateEstimation(episodes: episodes)
    var visitor = MonteCarloVisitor(states: mrp.states, discount: mrp.discount, firstVisitOnly: true)
    let (visiting, transitions) = simulate(mrp, episodes: episodes, seed: seed, visitor: &visitor)
    return PolicyEstimate(values: visitor.means, visitingEpisodes: visiting, transitions: transitions)
}

/// Every-visit Monte Carlo: V̂(s) = the mean of the returns after every visit to s.
///
/// - Complexity: O(moves + S) time, O(longest episode + S) memory.
/// - Error: consistent, biased for finite samples; its check against the Hoeffding–Bonferroni
///   radius of the visiting episodes is empirical.
/// - Throws: `PolicyEvaluationError.invalidArgument` for episodes < 1.
public func monteCarloEveryVisit(_ mrp: MarkovRewardProcess, episodes: Int, seed: UInt64) throws -> PolicyEstimate {
    try validateEstimation(episodes: episodes)
    var visitor = MonteCarloVisitor(states: mrp.states, discount: mrp.discount, firstVisitOnly: false)
    let (visiting, transitions) = simulate(mrp, episodes: episodes, seed: seed, visitor: &visitor)
    return PolicyEstimate(values: visitor.means, visitingEpisodes: visiting, transitions: transitions)
}

/// Both Monte Carlo estimators: the episode is recorded, and its returns computed backwards at
/// its end. Going backwards, the last return written for a state is the one after its first
/// visit.
struct MonteCarloVisitor: EpisodeVisitor {
    let discount: Double
    let firstVisitOnly: Bool
    var sums: [Double], counts: [Int], firstReturn: [Double]
    var path: [Int] = [], pathRewards: [Double] = [], visitedStates: [Int] = []

    init(states: Int, discount: Double, firstVisitOnly: Bool) {
        self.discount = discount
        self.firstVisitOnly = firstVisitOnly
        sums = [Double](repeating: 0, count: states)
        counts = [Int](repeating: 0, count: states)
        firstReturn = [Double](repeating: 0, count: states)
    }

    var means: [Double] { sums.indices.map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : 0 } }

    mutating func beginEpisode(_ k: Int, moves t: Int) {
        path.removeAll(keepingCapacity: true)
        pathRewards.removeAll(keepingCapacity: true)
        visitedStates.removeAll(keepingCapacity: true)
    }

    mutating func move(from s: Int, to next: Int, reward: Double, firstVisit: Bool, moves t: Int) {
        path.append(s)
        pathRewards.append(reward)
        if firstVisit { visitedStates.append(s) }
    }

    mutating func endEpisode(_ k: Int) {
        var g = 0.0
        for t in stride(from: path.count - 1, through: 0, by: -1) {
            g = pathRewards[t] + discount * g
            if firstVisitOnly {
                firstReturn[path[t]] = g
            } else {
                sums[path[t]] += g
                counts[path[t]] += 1
            }
        }
        if firstVisitOnly {
            for s in visitedStates {
                sums[s] += firstReturn[s]
                counts[s] += 1
            }
        }
    }
}

/// TD(0), V₀ = 0, averaged over the second half of the episodes: after each move s → s′ with
/// reward r, V(s) += α·(r + γV(s′) − V(s)), V(terminal) = 0, α from `stepSize`.
///
/// - Complexity: O(moves + S) time, O(S) memory.
/// - Error: empirical check against the Hoeffding–Bonferroni radius (see the overview).
/// - Throws: `PolicyEvaluationError.invalidArgument` for episodes < 1 or a step outside (0, 1].
public func temporalDifferenceZero(_ mrp: MarkovRewardProcess, episodes: Int, stepSize: TDStepSize, seed: UInt64) throws -> PolicyEstimate {
    try validateEstimation(episodes: episodes, stepSize: stepSize)
    return averagedEstimate(mrp, episodes: episodes, seed: seed,
                            TDZeroVisitor(states: mrp.states, discount: mrp.discount, stepSize: stepSize, episodes: episodes))
}

/// A tabular TD estimator: the values it iterates (V(terminal) = 0 last) and their average.
protocol TabularTDVisitor: EpisodeVisitor {
    var v: [Double] { get }
    var average: TailAverage { get }
}

/// Runs a tabular TD estimator and returns its averaged values.
func averagedEstimate<Visitor: TabularTDVisitor>(_ mrp: MarkovRewardProcess, episodes: Int, seed: UInt64,
                                                 _ visitor: Visitor) -> PolicyEstimate {
    var visitor = visitor
    let (visiting, transitions) = simulate(mrp, episodes: episodes, seed: seed, visitor: &visitor)
    return PolicyEstimate(values: visitor.average.averages(final: Array(visitor.v.prefix(mrp.states)), at: transitions),
                          visitingEpisodes: visiting, transitions: transitions)
}

struct TDZeroVisitor: TabularTDVisitor {
    let discount: Double, stepSize: TDStepSize, episodes: Int
    /// V, with V(terminal) = 0 as its last entry.
    var v: [Double]
    var average: TailAverage
    var alpha = 0.0

    init(states: Int, discount: Double, stepSize: TDStepSize, episodes: Int) {
        (self.discount, self.stepSize, self.episodes) = (discount, stepSize, episodes)
        v = [Double](repeating: 0, count: states + 1)
        average = TailAverage(count: states)
    }

    mutating func beginEpisode(_ k: Int, moves t: Int) {
        alpha = stepSize.value(afterMoves: t)
        if k == episodes / 2 { average.begin(at: t) }
    }

    mutating func move(from s: Int, to next: Int, reward: Double, firstVisit: Bool, moves t: Int) {
        let delta = reward + discount * v[next] - v[s]
        average.willChange(s, from: v[s], at: t + 1)
        v[s] += alpha * delta
    }

    mutating func endEpisode(_ k: Int) {}
}

/// TD(λ) with accumulating traces, online, traces reset at each episode's start, averaged over
/// the second half of the episodes. For each move s → s′: e ← γλ·e; e(s) += 1;
/// δ = r + γV(s′) − V(s); V += α·δ·e. Only the states visited in the current episode can have a
/// nonzero trace, so only they are decayed and updated: O(states in the episode) per move
/// instead of O(S), with results identical to `temporalDifferenceLambdaDense`.
///
/// - Complexity: O(Σ over moves of the states visited so far in the episode) time, O(S) memory.
/// - Error: empirical check against the Hoeffding–Bonferroni radius (see the overview).
/// - Throws: `PolicyEvaluationError.invalidArgument` for episodes < 1, a step outside (0, 1]
///   or λ outside [0, 1].
public func temporalDifferenceLambda(_ mrp: MarkovRewardProcess, episodes: Int, stepSize: TDStepSize, lambda: Double,
                                     seed: UInt64) throws -> PolicyEstimate {
    try validateEstimation(episodes: episodes, stepSize: stepSize, lambda: lambda)
    return averagedEstimate(mrp, episodes: episodes, seed: seed,
                            TDLambdaVisitor(states: mrp.states, discount: mrp.discount, lambda: lambda, stepSize: stepSize,
                                            episodes: episodes, dense: false))
}

/// TD(λ) as the textbook writes it: every move decays all S traces and updates every state
/// with a nonzero trace. The reference for `temporalDifferenceLambda` (equal results, bit for
/// bit: a zero trace stays exactly zero and leaves its state alone).
///
/// - Complexity: O(moves·S) time, O(S) memory.
/// - Throws: as `temporalDifferenceLambda`.
public func temporalDifferenceLambdaDense(_ mrp: MarkovRewardProcess, episodes: Int, stepSize: TDStepSize, lambda: Double,
                                          seed: UInt64) throws -> PolicyEstimate {
    try validateEstimation(episodes: episodes, stepSize: stepSize, lambda: lambda)
    return averagedEstimate(mrp, episodes: episodes, seed: seed,
                            TDLambdaVisitor(states: mrp.states, discount: mrp.discount, lambda: lambda, stepSize: stepSize,
                                            episodes: episodes, dense: true))
}

/// TD(λ), over the traced states (`dense == false`: the states visited in this episode, in
/// order of first visit) or over all states (`dense == true`).
struct TDLambdaVisitor: TabularTDVisitor {
    let discount: Double, decay: Double, stepSize: TDStepSize, episodes: Int, dense: Bool
    var v: [Double]
    var trace: [Double]
    /// The states visited in the current episode (sparse form only).
    var traced: [Int] = []
    var average: TailAverage
    var alpha = 0.0

    init(states: Int, discount: Double, lambda: Double, stepSize: TDStepSize, episodes: Int, dense: Bool) {
        (self.discount, self.decay, self.stepSize, self.episodes, self.dense) = (discount, discount * lambda, stepSize, episodes, dense)
        v = [Double](repeating: 0, count: states + 1)
        trace = [Double](repeating: 0, count: states)
        average = TailAverage(count: states)
    }

    mutating func beginEpisode(_ k: Int, moves t: Int) {
        alpha = stepSize.value(afterMoves: t)
        if dense {
            for i in trace.indices { trace[i] = 0 }
        } else {
            for i in traced { trace[i] = 0 }
            traced.removeAll(keepingCapacity: true)
        }
        if k == episodes / 2 { average.begin(at: t) }
    }

    mutating func move(from s: Int, to next: Int, reward: Double, firstVisit: Bool, moves t: Int) {
        if dense {
            for i in trace.indices { trace[i] *= decay }
        } else {
            for i in traced { trace[i] *= decay }
            if firstVisit { traced.append(s) }
        }
        trace[s] += 1
        let step = alpha * (reward + discount * v[next] - v[s])
        if dense {
            for i in trace.indices where trace[i] != 0 { update(i, step, at: t + 1) }
        } else {
            for i in traced where trace[i] != 0 { update(i, step, at: t + 1) }
        }
    }

    @inline(__always)
    mutating func update(_ i: Int, _ step: Double, at t: Int) {
        average.willChange(i, from: v[i], at: t)
        v[i] += step * trace[i]
    }

    mutating func endEpisode(_ k: Int) {}
}

/// Semi-gradient TD(0) with linear function approximation, w₀ = 0, averaged over the second
/// half of the episodes: δ = r + γφ(s′)·w − φ(s)·w (φ(terminal) = 0), w += α·δ·φ(s).
/// `features` is S × k, row-major. Converges (for α small enough) to `linearTDFixedPoint`.
///
/// - Complexity: O(moves·k) time, O(k) memory beyond the features.
/// - Error: empirical check of v = Φw̄ against Φw* and the Hoeffding–Bonferroni radius.
/// - Throws: `PolicyEvaluationError` for a wrong feature shape, episodes < 1 or a step outside
///   (0, 1].
public func linearTemporalDifference(_ mrp: MarkovRewardProcess, features: [Double], featureCount k: Int,
                                     episodes: Int, stepSize: TDStepSize, seed: UInt64) throws -> LinearPolicyEstimate {
    try validateFeatures(features, states: mrp.states, featureCount: k)
    try validateEstimation(episodes: episodes, stepSize: stepSize)
    var visitor = LinearTDVisitor(features: features, featureCount: k, terminal: mrp.states, discount: mrp.discount,
                                  stepSize: stepSize, episodes: episodes)
    let (visiting, transitions) = simulate(mrp, episodes: episodes, seed: seed, visitor: &visitor)
    let weights = visitor.average.averages(final: visitor.w, at: transitions)
    return LinearPolicyEstimate(weights: weights, values: linearValues(features, featureCount: k, weights: weights),
                                visitingEpisodes: visiting, transitions: transitions)
}

struct LinearTDVisitor: EpisodeVisitor {
    let features: [Double], k: Int, terminal: Int, discount: Double, stepSize: TDStepSize, episodes: Int
    var w: [Double]
    var average: TailAverage
    var alpha = 0.0

    init(features: [Double], featureCount k: Int, terminal: Int, discount: Double, stepSize: TDStepSize, episodes: Int) {
        (self.features, self.k, self.terminal, self.discount, self.stepSize, self.episodes) = (features, k, terminal, discount, stepSize, episodes)
        w = [Double](repeating: 0, count: k)
        average = TailAverage(count: k)
    }

    mutating func beginEpisode(_ k: Int, moves t: Int) {
        alpha = stepSize.value(afterMoves: t)
        if k == episodes / 2 { average.begin(at: t) }
    }

    mutating func move(from s: Int, to next: Int, reward: Double, firstVisit: Bool, moves t: Int) {
        var current = 0.0, following = 0.0
        for c in 0..<k { current += features[s * k + c] * w[c] }
        if next != terminal {
            for c in 0..<k { following += features[next * k + c] * w[c] }
        }
        let step = alpha * (reward + discount * following - current)
        for c in 0..<k {
            average.willChange(c, from: w[c], at: t + 1)
            w[c] += step * features[s * k + c]
        }
    }

    mutating func endEpisode(_ k: Int) {}
}

/// LSTD(0): accumulates Â = Σ φ(s)·(φ(s) − γφ(s′))ᵀ and b̂ = Σ φ(s)·r over all moves and solves
/// Â·w = b̂ with ?gesv: the sample version of `linearTDFixedPoint`, with no step size.
///
/// - Complexity: O(moves·k² + k³) time, O(k²) memory.
/// - Error: empirical check of v = Φw against Φw* and the Hoeffding–Bonferroni radius.
/// - Throws: `PolicyEvaluationError` for a wrong feature shape, episodes < 1, or a singular Â
///   (features never visited).
public func leastSquaresTemporalDifference(_ mrp: MarkovRewardProcess, features: [Double], featureCount k: Int,
                                           episodes: Int, seed: UInt64) throws -> LinearPolicyEstimate {
    try validateFeatures(features, states: mrp.states, featureCount: k)
    try validateEstimation(episodes: episodes)
    var visitor = LSTDVisitor(features: features, featureCount: k, terminal: mrp.states, discount: mrp.discount)
    let (visiting, transitions) = simulate(mrp, episodes: episodes, seed: seed, visitor: &visitor)
    let info = Double.gesv(n: k, nrhs: 1, a: &visitor.a, b: &visitor.b)
    if info != 0 { throw PolicyEvaluationError.singularSystem(info: info) }
    return LinearPolicyEstimate(weights: visitor.b, values: linearValues(features, featureCount: k, weights: visitor.b),
                                visitingEpisodes: visiting, transitions: transitions)
}

struct LSTDVisitor: EpisodeVisitor {
    let features: [Double], k: Int, terminal: Int, discount: Double
    /// Â (k × k, row-major) and b̂.
    var a: [Double], b: [Double]
    var difference: [Double]

    init(features: [Double], featureCount k: Int, terminal: Int, discount: Double) {
        (self.features, self.k, self.terminal, self.discount) = (features, k, terminal, discount)
        a = [Double](repeating: 0, count: k * k)
        b = [Double](repeating: 0, count: k)
        difference = [Double](repeating: 0, count: k)
    }

    mutating func beginEpisode(_ k: Int, moves t: Int) {}

    mutating func move(from s: Int, to next: Int, reward: Double, firstVisit: Bool, moves t: Int) {
        for c in 0..<k { difference[c] = features[s * k + c] - (next == terminal ? 0 : discount * features[next * k + c]) }
        for row in 0..<k {
            let x = features[s * k + row]
            for column in 0..<k { a[row * k + column] += x * difference[column] }
            b[row] += x * reward
        }
    }

    mutating func endEpisode(_ k: Int) {}
}

/// v = Φ·w for features Φ (S × k, row-major) and weights w. O(S·k).
public func linearValues(_ features: [Double], featureCount k: Int, weights: [Double]) -> [Double] {
    if weights.count != k || features.count % max(1, k) != 0 { fatalError("linearValues: \(features.count) features for \(weights.count) weights of \(k)") }
    return (0..<(features.count / k)).map { s in (0..<k).reduce(0.0) { $0 + features[s * k + $1] * weights[$1] } }
}
