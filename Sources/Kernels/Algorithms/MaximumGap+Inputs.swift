import SeededRandom

/// The input distributions the maximum-gap kernels are checked and timed on.
public enum MaximumGapInput: String, CaseIterable, Sendable {
    /// Independent uniform values: integers over their whole range (so that max − min overflows
    /// the signed type), Float in [−2²⁰, 2²⁰).
    case uniform
    /// 16 tight clusters around uniform centres: most buckets empty, a few crowded.
    case clustered
    /// About √n distinct values, each repeated: many zero gaps.
    case duplicates
    /// Uniform values, already sorted ascending.
    case sorted
    /// Evenly spaced values, shuffled, with the gap above the minimum a unit wider than the others: the largest gap
    /// is barely above the average, so a bucket only slightly wider than the average gap can hide
    /// it — the input that separates a correct bucket width from a wrong one.
    case nearlyEven
}

/// An element type the maximum-gap inputs can be drawn in.
public protocol MaximumGapSample: MaximumGapElement {
    /// A value from the type's `uniform` distribution.
    static func uniformSample(using generator: inout SeededGenerator) -> Self
    /// A value near `center` (integers: within ±1000, saturating; Float: within ±1).
    static func sample(near center: Self, using generator: inout SeededGenerator) -> Self
    /// The i-th of `count` evenly spaced values (integers: 100 apart for Int32, 1000 for Int64,
    /// centred on 0; Float: 1 apart), plus `shift` units.
    static func evenlySpaced(_ i: Int, count: Int, shift: Int) -> Self
}

/// `count` values of the distribution `kind`, drawn from a generator seeded with `seed`: the
/// same seed gives the same values on every machine.
///
/// - Complexity: O(n) (O(n log n) for `sorted`).
public func maximumGapInput<T: MaximumGapSample>(_ kind: MaximumGapInput, count: Int, seed: UInt64) -> [T] {
    if count < 0 { fatalError("maximumGapInput: count must not be negative, got \(count)") }
    var generator = SeededGenerator(seed: seed)
    switch kind {
    case .uniform:
        return (0..<count).map { _ in T.uniformSample(using: &generator) }
    case .clustered:
        let centers = (0..<16).map { _ in T.uniformSample(using: &generator) }
        return (0..<count).map { _ in
            T.sample(near: centers[Int(generator.next() % UInt64(centers.count))], using: &generator)
        }
    case .duplicates:
        let distinct = max(1, Int(Double(count).squareRoot()))
        let pool = (0..<distinct).map { _ in T.uniformSample(using: &generator) }
        return (0..<count).map { _ in pool[Int(generator.next() % UInt64(distinct))] }
    case .sorted:
        return (0..<count).map { _ in T.uniformSample(using: &generator) }.sorted()
    case .nearlyEven:
        // Evenly spaced, except that the gap above the minimum is one unit wider: the largest gap
        // barely exceeds the average, and lies where any bucket wider than the average gap
        // swallows it (the first bucket starts at the minimum), whatever the width's error. At a
        // random place a too-wide bucket hides it only for some offsets — a 1.5× width on a third
        // of the seeds — and a gap that straddles a boundary is found however wrong the width.
        var values = (0..<count).map { T.evenlySpaced($0, count: count, shift: $0 >= 1 ? 1 : 0) }
        values.shuffle(using: &generator)
        return values
    }
}

extension Int32: MaximumGapSample {
    public static func evenlySpaced(_ i: Int, count: Int, shift: Int) -> Int32 {
        Int32(clamping: (i - count / 2) * 100 + shift)
    }
    public static func uniformSample(using generator: inout SeededGenerator) -> Int32 {
        Int32(truncatingIfNeeded: generator.next())
    }
    public static func sample(near center: Int32, using generator: inout SeededGenerator) -> Int32 {
        Int32(clamping: Int64(center) + Int64(generator.next() % 2001) - 1000)
    }
}

extension Int64: MaximumGapSample {
    public static func evenlySpaced(_ i: Int, count: Int, shift: Int) -> Int64 {
        Int64(i - count / 2) * 1000 + Int64(shift)
    }
    public static func uniformSample(using generator: inout SeededGenerator) -> Int64 {
        Int64(bitPattern: generator.next())
    }
    public static func sample(near center: Int64, using generator: inout SeededGenerator) -> Int64 {
        let offset = Int64(generator.next() % 2001) - 1000
        let (sum, overflow) = center.addingReportingOverflow(offset)
        return overflow ? (offset > 0 ? .max : .min) : sum
    }
}

extension Float: MaximumGapSample {
    public static func evenlySpaced(_ i: Int, count: Int, shift: Int) -> Float {
        Float(i - count / 2 + shift)
    }
    public static func uniformSample(using generator: inout SeededGenerator) -> Float {
        Float(generator.nextSigned() * 0x1p20)
    }
    public static func sample(near center: Float, using generator: inout SeededGenerator) -> Float {
        center + Float(generator.nextSigned())
    }
}
