import Crosscheck
import Foundation
import SwiftCSV

/// A report read back from disk: its rows (RFC 4180, by column name, through SwiftCSV) and the
/// context file beside it, whose samples the rows pick up.
struct RecordedRun {
    let rows: [RecordedRow]
    let context: RunContext?
    let path: String

    /// Reads `path` (a CSV written by `run`) and `NAME.context.json` beside it if there is one.
    /// Throws a `UsageError` naming the file and what is wrong with it.
    init(path: String) throws {
        self.path = path
        if let problem = ReportFiles.problem(at: path) { throw UsageError("'\(path)' \(problem)") }
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: path) else { throw UsageError("'\(path)': no such file") }
        let csv: CSV<Named>
        do {
            csv = try CSV<Named>(url: url, delimiter: .comma, encoding: .utf8)
        } catch {
            throw UsageError("'\(path)' cannot be read as CSV (is it a report written by run?): \(error)")
        }
        for column in ["kernel", "variant", "dtype", "shape", "threads", "status", "median_ns"] where !csv.header.contains(column) {
            throw UsageError("'\(path)' is not a Crosscheck report: it has no '\(column)' column")
        }
        let stem = url.pathExtension.lowercased() == "csv" ? url.deletingPathExtension() : url
        let contextURL = URL(fileURLWithPath: stem.path + ".context.json")
        var context: RunContext? = nil
        if FileManager.default.fileExists(atPath: contextURL.path) {
            do {
                context = try JSONDecoder().decode(RunContext.self, from: Data(contentsOf: contextURL))
            } catch {
                throw UsageError("'\(contextURL.path)' (the context of '\(path)') cannot be read: \(error)")
            }
        }
        self.context = context
        var rows: [RecordedRow] = []
        for (index, record) in csv.rows.enumerated() {
            guard let row = RecordedRow(fields: record, samples: context?.samples ?? [:]), row.threads >= 1 else {
                throw UsageError("'\(path)' row \(index + 2) lacks kernel, variant, dtype, shape, a positive thread count or status")
            }
            // A timed row's median is a positive time: a NaN, zero or negative one is a damaged report.
            if ["pass", "xpass"].contains(row.status), !(row.median.map { $0.isFinite && $0 > 0 } ?? false) {
                throw UsageError("'\(path)' row \(index + 2) (\(row.key)) is \(row.status) but its median_ns is \(record["median_ns"] ?? "missing"), not a positive time")
            }
            if let samples = row.samples, samples.contains(where: { !($0.isFinite && $0 > 0) }) {
                throw UsageError("the context of '\(path)' holds a sample of \(row.key) that is not a positive time")
            }
            rows.append(row)
        }
        self.rows = rows
    }
}
