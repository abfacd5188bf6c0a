import Foundation

/// The readable table `bench` prints while it runs: one line per row, columns aligned.
/// Whatever a wrong kernel produces (NaN, ±∞, 1e300) prints; nothing here can trap.
public enum TerminalTable {
    static let layout: [(String, Int)] = [
        ("kernel", 8), ("variant", 14), ("dtype", 5), ("shape", 16), ("thr", 3), ("status", 8),
        ("err/bound", 16), ("median", 10), ("GFLOP/s", 8), ("GB/s", 7), ("%peak", 6), ("vs ref", 8),
    ]

    public static var header: String {
        layout.map { pad($0.0, $0.1) }.joined(separator: " ")
    }

    /// One row; rows that did not pass get their note appended, and counters their rate.
    public static func line(_ r: ResultRow, counters: [Counter] = []) -> String {
        let v = r.verification
        let errors = v.map { "\(short($0.errRatio))/\(short($0.errBound))" } ?? "-"
        let cells = [
            r.kernel, r.variant, r.dtype.rawValue, r.shape, String(r.threads), r.status.rawValue, errors,
            r.timing.map { duration($0.median) } ?? "-",
            r.gflops.map { fixed($0, 1) } ?? "-", r.gbps.map { fixed($0, 1) } ?? "-",
            r.pctPeak.map { fixed($0, 0) } ?? "-", r.speedupVsReference.map { fixed($0, 1) + "x" } ?? "-",
        ]
        var text = zip(cells, layout).map { pad($0.0, $0.1.1) }.joined(separator: " ")
        for counter in counters {
            if let rate = r.rate(of: counter) { text += "  \(counter.name) \(short(rate))/s" }
            else if let value = r.counters[counter.name] { text += "  \(counter.name) \(short(value))" }
        }
        switch r.status {
        case .fail, .xfail, .skipped, .xpass:
            if let v, !v.worst.isEmpty, r.status != .skipped { text += "  worst \(v.worst):" }
            if !r.note.isEmpty { text += "  \(r.note)" }
        case .pass, .verified:
            break
        }
        return text
    }

    public static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    /// `x` with `digits` decimals; non-finite values as `inf`/`nan`.
    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
        return String(format: "%.\(digits)f", x)
    }

    /// Two decimals below 100, whole numbers up to 1e7, then scientific notation.
    static func short(_ x: Double) -> String {
        guard x.isFinite else { return fixed(x, 0) }
        if abs(x) >= 1e7 { return String(format: "%.3g", x) }
        if abs(x) >= 100 { return fixed(x, 0) }
        return fixed(x, 2)
    }

    /// A nanosecond count in the unit that keeps it readable.
    public static func duration(_ ns: Double) -> String {
        if ns >= 1e9 { return fixed(ns / 1e9, 2) + " s" }
        if ns >= 1e6 { return fixed(ns / 1e6, 2) + " ms" }
        if ns >= 1e3 { return fixed(ns / 1e3, 2) + " us" }
        return fixed(ns, 0) + " ns"
    }
}
