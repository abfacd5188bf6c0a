import SeededRandom

/// # 0/1 knapsack
///
/// N items, item i with volume vᵢ ≥ 0 and value wᵢ ≥ 0, and a capacity V ≥ 0: the largest total
/// value of a set of items whose volumes add up to at most V, each item taken at most once.
///
/// The dynamic program: f[i][j] is the best value of the first i items within volume j,
///
///     f[0][j] = 0,   f[i][j] = max(f[i−1][j], f[i−1][j − vᵢ] + wᵢ)   (second term only if vᵢ ≤ j),
///
/// and the optimum is f[N][V].
///
/// - `knapsackTable` — the reference: the whole (N+1) × (V+1) table, from which
///   `knapsackSelection` recovers the chosen items.
/// - `knapsackRolling` — one row of V + 1 values, updated in place with j descending, so that
///   f[j − vᵢ] is still the previous row's value when f[j] is computed.
/// - `knapsackSIMD` — the rolling row, 64 bytes of j at a time (16 Int32 or 8 Int64 lanes),
///   j descending block by block.
///
/// Values are `Int32` or `Int64` (`KnapsackValue`). Every table entry is the value of some set of
/// items, so at most Σwᵢ: the entry points check, with overflow-reporting arithmetic, that Σwᵢ
/// fits the type, and the loops then add without traps. Exact. Work: N·(V + 1) cells.

/// Bad input to a knapsack kernel.
public enum KnapsackError: Error, CustomStringConvertible, Equatable {
    case countMismatch(volumes: Int, values: Int)
    case negativeCapacity(Int)
    case negativeVolume(index: Int, volume: Int)
    case negativeValue(index: Int, value: Int64)
    /// Σwᵢ does not fit the value type, so a table entry could overflow.
    case totalValueOverflow(type: String)
    /// The (N+1) × (V+1) table of the reference (or the V + 1 row of the others) does not fit in
    /// the address range.
    case tableTooLarge(items: Int, capacity: Int)

    public var description: String {
        switch self {
        case .countMismatch(let volumes, let values):
            "knapsack: volumes has \(volumes) items but values has \(values)"
        case .negativeCapacity(let capacity):
            "knapsack: capacity must not be negative, got \(capacity)"
        case .negativeVolume(let index, let volume):
            "knapsack: volumes[\(index)] must not be negative, got \(volume)"
        case .negativeValue(let index, let value):
            "knapsack: values[\(index)] must not be negative, got \(value)"
        case .totalValueOverflow(let type):
            "knapsack: the sum of values does not fit in \(type); use a wider value type"
        case .tableTooLarge(let items, let capacity):
            "knapsack: a table of (\(items) + 1) × (\(capacity) + 1) entries is too large to allocate"
        }
    }
}

/// A value type of the knapsack kernels, with the 64-byte SIMD vector `knapsackSIMD` uses.
public protocol KnapsackValue: FixedWidthInteger & SignedInteger & Codable {
    associatedtype Vector: SIMD where Vector.Scalar == Self

    // Entry points compiled for this type (as `GEMMScalar`'s): the public generic functions
    // forward here, so that callers in other modules run specialized code.
    static func knapsackTableEntry(volumes: [Int], values: [Self], capacity: Int) throws -> KnapsackTable<Self>
    static func knapsackRowEntry(volumes: [Int], values: [Self], capacity: Int, vectorized: Bool) throws -> Self
}

extension Int32: KnapsackValue {
    public typealias Vector = SIMD16<Int32>
    public static func knapsackTableEntry(volumes: [Int], values: [Int32], capacity: Int) throws -> KnapsackTable<Int32> {
        try tableKnapsack(volumes: volumes, values: values, capacity: capacity)
    }
    public static func knapsackRowEntry(volumes: [Int], values: [Int32], capacity: Int, vectorized: Bool) throws -> Int32 {
        try vectorized ? simdKnapsack(volumes: volumes, values: values, capacity: capacity)
                       : rollingKnapsack(volumes: volumes, values: values, capacity: capacity)
    }
}

extension Int64: KnapsackValue {
    public typealias Vector = SIMD8<Int64>
    public static func knapsackTableEntry(volumes: [Int], values: [Int64], capacity: Int) throws -> KnapsackTable<Int64> {
        try tableKnapsack(volumes: volumes, values: values, capacity: capacity)
    }
    public static func knapsackRowEntry(volumes: [Int], values: [Int64], capacity: Int, vectorized: Bool) throws -> Int64 {
        try vectorized ? simdKnapsack(volumes: volumes, values: values, capacity: capacity)
                       : rollingKnapsack(volumes: volumes, values: values, capacity: capacity)
    }
}

/// The reference's (N+1) × (V+1) table, row-major: `entries[i * (capacity + 1) + j]` = f[i][j].
public struct KnapsackTable<T: KnapsackValue> {
    public let items: Int
    public let capacity: Int
    public let entries: [T]

    /// f[N][V], the optimum.
    public var optimum: T { entries[items * (capacity + 1) + capacity] }

    public subscript(item: Int, volume: Int) -> T { entries[item * (capacity + 1) + volume] }
}

/// A set of items with its total volume and value.
public struct KnapsackSelection<T: KnapsackValue>: Equatable {
    /// Indices of the chosen items, ascending.
    public let items: [Int]
    public let volume: Int
    public let value: T
}

/// Checks the arguments of every knapsack entry point: equal counts, no negative capacity,
/// volume or value, and Σwᵢ representable in T (added with overflow reporting, since
/// `-Ounchecked` removes the traps).
func validateKnapsack<T: KnapsackValue>(volumes: [Int], values: [T], capacity: Int) throws {
    if volumes.count != values.count { throw KnapsackError.countMismatch(volumes: volumes.count, values: values.count) }
    if capacity < 0 { throw KnapsackError.negativeCapacity(capacity) }
    if capacity == .max { throw KnapsackError.tableTooLarge(items: volumes.count, capacity: capacity) }
    var total = T.zero
    for i in volumes.indices {
        if volumes[i] < 0 { throw KnapsackError.negativeVolume(index: i, volume: volumes[i]) }
        if values[i] < 0 { throw KnapsackError.negativeValue(index: i, value: Int64(values[i])) }
        let (sum, overflow) = total.addingReportingOverflow(values[i])
        if overflow { throw KnapsackError.totalValueOverflow(type: "\(T.self)") }
        total = sum
    }
}

/// The whole dynamic-programming table f[i][j], i in 0...N, j in 0...V — the reference, written
/// as the recurrence reads.
///
/// - Complexity: O(N·V) time and (N+1)·(V+1) values of memory.
/// - Returns: the table; `optimum` is f[N][V]. Exact.
/// - Throws: `KnapsackError` for mismatched counts, negative numbers, a total value that does
///   not fit T, or a table too large to address.
public func knapsackTable<T: KnapsackValue>(volumes: [Int], values: [T], capacity: Int) throws -> KnapsackTable<T> {
    try T.knapsackTableEntry(volumes: volumes, values: values, capacity: capacity)
}

func tableKnapsack<T: KnapsackValue>(volumes: [Int], values: [T], capacity: Int) throws -> KnapsackTable<T> {
    try validateKnapsack(volumes: volumes, values: values, capacity: capacity)
    let n = volumes.count
    let width = capacity + 1
    let (entryCount, overflow) = (n + 1).multipliedReportingOverflow(by: width)
    if overflow { throw KnapsackError.tableTooLarge(items: n, capacity: capacity) }
    var f = [T](repeating: 0, count: entryCount)
    for i in 1..<(n + 1) {
        let v = volumes[i - 1], w = values[i - 1]
        for j in 0...capacity {
            var best = f[(i - 1) * width + j]
            if v <= j { best = max(best, f[(i - 1) * width + j - v] + w) }
            f[i * width + j] = best
        }
    }
    return KnapsackTable(items: n, capacity: capacity, entries: f)
}

/// The chosen items, recovered from the reference table: walking i from N down to 1, item i is
/// taken exactly when f[i][j] ≠ f[i−1][j] (then j decreases by vᵢ).
///
/// - Complexity: O(N).
/// - Returns: the items (ascending) with their total volume (≤ V) and value (= f[N][V]).
public func knapsackSelection<T: KnapsackValue>(from table: KnapsackTable<T>, volumes: [Int], values: [T]) -> KnapsackSelection<T> {
    if volumes.count != table.items || values.count != table.items {
        fatalError("knapsackSelection: the table has \(table.items) items, volumes \(volumes.count), values \(values.count)")
    }
    var j = table.capacity
    var chosen: [Int] = []
    var volume = 0
    var value = T.zero
    for i in stride(from: table.items, to: 0, by: -1) where table[i, j] != table[i - 1, j] {
        chosen.append(i - 1)
        j -= volumes[i - 1]
        volume += volumes[i - 1]
        value += values[i - 1]
    }
    return KnapsackSelection(items: chosen.reversed(), volume: volume, value: value)
}

/// The optimum with one row f[0...V], updated in place for each item with j descending from V
/// to vᵢ: f[j − vᵢ] has not yet been overwritten in this pass, so it is still f[i−1][j − vᵢ].
///
/// - Complexity: O(N·V) time, V + 1 values of memory.
/// - Returns: f[N][V]. Exact.
/// - Throws: as `knapsackTable`, except for the table size.
public func knapsackRolling<T: KnapsackValue>(volumes: [Int], values: [T], capacity: Int) throws -> T {
    try T.knapsackRowEntry(volumes: volumes, values: values, capacity: capacity, vectorized: false)
}

func rollingKnapsack<T: KnapsackValue>(volumes: [Int], values: [T], capacity: Int) throws -> T {
    try validateKnapsack(volumes: volumes, values: values, capacity: capacity)
    var row = [T](repeating: 0, count: capacity + 1)
    row.withUnsafeMutableBufferPointer { f in
        for (v, w) in zip(volumes, values) where v <= capacity {
            for j in stride(from: capacity, through: v, by: -1) {
                f[j] = max(f[j], f[j - v] &+ w)
            }
        }
    }
    return row[capacity]
}

/// The rolling row, vectorized along j: for each item, f[j0 ..< j0+L] ← max(f[j0 ..< j0+L],
/// f[j0−vᵢ ..< j0+L−vᵢ] + wᵢ) for blocks of L = `T.Vector.scalarCount` lanes (64 bytes), j0
/// descending from V + 1 − L while j0 ≥ vᵢ; the remaining j (below the last block, down to vᵢ)
/// scalar, descending.
///
/// Why in place is safe: the new row must be computed from the OLD row. Going down, everything
/// written so far lies at or above the current block's top (j0 + L), while the block reads
/// f[j0 − vᵢ ..< j0 + L − vᵢ] and f[j0 ..< j0 + L], all below it. Where the shifted range
/// overlaps the block itself (vᵢ < L) it is loaded before the block is stored, so it is still
/// old. No second buffer is needed.
///
/// - Complexity: O(N·V/L) vector operations, V + 1 values of memory.
/// - Returns: f[N][V], equal to `knapsackRolling`'s. Exact.
/// - Throws: as `knapsackRolling`.
public func knapsackSIMD<T: KnapsackValue>(volumes: [Int], values: [T], capacity: Int) throws -> T {
    try T.knapsackRowEntry(volumes: volumes, values: values, capacity: capacity, vectorized: true)
}

func simdKnapsack<T: KnapsackValue>(volumes: [Int], values: [T], capacity: Int) throws -> T {
    try validateKnapsack(volumes: volumes, values: values, capacity: capacity)
    let lanes = T.Vector.scalarCount
    var row = [T](repeating: 0, count: capacity + 1)
    row.withUnsafeMutableBufferPointer { f in
        let base = UnsafeMutableRawPointer(f.baseAddress!)
        let stride = MemoryLayout<T>.stride
        for (v, w) in zip(volumes, values) where v <= capacity {
            let wv = T.Vector(repeating: w)
            var j0 = capacity + 1 - lanes
            while j0 >= v {
                let current = base.loadUnaligned(fromByteOffset: j0 * stride, as: T.Vector.self)
                let shifted = base.loadUnaligned(fromByteOffset: (j0 - v) * stride, as: T.Vector.self)
                base.storeBytes(of: pointwiseMax(current, shifted &+ wv), toByteOffset: j0 * stride, as: T.Vector.self)
                j0 -= lanes
            }
            var j = min(capacity, j0 + lanes - 1)
            while j >= v {
                f[j] = max(f[j], f[j - v] &+ w)
                j -= 1
            }
        }
    }
    return row[capacity]
}

/// A random knapsack instance: `items` items with volumes uniform in [1, max(1, V/4)] and values
/// uniform in [1, 1000], from a generator seeded with `seed`. O(N).
public func knapsackInstance<T: KnapsackValue>(items: Int, capacity: Int, seed: UInt64) -> (volumes: [Int], values: [T]) {
    if items < 0 || capacity < 0 { fatalError("knapsackInstance: items and capacity must not be negative, got \(items), \(capacity)") }
    var generator = SeededGenerator(seed: seed)
    let largestVolume = UInt64(max(1, capacity / 4))
    let volumes = (0..<items).map { _ in 1 + Int(generator.next() % largestVolume) }
    let values = (0..<items).map { _ in T(1 + generator.next() % 1000) }
    return (volumes, values)
}
