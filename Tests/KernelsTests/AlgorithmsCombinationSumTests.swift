import Testing
@testable import Kernels

@Suite("Algorithms: combination sum")
struct AlgorithmsCombinationSumTests {
    /// Both enumerations and the count on one problem: the lists must be equal (as canonical
    /// sequences, hence as sets), ascending within and lexicographic across, and the DP count
    /// must match their length.
    func checkAll(_ candidates: [Int], target: Int, rule: CombinationRule, expected: [[Int]]? = nil,
                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = try combinationsByBacktracking(candidates, target: target, rule: rule)
        let pruned = try combinationsByPrunedSearch(candidates, target: target, rule: rule)
        let count = try combinationCount(candidates, target: target, rule: rule)
        #expect(pruned == reference, sourceLocation: sourceLocation)
        #expect(count == UInt64(reference.count), sourceLocation: sourceLocation)
        let nested = reference.nested
        #expect(nested.allSatisfy { $0 == $0.sorted() && $0.reduce(0, +) == target }, sourceLocation: sourceLocation)
        #expect(zip(nested, nested.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) }, sourceLocation: sourceLocation)
        if let expected { #expect(nested == expected, sourceLocation: sourceLocation) }
    }

    @Test func goldenSetsFromItertools() throws {
        let golden = try #require(AlgorithmsGolden.shared)
        for item in golden.combinations {
            try checkAll(item.candidates, target: item.target, rule: CombinationRule(rawValue: item.rule)!, expected: item.combinations)
        }
    }

    @Test func leetCodeExamples() throws {
        try checkAll([2, 3, 6, 7], target: 7, rule: .reuse, expected: [[2, 2, 3], [7]])
        try checkAll([10, 1, 2, 7, 6, 1, 5], target: 8, rule: .once, expected: [[1, 1, 6], [1, 2, 5], [1, 7], [2, 6]])
        try checkAll([5], target: 0, rule: .once, expected: [[]])
        try checkAll([], target: 3, rule: .reuse, expected: [])
    }

    @Test(arguments: CombinationRule.allCases, [(6, 2, 40), (10, 3, 60), (24, 1, 30)])
    func randomCandidates(rule: CombinationRule, shape: (Int, Int, Int)) throws {
        let (count, smallest, target) = shape
        let candidates = combinationCandidates(count: count, smallest: smallest, rule: rule, seed: UInt64(count * target))
        try checkAll(candidates, target: target, rule: rule)
    }

    /// Counts too large for UInt64 are an error, not a wrapped number; counts below stay exact.
    @Test func countOverflowIsReported() throws {
        #expect(throws: CombinationSumError.countOverflow(target: 3000)) {
            try combinationCount(Array(1...100), target: 3000, rule: .reuse)
        }
        // Partitions of 100: 190,569,292.
        #expect(try combinationCount(Array(1...100), target: 100, rule: .reuse) == 190_569_292)
    }

    @Test func badArgumentsAreTypedErrors() {
        #expect(throws: CombinationSumError.nonPositiveCandidate(index: 1, value: 0)) { try combinationsByBacktracking([3, 0], target: 5, rule: .once) }
        #expect(throws: CombinationSumError.negativeTarget(-1)) { try combinationsByPrunedSearch([3], target: -1, rule: .reuse) }
        #expect(throws: CombinationSumError.repeatedCandidate(value: 3)) { try combinationCount([3, 4, 3], target: 9, rule: .reuse) }
    }
}
