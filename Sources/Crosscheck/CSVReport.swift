import Foundation

/// The CSV report: RFC 4180, one header row, one row per case × variant × thread count.
///
/// The first 23 columns are the contract of DESIGN.md, in order; `error_model`, `worst` and `note`
/// follow. Empty cells mean "not measured" (a failed variant has no timing).
public enum CSVReport {
    public static let columns = [
        "kernel", "variant", "dtype", "shape", "threads", "status", "err_ratio", "err_bound",
        "max_abs_err", "max_rel_err", "samples", "iterations", "min_ns", "median_ns", "p90_ns",
        "mad_ns", "cv", "flops", "bytes", "gflops", "gbps", "pct_peak", "speedup_vs_reference",
        "error_model", "worst", "note",
    ]

    /// The whole report as CSV text, header first, CRLF line ends (RFC 4180).
    public static func render(_ rows: [ResultRow]) -> String {
        var lines = [columns.joined(separator: ",")]
        for row in rows { lines.append(fields(row).map(escape).joined(separator: ",")) }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Writes the report to `url` through a temporary file and a rename, so that a reader never
    /// sees a half-written report.
    public static func write(_ rows: [ResultRow], to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(render(rows).utf8).write(to: url, options: .atomic)
    }

    static func fields(_ r: ResultRow) -> [String] {
        let v = r.verification, t = r.timing
        return [
            r.kernel, r.variant, r.dtype, r.shape, String(r.threads), r.status.rawValue,
            number(v?.errRatio), number(v?.errBound), number(v?.maxAbsError), number(v?.maxRelError),
            t.map { String($0.count) } ?? "", t == nil ? "" : String(r.iterations),
            number(t?.min), number(t?.median), number(t?.p90), number(t?.mad), number(t?.cv),
            number(r.workload.flops), number(r.workload.bytes), number(r.gflops), number(r.gbps),
            number(r.pctPeak), number(r.speedupVsReference),
            v?.model ?? "", v?.worst ?? "", r.note,
        ]
    }

    /// Six significant digits; `inf`/`nan` spelled the way pandas reads them.
    static func number(_ x: Double?) -> String {
        guard let x else { return "" }
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return String(format: "%.6g", x)
    }

    /// RFC 4180: a field with a comma, quote, CR or LF is quoted, inner quotes doubled.
    public static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
