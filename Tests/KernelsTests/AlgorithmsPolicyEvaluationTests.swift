import SeededRandom
import Testing
@testable import Kernels

@Suite("Algorithms: policy evaluation")
struct AlgorithmsPolicyEvaluationTests {
    static let randomProcess = try! MarkovRewardProcess.random(states: 8, termination: 0.1, discount: 0.9, seed: 2026)
    static let episodes = 20_000
    static let step = TDStepSize.robbinsMonro(initial: 0.3, scale: 1000)

    /// The error model: ratio of the worst error to the Hoeffding–Bonferroni radius (δ = 1e-6).
    func check(_ estimate: PolicyEstimate, _ mrp: MarkovRewardProcess, exact: [Double]? = nil) throws -> PolicyEvaluationCheck {
        let bounds = try #require(mrp.returnBounds)
        return checkPolicyEstimate(estimate.values, exact: try exact ?? exactValues(of: mrp), visitingEpisodes: estimate.visitingEpisodes,
                                   returnRange: bounds.upper - bounds.lower)
    }

    @Test func goldenValuesFromNumPy() throws {
        let golden = try #require(AlgorithmsGolden.shared)
        for item in golden.mrp {
            let mrp = try MarkovRewardProcess(states: item.states, transitions: item.transitions, rewards: item.rewards,
                                              discount: item.discount, startStates: Array(0..<item.states))
            let values = try exactValues(of: mrp)
            #expect(zip(values, item.values).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) }, "\(values) vs \(item.values)")
            let fixedPoint = try linearTDFixedPoint(of: mrp, features: item.features, featureCount: item.featureCount)
            #expect(zip(fixedPoint, item.fixedPoint).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }, "\(fixedPoint) vs \(item.fixedPoint)")
        }
    }

    @Test func randomWalkValuesAreSuttonAndBarto() throws {
        let five = try exactValues(of: .randomWalk(states: 5))
        #expect(zip(five, (1...5).map { Double($0) / 6 }).allSatisfy { abs($0 - $1) < 1e-14 })
        let nineteen = try exactValues(of: .randomWalk(states: 19))
        #expect(zip(nineteen, (1...19).map { Double($0) / 10 - 1 }).allSatisfy { abs($0 - $1) < 1e-13 })
        #expect(try MarkovRewardProcess.randomWalk(states: 19).returnBounds! == (-1, 1))
    }

    enum Estimator: String, CaseIterable {
        case firstVisit, everyVisit, td0, td0LargeStep, td0Constant, tdLambda, linearTabular, linearRandom, lstdRandom
    }

    /// Every estimator, on the random process and the 19-state walk, within the radius; the
    /// linear ones against the linear TD fixed point of their features.
    @Test(arguments: Estimator.allCases, [false, true])
    func estimatorsPassTheStatisticalCheck(estimator: Estimator, walk: Bool) throws {
        let mrp = walk ? try MarkovRewardProcess.randomWalk(states: 19) : Self.randomProcess
        let s = mrp.states, episodes = walk ? 4000 : Self.episodes
        let identity = (0..<(s * s)).map { $0 / s == $0 % s ? 1.0 : 0.0 }
        let random = randomFeatures(states: s, featureCount: s / 2, seed: 9)
        var exact = try exactValues(of: mrp)
        let estimate: PolicyEstimate
        switch estimator {
        case .firstVisit: estimate = try monteCarloFirstVisit(mrp, episodes: episodes, seed: 1)
        case .everyVisit: estimate = try monteCarloEveryVisit(mrp, episodes: episodes, seed: 2)
        case .td0: estimate = try temporalDifferenceZero(mrp, episodes: episodes, stepSize: Self.step, seed: 3)
        case .td0LargeStep:
            estimate = try temporalDifferenceZero(mrp, episodes: episodes, stepSize: .robbinsMonro(initial: 1, scale: 100), seed: 3)
        case .td0Constant: estimate = try temporalDifferenceZero(mrp, episodes: episodes, stepSize: .constant(0.01), seed: 3)
        case .tdLambda: estimate = try temporalDifferenceLambda(mrp, episodes: episodes, stepSize: Self.step, lambda: 0.7, seed: 4)
        case .linearTabular:
            estimate = try linearTemporalDifference(mrp, features: identity, featureCount: s, episodes: episodes, stepSize: Self.step, seed: 5).valueEstimate
        case .linearRandom, .lstdRandom:
            let linear = estimator == .lstdRandom
                ? try leastSquaresTemporalDifference(mrp, features: random, featureCount: s / 2, episodes: episodes, seed: 6)
                : try linearTemporalDifference(mrp, features: random, featureCount: s / 2, episodes: episodes, stepSize: Self.step, seed: 6)
            estimate = linear.valueEstimate
            exact = linearValues(random, featureCount: s / 2, weights: try linearTDFixedPoint(of: mrp, features: random, featureCount: s / 2))
        }
        let result = try check(estimate, mrp, exact: exact)
        #expect(result.ratio <= 1, "\(estimator) on \(walk ? "walk" : "random"): ratio \(result.ratio) at state \(result.state), error \(result.largestError)")
        #expect(estimate.transitions > episodes)
        #expect(estimate.visitingEpisodes.allSatisfy { $0 > 0 })
    }

    /// TD(λ) on the visited states only is TD(λ) on all states, bit for bit.
    @Test(arguments: [0.0, 0.5, 1.0])
    func sparseTracesEqualDenseTraces(lambda: Double) throws {
        for mrp in [Self.randomProcess, try .randomWalk(states: 19)] {
            let sparse = try temporalDifferenceLambda(mrp, episodes: 500, stepSize: .constant(0.05), lambda: lambda, seed: 8)
            let dense = try temporalDifferenceLambdaDense(mrp, episodes: 500, stepSize: .constant(0.05), lambda: lambda, seed: 8)
            #expect(sparse.values.map(\.bitPattern) == dense.values.map(\.bitPattern))
            #expect(sparse.transitions == dense.transitions)
        }
    }

    /// The statistical model fails when it should: TD with a discount of 0.8 in place of 0.9
    /// converges to another fixed point, far outside the radius.
    @Test func wrongDiscountFailsTheCheck() throws {
        let mrp = Self.randomProcess
        let wrong = try temporalDifferenceZero(mrp.withDiscount(0.8), episodes: Self.episodes, stepSize: Self.step, seed: 3)
        let result = try check(wrong, mrp)
        #expect(result.ratio > 1, "wrong gamma passed: ratio \(result.ratio)")
        let wrongMC = try monteCarloFirstVisit(mrp.withDiscount(0.8), episodes: Self.episodes, seed: 1)
        #expect(try check(wrongMC, mrp).ratio > 1)
    }

    /// … and a sign error in the update (V −= αδ) makes TD diverge.
    @Test func signErrorFailsTheCheck() throws {
        let mrp = Self.randomProcess
        let sampler = TransitionSampler(mrp)
        var generator = SeededGenerator(seed: 3)
        var v = [Double](repeating: 0, count: mrp.states + 1)
        var visiting = [Int](repeating: 0, count: mrp.states)
        for k in 0..<2000 {
            var s = mrp.startStates[k % mrp.states]
            var seen = Set<Int>()
            while s != mrp.states {
                let next = sampler.next(from: s, using: &generator)
                if seen.insert(s).inserted { visiting[s] += 1 }
                let delta = mrp.rewards[s * (mrp.states + 1) + next] + mrp.discount * v[next] - v[s]
                v[s] -= 0.02 * delta
                s = next
            }
        }
        let estimate = PolicyEstimate(values: Array(v.prefix(mrp.states)), visitingEpisodes: visiting, transitions: 0)
        #expect(try check(estimate, mrp).ratio > 1)
    }

    /// First-visit Monte Carlo is unbiased: over the random walk, its error shrinks like
    /// 1/√episodes (a fourfold increase halves it, within sampling noise).
    @Test func monteCarloErrorShrinksWithEpisodes() throws {
        let mrp = try MarkovRewardProcess.randomWalk(states: 5)
        let exact = try exactValues(of: mrp)
        func rms(_ episodes: Int) throws -> Double {
            var total = 0.0
            for seed in 0..<8 {
                let estimate = try monteCarloFirstVisit(mrp, episodes: episodes, seed: UInt64(seed))
                total += zip(estimate.values, exact).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            }
            return (total / 8).squareRoot()
        }
        let ratio = try rms(500) / rms(8000)
        #expect(ratio > 2.5 && ratio < 6.5, "error ratio for 16× the episodes: \(ratio)")
    }

    @Test func samplerMatchesTransitionProbabilities() throws {
        let mrp = Self.randomProcess
        let sampler = TransitionSampler(mrp)
        var generator = SeededGenerator(seed: 1)
        let draws = 200_000
        var counts = [Int](repeating: 0, count: mrp.states + 1)
        for _ in 0..<draws { counts[sampler.next(from: 3, using: &generator)] += 1 }
        for j in 0...mrp.states {
            let p = mrp.transitions[3 * (mrp.states + 1) + j]
            // 6 standard deviations of a binomial count.
            #expect(abs(Double(counts[j]) - p * Double(draws)) <= 6 * (p * (1 - p) * Double(draws)).squareRoot() + 1)
        }
    }

    @Test func badArgumentsAreTypedErrors() throws {
        #expect(throws: PolicyEvaluationError.rowSumNotOne(row: 0, sum: 0.5)) {
            try MarkovRewardProcess(states: 1, transitions: [0.25, 0.25], rewards: [0, 0], discount: 1, startStates: [0])
        }
        #expect(throws: PolicyEvaluationError.neverTerminates(state: 0)) {
            try MarkovRewardProcess(states: 2, transitions: [1, 0, 0, 0, 0.5, 0.5], rewards: [Double](repeating: 0, count: 6), discount: 1, startStates: [0])
        }
        #expect(throws: PolicyEvaluationError.invalidDiscount(1.5)) { try Self.randomProcess.withDiscount(1.5) }
        #expect(throws: PolicyEvaluationError.self) { try temporalDifferenceZero(Self.randomProcess, episodes: 10, stepSize: .constant(0), seed: 1) }
        #expect(throws: PolicyEvaluationError.self) { try temporalDifferenceLambda(Self.randomProcess, episodes: 10, stepSize: .constant(0.1), lambda: 2, seed: 1) }
        #expect(throws: PolicyEvaluationError.self) {
            try temporalDifferenceZero(Self.randomProcess, episodes: 10, stepSize: .robbinsMonro(initial: 0.1, scale: 0), seed: 1)
        }
        #expect(throws: PolicyEvaluationError.self) { try monteCarloEveryVisit(Self.randomProcess, episodes: 0, seed: 1) }
        #expect(throws: PolicyEvaluationError.self) { try leastSquaresTemporalDifference(Self.randomProcess, features: [1], featureCount: 1, episodes: 10, seed: 1) }
    }
}
