/// # Maximum gap
///
/// The largest difference between neighbours once an array is sorted:
/// `max over i of (s[i+1] − s[i])` for `s = values.sorted()`, and 0 for fewer than two values.
///
/// Three ways to compute it, all exact (they return the same value, bit for bit):
///
/// - `maximumGapBySorting` — the reference: sort a copy, scan neighbours. O(n log n).
/// - `maximumGapByBuckets` — the pigeonhole algorithm: spread the values over buckets of equal
///   width, no wider than the average gap (max − min)/(n − 1); a gap inside a bucket is then
///   shorter than the average, so the largest gap joins the maximum of one non-empty bucket to the
///   minimum of the next. Each bucket keeps only its minimum and maximum. O(n) time, O(n) space.
/// - `maximumGapByRadixSort` — LSD radix sort of the values' order-preserving bit patterns
///   (`orderKey`), then the same scan. O(n·w/11) for w-bit keys, O(n) space.
///
/// Element types: `Int32`, `Int64` and `Float`.
/// - Integers: the gap is returned unsigned (`UInt32`, `UInt64`), because max − min can exceed
///   the signed type (Int64.max − Int64.min does not fit in Int64). It is computed as the
///   difference of the order keys (the two's-complement pattern with its sign bit flipped), which
///   is exact in the unsigned type.
/// - `Float`: the gap is returned as `Double(b) − Double(a)` rounded once to Double (exact unless
///   the two values' exponents are more than 29 apart). Rounding is monotone, so the largest
///   rounded gap is the rounding of the largest gap, and every algorithm returns the same value.
///   NaN and infinities are rejected with `MaximumGapError`; −0 and +0 are equal neighbours.
///
/// Edge cases: fewer than two values, or all values equal, give a gap of 0.

/// Bad input to a maximum-gap kernel.
public enum MaximumGapError: Error, CustomStringConvertible, Equatable {
    /// `values[index]` is NaN: it has no place in a sorted order.
    case notANumber(index: Int)
    /// `values[index]` is ±∞: the gap next to it is not a finite number.
    case infinite(index: Int, value: Float)

    public var description: String {
        switch self {
        case .notANumber(let index): "maximum gap: values[\(index)] is NaN; NaN has no place in a sorted order"
        case .infinite(let index, let value): "maximum gap: values[\(index)] is \(value); only finite values are accepted"
        }
    }
}

/// An element type the maximum-gap kernels serve: an order-preserving unsigned key (for radix
/// sorting and for exact integer differences), a gap type, and a bucketing rule.
public protocol MaximumGapElement: Comparable {
    /// An unsigned integer whose order is the element order: `a < b` ⇔ `a.orderKey < b.orderKey`
    /// (for Float, −0 sorts just below +0).
    associatedtype OrderKey: FixedWidthInteger & UnsignedInteger
    /// The type a gap is returned in: wide enough that every gap is exact (integers) or
    /// correctly rounded (Float).
    associatedtype Gap: Comparable
    /// How values are spread over buckets by `maximumGapByBuckets`.
    associatedtype Bucketing: GapBucketing where Bucketing.Element == Self

    var orderKey: OrderKey { get }
    init(orderKey: OrderKey)
    /// `upper − lower` for `lower ≤ upper`, in the gap type.
    static func gap(from lower: Self, to upper: Self) -> Gap
    /// The gap of an array whose values are all equal.
    static var zeroGap: Gap { get }
    /// Throws unless every value has a place in a sorted order (Float: finite).
    static func validate(_ values: UnsafeBufferPointer<Self>) throws
    /// The buckets for `count` values spanning `[minimum, maximum]`, `minimum < maximum`.
    static func bucketing(minimum: Self, maximum: Self, count: Int) -> Bucketing

    // The entry point compiled for this type (as `GEMMScalar`'s): the public generic functions
    // forward here, so that callers in other modules run code specialized for the type (a
    // generic call of unspecialized code is tens of times slower).
    static func maximumGapEntry(_ values: UnsafeBufferPointer<Self>, _ algorithm: MaximumGapAlgorithm) throws -> Gap
}

/// The three maximum-gap algorithms, for `MaximumGapElement.maximumGapEntry`.
public enum MaximumGapAlgorithm: Sendable {
    case sorting, buckets, radixSort
}

/// The body of every `maximumGapEntry`.
@inline(__always)
func runMaximumGap<T: MaximumGapElement>(_ values: UnsafeBufferPointer<T>, _ algorithm: MaximumGapAlgorithm) throws -> T.Gap {
    try T.validate(values)
    return switch algorithm {
    case .sorting: sortedMaximumGap(values)
    case .buckets: bucketMaximumGap(values)
    case .radixSort: radixMaximumGap(values)
    }
}

/// A rule that spreads the values of one array over buckets: `bucket(of:)` must be
/// non-decreasing in the value (so a bucket holds a run of the sorted array), and no two values
/// in one bucket may differ by as much as the average gap (max − min)/(count − 1).
public protocol GapBucketing {
    associatedtype Element
    var bucketCount: Int { get }
    func bucket(of value: Element) -> Int
}

// MARK: - The three algorithms

/// The maximum gap by sorting a copy and scanning neighbours — the reference.
///
/// - Complexity: O(n log n) time, O(n) extra space.
/// - Returns: the exact maximum gap (Float: rounded once to Double); 0 for n < 2.
/// - Throws: `MaximumGapError` for NaN or ±∞.
public func maximumGapBySorting<T: MaximumGapElement>(_ values: UnsafeBufferPointer<T>) throws -> T.Gap {
    try T.maximumGapEntry(values, .sorting)
}

func sortedMaximumGap<T: MaximumGapElement>(_ values: UnsafeBufferPointer<T>) -> T.Gap {
    largestNeighbourGap(values.sorted())
}

/// The largest difference between neighbours of an ascending sequence (0 for fewer than two).
@inline(__always)
func largestNeighbourGap<T: MaximumGapElement, Sorted: Collection>(_ sorted: Sorted) -> T.Gap where Sorted.Element == T {
    var largest = T.zeroGap
    for (lower, upper) in zip(sorted, sorted.dropFirst()) {
        largest = max(largest, T.gap(from: lower, to: upper))
    }
    return largest
}

/// The maximum gap by buckets (pigeonhole), in linear time.
///
/// One pass finds the minimum and maximum; a second drops every value into its bucket
/// (`T.bucketing`), keeping each bucket's minimum and maximum order keys side by side in one
/// cache line; a scan over the buckets takes the largest difference between a non-empty bucket's
/// minimum and the previous non-empty bucket's maximum.
///
/// Why it is exact: the n − 1 gaps add up to max − min, so the largest is at least the average
/// (max − min)/(n − 1). The bucketing rule puts a run of the sorted array in each bucket and
/// keeps the values of one bucket less than the average apart, so the largest gap is never inside
/// a bucket: it is one of the differences the scan looks at.
///
/// - Integers: ⌊(max − min)/(n − 1)⌋ (at least 1) wide buckets, computed on order keys in the
///   unsigned type, so that max − min cannot overflow; at most 2(n − 1) buckets.
/// - Float: n + ⌊n/8⌋ buckets over [min, max], index ⌊(x − min)·s⌋ with s = buckets/(max − min),
///   evaluated in Double. See `FloatGapBuckets` for why rounding cannot break the rule.
///
/// - Complexity: O(n) time; buckets take 2·(bucket count)·(key size) bytes, at most 4n keys.
/// - Returns: the exact maximum gap, equal to `maximumGapBySorting`'s; 0 for n < 2.
/// - Throws: `MaximumGapError` for NaN or ±∞.
public func maximumGapByBuckets<T: MaximumGapElement>(_ values: UnsafeBufferPointer<T>) throws -> T.Gap {
    try T.maximumGapEntry(values, .buckets)
}

func bucketMaximumGap<T: MaximumGapElement>(_ values: UnsafeBufferPointer<T>) -> T.Gap {
    let n = values.count
    if n < 2 { return T.zeroGap }
    var minimum = values[0], maximum = values[0]
    for value in values {
        minimum = min(minimum, value)
        maximum = max(maximum, value)
    }
    if !(minimum < maximum) { return T.zeroGap }
    let buckets = T.bucketing(minimum: minimum, maximum: maximum, count: n)
    let bucketCount = buckets.bucketCount
    // Bucket b's minimum key at 2b, its maximum at 2b + 1; empty while minimum > maximum.
    var bounds = [T.OrderKey](unsafeUninitializedCapacity: 2 * bucketCount) { storage, initialized in
        for b in 0..<bucketCount {
            storage[2 * b] = T.OrderKey.max
            storage[2 * b + 1] = T.OrderKey.zero
        }
        initialized = 2 * bucketCount
    }
    bounds.withUnsafeMutableBufferPointer { bounds in
        for value in values {
            let b = buckets.bucket(of: value), key = value.orderKey
            bounds[2 * b] = min(bounds[2 * b], key)
            bounds[2 * b + 1] = max(bounds[2 * b + 1], key)
        }
    }
    // Bucket 0 holds the minimum, so it is not empty.
    var largest = T.zeroGap
    var previousMaximum = bounds[1]
    for b in 1..<bucketCount where bounds[2 * b] <= bounds[2 * b + 1] {
        largest = max(largest, T.gap(from: T(orderKey: previousMaximum), to: T(orderKey: bounds[2 * b])))
        previousMaximum = bounds[2 * b + 1]
    }
    return largest
}

/// The maximum gap by an LSD radix sort of the order keys, then a scan of neighbours.
///
/// Keys are sorted 11 bits at a time (3 passes for 32-bit keys, 6 for 64-bit), stably, between
/// two buffers of n keys; all digit histograms are counted in one pass first, and a pass whose
/// digit is the same for every key is skipped (small ranges need fewer passes).
///
/// - Complexity: O(n·⌈w/11⌉) time for w-bit keys, 2n keys of extra space plus 2¹¹ counters per
///   pass.
/// - Returns: the exact maximum gap, equal to `maximumGapBySorting`'s; 0 for n < 2.
/// - Throws: `MaximumGapError` for NaN or ±∞.
public func maximumGapByRadixSort<T: MaximumGapElement>(_ values: UnsafeBufferPointer<T>) throws -> T.Gap {
    try T.maximumGapEntry(values, .radixSort)
}

func radixMaximumGap<T: MaximumGapElement>(_ values: UnsafeBufferPointer<T>) -> T.Gap {
    let n = values.count
    if n < 2 { return T.zeroGap }
    var keys = values.map(\.orderKey)
    radixSort(&keys)
    return largestNeighbourGap(keys.lazy.map(T.init(orderKey:)))
}

/// Sorts unsigned keys ascending by LSD radix sort with 11-bit digits.
func radixSort<Key: FixedWidthInteger & UnsignedInteger>(_ keys: inout [Key]) {
    let digitBits = 11, radix = 1 << digitBits
    let passes = (Key.bitWidth + digitBits - 1) / digitBits
    let n = keys.count
    var counts = [Int](repeating: 0, count: passes * radix)
    keys.withUnsafeBufferPointer { keys in
        counts.withUnsafeMutableBufferPointer { counts in
            for key in keys {
                for pass in 0..<passes {
                    counts[pass * radix + Int(truncatingIfNeeded: key >> (pass * digitBits)) & (radix - 1)] += 1
                }
            }
        }
    }
    var scratch = [Key](repeating: 0, count: n)
    var sortedIsInKeys = true
    for pass in 0..<passes {
        let histogram = pass * radix
        // A digit that every key shares leaves the order as it is.
        if counts[histogram + Int(truncatingIfNeeded: keys[0] >> (pass * digitBits)) & (radix - 1)] == n { continue }
        var offset = 0
        for digit in 0..<radix {
            let count = counts[histogram + digit]
            counts[histogram + digit] = offset
            offset += count
        }
        let shift = pass * digitBits
        func scatter(_ source: UnsafeBufferPointer<Key>, _ destination: UnsafeMutableBufferPointer<Key>) {
            counts.withUnsafeMutableBufferPointer { counts in
                for key in source {
                    let slot = histogram + Int(truncatingIfNeeded: key >> shift) & (radix - 1)
                    destination[counts[slot]] = key
                    counts[slot] += 1
                }
            }
        }
        if sortedIsInKeys {
            keys.withUnsafeBufferPointer { source in scratch.withUnsafeMutableBufferPointer { scatter(source, $0) } }
        } else {
            scratch.withUnsafeBufferPointer { source in keys.withUnsafeMutableBufferPointer { scatter(source, $0) } }
        }
        sortedIsInKeys.toggle()
    }
    if !sortedIsInKeys { swap(&keys, &scratch) }
}

// MARK: - Bucketing rules

/// Buckets for integers, on order keys: width w = max(1, ⌊(max − min)/(n − 1)⌋), bucket
/// ⌊(key − minKey)/w⌋, (max − min)/w + 1 ≤ 2(n − 1) buckets. Two values in one bucket differ by
/// at most w − 1 < w ≤ (max − min)/(n − 1). All arithmetic is on unsigned keys, where
/// max − min is exact.
public struct IntegerGapBuckets<Element: MaximumGapElement>: GapBucketing {
    let minimumKey: Element.OrderKey
    let width: Element.OrderKey
    public let bucketCount: Int

    init(minimum: Element, maximum: Element, count: Int) {
        minimumKey = minimum.orderKey
        let range = maximum.orderKey - minimumKey
        // More gaps than the key type counts: every average gap is below 1.
        let gaps = Element.OrderKey(exactly: count - 1) ?? Element.OrderKey.max
        width = max(1, range / gaps)
        bucketCount = Int(range / width) + 1
    }

    @inline(__always)
    public func bucket(of value: Element) -> Int { Int((value.orderKey &- minimumKey) / width) }
}

/// Buckets for Float: B = n + ⌊n/8⌋ buckets over [min, max], bucket ⌊(x − min)·s⌋ (the last
/// one also takes x = max), with x − min and s = B/(max − min) evaluated in Double (u = 2⁻⁵³).
///
/// The index is non-decreasing in x (every step rounds monotonically). Its relative error is
/// at most (2u + u²) per value, plus a common factor within (1 ± 2u) from s, so two values in
/// bucket k are less than ((max − min)/B)·(1 + 2(2k + 1)(2u + u²))/(1 − 3u) apart. With
/// k < B = n + ⌊n/8⌋, that is below (max − min)/(n − 1) for every n ≤ 2⁴⁰: the n/8 extra
/// buckets absorb the rounding, which n − 1 buckets of exactly the average width could not.
public struct FloatGapBuckets: GapBucketing {
    let minimum: Double
    let scale: Double
    public let bucketCount: Int

    init(minimum: Float, maximum: Float, count: Int) {
        bucketCount = count + count / 8
        self.minimum = Double(minimum)
        scale = Double(bucketCount) / (Double(maximum) - Double(minimum))
    }

    @inline(__always)
    public func bucket(of value: Float) -> Int {
        min(Int((Double(value) - minimum) * scale), bucketCount - 1)
    }
}

// MARK: - Element types

extension Int32: MaximumGapElement {
    public static func maximumGapEntry(_ values: UnsafeBufferPointer<Int32>, _ algorithm: MaximumGapAlgorithm) throws -> UInt32 {
        try runMaximumGap(values, algorithm)
    }
    public var orderKey: UInt32 { UInt32(bitPattern: self) ^ 0x8000_0000 }
    public init(orderKey: UInt32) { self.init(bitPattern: orderKey ^ 0x8000_0000) }
    public static func gap(from lower: Int32, to upper: Int32) -> UInt32 { upper.orderKey &- lower.orderKey }
    public static var zeroGap: UInt32 { 0 }
    public static func validate(_ values: UnsafeBufferPointer<Int32>) throws {}
    public static func bucketing(minimum: Int32, maximum: Int32, count: Int) -> IntegerGapBuckets<Int32> {
        IntegerGapBuckets(minimum: minimum, maximum: maximum, count: count)
    }
}

extension Int64: MaximumGapElement {
    public static func maximumGapEntry(_ values: UnsafeBufferPointer<Int64>, _ algorithm: MaximumGapAlgorithm) throws -> UInt64 {
        try runMaximumGap(values, algorithm)
    }
    public var orderKey: UInt64 { UInt64(bitPattern: self) ^ 0x8000_0000_0000_0000 }
    public init(orderKey: UInt64) { self.init(bitPattern: orderKey ^ 0x8000_0000_0000_0000) }
    public static func gap(from lower: Int64, to upper: Int64) -> UInt64 { upper.orderKey &- lower.orderKey }
    public static var zeroGap: UInt64 { 0 }
    public static func validate(_ values: UnsafeBufferPointer<Int64>) throws {}
    public static func bucketing(minimum: Int64, maximum: Int64, count: Int) -> IntegerGapBuckets<Int64> {
        IntegerGapBuckets(minimum: minimum, maximum: maximum, count: count)
    }
}

extension Float: MaximumGapElement {
    public static func maximumGapEntry(_ values: UnsafeBufferPointer<Float>, _ algorithm: MaximumGapAlgorithm) throws -> Double {
        try runMaximumGap(values, algorithm)
    }
    /// Negative values: all bits flipped (larger magnitude, smaller key); non-negative values:
    /// the sign bit set. −0 sorts just below +0.
    public var orderKey: UInt32 {
        let bits = bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }
    public init(orderKey: UInt32) {
        self.init(bitPattern: orderKey & 0x8000_0000 != 0 ? orderKey ^ 0x8000_0000 : ~orderKey)
    }
    public static func gap(from lower: Float, to upper: Float) -> Double { Double(upper) - Double(lower) }
    public static var zeroGap: Double { 0 }
    public static func validate(_ values: UnsafeBufferPointer<Float>) throws {
        for (index, value) in values.enumerated() where !value.isFinite {
            throw value.isNaN ? MaximumGapError.notANumber(index: index) : MaximumGapError.infinite(index: index, value: value)
        }
    }
    public static func bucketing(minimum: Float, maximum: Float, count: Int) -> FloatGapBuckets {
        FloatGapBuckets(minimum: minimum, maximum: maximum, count: count)
    }
}
