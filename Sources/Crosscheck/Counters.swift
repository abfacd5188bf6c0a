/// A quantity a kernel call reports about the work it did, known only after the call: CG's
/// iterations, the cells a dynamic program filled, the transitions a TD learner consumed.
///
/// A family declares its counters before the run (the CSV header is written first, and rows are
/// streamed). Each counter becomes two CSV columns after the fixed ones: `name`, the mean value per
/// call, and `name_per_s`, that value over the median call time — the way google/benchmark's
/// user counters turn work into throughput.
public struct Counter: Sendable, Hashable {
    /// The CSV column: lowercase letters, digits and `_`, starting with a letter, and not one of
    /// the report's fixed columns (`iterations` is the timing loop's; call CG's `solver_iterations`).
    public let name: String
    /// What one unit is, for `bench list` and the README (for example "CG iterations").
    public let unit: String

    public init(_ name: String, unit: String) {
        if let problem = Counter.problem(with: name) { fatalError("Counter '\(name)': \(problem)") }
        self.name = name
        self.unit = unit
    }

    /// The column holding the counter over the median time.
    public var rateColumn: String { name + "_per_s" }

    /// Why `name` cannot be a counter column, or nil if it can.
    public static func problem(with name: String) -> String? {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first),
              name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
        else { return "a counter name is lowercase letters, digits and '_', starting with a letter" }
        let taken = CSVReport.fixedColumns + CSVReport.trailingColumns
        if taken.contains(name) || taken.contains(where: { $0 == name + "_per_s" }) || name.hasSuffix("_per_s") {
            return "collides with a column of the report (\(CSVReport.fixedColumns.count) fixed columns: \(CSVReport.fixedColumns.joined(separator: ", ")))"
        }
        return nil
    }
}

/// What one call reports beyond its output: counter values, and the work it did when that is
/// known only afterwards (an iterative solver's flops depend on its iteration count).
public struct CallReport: Sendable, Equatable {
    /// Counter values by name; every name must be one of the family's declared counters.
    public var counters: [String: Double]
    /// The call's work, replacing the case's declared workload; nil keeps the declared one.
    public var workload: Workload?

    public init(counters: [String: Double] = [:], workload: Workload? = nil) {
        self.counters = counters
        self.workload = workload
    }
}
