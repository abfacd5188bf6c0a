import Crosscheck
import Foundation

/// A CSV table whose columns are each defined once: a header name and how a row fills it, so the
/// header and every line come from the same list.
public struct ReportColumns<Row> {
    public let columns: [(name: String, value: (Row) -> String)]

    public var header: String { columns.map(\.name).joined(separator: ",") }

    /// One RFC 4180 line.
    public func line(_ row: Row) -> String { columns.map { CSVReport.escape($0.value(row)) }.joined(separator: ",") }

    /// Header and lines, newline-terminated.
    public func csv(_ rows: [Row]) -> String { ([header] + rows.map(line)).joined(separator: "\n") + "\n" }
}

/// `lora_report.csv`: one row per module an extraction kept, every figure measured on the
/// factors as stored in the adapter (after the dtype's rounding and the embedding's
/// transposition), by the same code that applies them (`StoredPair`).
public enum ExtractionReport {
    public static let fileName = "lora_report.csv"

    public struct Row: Sendable {
        public var module: String
        /// `lora`, `embedding` or `whole`.
        public var kind: String
        public var shape: [Int]
        public var rank: Int?
        public var retainedEnergy: Double?
        /// ‖ΔW − stored‖_F / ‖ΔW‖_F.
        public var relativeError: Double?
        /// The Eckart–Young optimum at this rank, when the spectrum is known.
        public var optimalRelativeError: Double?
        public var sigma1: Double?
        public var sigmaNext: Double?
        public var seconds: Double
        public var method: String
        public var note: String
    }

    public static let columns = ReportColumns<Row>(columns: [
        ("module", { $0.module }),
        ("kind", { $0.kind }),
        ("shape", { $0.shape.map(String.init).joined(separator: "x") }),
        ("rank", { $0.rank.map(String.init) ?? "" }),
        ("retained_energy", { $0.retainedEnergy.map(format) ?? "" }),
        ("relative_error", { $0.relativeError.map(format) ?? "" }),
        ("optimal_relative_error", { $0.optimalRelativeError.map(format) ?? "" }),
        ("sigma_1", { $0.sigma1.map(format) ?? "" }),
        ("sigma_r_plus_1", { $0.sigmaNext.map(format) ?? "" }),
        ("seconds", { String(format: "%.3f", $0.seconds) }),
        ("method", { $0.method }),
        ("note", { $0.note }),
    ])
}

/// Nine significant digits: enough to see how close an error is to its optimum.
func format(_ x: Double) -> String { String(format: "%.9g", x) }
