import SeededRandom

/// # Combination sum
///
/// All multisets of candidates that add up to a target, under one of two rules:
///
/// - `.reuse` (LeetCode 39): the candidates are distinct, and each may be used any number of
///   times.
/// - `.once` (LeetCode 40): the candidates may repeat, each entry may be used at most once, and
///   every multiset is listed once however many ways the entries give it.
///
/// Candidates must be positive (a zero would allow infinitely many combinations); the target
/// must be non-negative. Target 0 has exactly one combination, the empty one.
///
/// Every combination is written ascending, and the list is in lexicographic order of those
/// sequences (the canonical order), so two lists are equal as sets exactly when they are equal.
///
/// - `combinationsByBacktracking` — the reference: backtracking over the sorted candidates,
///   smallest first, skipping a repeated value at the same depth under `.once`.
/// - `combinationsByPrunedSearch` — the optimized enumeration: a table of which remainders the
///   remaining distinct values can still make, so that the search never enters a branch without
///   a solution; the output is written into one flat buffer.
/// - `combinationCount` — the number of distinct multisets by dynamic programming, in saturating
///   UInt64 arithmetic checked at the end (`-Ounchecked` removes overflow traps).

/// Bad input to a combination-sum kernel, or a count too large for UInt64.
public enum CombinationSumError: Error, CustomStringConvertible, Equatable {
    case nonPositiveCandidate(index: Int, value: Int)
    case negativeTarget(Int)
    /// Under `.reuse` the candidates must be distinct.
    case repeatedCandidate(value: Int)
    /// The number of combinations is at least 2⁶⁴ − 1.
    case countOverflow(target: Int)
    /// The (distinct values + 1) × (target + 1) table does not fit in the address range.
    case tableTooLarge(values: Int, target: Int)
    /// A search would recurse deeper than `combinationSearchDepthLimit` frames: a thread's stack
    /// (512 KB on a worker thread) would overflow first.
    case searchTooDeep(depth: Int, limit: Int)

    public var description: String {
        switch self {
        case .nonPositiveCandidate(let index, let value):
            "combination sum: candidates[\(index)] must be positive, got \(value)"
        case .negativeTarget(let target):
            "combination sum: target must not be negative, got \(target)"
        case .repeatedCandidate(let value):
            "combination sum: candidate \(value) appears more than once; with rule .reuse the candidates must be distinct"
        case .countOverflow(let target):
            "combination sum: the number of combinations for target \(target) does not fit in UInt64"
        case .tableTooLarge(let values, let target):
            "combination sum: a table of (\(values) + 1) × (\(target) + 1) entries is too large"
        case .searchTooDeep(let depth, let limit):
            "combination sum: the search would recurse \(depth) deep, more than the \(limit) a thread's stack allows"
        }
    }
}

/// The deepest recursion the enumerations accept: a frame takes about 60–160 bytes, and 2000 of
/// them fit well inside the 512 KB stack of a worker thread.
public let combinationSearchDepthLimit = 2000

/// How often a candidate may be used.
public enum CombinationRule: String, CaseIterable, Sendable {
    /// Distinct candidates, each usable any number of times (LeetCode 39).
    case reuse
    /// Candidates that may repeat, each entry used at most once (LeetCode 40).
    case once
}

/// A list of combinations in one flat buffer: combination i is
/// `elements[offsets[i] ..< offsets[i + 1]]`, ascending.
public struct Combinations: Equatable, Sendable {
    public private(set) var elements: [Int] = []
    public private(set) var offsets: [Int] = [0]

    public init() {}

    /// The combinations of `nested`, in the order given.
    public init(_ nested: [[Int]]) {
        for combination in nested { append(combination) }
    }

    public var count: Int { offsets.count - 1 }

    public subscript(index: Int) -> ArraySlice<Int> { elements[offsets[index] ..< offsets[index + 1]] }

    public var nested: [[Int]] { (0..<count).map { Array(self[$0]) } }

    mutating func append<S: Sequence>(_ combination: S) where S.Element == Int {
        elements.append(contentsOf: combination)
        offsets.append(elements.count)
    }
}

/// The candidates' distinct values ascending, with how many times each may be used (under
/// `.reuse`, as often as fits in the target), after checking the arguments.
func combinationGroups(_ candidates: [Int], target: Int, rule: CombinationRule) throws -> [(value: Int, uses: Int)] {
    if target < 0 { throw CombinationSumError.negativeTarget(target) }
    for (index, value) in candidates.enumerated() where value <= 0 {
        throw CombinationSumError.nonPositiveCandidate(index: index, value: value)
    }
    var groups: [(value: Int, uses: Int)] = []
    for value in candidates.sorted() {
        if let last = groups.last, last.value == value {
            if rule == .reuse { throw CombinationSumError.repeatedCandidate(value: value) }
            groups[groups.count - 1].uses += 1
        } else {
            groups.append((value, 1))
        }
    }
    if rule == .reuse {
        for g in groups.indices { groups[g].uses = target / groups[g].value }
    }
    return groups
}

/// All combinations by plain backtracking — the reference.
///
/// The candidates are sorted; the search extends an ascending prefix with each candidate from
/// the current position on, smallest first, stopping at the first one larger than what remains;
/// under `.reuse` the same position may be taken again, under `.once` the next position, and a
/// value equal to the previous one at the same depth is skipped (it would repeat a multiset).
///
/// - Complexity: exponential in general; proportional to the nodes of the search tree, which
///   include dead ends.
/// - Returns: the combinations in canonical order. Exact.
/// - Throws: `CombinationSumError` for a non-positive candidate, a negative target, or a
///   repeated candidate under `.reuse`.
public func combinationsByBacktracking(_ candidates: [Int], target: Int, rule: CombinationRule) throws -> Combinations {
    _ = try combinationGroups(candidates, target: target, rule: rule)
    let sorted = candidates.sorted()
    // One frame per chosen candidate: at most target / smallest (reuse) or every candidate (once).
    let depth = rule == .reuse ? (sorted.first.map { target / $0 } ?? 0) : sorted.count
    if depth > combinationSearchDepthLimit { throw CombinationSumError.searchTooDeep(depth: depth, limit: combinationSearchDepthLimit) }
    var found: [[Int]] = []
    var prefix: [Int] = []
    func extend(from start: Int, remaining: Int) {
        if remaining == 0 {
            found.append(prefix)
            return
        }
        for k in start..<sorted.count {
            if sorted[k] > remaining { break }
            if rule == .once && k > start && sorted[k] == sorted[k - 1] { continue }
            prefix.append(sorted[k])
            extend(from: rule == .reuse ? k : k + 1, remaining: remaining - sorted[k])
            prefix.removeLast()
        }
    }
    extend(from: 0, remaining: target)
    return Combinations(found)
}

/// All combinations by a search that never enters a dead end.
///
/// Over the G distinct values v₀ < … < v_{G−1} with allowed uses m_g, a table
/// `reachable[g][t]` says whether t is a sum of values from g on (O(G·target), each row from the
/// next by a sliding window along t ≡ const mod v_g). The search then decides, value by value, how
/// many copies to take — most first, which is lexicographic order — and only follows a choice
/// whose remainder is reachable, so every leaf is a combination. Combinations are appended to
/// one flat buffer.
///
/// - Complexity: O(G·target) for the table plus O(Σ over combinations of G + length) for the
///   search: linear in the size of the output.
/// - Returns: the same combinations as `combinationsByBacktracking`, in the same order. Exact.
/// - Throws: as `combinationsByBacktracking`, and `tableTooLarge` if (G + 1)·(target + 1)
///   overflows.
public func combinationsByPrunedSearch(_ candidates: [Int], target: Int, rule: CombinationRule) throws -> Combinations {
    let groups = try combinationGroups(candidates, target: target, rule: rule)
    let count = groups.count, width = target + 1
    // One frame per distinct value.
    if count > combinationSearchDepthLimit { throw CombinationSumError.searchTooDeep(depth: count, limit: combinationSearchDepthLimit) }
    let (cells, overflow) = (count + 1).multipliedReportingOverflow(by: width)
    if overflow || target == .max { throw CombinationSumError.tableTooLarge(values: count, target: target) }
    // reachable[g * width + t]: t is a sum of at most uses_h copies of each v_h, h ≥ g.
    var reachable = [Bool](repeating: false, count: cells)
    reachable[count * width] = true
    for g in stride(from: count - 1, through: 0, by: -1) {
        let (value, uses) = groups[g]
        for residue in 0..<min(value, width) {
            // The last t (in this residue class) reachable from g + 1, in copies of v_g.
            var lastReachable = Int.min / 2
            var copies = 0
            for t in stride(from: residue, to: width, by: value) {
                if reachable[(g + 1) * width + t] { lastReachable = copies }
                reachable[g * width + t] = copies - lastReachable <= uses
                copies += 1
            }
        }
    }
    var result = Combinations()
    if !reachable[target] { return result }
    var path: [Int] = []
    reachable.withUnsafeBufferPointer { reachable in
        func take(group g: Int, remaining: Int) {
            if g == count {
                result.append(path)
                return
            }
            let (value, uses) = groups[g]
            let most = min(uses, remaining / value)
            path.append(contentsOf: repeatElement(value, count: most))
            for copies in stride(from: most, through: 0, by: -1) {
                let rest = remaining - copies * value
                if reachable[(g + 1) * width + rest] { take(group: g + 1, remaining: rest) }
                if copies > 0 { path.removeLast() }
            }
        }
        take(group: 0, remaining: target)
    }
    return result
}

/// The number of distinct multisets by dynamic programming over the distinct values:
/// ways[t] after value v_g (usable m_g times) is Σ_{k=0…m_g} ways_before[t − k·v_g]; under
/// `.reuse` this is the unbounded recurrence ways[t] += ways[t − v_g], t ascending.
///
/// Arithmetic saturates at UInt64.max: every entry is a sum of non-negative entries, so an entry
/// that reaches the ceiling can only feed larger ones, and the answer is exact whenever it is
/// below 2⁶⁴ − 1.
///
/// - Complexity: O(target·N) for `.once` (N candidates), O(target·G) for `.reuse`.
/// - Returns: the number of combinations `combinationsByBacktracking` lists. Exact.
/// - Throws: `CombinationSumError.countOverflow` if the count is at least 2⁶⁴ − 1, and the
///   argument errors of `combinationsByBacktracking`.
public func combinationCount(_ candidates: [Int], target: Int, rule: CombinationRule) throws -> UInt64 {
    let groups = try combinationGroups(candidates, target: target, rule: rule)
    if target == .max { throw CombinationSumError.tableTooLarge(values: groups.count, target: target) }
    func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
    var ways = [UInt64](repeating: 0, count: target + 1)
    ways[0] = 1
    for (value, uses) in groups where value <= target {
        switch rule {
        case .reuse:
            for t in value...target { ways[t] = add(ways[t], ways[t - value]) }
        case .once:
            // Descending t: ways[t − k·v] are still the counts before this value.
            for t in stride(from: target, through: value, by: -1) {
                var total = ways[t]
                var k = 1
                while k <= uses && k * value <= t {
                    total = add(total, ways[t - k * value])
                    k += 1
                }
                ways[t] = total
            }
        }
    }
    if ways[target] == .max { throw CombinationSumError.countOverflow(target: target) }
    return ways[target]
}

/// A random candidate list: under `.reuse`, `count` distinct values drawn from
/// [smallest, smallest + 4·count); under `.once`, `count` values from [smallest, smallest + count/2]
/// (so that values repeat). From a generator seeded with `seed`. O(count).
public func combinationCandidates(count: Int, smallest: Int, rule: CombinationRule, seed: UInt64) -> [Int] {
    if count < 0 || smallest < 1 { fatalError("combinationCandidates: count must be ≥ 0 and smallest ≥ 1, got \(count), \(smallest)") }
    var generator = SeededGenerator(seed: seed)
    switch rule {
    case .reuse:
        var pool = Array(smallest ..< smallest + 4 * max(1, count))
        pool.shuffle(using: &generator)
        return Array(pool.prefix(count))
    case .once:
        let span = UInt64(count / 2 + 1)
        return (0..<count).map { _ in smallest + Int(generator.next() % span) }
    }
}
