import ArgumentParser
import Crosscheck
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two reports row by row: verification changes first, then speed.",
        discussion: """
            Each row of NEW is matched to BASE by kernel, variant, dtype, shape and threads. A row \
            whose verification got worse is listed first. Speed: the ratio of medians (new/base, \
            above 1 is slower) with a 95% bootstrap interval from the raw samples kept in each \
            report's NAME.context.json, and a verdict: regressed or improved when the two-sided \
            Mann–Whitney U test gives p < --alpha and the ratio is beyond --threshold, otherwise \
            unchanged. With too few samples for the test to reach --alpha (3 a side, as --quick \
            takes) the threshold alone decides, and the output says so. Exit status: 0, 1 when a \
            row's verification regressed, 2 when only speed regressed, 64 for a usage error.
            """)

    @Argument(help: "The base report (CSV written by 'run').")
    var base: String

    @Argument(help: "The new report.")
    var new: String

    @Option(help: "Smallest relative change called a change, as a fraction or a percentage (0.05, 5%).")
    var threshold: String = "5%"

    @Option(help: "Significance level of the U test.")
    var alpha: Double = 0.05

    func run() throws {
        let threshold = try parseThreshold(self.threshold)
        guard alpha > 0 && alpha < 1 else { throw ValidationError("--alpha must be in (0, 1), got \(alpha)") }
        let baseRun: RecordedRun, newRun: RecordedRun
        do {
            baseRun = try RecordedRun(path: base)
            newRun = try RecordedRun(path: new)
        } catch let error as UsageError {
            throw ValidationError(error.description)
        }
        let comparison = RunComparison(base: baseRun.rows, new: newRun.rows, threshold: threshold, alpha: alpha)
        printComparison(comparison, baseName: base, newName: new)
        try exitForComparison(comparison)
    }
}

/// `5%` or `0.05` as a fraction in (0, 10].
func parseThreshold(_ text: String) throws -> Double {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let value = trimmed.hasSuffix("%") ? Double(trimmed.dropLast()).map { $0 / 100 } : Double(trimmed)
    guard let value, value > 0, value <= 10 else {
        throw ValidationError("--threshold must be a positive fraction or percentage such as 0.05 or 5%, got '\(text)'")
    }
    return value
}

/// The comparison as a table on standard output, changes first.
func printComparison(_ comparison: RunComparison, baseName: String, newName: String) {
    print("comparing \(newName) against \(baseName) (threshold \(Criterion.format(comparison.threshold * 100))%, alpha \(comparison.alpha))")
    var table = [["verdict", "row", "base", "new", "new/base", "95% interval", "p", "basis"]]
    for entry in comparison.entries {
        table.append([
            entry.verdict.rawValue, entry.key,
            entry.base?.median.map(TerminalTable.duration) ?? (entry.base?.status ?? "-"),
            entry.new?.median.map(TerminalTable.duration) ?? (entry.new?.status ?? "-"),
            entry.ratio.map { String(format: "%.3f", $0) } ?? "-",
            entry.interval.map { String(format: "%.3f-%.3f", $0.low, $0.high) } ?? "-",
            entry.pValue.map { String(format: "%.3g", $0) } ?? "-",
            entry.verdict == .unchanged ? "" : entry.basis,
        ])
    }
    let widths = (0..<table[0].count).map { column in table.map { $0[column].count }.max()! }
    for line in table {
        print(zip(line, widths).map { TerminalTable.pad($0.0, $0.1) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
    }
    let verdicts: [RunComparison.Verdict] = [.verificationRegressed, .verificationFixed, .regressed, .improved, .unchanged, .untimed, .added, .removed]
    print("\n" + verdicts.compactMap { v in comparison.count(v) > 0 ? "\(comparison.count(v)) \(v.rawValue)" : nil }.joined(separator: ", "))
    if comparison.fewSamples {
        print("note: some rows had too few samples for the U test to reach p < \(comparison.alpha); their verdicts rest on the threshold alone (run with --samples 9 or more)")
    }
}

/// Exit 1 when a row's verification regressed, 2 when only speed regressed.
func exitForComparison(_ comparison: RunComparison) throws {
    if comparison.count(.verificationRegressed) > 0 { throw ExitCode(CrosscheckCLI.Status.verificationFailed) }
    if comparison.count(.regressed) > 0 { throw ExitCode(CrosscheckCLI.Status.regression) }
}
