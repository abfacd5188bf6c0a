import Foundation

/// The CSV report: RFC 4180, one header row, one row per case × variant × thread count.
///
/// Columns: the 23 of DESIGN.md in order (`fixedColumns`), then two per counter the run's
/// families declare (`name`, `name_per_s`), then `trailingColumns`: the size parameter and declared
/// complexity, the roofline `pct_peak` was taken against (`fma` or `triad`), measurement flags
/// (`noisy`), the error model, every criterion, where the worst error is, and a note.
/// Empty cells mean "not measured" (a failed variant has no timing).
public struct CSVReport: Sendable {
    public static let fixedColumns = [
        "kernel", "variant", "dtype", "shape", "threads", "status", "err_ratio", "err_bound",
        "max_abs_err", "max_rel_err", "samples", "iterations", "min_ns", "median_ns", "p90_ns",
        "mad_ns", "cv", "flops", "bytes", "gflops", "gbps", "pct_peak", "speedup_vs_reference",
    ]
    public static let trailingColumns = ["size_n", "complexity", "roofline", "flags", "error_model", "criteria", "worst", "note"]

    /// The counters with columns in this report, in order.
    public let counters: [Counter]

    /// A report with columns for `counters` (the union of the run's families' counters; a name
    /// declared by two families is one column).
    public init(counters: [Counter] = []) {
        var unique: [Counter] = []
        for counter in counters where !unique.contains(where: { $0.name == counter.name }) { unique.append(counter) }
        self.counters = unique
    }

    public var columns: [String] {
        Self.fixedColumns + counters.flatMap { [$0.name, $0.rateColumn] } + Self.trailingColumns
    }

    /// The header line, CRLF-terminated.
    public var header: String { columns.joined(separator: ",") + "\r\n" }

    /// One row as a CSV line, CRLF-terminated.
    public func line(_ row: ResultRow) -> String {
        fields(row).map(Self.escape).joined(separator: ",") + "\r\n"
    }

    /// The whole report as CSV text, header first (RFC 4180 line ends).
    public func render(_ rows: [ResultRow]) -> String {
        header + rows.map(line).joined()
    }

    func fields(_ r: ResultRow) -> [String] {
        let v = r.verification, t = r.timing
        let number = Self.number
        var fields = [
            r.kernel, r.variant, r.dtype.rawValue, r.shape, String(r.threads), r.status.rawValue,
            number(v?.errRatio), number(v?.errBound), number(v?.maxAbsError), number(v?.maxRelError),
            t.map { String($0.count) } ?? "", t == nil ? "" : String(r.iterations),
            number(t?.min), number(t?.median), number(t?.p90), number(t?.mad), number(t?.cv),
            number(r.workload.flops), number(r.workload.bytes), number(r.gflops), number(r.gbps),
            number(r.pctPeak), number(r.speedupVsReference),
        ]
        for counter in counters { fields += [number(r.counters[counter.name]), number(r.rate(of: counter))] }
        fields += [
            number(r.sizeN), r.complexity?.rawValue ?? "", r.workload.isMemoryBound ? "triad" : "fma", r.flags.joined(separator: " "),
            v?.model ?? "", v.map { $0.criteria.map(\.summary).joined(separator: "; ") } ?? "", v?.worst ?? "", r.note,
        ]
        return fields
    }

    /// Integers as integers when exact and below 1e15, else six significant digits; `inf`/`nan`
    /// spelled the way pandas reads them. Never traps, whatever the value.
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
