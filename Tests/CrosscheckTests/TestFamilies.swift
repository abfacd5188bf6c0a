import Crosscheck

/// Small families for testing the harness and the command line: a float family whose "wrong"
/// variant doubles its error, an integer family with a counter, an expected failure, a
/// verify-only family, and a variant that skips.

/// y = 2·x for a vector x; variants return y.
final class DoublingCase: PreparedCase {
    let x: [Double]
    let n: Int
    init(n: Int) {
        self.n = n
        var generator = SeededGenerator(seed: 3)
        x = [Double].uniform(count: n, using: &generator)
    }

    func check(_ y: [Double]) -> Verification {
        ErrorModels.scaledForwardError(
            computed: y, reference: x.map { 2 * $0 }, scale: x.map { 2 * abs($0) }, unitRoundoff: 0x1p-53, bound: 1,
            model: "exact-doubling", describe: { "y[\($0)]" })
    }
}

enum TestFamilies {
    static let doublingVariants: [Variant<DoublingCase>] = [
        Variant("ref") { c, _ in c.x.map { 2 * $0 } },
        Variant("wrong") { c, _ in c.x.map { 2.5 * $0 } },
        Variant("threaded", threaded: true) { c, _ in c.x.map { $0 + $0 } },
        Variant("sloppy", expectedFailure: "adds a relative error of 1e-3 by design") { c, _ in c.x.map { 2 * $0 * (1 + 1e-3) } },
        Variant("unavailable") { _, _ in throw Skip("needs a library this machine lacks") },
    ]

    /// Sizes `N` (vector length); memory 8·N·4 bytes.
    static let doubling = Family(
        name: "doubling", summary: "y = 2x; shape is n", elementTypes: [.f64],
        sizes: Sizes(notation: "N", parse: { try SizeArithmetic.positiveInteger($0) }, defaults: [1000], quick: [10]),
        cases: { n, _ in
            [Case(kernel: "doubling", dtype: .f64, shape: "\(n)", workload: Workload(flops: Double(n), bytes: 16 * Double(n)),
                  memoryBytes: SizeArithmetic.bytes([(n, 32)]), reference: doublingVariants[0], variants: doublingVariants,
                  prepare: { DoublingCase(n: n) })]
        })

    /// Sums 1...n as integers, reporting the additions as a counter.
    final class CountingCase: PreparedCase {
        let n: Int
        init(n: Int) { self.n = n }
        func check(_ sum: Int64) -> Verification {
            ErrorModels.exact(computed: [sum], reference: [Int64(n) * Int64(n + 1) / 2], describe: { _ in "sum" })
        }
        static var reportsPerCall: Bool { true }
        func report(_ sum: Int64) -> CallReport { CallReport(counters: ["additions": Double(n)]) }
    }

    static let countingVariants: [Variant<CountingCase>] = [
        Variant("loop") { c, _ in (1...Int64(c.n)).reduce(0, +) },
        Variant("formula") { c, _ in Int64(c.n) * Int64(c.n + 1) / 2 },
    ]

    /// Sizes `N` in a notation of its own (a capacity, say).
    static let counting = Family(
        name: "counting", summary: "sum of 1...n; shape is n", elementTypes: [.i64, .i32],
        sizes: Sizes(notation: "capacity N", parse: { try SizeArithmetic.positiveInteger($0) }, defaults: [100], quick: [10]),
        counters: [Counter("additions", unit: "integer additions")],
        cases: { n, dtype in
            [Case(kernel: "counting", dtype: dtype, shape: "\(n)", workload: Workload(flops: 0, bytes: 0), memoryBytes: 64,
                  reference: countingVariants[0], variants: countingVariants, prepare: { CountingCase(n: n) })]
        })

    /// A table to check, nothing to time.
    final class TableCase: PreparedCase {
        func check(_ value: Int) -> Verification { ErrorModels.exact(computed: [value], reference: [195], describe: { _ in "rf" }) }
    }

    static let table = Family(
        name: "table", summary: "a verify-only table; shape is a name", elementTypes: [.none],
        sizes: Sizes(notation: "NAME", parse: { $0 }, defaults: ["alexnet"], quick: ["alexnet"]),
        cases: { name, _ in
            let variants = [Variant<TableCase>("formula") { _, _ in 195 }]
            return [Case(kernel: "table", dtype: .none, shape: name, workload: Workload(flops: 0, bytes: 0), memoryBytes: 0,
                         reference: nil, variants: variants, verifyOnly: true, prepare: { TableCase() })]
        })

    static let all = [doubling, counting, table]
}
