/// The readable table `bench` prints while it runs: one line per row, columns aligned.
public enum TerminalTable {
    static let layout: [(String, Int)] = [
        ("kernel", 8), ("variant", 10), ("dtype", 5), ("shape", 16), ("thr", 3), ("status", 6),
        ("err/bound", 16), ("median", 10), ("GFLOP/s", 8), ("GB/s", 7), ("%peak", 6), ("vs ref", 8),
    ]

    public static var header: String {
        layout.map { pad($0.0, $0.1) }.joined(separator: " ")
    }

    public static func line(_ r: ResultRow) -> String {
        let v = r.verification
        let errors = v.map { "\(short($0.errRatio))/\(short($0.errBound))" } ?? "-"
        let cells = [
            r.kernel, r.variant, r.dtype, r.shape, String(r.threads), r.status.rawValue, errors,
            r.timing.map { duration($0.median) } ?? "-",
            r.gflops.map { fixed($0, 1) } ?? "-", r.gbps.map { fixed($0, 1) } ?? "-",
            r.pctPeak.map { fixed($0, 0) } ?? "-", r.speedupVsReference.map { fixed($0, 1) + "x" } ?? "-",
        ]
        var text = zip(cells, layout).map { pad($0.0, $0.1.1) }.joined(separator: " ")
        if r.status == .fail, let v {
            text += "  worst \(v.worst): \(r.note)"
        } else if r.status == .fail {
            text += "  \(r.note)"
        }
        return text
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    static func fixed(_ x: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (x * scale).rounded() / scale
        return digits == 0 ? String(Int(rounded)) : String(rounded)
    }

    static func short(_ x: Double) -> String {
        if !x.isFinite { return String(x) }
        if x >= 100 { return String(Int(x.rounded())) }
        return fixed(x, 2)
    }

    /// A nanosecond count in the unit that keeps it readable.
    static func duration(_ ns: Double) -> String {
        if ns >= 1e9 { return fixed(ns / 1e9, 2) + " s" }
        if ns >= 1e6 { return fixed(ns / 1e6, 2) + " ms" }
        if ns >= 1e3 { return fixed(ns / 1e3, 2) + " us" }
        return fixed(ns, 0) + " ns"
    }
}
