import Crosscheck
import Kernels

/// One policy-evaluation workload: a Markov reward process and a number of episodes, written
/// `walk5-1000`, `walk19-4000` (Sutton & Barto's random walks) or `random100-20000` (a seeded
/// random process of 100 states, termination probability 0.05 per step, γ = 0.9, rewards in
/// [0, 1), episodes starting round robin in every state).
public struct PolicyEvaluationSpec: Sendable, Hashable, CustomStringConvertible {
    public enum Process: Sendable, Hashable {
        case randomWalk(states: Int)
        case random(states: Int)
    }
    public var process: Process
    public var episodes: Int
    public init(_ process: Process, episodes: Int) {
        self.process = process
        self.episodes = episodes
    }
    public var description: String {
        switch process {
        case .randomWalk(let states): "walk\(states)-\(episodes)"
        case .random(let states): "random\(states)-\(episodes)"
        }
    }
}

/// The policy-evaluation family `td`: first-visit Monte Carlo (the reference: its error bound is
/// proven), every-visit Monte Carlo, TD(0), TD(λ) on the visited states and on all states, linear
/// TD and LSTD on random features. Statistical error model: every estimate within the
/// Hoeffding–Bonferroni radius (b − a)·√(ln(2S/δ)/(2n_s)) of the exact values (V = (I − γP)⁻¹r by
/// ?gesv, or the linear TD fixed point Φw* for the linear variants), δ = 10⁻⁶, n_s the episodes
/// that visited s. Proven for first-visit MC, empirical for the others (see
/// `Sources/Kernels/Algorithms/PolicyEvaluation.swift`). Work: transitions simulated.
public enum PolicyEvaluationSuite {
    /// TD's steps: Robbins–Monro α₀·(1 + t/t₀)^(−0.6), which removes constant-step bias.
    public static let stepSize = TDStepSize.robbinsMonro(initial: 0.3, scale: 1000)
    public static let lambda = 0.7
    public static let failureProbability = 1e-6

    public static let defaults = [PolicyEvaluationSpec(.randomWalk(states: 19), episodes: 4000),
                                  PolicyEvaluationSpec(.random(states: 100), episodes: 5000),
                                  PolicyEvaluationSpec(.random(states: 100), episodes: 20_000),
                                  PolicyEvaluationSpec(.random(states: 100), episodes: 80_000)]
    public static let quick = [PolicyEvaluationSpec(.randomWalk(states: 5), episodes: 1000),
                               PolicyEvaluationSpec(.random(states: 20), episodes: 5000)]
    public static let test = [PolicyEvaluationSpec(.randomWalk(states: 5), episodes: 500),
                              PolicyEvaluationSpec(.randomWalk(states: 19), episodes: 2000),
                              PolicyEvaluationSpec(.random(states: 8), episodes: 5000)]

    public static let family = Family(
        name: "td",
        summary: "policy evaluation by Monte Carlo and TD against exact values; shape is process-episodes",
        elementTypes: [.f64],
        sizes: Sizes(notation: "walk5|walk19|randomS, then -episodes", parse: parse, defaults: defaults, quick: quick, test: test),
        counters: [Counter("transitions", unit: "simulated moves")],
        cases: { spec, _ in [makeCase(spec)] })

    /// The variants; `mc-first` is the reference.
    public static let variants: [Variant<PolicyEvaluationInstance>] = [
        Variant("mc-first", complexity: .linear) { c, _ in try monteCarloFirstVisit(c.mrp, episodes: c.episodes, seed: c.seed) },
        Variant("mc-every", complexity: .linear) { c, _ in try monteCarloEveryVisit(c.mrp, episodes: c.episodes, seed: c.seed) },
        Variant("td0", complexity: .linear) { c, _ in try temporalDifferenceZero(c.mrp, episodes: c.episodes, stepSize: stepSize, seed: c.seed) },
        Variant("tdlambda", complexity: .linear) { c, _ in
            try temporalDifferenceLambda(c.mrp, episodes: c.episodes, stepSize: stepSize, lambda: lambda, seed: c.seed)
        },
        Variant("tdlambda-dense", complexity: .linear) { c, _ in
            try temporalDifferenceLambdaDense(c.mrp, episodes: c.episodes, stepSize: stepSize, lambda: lambda, seed: c.seed)
        },
        Variant("td-linear", complexity: .linear, check: { c, e in c.verify(e, against: c.linearFixedPoint, model: "linear-td-fixed-point") }) { c, _ in
            try linearTemporalDifference(c.mrp, features: c.features, featureCount: c.featureCount, episodes: c.episodes,
                                         stepSize: stepSize, seed: c.seed).valueEstimate
        },
        Variant("lstd", complexity: .linear, check: { c, e in c.verify(e, against: c.linearFixedPoint, model: "linear-td-fixed-point") }) { c, _ in
            try leastSquaresTemporalDifference(c.mrp, features: c.features, featureCount: c.featureCount,
                                               episodes: c.episodes, seed: c.seed).valueEstimate
        },
    ]

    /// Parses `walk5-E`, `walk19-E` or `randomS-E`.
    static func parse(_ text: String) throws -> PolicyEvaluationSpec {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        let usage = "use walk5-E, walk19-E or randomS-E (S states, E episodes)"
        guard parts.count == 2 else { throw CaseRequestError("--sizes: '\(text)' is not a td size; \(usage)") }
        let episodes = try SizeArithmetic.integer(parts[1], in: text, minimum: 1)
        let process: PolicyEvaluationSpec.Process
        if parts[0] == "walk5" || parts[0] == "walk19" {
            process = .randomWalk(states: parts[0] == "walk5" ? 5 : 19)
        } else if parts[0].hasPrefix("random") {
            let states = try SizeArithmetic.integer(parts[0].dropFirst("random".count), in: text, minimum: 2)
            _ = try SizeArithmetic.product([states, states + (states == .max ? 0 : 1), 16], entry: text)
            process = .random(states: states)
        } else {
            throw CaseRequestError("--sizes: '\(text)': unknown process '\(parts[0])'; \(usage)")
        }
        return PolicyEvaluationSpec(process, episodes: episodes)
    }

    public static func makeCase(_ spec: PolicyEvaluationSpec) -> Case {
        let states: Int
        switch spec.process {
        case .randomWalk(let s), .random(let s): states = s
        }
        return Case(
            kernel: "td", dtype: .f64, shape: spec.description, sizeN: Double(spec.episodes), workload: Workload(flops: 0, bytes: 0),
            // P, R, the alias tables and ?gesv's copy: about five S × (S + 1) arrays.
            memoryBytes: SizeArithmetic.bytes([(SizeArithmetic.saturatingProduct(states, states + 1), 5 * 8)]),
            reference: variants[0], variants: variants,
            prepare: { try PolicyEvaluationInstance(spec) })
    }
}

/// A policy-evaluation case: the process, its exact values, random features and the linear TD
/// fixed point they give, and the return range the confidence radius needs.
public final class PolicyEvaluationInstance: PreparedCase {
    public let mrp: MarkovRewardProcess
    public let episodes: Int
    public let seed: UInt64 = 20261128
    public let features: [Double], featureCount: Int
    let exactValues: [Double]
    let linearFixedPoint: [Double]
    let returnRange: Double
    /// The episodes visiting each state and the moves simulated, from the case's own run of the
    /// seeded episodes: the confidence radii come from these, not from what a variant says it
    /// simulated, so a variant that simulates less (or nothing) cannot widen its own bound.
    let simulatedVisits: [Int]
    let simulatedTransitions: Int

    init(_ spec: PolicyEvaluationSpec) throws {
        switch spec.process {
        case .randomWalk(let states): mrp = try .randomWalk(states: states)
        case .random(let states): mrp = try .random(states: states, termination: 0.05, discount: 0.9, seed: 2026)
        }
        episodes = spec.episodes
        featureCount = max(2, mrp.states / 4)
        features = randomFeatures(states: mrp.states, featureCount: featureCount, seed: 9)
        exactValues = try Kernels.exactValues(of: mrp)
        linearFixedPoint = linearValues(features, featureCount: featureCount,
                                        weights: try linearTDFixedPoint(of: mrp, features: features, featureCount: featureCount))
        guard let bounds = mrp.returnBounds else { throw Skip("no bound on the returns is known for this process") }
        returnRange = bounds.upper - bounds.lower
        let simulated = try monteCarloFirstVisit(mrp, episodes: episodes, seed: seed)
        simulatedVisits = simulated.visitingEpisodes
        simulatedTransitions = simulated.transitions
    }

    public func check(_ estimate: PolicyEstimate) -> Verification { verify(estimate, against: exactValues, model: "hoeffding-bonferroni") }

    /// Every state within its Hoeffding–Bonferroni radius of `exact` (radii from the case's own
    /// simulation of the seeded episodes), and the variant simulated exactly those moves.
    func verify(_ estimate: PolicyEstimate, against exact: [Double], model: String) -> Verification {
        let radii = simulatedVisits.map {
            hoeffdingRadius(returnRange: returnRange, samples: $0, states: mrp.states, failureProbability: PolicyEvaluationSuite.failureProbability)
        }
        var v = ErrorModels.statistical(
            estimates: estimate.values, exact: exact, halfWidths: radii,
            confidence: "Hoeffding, return range \(Criterion.format(returnRange)), delta = 1e-6 over \(mrp.states) states (proven for mc-first, empirical otherwise)",
            model: model, describe: { "V[\($0)]" })
        let moves = Criterion("transitions_missing", value: Double(abs(estimate.transitions - simulatedTransitions)), bound: 0)
        if !moves.passed {
            v = Verification(model: v.model, criteria: v.criteria + [moves], maxAbsError: v.maxAbsError, maxRelError: v.maxRelError,
                             worst: "transitions", note: "simulated \(estimate.transitions) moves, the \(episodes) seeded episodes have \(simulatedTransitions); " + v.note)
        } else {
            v = Verification(model: v.model, criteria: v.criteria + [moves], maxAbsError: v.maxAbsError, maxRelError: v.maxRelError,
                             worst: v.worst, note: v.note)
        }
        return v
    }

    public func report(_ estimate: PolicyEstimate) -> CallReport { CallReport(counters: ["transitions": Double(estimate.transitions)]) }
}
