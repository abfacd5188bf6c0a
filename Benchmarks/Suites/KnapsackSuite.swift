import Crosscheck
import Kernels

/// One knapsack workload: `items` random items (volumes in [1, V/4], values in [1, 1000]) and
/// capacity V, written `NxV`.
public struct KnapsackSpec: Sendable, Hashable, CustomStringConvertible {
    public var items: Int, capacity: Int
    public init(items: Int, capacity: Int) {
        self.items = items
        self.capacity = capacity
    }
    public var description: String { "\(items)x\(capacity)" }
    /// N·(V + 1): the cells every variant fills.
    var cells: Double { Double(items) * Double(capacity + 1) }
}

/// The 0/1 knapsack family: the whole (N+1) × (V+1) table with item recovery (the reference),
/// the rolling row, and the rolling row in 64-byte SIMD blocks. Exact: every optimum must equal
/// the reference's, and the items the table variant recovers must fit (volume ≤ V) and reach
/// the optimum. See `Sources/Kernels/Algorithms/Knapsack.swift`.
public enum KnapsackSuite {
    public static let defaults = [KnapsackSpec(items: 100, capacity: 10_000), KnapsackSpec(items: 1000, capacity: 10_000),
                                  KnapsackSpec(items: 1000, capacity: 100_000)]
    /// Two timed sizes, and small instances around the SIMD widths, where an item that fills a
    /// capacity exactly decides the optimum.
    public static let quick = [KnapsackSpec(items: 50, capacity: 1000), KnapsackSpec(items: 100, capacity: 10_000),
                               KnapsackSpec(items: 12, capacity: 8), KnapsackSpec(items: 20, capacity: 17)]
    /// Empty instances, and capacities around the SIMD widths (16 Int32 lanes, 8 Int64 lanes).
    public static let test = [(0, 10), (1, 0), (7, 5), (12, 7), (12, 8), (12, 9), (20, 15), (20, 16), (20, 17), (60, 1000)]
        .map { KnapsackSpec(items: $0.0, capacity: $0.1) }

    public static let family = Family(
        name: "knapsack",
        summary: "0/1 knapsack optimum (exact) and chosen items; shape is N items x capacity V",
        elementTypes: [.i32, .i64],
        sizes: Sizes(notation: "NxV (items x capacity)", parse: parse, defaults: defaults, quick: quick, test: test),
        counters: [Counter("cells", unit: "dynamic-programming cells, N·(V+1)")],
        cases: { spec, dtype in
            switch dtype {
            case .i32: return [makeCase(spec, Int32.self)]
            case .i64: return [makeCase(spec, Int64.self)]
            default: throw CaseRequestError("knapsack has no element type \(dtype.rawValue)")
            }
        })

    /// The variants; `table` (with item recovery) is the reference. All fill N·(V+1) cells.
    public static func variants<T: KnapsackValue>(_: T.Type) -> [Variant<KnapsackInstance<T>>] {
        [
            Variant("table", complexity: .linear) { c, _ in
                let table = try knapsackTable(volumes: c.volumes, values: c.values, capacity: c.capacity)
                return KnapsackAnswer(optimum: table.optimum, selection: knapsackSelection(from: table, volumes: c.volumes, values: c.values))
            },
            Variant("rolling", complexity: .linear) { c, _ in
                KnapsackAnswer(optimum: try knapsackRolling(volumes: c.volumes, values: c.values, capacity: c.capacity), selection: nil)
            },
            Variant("simd", complexity: .linear) { c, _ in
                KnapsackAnswer(optimum: try knapsackSIMD(volumes: c.volumes, values: c.values, capacity: c.capacity), selection: nil)
            },
        ]
    }

    /// Parses `NxV`: items N ≥ 0 and capacity V ≥ 0 whose table, (N+1)·(V+1) eight-byte values,
    /// fits the address range.
    static func parse(_ text: String) throws -> KnapsackSpec {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw CaseRequestError("--sizes: '\(text)' is not a knapsack size; use NxV (items x capacity)") }
        let items = try SizeArithmetic.integer(parts[0], in: text), capacity = try SizeArithmetic.integer(parts[1], in: text)
        if items == .max || capacity == .max { throw CaseRequestError("--sizes: '\(text)' is too large") }
        _ = try SizeArithmetic.product([items + 1, capacity + 1, 8], entry: text)
        return KnapsackSpec(items: items, capacity: capacity)
    }

    public static func makeCase<T: KnapsackValue>(_ spec: KnapsackSpec, _: T.Type) -> Case {
        let variants = variants(T.self)
        let size = MemoryLayout<T>.size
        // The reference table twice (prepare's and the table variant's), the rows, the items.
        let table = SizeArithmetic.saturatingProduct(spec.items + 1, spec.capacity + 1)
        let memory = SizeArithmetic.bytes([(table, 2 * size), (spec.capacity + 1, 2 * size), (spec.items, 8 + size)])
        return Case(
            kernel: "knapsack", dtype: .of(T.self), shape: spec.description, sizeN: spec.cells,
            workload: Workload(flops: 0, bytes: Double(size) * spec.cells), memoryBytes: memory,
            reference: variants[0], variants: variants,
            prepare: { try KnapsackInstance<T>(spec) })
    }
}

/// What a knapsack variant returns: the optimum, and the chosen items when it recovers them.
public struct KnapsackAnswer<T: KnapsackValue> {
    public var optimum: T
    public var selection: KnapsackSelection<T>?
}

/// A knapsack case: the seeded items and the reference optimum.
public final class KnapsackInstance<T: KnapsackValue>: PreparedCase {
    public let volumes: [Int], values: [T], capacity: Int
    let optimum: T

    init(_ spec: KnapsackSpec) throws {
        (volumes, values) = knapsackInstance(items: spec.items, capacity: spec.capacity, seed: 20261128)
        capacity = spec.capacity
        optimum = try knapsackTable(volumes: volumes, values: values, capacity: capacity).optimum
    }

    /// Exact: the optimum equals the reference's; a recovered selection has distinct items whose
    /// volumes add up to at most V and whose values add up to the optimum.
    public func check(_ answer: KnapsackAnswer<T>) -> Verification {
        var verification = ErrorModels.exact(computed: [answer.optimum], reference: [optimum], describe: { _ in "optimum" })
        if let selection = answer.selection {
            let volume = selection.items.reduce(0) { $0 + volumes[$1] }
            let value = selection.items.reduce(Int64(0)) { $0 + Int64(values[$1]) }
            var violations: [String] = []
            if Set(selection.items).count != selection.items.count { violations.append("an item is chosen twice") }
            if volume > capacity { violations.append("volume \(volume) exceeds the capacity \(capacity)") }
            if value != Int64(optimum) { violations.append("value \(value) is not the optimum \(optimum)") }
            verification = Verification(
                model: "exact+selection",
                criteria: verification.criteria + [Criterion("selection_violations", value: Double(violations.count), bound: 0)],
                maxAbsError: verification.maxAbsError, maxRelError: verification.maxRelError,
                worst: violations.isEmpty ? verification.worst : "selection",
                note: ([verification.note] + violations).filter { !$0.isEmpty }.joined(separator: "; "))
        }
        return verification
    }

    public func report(_ answer: KnapsackAnswer<T>) -> CallReport {
        CallReport(counters: ["cells": Double(volumes.count) * Double(capacity + 1)])
    }
}
