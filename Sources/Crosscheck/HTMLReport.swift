import Foundation

/// A report people would rather look at than read: one self-contained XHTML page (no scripts, no
/// network) with, per family and element type, an SVG chart of throughput against size for every
/// variant and thread count under the measured roofline, the verification table, the measured
/// scaling, and the machine context.
public enum HTMLReport {
    /// One chart: a family in one element type.
    public struct Chart: Sendable {
        public let kernel: String
        public let dtype: String
        public let svg: String
        /// A file name for the chart alone, `KERNEL-DTYPE.svg`.
        public var fileName: String { "\(HTMLReport.fileSafe(kernel))-\(HTMLReport.fileSafe(dtype)).svg" }
    }

    /// The page and its charts for `rows` (one run) and its context.
    public static func render(rows: [RecordedRow], context: RunContext?, title: String) -> (html: String, charts: [Chart]) {
        var charts: [Chart] = []
        var body = "<h1>\(escape(title))</h1>\n"
        body += machineSection(context)
        let kernels = ordered(rows.map(\.kernel))
        let scaling = ScalingReport.analyze(rows)
        for kernel in kernels {
            let familyRows = rows.filter { $0.kernel == kernel }
            body += "<h2 id=\"\(escape(fileSafe(kernel)))\">\(escape(kernel))</h2>\n"
            for dtype in ordered(familyRows.map(\.dtype)) {
                let chartRows = familyRows.filter { $0.dtype == dtype }
                if let svg = chart(chartRows, kernel: kernel, dtype: dtype, peak: context?.peak) {
                    charts.append(Chart(kernel: kernel, dtype: dtype, svg: svg))
                    body += "<figure>\(svg)<figcaption>\(escape(kernel)) \(escape(dtype)): \(escape(metric(for: chartRows).label)) against size</figcaption></figure>\n"
                }
            }
            let familyScaling = scaling.filter { $0.kernel == kernel }
            if !familyScaling.isEmpty { body += scalingTable(familyScaling) }
            body += verificationTable(familyRows)
        }
        let html = """
            <!DOCTYPE html>
            <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
            <head>
            <meta charset="utf-8"/>
            <title>\(escape(title))</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1100px; }
            table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
            th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
            th { background: #f3f3f3; }
            td.pass, td.verified { color: #146c2e; } td.fail { color: #b00020; font-weight: bold; }
            td.xfail, td.xpass { color: #8a5a00; } td.skipped { color: #666; }
            td.differs { color: #b00020; }
            figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; }
            dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; font-size: 0.9em; }
            dt { font-weight: bold; }
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
        return (html, charts)
    }

    // MARK: Sections

    static func machineSection(_ context: RunContext?) -> String {
        guard let c = context else { return "<p>No context file was found beside the report: machine and peak unknown.</p>\n" }
        var items: [(String, String)] = [
            ("CPU", "\(c.cpuModel), \(c.logicalCores) logical cores"), ("Swift", c.swiftVersion),
            ("build", "\(c.buildConfiguration); \(c.buildFlags)"),
            ("commit", (c.gitCommit ?? "unknown") + (c.gitDirty == true ? " (with uncommitted changes)" : "")),
            ("run at", c.timestamp), ("command", c.command.joined(separator: " ")),
        ]
        if let load = c.loadAverageAtStart { items.append(("load average at start", load.map { String($0) }.joined(separator: " "))) }
        if let load = c.loadAverageAtEnd { items.append(("load average at end", load.map { String($0) }.joined(separator: " "))) }
        if let clocks = c.cpuMHz { items.append(("CPU clocks (MHz)", clocks.map { String(format: "%.0f", $0) }.joined(separator: ", "))) }
        if let peak = c.peak {
            for threads in peak.triadGBps.keys.compactMap(Int.init).sorted() {
                let f32 = peak.gflops(dtype: "f32", threads: threads).map { String(format: "%.0f", $0) } ?? "-"
                let f64 = peak.gflops(dtype: "f64", threads: threads).map { String(format: "%.0f", $0) } ?? "-"
                let triad = peak.bandwidth(threads: threads).map { String(format: "%.1f", $0) } ?? "-"
                items.append(("peak, \(threads) thread\(threads == 1 ? "" : "s")", "FMA \(f32) GFLOP/s f32, \(f64) f64; triad \(triad) GB/s"))
            }
        }
        for (name, value) in c.libraries.sorted(by: { $0.key < $1.key }) { items.append((name, value)) }
        return "<h2>Machine</h2>\n<dl>" + items.map { "<dt>\(escape($0.0))</dt><dd>\(escape($0.1))</dd>" }.joined() + "</dl>\n"
    }

    static func verificationTable(_ rows: [RecordedRow]) -> String {
        var html = "<table>\n<tr><th>variant</th><th>dtype</th><th>shape</th><th>threads</th><th>status</th><th>err / bound</th><th>median</th><th>criteria</th><th>note</th></tr>\n"
        for r in rows {
            let error = r.errRatio.map { "\(Criterion.format($0)) / \(r.errBound.map(Criterion.format) ?? "-")" } ?? "-"
            html += "<tr><td>\(escape(r.variant))</td><td>\(escape(r.dtype))</td><td>\(escape(r.shape))</td><td>\(r.threads)</td>"
                + "<td class=\"\(escape(r.status))\">\(escape(r.status))</td><td>\(escape(error))</td>"
                + "<td>\(escape(r.median.map(TerminalTable.duration) ?? "-"))</td><td>\(escape(r.criteria))</td>"
                + "<td>\(escape([r.flags, r.note].filter { !$0.isEmpty }.joined(separator: "; ")))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    static func scalingTable(_ reports: [ScalingReport]) -> String {
        var html = "<table>\n<tr><th>variant</th><th>dtype</th><th>threads</th><th>sizes</th><th>best fit</th><th>rms</th><th>declared</th></tr>\n"
        for r in reports {
            let declared = r.declared.map { $0.rawValue + (r.disagrees ? " (differs)" : "") } ?? "-"
            html += "<tr><td>\(escape(r.variant))</td><td>\(escape(r.dtype))</td><td>\(r.threads)</td><td>\(r.sizes)</td>"
                + "<td>\(escape(r.best.complexity.rawValue))</td><td>\(String(format: "%.1f%%", r.best.relativeRMS * 100))</td>"
                + "<td class=\"\(r.disagrees ? "differs" : "")\">\(escape(declared))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    // MARK: Charts

    /// What a family's chart plots: GB/s for memory-bound rows, GFLOP/s where flops are counted,
    /// otherwise the first counter's rate.
    static func metric(for rows: [RecordedRow]) -> (label: String, value: (RecordedRow) -> Double?, roof: String?) {
        if rows.contains(where: { $0.roofline == "triad" }) { return ("GB/s", { $0.gbps }, "triad") }
        if rows.contains(where: { ($0.flops ?? 0) > 0 }) { return ("GFLOP/s", { $0.gflops }, "fma") }
        if let counter = rows.lazy.compactMap({ $0.counterRates.keys.sorted().first }).first {
            return ("\(counter) per second", { $0.counterRates[counter] }, nil)
        }
        return ("calls per second", { $0.median.map { 1e9 / $0 } }, nil)
    }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// An SVG line chart of the timed rows, one series per variant and thread count; nil when
    /// nothing was timed.
    static func chart(_ rows: [RecordedRow], kernel: String, dtype: String, peak: MachinePeak?) -> String? {
        let metric = metric(for: rows)
        // x: the size parameter, or the row's work when the family has none.
        func x(_ r: RecordedRow) -> Double? { r.sizeN ?? r.flops.flatMap { $0 > 0 ? $0 : nil } ?? r.bytes }
        let timed = rows.filter { ["pass", "xpass"].contains($0.status) && metric.value($0) != nil && x($0) != nil }
        guard !timed.isEmpty else { return nil }
        let seriesKeys = ordered(timed.map { "\($0.variant) (\($0.threads) thr)" })
        let width = 760.0, height = 400.0, left = 70.0, right = 200.0, top = 20.0, bottom = 60.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let xs = timed.compactMap(x), ys = timed.compactMap(metric.value).filter(\.isFinite)
        let (xMin, xMax) = (xs.min()!, xs.max()!)
        let logX = xMax / max(xMin, 1e-300) > 4
        func px(_ value: Double) -> Double {
            guard xMax > xMin else { return left + plotWidth / 2 }
            let t = logX ? (log(value) - log(xMin)) / (log(xMax) - log(xMin)) : (value - xMin) / (xMax - xMin)
            return left + t * plotWidth
        }
        var roofs: [(String, Double)] = []
        if let peak, let roof = metric.roof {
            let threadCounts = Set(timed.map(\.threads)).sorted()
            for threads in threadCounts {
                let value = roof == "triad" ? peak.bandwidth(threads: threads) : peak.gflops(dtype: dtype, threads: threads)
                if let value { roofs.append(("\(roof == "triad" ? "triad" : "FMA peak") \(threads) thr", value)) }
            }
        }
        let step = niceStep(max(ys.max() ?? 1, roofs.map(\.1).max() ?? 0) * 1.05 / 5)
        let yMax = step * (max(ys.max() ?? 1, roofs.map(\.1).max() ?? 0) * 1.05 / step).rounded(.up)
        func py(_ value: Double) -> Double { top + plotHeight * (1 - min(max(value / yMax, 0), 1)) }

        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        svg += "<title>\(escape(kernel)) \(escape(dtype)): \(escape(metric.label))</title>"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#999\"/>"
        // y ticks
        for i in 0...Int((yMax / step).rounded()) {
            let value = step * Double(i), y = py(value)
            svg += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + plotWidth)\" y2=\"\(y)\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(escape(tick(value)))</text>"
        }
        // x ticks at the measured sizes, labelled by shape when one shape has that size
        let sizes = Set(xs).sorted()
        let labelEvery = max(1, sizes.count / 8)
        for (index, size) in sizes.enumerated() where index % labelEvery == 0 {
            let shapes = Set(timed.filter { x($0) == size }.map(\.shape))
            let label = shapes.count == 1 ? shapes.first! : tick(size)
            svg += "<line x1=\"\(px(size))\" y1=\"\(top + plotHeight)\" x2=\"\(px(size))\" y2=\"\(top + plotHeight + 4)\" stroke=\"#999\"/>"
            svg += "<text x=\"\(px(size))\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\">\(escape(label))</text>"
        }
        let xLabel = timed.contains { $0.sizeN != nil } ? "size n\(logX ? " (log scale)" : "")" : "work per call\(logX ? " (log scale)" : "")"
        svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 20)\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        svg += "<text transform=\"translate(16 \(top + plotHeight / 2)) rotate(-90)\" text-anchor=\"middle\">\(escape(metric.label))</text>"
        // roofline
        for (index, roof) in roofs.enumerated() {
            let y = py(roof.1)
            svg += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + plotWidth)\" y2=\"\(y)\" stroke=\"#444\" stroke-dasharray=\"\(index == 0 ? "6 3" : "2 3")\"><title>\(escape(roof.0)): \(escape(tick(roof.1)))</title></line>"
            // Labels alternate ends, so that lines at nearly one height keep readable labels.
            let atEnd = index % 2 == 0
            svg += "<text x=\"\(atEnd ? left + plotWidth - 4 : left + 4)\" y=\"\(y - 4)\" text-anchor=\"\(atEnd ? "end" : "start")\" fill=\"#444\">\(escape(roof.0))</text>"
        }
        // series
        for (index, key) in seriesKeys.enumerated() {
            let color = palette[index % palette.count]
            let points = timed.filter { "\($0.variant) (\($0.threads) thr)" == key }
                .compactMap { r in x(r).flatMap { xv in metric.value(r).map { (xv, $0, r.shape) } } }
                .sorted { $0.0 < $1.0 }
            if points.count > 1 {
                svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points.map { "\(px($0.0)),\(py($0.1))" }.joined(separator: " "))\"/>"
            }
            for point in points {
                svg += "<circle cx=\"\(px(point.0))\" cy=\"\(py(point.1))\" r=\"3\" fill=\"\(color)\"><title>\(escape(key)) \(escape(point.2)): \(escape(tick(point.1))) \(escape(metric.label))</title></circle>"
            }
            let legendY = top + 14 * Double(index) + 8
            svg += "<line x1=\"\(left + plotWidth + 12)\" y1=\"\(legendY)\" x2=\"\(left + plotWidth + 30)\" y2=\"\(legendY)\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            svg += "<text x=\"\(left + plotWidth + 34)\" y=\"\(legendY + 4)\">\(escape(key))</text>"
        }
        return svg + "</svg>"
    }

    /// 1, 2 or 5 times a power of ten, at least `raw`: a readable distance between ticks.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, (log10(raw)).rounded(.down))
        for multiple in [1.0, 2, 5, 10] where multiple * power >= raw { return multiple * power }
        return 10 * power
    }

    static func tick(_ value: Double) -> String {
        if !value.isFinite { return String(value) }
        if value == 0 { return "0" }
        if abs(value) >= 1e5 || abs(value) < 0.01 { return String(format: "%.2g", value) }
        if abs(value) >= 100 { return String(format: "%.0f", value) }
        return String(format: "%.3g", value)
    }

    // MARK: Text

    /// Text for XML content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // XML 1.0 allows no control characters but tab, LF and CR.
                if scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r" { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    static func fileSafe(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    static func ordered(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}
