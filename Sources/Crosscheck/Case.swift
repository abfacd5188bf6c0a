/// The work one kernel call does, so that throughput and the fraction of machine peak follow
/// from a measured time.
public struct Workload: Sendable, Equatable {
    /// Floating-point operations per call (a fused multiply-add counts as two).
    public var flops: Double
    /// Bytes that must move between memory and the core per call (each input read once, each
    /// output written once; a lower bound, not a cache simulation).
    public var bytes: Double
    /// Whether `pct_peak` compares GB/s with memory bandwidth instead of GFLOP/s with FMA peak.
    public var isMemoryBound: Bool

    public init(flops: Double, bytes: Double, isMemoryBound: Bool = false) {
        self.flops = flops
        self.bytes = bytes
        self.isMemoryBound = isMemoryBound
    }
}

/// A case with its inputs generated and its reference computed: what a family implements once
/// per kernel, and what its variants run on.
///
/// The runner calls `resetForVerification()`, runs a variant once and passes its output to
/// `check` (or to the variant's own check) before any timing; then it runs the variant repeatedly
/// for timing, discarding the outputs. Implementations own their buffers.
///
/// Example — a case whose variants return their result:
///
///     final class SumCase: PreparedCase {
///         let values: [Double]; let exact: Double
///         init(count: Int, seed: UInt64) { ... }
///         func check(_ output: Double) -> Verification {
///             ErrorModels.scaledForwardError(computed: [output], reference: [exact],
///                 scale: [values.reduce(0) { $0 + abs($1) }], unitRoundoff: 0x1p-53,
///                 bound: ErrorModels.gammaRatio(values.count - 1, unitRoundoff: 0x1p-53),
///                 model: "gamma_(n-1)|x|", describe: { _ in "sum" })
///         }
///     }
public protocol PreparedCase: AnyObject {
    /// What a variant's call returns: a value, or `Void` for kernels that write into the case's
    /// own output buffers.
    associatedtype Output = Void

    /// Puts the case's output buffers in a known state before each verifying run: restores what a
    /// kernel reads before writing (C when β ≠ 0), and **fills write-only outputs with NaN**.
    /// Otherwise a variant that writes nothing finds the previous variant's correct result and
    /// passes. The default does nothing (right for variants that return their output).
    func resetForVerification()

    /// Compares one call's output with the reference under the family's error model.
    func check(_ output: Output) throws -> Verification

    /// Whether `report` says anything; when false the runner does not call it between timed calls.
    static var reportsPerCall: Bool { get }

    /// Counters and work of one call, from its output (see `Counter`). The default reports nothing.
    func report(_ output: Output) -> CallReport
}

extension PreparedCase {
    public func resetForVerification() {}
    public static var reportsPerCall: Bool { false }
    public func report(_ output: Output) -> CallReport { CallReport() }
}

/// Whether a variant is expected to pass its family's error model.
public enum Expectation: Sendable, Equatable {
    /// A correct implementation: failing verification fails the run.
    case pass
    /// Wrong by design on some inputs (an EPS-based geometric predicate near degeneracy, a
    /// softmax without max subtraction on large logits): failing is reported as `xfail` and does
    /// not fail the run; the reason goes into the row's note.
    case failure(reason: String)

    /// The reason of an expected failure; nil for `.pass`.
    public var failureReason: String? {
        if case let .failure(reason) = self { return reason }
        return nil
    }
}

/// One implementation of a family's kernel, declared once with its body.
///
/// A variant is a value: its name, how it is threaded, and the closure that runs it on a
/// prepared case. Families build their variants in one place (often one generic function per
/// element type), so renaming or removing one is a change there and nowhere else; nothing
/// dispatches on the name.
///
///     let simd = Variant<SumCase>("simd") { sumCase, _ in sumSIMD(sumCase.values) }
///     let parallel = Variant<SumCase>("parallel", threaded: true) { sumCase, threads in
///         sumParallel(sumCase.values, threads: threads)
///     }
public struct Variant<Instance: PreparedCase>: @unchecked Sendable {
    public let name: String
    /// A threaded variant runs once per requested thread count; the others run once per case,
    /// reported with `threads = 1`.
    public let isThreaded: Bool
    public let expectation: Expectation
    /// Work per call when it differs from the case's (a truncated SVD against a full one).
    public let workload: Workload?
    /// How its cost should grow with the case's size parameter (`Case.sizeN`); runs over several
    /// sizes fit the measured times and flag a variant whose best class differs.
    public let complexity: Complexity?
    let body: @Sendable (Instance, Int) throws -> Instance.Output
    let customCheck: (@Sendable (Instance, Instance.Output) throws -> Verification)?

    /// - Parameters:
    ///   - name: the `variant` column; `--filter` matches `kernel/name`.
    ///   - threaded: run once per `--threads` entry, passing the count to `body`.
    ///   - expectedFailure: why this variant is wrong by design, making a failed check `xfail`.
    ///   - workload: this variant's work per call, when not the case's.
    ///   - complexity: how its cost grows with the case's size parameter.
    ///   - check: a check of its own instead of the case's `check` (a fast algorithm with a
    ///     larger error bound of its own, say).
    ///   - body: one call of the kernel on the case's inputs, with the thread count to use.
    ///     `@Sendable`, so that a closure written in top-level code (`main.swift`) is not
    ///     isolated to the main actor: in Swift 6 mode that isolation adds a run-time executor
    ///     check to every closure call inside the body, which made a reference loop 150× slower.
    public init(
        _ name: String, threaded: Bool = false, expectedFailure: String? = nil, workload: Workload? = nil,
        complexity: Complexity? = nil, check: (@Sendable (Instance, Instance.Output) throws -> Verification)? = nil,
        _ body: @escaping @Sendable (Instance, _ threads: Int) throws -> Instance.Output
    ) {
        self.name = name
        self.isThreaded = threaded
        self.expectation = expectedFailure.map { .failure(reason: $0) } ?? .pass
        self.workload = workload
        self.complexity = complexity
        self.body = body
        self.customCheck = check
    }

    /// Runs the variant once on `instance` (after `resetForVerification()`) and checks its output
    /// with the variant's own check or the instance's: what the runner does before timing, for
    /// tests that build an instance of their own (on golden data, say). Also returns the call's
    /// report.
    public func verify(_ instance: Instance, threads: Int = 1) throws -> (Verification, CallReport) {
        instance.resetForVerification()
        let output = try body(instance, threads)
        let verification = try customCheck.map { try $0(instance, output) } ?? instance.check(output)
        return (verification, instance.report(output))
    }
}

/// The thrown reason why a variant cannot run here (a library this machine lacks, a thread count
/// a library cannot change at run time). Its row gets `status = skipped` with the reason as note.
public struct Skip: Error, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A kernel family at one workload — shape and element type fixed, threads chosen at run time —
/// as the runner sees it: the variant list and a closure that prepares the inputs.
///
/// Building a `Case` allocates nothing; `prepare` does, once, when the case runs. So `bench` can
/// build every case a command line asks for, check it (filter, memory), and only then run.
public struct Case: Sendable {
    /// One variant as the runner sees it.
    public struct VariantInfo: Sendable, Equatable {
        public let name: String
        public let isThreaded: Bool
        public let expectation: Expectation
        public let workload: Workload
        public let complexity: Complexity?
    }

    public let kernel: String
    public let dtype: ElementType
    /// The workload's dimensions as the family documents them, for example `m×n×k` as `64x64x64`.
    public let shape: String
    /// The size parameter n of the case, against which variants' complexities are fitted (for
    /// a product of m × k by k × n, (m·n·k)^(1/3)); nil when the family has none.
    public let sizeN: Double?
    public let workload: Workload
    public let variants: [VariantInfo]
    /// The variant whose median time is the denominator of `speedup_vs_reference`; nil when the
    /// reference is too slow to run at this size and correctness rests on an oracle of the case's
    /// own (a known spectrum, say).
    public let reference: String?
    /// A verify-only case checks its variants and times nothing (a table of receptive fields):
    /// its rows get `status = verified`.
    public let isVerifyOnly: Bool
    /// An estimate of the bytes `prepare` and one call hold at once, checked against the
    /// machine's available memory before anything runs.
    public let memoryBytes: Int
    let prepare: @Sendable () throws -> ErasedCase

    /// A case whose variants run on `Instance`, made by `prepare`.
    ///
    /// - Parameters:
    ///   - reference: one of `variants`; its median time is the denominator of
    ///     `speedup_vs_reference`, and it runs first.
    ///   - memoryBytes: inputs, reference and outputs together (see `SizeArithmetic` for
    ///     overflow-checked products).
    ///   - sizeN: the size parameter the variants' complexities are stated in.
    public init<Instance: PreparedCase>(
        kernel: String, dtype: ElementType, shape: String, sizeN: Double? = nil, workload: Workload, memoryBytes: Int,
        reference: Variant<Instance>?, variants: [Variant<Instance>], verifyOnly: Bool = false,
        prepare: @escaping @Sendable () throws -> Instance
    ) {
        if let reference, !variants.contains(where: { $0.name == reference.name }) {
            fatalError("case \(kernel) \(shape): the reference \(reference.name) is not one of its variants")
        }
        var seen = Set<String>()
        for variant in variants where !seen.insert(variant.name).inserted {
            fatalError("case \(kernel) \(shape): two variants are named \(variant.name)")
        }
        // The reference runs first, so that every later row can state its speedup.
        let ordered = reference.map { reference in
            variants.filter { $0.name == reference.name } + variants.filter { $0.name != reference.name }
        } ?? variants
        self.kernel = kernel
        self.dtype = dtype
        self.shape = shape
        self.sizeN = sizeN
        self.workload = workload
        self.variants = ordered.map {
            VariantInfo(name: $0.name, isThreaded: $0.isThreaded, expectation: $0.expectation,
                        workload: $0.workload ?? workload, complexity: $0.complexity)
        }
        self.reference = reference?.name
        self.isVerifyOnly = verifyOnly
        self.memoryBytes = memoryBytes
        self.prepare = { ErasedCase(try prepare(), variants: ordered) }
    }
}

/// A prepared case behind closures, so that cases of every family share one runner.
final class ErasedCase {
    /// Runs variant `index` once on `threads` threads and checks its output.
    let verify: (_ index: Int, _ threads: Int) throws -> (Verification, CallReport)
    /// Runs variant `index` `calls` times for timing, returning the sum of what the calls reported
    /// (empty unless the case reports per call).
    let time: (_ index: Int, _ threads: Int, _ calls: Int) throws -> CallReport

    init<Instance: PreparedCase>(_ instance: Instance, variants: [Variant<Instance>]) {
        verify = { index, threads in try variants[index].verify(instance, threads: threads) }
        time = { index, threads, calls in
            let body = variants[index].body
            guard Instance.reportsPerCall else {
                for _ in 0..<calls { BlackHole.keep(try body(instance, threads)) }
                return CallReport()
            }
            var total = CallReport()
            for _ in 0..<calls {
                let report = instance.report(try body(instance, threads))
                total.add(report)
            }
            return total
        }
    }
}

extension CallReport {
    /// Adds `other`'s counters and work to this one's.
    mutating func add(_ other: CallReport) {
        for (name, value) in other.counters { counters[name, default: 0] += value }
        if let work = other.workload {
            var sum = workload ?? Workload(flops: 0, bytes: 0, isMemoryBound: work.isMemoryBound)
            sum.flops += work.flops
            sum.bytes += work.bytes
            workload = sum
        }
    }

    /// The mean per call of a sum over `calls` calls.
    func perCall(_ calls: Int) -> CallReport {
        let n = Double(max(calls, 1))
        return CallReport(
            counters: counters.mapValues { $0 / n },
            workload: workload.map { Workload(flops: $0.flops / n, bytes: $0.bytes / n, isMemoryBound: $0.isMemoryBound) })
    }
}
