import Crosscheck
import Kernels

/// The maximum-gap family: the largest difference between neighbours of the sorted array, by
/// sorting (the reference), by buckets (pigeonhole, linear) and by LSD radix sort. Exact: every
/// variant must return the reference's gap, compared in the gap's own type (UInt32, UInt64, or
/// Double for Float inputs). See `Sources/Kernels/Algorithms/MaximumGap.swift`.
public enum MaximumGapSuite {
    public typealias Spec = SizedInput<MaximumGapInput>

    /// Uniform inputs over four decades (for the scaling fit: buckets and radix linear, sorting
    /// n log n), the other distributions at 10⁶.
    public static let defaults = Spec.sweep([10_000, 100_000, 1_000_000, 10_000_000], others: 1_000_000)
    public static let quick = Spec.sweep([1000, 10_000, 100_000], others: 10_000)
    /// Fewer than two values, the smallest arrays, and every distribution at a few hundred values.
    public static let test = [0, 1, 2, 3, 10, 4099].map { Spec($0, .uniform) } + MaximumGapInput.allCases.map { Spec(257, $0) }

    public static let family = Family(
        name: "maxgap",
        summary: "largest gap between neighbours of the sorted array (exact); shape is N-distribution",
        elementTypes: [.i32, .i64, .f32],
        sizes: Sizes(notation: Spec.notation, parse: { try Spec.parse($0, minimum: 0) }, defaults: defaults, quick: quick, test: test),
        counters: [Counter("items", unit: "array elements")],
        cases: { spec, dtype in
            switch dtype {
            case .i32: return [makeCase(spec, Int32.self)]
            case .i64: return [makeCase(spec, Int64.self)]
            case .f32: return [makeCase(spec, Float.self)]
            default: throw CaseRequestError("maxgap has no element type \(dtype.rawValue)")
            }
        })

    /// The variants, declared once with their bodies; `sort` is the reference.
    public static func variants<T: MaximumGapSample>(_: T.Type) -> [Variant<MaximumGapInstance<T>>] {
        [
            Variant("sort", complexity: .nLogN) { c, _ in try c.values.withUnsafeBufferPointer { try maximumGapBySorting($0) } },
            Variant("buckets", complexity: .linear) { c, _ in try c.values.withUnsafeBufferPointer { try maximumGapByBuckets($0) } },
            Variant("radix", complexity: .linear) { c, _ in try c.values.withUnsafeBufferPointer { try maximumGapByRadixSort($0) } },
        ]
    }

    public static func makeCase<T: MaximumGapSample>(_ spec: Spec, _: T.Type) -> Case {
        let size = MemoryLayout<T>.size, key = MemoryLayout<T.OrderKey>.size
        let variants = variants(T.self)
        // The values, a sorted copy, and the buckets' or the radix sort's keys (at most 4n keys).
        let memory = SizeArithmetic.bytes([(spec.count, 2 * size + 4 * key)])
        return Case(
            kernel: "maxgap", dtype: .of(T.self), shape: spec.description, sizeN: Double(spec.count),
            workload: Workload(flops: 0, bytes: Double(size) * Double(spec.count)), memoryBytes: memory,
            reference: variants[0], variants: variants,
            prepare: { try MaximumGapInstance<T>(spec) })
    }
}

/// A maximum-gap case: the seeded values and the reference gap.
public final class MaximumGapInstance<T: MaximumGapSample>: PreparedCase {
    public let values: [T]
    let expected: T.Gap

    init(_ spec: MaximumGapSuite.Spec) throws {
        values = maximumGapInput(spec.input, count: spec.count, seed: 20261128)
        expected = try values.withUnsafeBufferPointer { try maximumGapBySorting($0) }
    }

    public func check(_ gap: T.Gap) -> Verification {
        ErrorModels.exact(computed: [gap], reference: [expected], describe: { _ in "gap" })
    }

    public func report(_ gap: T.Gap) -> CallReport { CallReport(counters: ["items": Double(values.count)]) }
}
