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

/// One implementation of a kernel family: the reference or an optimized variant.
public struct Variant: Sendable, Hashable {
    public let name: String
    /// A threaded variant runs once per requested thread count; the others run once per case,
    /// reported with `threads = 1`.
    public let isThreaded: Bool

    public init(_ name: String, isThreaded: Bool = false) {
        self.name = name
        self.isThreaded = isThreaded
    }
}

/// A case whose inputs exist and whose reference result has been computed.
///
/// The runner calls `verify` once per variant and thread count before any timing, then `run`
/// repeatedly. Implementations own their buffers; `run` may overwrite outputs freely.
public protocol PreparedCase: AnyObject {
    /// Runs `variant` once on the case's inputs (outputs reset first, so that read-modify-write
    /// kernels start from the same state) and compares its output with the reference.
    func verify(_ variant: Variant, threads: Int) throws -> Verification
    /// Runs `variant` once, for timing. Must do the same work as `verify`'s run.
    func run(_ variant: Variant, threads: Int) throws
}

/// A kernel family at one workload: shape and dtype fixed, threads chosen at run time.
public struct Case: Sendable {
    public let kernel: String
    public let dtype: String
    /// The workload's dimensions as the family documents them, for example `m×n×k` as `64x64x64`.
    public let shape: String
    public let workload: Workload
    /// Work per call of variants whose algorithm does different work from `workload` (for
    /// example a truncated SVD against a full one), by variant name.
    public let variantWorkloads: [String: Workload]
    /// The variant whose median time is the denominator of `speedup_vs_reference`, listed in
    /// `variants`; nil when the reference is too slow to run at this size and correctness rests
    /// on an oracle of the case's own (a known spectrum, say).
    public let reference: Variant?
    public let variants: [Variant]
    /// Generates the seeded inputs and computes the reference. Called once per case.
    public let prepare: @Sendable () throws -> any PreparedCase

    /// The work one call of `variant` does.
    public func workload(of variant: Variant) -> Workload { variantWorkloads[variant.name] ?? workload }

    public init(
        kernel: String, dtype: String, shape: String, workload: Workload,
        variantWorkloads: [String: Workload] = [:],
        reference: Variant?, variants: [Variant],
        prepare: @escaping @Sendable () throws -> any PreparedCase
    ) {
        precondition(reference.map(variants.contains) ?? true, "the reference must be one of the variants")
        self.kernel = kernel
        self.dtype = dtype
        self.shape = shape
        self.workload = workload
        self.variantWorkloads = variantWorkloads
        self.reference = reference
        self.variants = variants
        self.prepare = prepare
    }
}
