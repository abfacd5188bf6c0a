import Crosscheck
@testable import Kernels
import Testing
@testable import Suites

/// The algorithm families' error models fail when they should, and their size notations parse.
/// Every variant at the test sizes is walked by `FamilyWalkerTests`; the kernels' own tests
/// (golden data from Python oracles) are in `Tests/KernelsTests/Algorithms*.swift`.
@Suite("Algorithm suites")
struct AlgorithmSuitesTests {
    /// TD with a discount of 0.8 instead of 0.9 lands outside the confidence bound; the same TD
    /// with the right discount passes.
    @Test func tdWithWrongDiscountFails() throws {
        let instance = try PolicyEvaluationInstance(PolicyEvaluationSpec(.random(states: 8), episodes: 20_000))
        let right = try temporalDifferenceZero(instance.mrp, episodes: 20_000, stepSize: PolicyEvaluationSuite.stepSize, seed: instance.seed)
        let wrong = try temporalDifferenceZero(instance.mrp.withDiscount(0.8), episodes: 20_000, stepSize: PolicyEvaluationSuite.stepSize, seed: instance.seed)
        #expect(instance.check(right).passed)
        let failed = instance.check(wrong)
        #expect(!failed.passed)
        #expect(failed.criteria.first?.tier == .statistical)
    }

    /// A variant that simulates fewer episodes than asked (here one) fails, although its own
    /// visit counts would widen its confidence radii: the radii come from the case's simulation
    /// and the moves must match.
    @Test func tdThatSimulatesLessFails() throws {
        let instance = try PolicyEvaluationInstance(PolicyEvaluationSpec(.randomWalk(states: 19), episodes: 4000))
        let lazy = try monteCarloFirstVisit(instance.mrp, episodes: 1, seed: instance.seed)
        #expect(!instance.check(lazy).passed)
        let idle = PolicyEstimate(values: [Double](repeating: 0, count: instance.mrp.states), visitingEpisodes: [Int](repeating: 0, count: instance.mrp.states), transitions: 0)
        #expect(!instance.check(idle).passed)
        #expect(instance.check(try monteCarloFirstVisit(instance.mrp, episodes: 4000, seed: instance.seed)).passed)
    }

    /// A recovered selection that breaks the capacity, or repeats an item, is caught even with
    /// the right optimum.
    @Test func knapsackSelectionViolationsFail() throws {
        let instance = try KnapsackInstance<Int32>(KnapsackSpec(items: 20, capacity: 50))
        let (good, _) = try KnapsackSuite.variants(Int32.self)[0].verify(instance)
        #expect(good.passed)
        let optimum = try knapsackRolling(volumes: instance.volumes, values: instance.values, capacity: 50)
        let everything = KnapsackSelection(items: Array(instance.volumes.indices), volume: 0, value: optimum)
        #expect(!instance.check(KnapsackAnswer(optimum: optimum, selection: everything)).passed)
        #expect(!instance.check(KnapsackAnswer(optimum: optimum + 1, selection: nil)).passed)
    }

    /// A listing with one combination missing fails even though it is otherwise right.
    @Test func combinationListingMustMatch() throws {
        let instance = try CombinationInstance(CombinationSpec(.once, candidates: 16, target: 20))
        let full = try combinationsByPrunedSearch(instance.candidates, target: 20, rule: .once)
        #expect(instance.check(CombinationAnswer(combinations: full, count: UInt64(full.count))).passed)
        let shorter = Combinations(Array(full.nested.dropLast()))
        #expect(!instance.check(CombinationAnswer(combinations: shorter, count: UInt64(full.count))).passed)
    }

    /// A soft update that was not applied fails the fused bound.
    @Test func softUpdateNotAppliedFails() throws {
        let instance = SoftUpdateInstance(1000)
        instance.resetForVerification()
        #expect(!instance.verify(.fused).passed)
        let (applied, _) = try SoftUpdateSuite.variants[1].verify(instance)
        #expect(applied.passed)
    }

    /// The EPS predicate is an expected failure on shifted grids (it gets certified signs
    /// wrong), and the plain one is not, through the same runner `bench` uses.
    @Test(arguments: [GeometricPredicatesSuite.orientation, GeometricPredicatesSuite.inCircle])
    func epsilonPredicateIsAnExpectedFailure(family: Family) throws {
        let preset = try family.cases(CaseRequest(dtypes: [.f64], preset: "epsilon"))
        #expect(preset.allSatisfy { $0.variants.contains { $0.name == "epsilon" } })
        let grid = try #require(try family.cases(at: .test).first { $0.shape.hasSuffix("shiftedGrid") })
        let rows = grid.verifyAll(threads: [1])
        #expect(rows.first { $0.variant == "epsilon" }?.status == .xfail)
        #expect(rows.first { $0.variant == "plain" }?.status == .verified)
        #expect(rows.first { $0.variant == "adaptive" }?.status == .verified)
        #expect(try family.cases(at: .full).allSatisfy { !$0.variants.contains { $0.name == "epsilon" } })
    }

    @Test func sizeNotationsParse() throws {
        #expect(try MaximumGapSuite.Spec.parse("1000-clustered", minimum: 0) == SizedInput(1000, .clustered))
        #expect(try MaximumGapSuite.Spec.parse("77", minimum: 0) == SizedInput(77, .uniform))
        #expect(throws: CaseRequestError.self) { try MaximumGapSuite.Spec.parse("10-sideways", minimum: 0) }
        // A leading or trailing '-' is not a separator to skip: '-5' is not 5.
        for entry in ["-5", "5-", "-5-sorted"] {
            #expect(throws: CaseRequestError.self) { try MaximumGapSuite.Spec.parse(entry, minimum: 0) }
        }
        #expect(try KnapsackSuite.parse("100x10000") == KnapsackSpec(items: 100, capacity: 10_000))
        #expect(throws: CaseRequestError.self) { try KnapsackSuite.parse("99999999999x99999999999") }
        #expect(try CombinationSumSuite.parse("once-60-100") == CombinationSpec(.once, candidates: 60, target: 100))
        #expect(throws: CaseRequestError.self) { try CombinationSumSuite.parse("twice-6-10") }
        #expect(try PolicyEvaluationSuite.parse("walk19-4000") == PolicyEvaluationSpec(.randomWalk(states: 19), episodes: 4000))
        #expect(try PolicyEvaluationSuite.parse("random100-20000") == PolicyEvaluationSpec(.random(states: 100), episodes: 20_000))
        #expect(throws: CaseRequestError.self) { try PolicyEvaluationSuite.parse("walk7-10") }
    }
}
