/// A report row read back from a CSV (and its context file's samples): what `compare` and
/// `report` work from, whether the row was measured now or in another run.
public struct RecordedRow: Sendable {
    public var kernel: String
    public var variant: String
    public var dtype: String
    public var shape: String
    public var threads: Int
    public var status: String
    public var errRatio: Double?
    public var errBound: Double?
    public var median: Double?
    public var cv: Double?
    public var flops: Double?
    public var bytes: Double?
    public var gflops: Double?
    public var gbps: Double?
    public var pctPeak: Double?
    public var sizeN: Double?
    public var complexity: Complexity?
    /// `fma` or `triad`: what `pct_peak` compares with.
    public var roofline: String
    public var flags: String
    public var criteria: String
    public var note: String
    /// Counter rates (`NAME_per_s` columns), by counter name.
    public var counterRates: [String: Double]
    /// The timing samples (ns per call), when the context file kept them.
    public var samples: [Double]?

    /// The row's identity across runs: `kernel/variant/dtype/shape/threads`.
    public var key: String { Self.key(kernel, variant, dtype, shape, threads) }

    public static func key(_ kernel: String, _ variant: String, _ dtype: String, _ shape: String, _ threads: Int) -> String {
        "\(kernel)/\(variant)/\(dtype)/\(shape)/\(threads)"
    }

    /// A row as measured in this process.
    public init(_ row: ResultRow) {
        kernel = row.kernel
        variant = row.variant
        dtype = row.dtype.rawValue
        shape = row.shape
        threads = row.threads
        status = row.status.rawValue
        errRatio = row.verification?.errRatio
        errBound = row.verification?.errBound
        median = row.timing?.median
        cv = row.timing?.cv
        flops = row.workload.flops
        bytes = row.workload.bytes
        gflops = row.gflops
        gbps = row.gbps
        pctPeak = row.pctPeak
        sizeN = row.sizeN
        complexity = row.complexity
        roofline = row.workload.isMemoryBound ? "triad" : "fma"
        flags = row.flags.joined(separator: " ")
        criteria = row.verification.map { $0.criteria.map(\.summary).joined(separator: "; ") } ?? ""
        note = row.note
        counterRates = [:]
        samples = row.timing?.samples
    }

    /// A row from a CSV record (column name → field), as `CSVReport` wrote it; nil when a
    /// column that identifies the row is missing. Unknown columns are ignored.
    public init?(fields: [String: String], samples: [String: [Double]] = [:]) {
        guard let kernel = fields["kernel"], let variant = fields["variant"], let dtype = fields["dtype"],
              let shape = fields["shape"], let threads = fields["threads"].flatMap(Int.init), let status = fields["status"]
        else { return nil }
        func number(_ column: String) -> Double? {
            guard let text = fields[column], !text.isEmpty else { return nil }
            switch text {
            case "inf": return .infinity
            case "-inf": return -.infinity
            case "nan": return .nan
            default: return Double(text)
            }
        }
        self.kernel = kernel
        self.variant = variant
        self.dtype = dtype
        self.shape = shape
        self.threads = threads
        self.status = status
        errRatio = number("err_ratio")
        errBound = number("err_bound")
        median = number("median_ns")
        cv = number("cv")
        flops = number("flops")
        bytes = number("bytes")
        gflops = number("gflops")
        gbps = number("gbps")
        pctPeak = number("pct_peak")
        sizeN = number("size_n")
        complexity = fields["complexity"].flatMap(Complexity.init)
        roofline = fields["roofline"] ?? "fma"
        flags = fields["flags"] ?? ""
        criteria = fields["criteria"] ?? ""
        note = fields["note"] ?? ""
        var rates: [String: Double] = [:]
        for (column, _) in fields where column.hasSuffix("_per_s") {
            if let rate = number(column) { rates[String(column.dropLast("_per_s".count))] = rate }
        }
        counterRates = rates
        self.samples = samples[Self.key(kernel, variant, dtype, shape, threads)]
    }
}
