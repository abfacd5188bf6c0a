import Crosscheck
import Kernels

/// One combination-sum workload: `candidates` random candidates from 2 up (distinct under
/// `reuse`, repeating under `once`; see `combinationCandidates`) and a target, written
/// `RULE-N-T` (`once-60-100`).
public struct CombinationSpec: Sendable, Hashable, CustomStringConvertible {
    public var rule: CombinationRule
    public var candidates: Int, target: Int
    public init(_ rule: CombinationRule, candidates: Int, target: Int) {
        self.rule = rule
        self.candidates = candidates
        self.target = target
    }
    public var description: String { "\(rule.rawValue)-\(candidates)-\(target)" }
}

/// The combination-sum family (LeetCode 39 `reuse` and 40 `once`): backtracking in canonical
/// order (the reference), the search pruned by a reachability table, and the dynamic-programming
/// count of distinct multisets. Exact: the count must equal the reference's, and a listing must
/// equal it combination by combination (canonical order, so equal lists are equal sets). See
/// `Sources/Kernels/Algorithms/CombinationSum.swift`.
public enum CombinationSumSuite {
    /// Measured with the seeded candidates: reuse-20-150 has 3191 combinations, reuse-20-250
    /// more than 10⁵, once-50-80 34 996, once-60-100 531 008.
    public static let defaults = [CombinationSpec(.reuse, candidates: 20, target: 150), CombinationSpec(.reuse, candidates: 20, target: 250),
                                  CombinationSpec(.once, candidates: 50, target: 80), CombinationSpec(.once, candidates: 60, target: 100)]
    public static let quick = [CombinationSpec(.reuse, candidates: 20, target: 100), CombinationSpec(.once, candidates: 40, target: 60)]
    /// Target 0 (one empty combination), no candidates, and small lists of both rules.
    public static let test = [CombinationSpec(.reuse, candidates: 3, target: 0), CombinationSpec(.once, candidates: 0, target: 5),
                              CombinationSpec(.reuse, candidates: 10, target: 60), CombinationSpec(.once, candidates: 16, target: 20),
                              CombinationSpec(.once, candidates: 30, target: 50)]

    public static let family = Family(
        name: "combinations",
        summary: "combination sum, LeetCode 39 (reuse) and 40 (once): all multisets and their count (exact); shape is rule-candidates-target",
        elementTypes: [.i64],
        sizes: Sizes(notation: "RULE-N-T (reuse|once, candidates, target)", parse: parse, defaults: defaults, quick: quick, test: test),
        counters: [Counter("combinations", unit: "combinations listed or counted")],
        cases: { spec, _ in [makeCase(spec)] })

    /// The variants; `backtracking` is the reference.
    public static let variants: [Variant<CombinationInstance>] = [
        Variant("backtracking") { c, _ in
            let list = try combinationsByBacktracking(c.candidates, target: c.target, rule: c.rule)
            return CombinationAnswer(combinations: list, count: UInt64(list.count))
        },
        Variant("pruned") { c, _ in
            let list = try combinationsByPrunedSearch(c.candidates, target: c.target, rule: c.rule)
            return CombinationAnswer(combinations: list, count: UInt64(list.count))
        },
        Variant("count") { c, _ in
            CombinationAnswer(combinations: nil, count: try combinationCount(c.candidates, target: c.target, rule: c.rule))
        },
    ]

    /// Parses `RULE-N-T`.
    static func parse(_ text: String) throws -> CombinationSpec {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let rule = CombinationRule(rawValue: String(parts[0])) else {
            throw CaseRequestError("--sizes: '\(text)' is not a combination-sum size; use RULE-N-T with RULE reuse or once")
        }
        let candidates = try SizeArithmetic.integer(parts[1], in: text), target = try SizeArithmetic.integer(parts[2], in: text)
        _ = try SizeArithmetic.product([candidates, 1, target, 2], entry: text)
        if candidates == .max || target == .max { throw CaseRequestError("--sizes: '\(text)' is too large") }
        // The enumerations recurse once per chosen candidate (the smallest candidate is 2) or per
        // distinct value: refuse what would overflow a thread's stack.
        let depth = max(rule == .reuse ? target / 2 : 0, candidates)
        if depth > combinationSearchDepthLimit {
            throw CaseRequestError("--sizes: '\(text)': the enumerations would recurse \(depth) deep; at most \(combinationSearchDepthLimit) (candidates and, with reuse, target / 2)")
        }
        return CombinationSpec(rule, candidates: candidates, target: target)
    }

    public static func makeCase(_ spec: CombinationSpec) -> Case {
        Case(
            kernel: "combinations", dtype: .i64, shape: spec.description, workload: Workload(flops: 0, bytes: 0),
            // The listing's size is known only afterwards; the reachability table is
            // (distinct values + 1)·(target + 1) flags.
            memoryBytes: SizeArithmetic.bytes([(SizeArithmetic.saturatingProduct(spec.candidates + 1, spec.target + 1), 1)]),
            reference: variants[0], variants: variants,
            prepare: { try CombinationInstance(spec) })
    }
}

/// What a combination-sum variant returns: the combinations when it lists them, and their count.
public struct CombinationAnswer {
    public var combinations: Combinations?
    public var count: UInt64
}

/// A combination-sum case: the seeded candidates and the reference listing.
public final class CombinationInstance: PreparedCase {
    public let candidates: [Int], target: Int, rule: CombinationRule
    let expected: Combinations

    init(_ spec: CombinationSpec) throws {
        candidates = combinationCandidates(count: spec.candidates, smallest: 2, rule: spec.rule, seed: 20261128)
        target = spec.target
        rule = spec.rule
        expected = try combinationsByBacktracking(candidates, target: target, rule: rule)
    }

    /// Exact: the count equals the reference's, and a listing equals it combination by
    /// combination (`combination_mismatches` counts those that differ, or are missing or extra).
    public func check(_ answer: CombinationAnswer) -> Verification {
        let counted = ErrorModels.exact(computed: [answer.count], reference: [UInt64(expected.count)], describe: { _ in "count" })
        guard let list = answer.combinations else { return counted }
        var mismatches = abs(list.count - expected.count), first: Int? = nil
        for i in 0..<min(list.count, expected.count) where list[i] != expected[i] {
            mismatches += 1
            first = first ?? i
        }
        let note = first.map { "combination \($0): got \(Array(list[$0])), expected \(Array(expected[$0]))" } ?? counted.note
        return Verification(
            model: "exact(sets)", criteria: counted.criteria + [Criterion("combination_mismatches", value: Double(mismatches), bound: 0)],
            maxAbsError: mismatches == 0 ? 0 : .nan, maxRelError: mismatches == 0 ? 0 : .nan,
            worst: first.map { "combination \($0)" } ?? counted.worst, note: note)
    }

    public func report(_ answer: CombinationAnswer) -> CallReport { CallReport(counters: ["combinations": Double(answer.count)]) }
}
