/// Whether a variant's row carries a speed claim.
public enum Status: String, Sendable {
    /// Verified against the reference, then timed.
    case pass
    /// Failed verification (or threw); not timed, no speed claim.
    case fail
    /// Not run (for example a variant that needs a library this machine lacks).
    case skipped
}

/// One row of the report: one case × variant × thread count.
public struct ResultRow: Sendable {
    public var kernel: String
    public var variant: String
    public var dtype: String
    public var shape: String
    public var threads: Int
    public var status: Status
    public var verification: Verification?
    public var timing: SampleSummary?
    /// Kernel calls per timing sample.
    public var iterations: Int
    public var workload: Workload
    /// GFLOP/s or GB/s over the machine's measured peak for this thread count, as a percentage.
    public var pctPeak: Double?
    /// Reference median time ÷ this variant's median time.
    public var speedupVsReference: Double?
    public var note: String

    public var gflops: Double? {
        guard let t = timing?.median, t > 0, workload.flops > 0 else { return nil }
        return workload.flops / t
    }

    public var gbps: Double? {
        guard let t = timing?.median, t > 0, workload.bytes > 0 else { return nil }
        return workload.bytes / t
    }
}
