import ArgumentParser
import Crosscheck
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML page with a chart per family, the verification table, scaling and the machine.",
        discussion: """
            Reads RESULTS.csv and its RESULTS.context.json (for the peak and the machine) and writes \
            DIR/index.html, self-contained (inline SVG, no scripts, no network), and each chart as \
            DIR/KERNEL-DTYPE.svg. Throughput is plotted against each family's size parameter under \
            the measured roofline (FMA peak, or triad bandwidth for memory-bound kernels).
            """)

    @Argument(help: "A report written by 'run'.")
    var results: String

    @Option(help: "The directory to write (created if missing; only index.html and *.svg in it are replaced).")
    var out: String

    func run() throws {
        let recorded: RecordedRun
        do { recorded = try RecordedRun(path: results) } catch let error as UsageError { throw ValidationError(error.description) }
        if out.isEmpty { throw ValidationError("--out is empty; name the directory to write") }
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            if !isDirectory.boolValue { throw ValidationError("--out '\(out)' exists and is not a directory") }
        }
        let title = "Crosscheck report: \(URL(fileURLWithPath: results).lastPathComponent)"
        let (html, charts) = HTMLReport.render(rows: recorded.rows, context: recorded.context, title: title)
        let targets = [(directory.appendingPathComponent("index.html"), html)] + charts.map { (directory.appendingPathComponent($0.fileName), $0.svg) }
        for (url, _) in targets {
            if let problem = ReportFiles.problem(at: url.path) { throw ValidationError("'\(url.path)' \(problem); nothing was written") }
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (url, text) in targets { try ReportFiles.writeAtomically(Data(text.utf8), to: url) }
        } catch {
            printError("error: \(error)")
            throw ExitCode(CrosscheckCLI.Status.writeFailed)
        }
        print("\(directory.appendingPathComponent("index.html").path): \(recorded.rows.count) rows, \(charts.count) charts")
        if recorded.context == nil { printError("warning: no context file beside \(results): the page has no machine or roofline") }
    }
}
