/// What became of one row: whether it was verified, and whether it carries a speed claim.
public enum Status: String, Sendable, CaseIterable {
    /// Verified against the reference, then timed.
    case pass
    /// Failed verification, or threw: not timed, no speed claim, and the run exits non-zero.
    case fail
    /// A verify-only case's check passed; nothing was timed.
    case verified
    /// A variant declared wrong by design failed its check, as expected: not timed, and the run
    /// does not fail. The note says what it got wrong.
    case xfail
    /// A variant declared wrong by design passed on this input: timed like `pass`.
    case xpass
    /// Not run here, for the reason in the note (a library this machine lacks, say).
    case skipped

    /// Whether this status makes the run exit non-zero.
    public var failsRun: Bool { self == .fail }
}

/// One row of the report: one case × variant × thread count.
public struct ResultRow: Sendable {
    public var kernel: String
    public var variant: String
    public var dtype: ElementType
    public var shape: String
    /// The case's size parameter, and the variant's declared complexity in it.
    public var sizeN: Double?
    public var complexity: Complexity?
    public var threads: Int
    public var status: Status
    public var verification: Verification?
    public var timing: SampleSummary?
    /// Kernel calls per timing sample.
    public var iterations: Int
    public var workload: Workload
    /// Counter values per call (the mean over the timed calls, or the verifying call's when the
    /// variant was not timed), by counter name.
    public var counters: [String: Double]
    /// GFLOP/s or GB/s over the machine's measured peak for this thread count, as a percentage.
    public var pctPeak: Double?
    /// Reference median time ÷ this variant's median time.
    public var speedupVsReference: Double?
    /// Warnings about the measurement itself, such as `noisy` (see `RunOptions.noisyCV`).
    public var flags: [String] = []
    public var note: String

    public var gflops: Double? {
        guard let t = timing?.median, t > 0, workload.flops > 0 else { return nil }
        return workload.flops / t
    }

    public var gbps: Double? {
        guard let t = timing?.median, t > 0, workload.bytes > 0 else { return nil }
        return workload.bytes / t
    }

    /// `counter` per second of median call time.
    public func rate(of counter: Counter) -> Double? {
        guard let value = counters[counter.name], let t = timing?.median, t > 0 else { return nil }
        return value / (t / 1e9)
    }
}
