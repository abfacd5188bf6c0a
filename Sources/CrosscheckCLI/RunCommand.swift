import ArgumentParser
import Crosscheck
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Verify and time kernels (the default command).",
        discussion: """
            Every argument is checked before the first case runs: sizes (overflow and an estimate \
            of each case's memory against the memory available), thread counts, element types, \
            the filter (it must select a variant of the cases built), and the report's path.
            """)

    @Option(help: "Regular expression matched against 'kernel/variant', e.g. 'matmul' or 'matmul/(tiled|blas)'.")
    var filter: String?

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Sizes in a family's notation: 'LIST' for every selected family (when they share a notation) or 'FAMILY=LIST'; repeatable.",
        discussion: "LIST is comma-separated, e.g. --sizes matmul=512,1024x16x4096-tB --sizes svd=1024x1024. 'list' shows each family's notation."))
    var sizes: [String] = []

    @Option(parsing: .unconditional, help: "Comma-separated thread counts for threaded variants (at most 4 × the logical CPUs).")
    var threads: String = "1,2"

    @Option(help: "Comma-separated element types (f16, bf16, f32, f64, i32, i64), intersected with each family's own. Default: each family's own.")
    var dtype: String?

    @Option(name: .customLong("min-time"), help: "Minimum seconds per timing sample, in (0, 10].")
    var minTime: Double = 0.02

    @Option(help: "Timing samples per variant (1…1000).")
    var samples: Int = 10

    @Option(help: "A family's named set of sizes (see 'list'); families without it are left out.")
    var preset: String?

    @Flag(help: "Small sizes and few samples: a first look, or CI.")
    var quick = false

    @Option(help: "The CSV report (default: results/<command>-<time>.csv; the directory must exist unless it is that default). Rows stream to NAME.csv.partial while the run goes on; the machine context goes to NAME.context.json.")
    var csv: String?

    @Flag(name: .customLong("verify-only"), help: "Verify every selected variant, time none (status 'verified').")
    var verifyOnly = false

    @Option(help: ArgumentHelp("A BLAS library to verify and time beside the others, NAME=PATH (repeatable); its variants are named blas-NAME.", valueName: "name=path"))
    var blas: [String] = []

    @Option(help: ArgumentHelp("A LAPACK library to verify and time beside the others, NAME=PATH (repeatable); its variants are named lapack-NAME.", valueName: "name=path"))
    var lapack: [String] = []

    @Option(help: "A report of an earlier run to compare this one with, as 'compare' does; a speed regression exits 2.")
    var baseline: String?

    @Option(help: "With --baseline: the smallest relative change called a change (0.05, 5%).")
    var threshold: String = "5%"

    func run() throws {
        var arguments = RunArguments()
        arguments.filter = filter
        arguments.sizes = sizes
        arguments.threads = threads
        arguments.dtype = dtype
        arguments.minTime = minTime
        arguments.samples = samples
        arguments.preset = preset
        arguments.quick = quick
        arguments.libraries = ["blas": blas, "lapack": lapack].filter { !$0.value.isEmpty }
        let plan: RunPlan
        let files: ReportFiles
        let baselineRun: RecordedRun?
        let threshold = try parseThreshold(self.threshold)
        do {
            plan = try RunPlan(arguments, families: CrosscheckCLI.families)
            files = try ReportFiles(path: csv, defaultStem: CrosscheckCLI.commandName)
            baselineRun = try baseline.map { try RecordedRun(path: $0) }
            try files.refuseReplacing((baseline.map { [("--baseline", $0)] } ?? [])
                                      + plan.libraries.filter { $0.path.contains("/") }.map { ("--\($0.kind) \($0.name)", $0.path) })
        } catch let error as UsageError {
            throw ValidationError(error.description)
        }
        for warning in plan.warnings { printError("warning: \(warning)") }

        let report = CSVReport(counters: plan.counters)
        let stream: StreamingReport
        do { stream = try files.open(header: report.header) } catch {
            printError("error: \(error)")
            throw ExitCode(CrosscheckCLI.Status.writeFailed)
        }
        Interruption.announce(partial: files.partial.path, context: files.contextPartial.path)

        var options = plan.options
        options.verifyOnly = verifyOnly
        if !verifyOnly { options.peak = loadOrMeasurePeak(maxThreads: min(options.threads.max() ?? 1, ProcessInfo.processInfo.activeProcessorCount)) }
        var libraries: [String: String] = [:]
        for family in plan.families { libraries.merge(family.context()) { first, _ in first } }
        var context = RunContext.current(
            options: [
                "filter": filter ?? "", "sizes": sizes.isEmpty ? "default" : sizes.joined(separator: " "),
                "threads": options.threads.map(String.init).joined(separator: ","),
                "dtype": dtype ?? "each family's own", "min_time": String(options.minSampleTime),
                "samples": String(options.samples), "preset": preset ?? "", "quick": String(quick),
                "verify_only": String(verifyOnly),
            ],
            libraries: libraries, peak: options.peak, buildFlags: CrosscheckCLI.buildFlags)
        do { try ReportFiles.writeAtomically(context.encoded(), to: files.contextPartial) } catch {
            printError("error: \(error)")
            throw ExitCode(CrosscheckCLI.Status.writeFailed)
        }

        print(TerminalTable.header)
        let progress = Progress(rows: plan.rowCount, caseWork: plan.cases.map { max(1, $0.workload.flops > 0 ? $0.workload.flops : $0.workload.bytes) })
        var writeError: Error?
        let counters = plan.counters
        let runner = Runner(options: options) { event in
            switch event {
            case let .preparing(c, index, total):
                printError("[\(index + 1)/\(total)] \(c.kernel) \(c.dtype.rawValue) \(c.shape): generating inputs and computing the reference\(progress.estimate(beforeCase: index))")
            case .verifying:
                break
            case let .finished(row):
                progress.rowsDone += 1
                print(TerminalTable.line(row, counters: counters))
                fflush(stdout)
            }
        }
        let rows = runner.run(plan.cases) { row in
            guard writeError == nil else { return }
            do { try stream.append(report.line(row)) } catch {
                writeError = error
                printError("error: \(error); the run goes on, but rows from here on are not saved")
            }
        }
        if writeError == nil {
            do { try stream.finish() } catch { writeError = error }
        }
        Interruption.clear()
        // The context again, now with every timed row's samples (for `compare`) and the load at the end.
        context.samples = Dictionary(rows.compactMap { row in row.timing.map { (RecordedRow(row).key, $0.samples) } }, uniquingKeysWith: { a, _ in a })
        context.loadAverageAtEnd = RunContext.loadAverage()
        if writeError == nil {
            do {
                try ReportFiles.writeAtomically(context.encoded(), to: files.context)
                unlink(files.contextPartial.path)
            } catch { writeError = error }
        }

        let counts = Dictionary(grouping: rows, by: \.status).mapValues(\.count)
        let summary = Status.allCases.compactMap { status in counts[status].map { "\($0) \(status.rawValue)" } }
        print("\n\(rows.count) rows: \(summary.joined(separator: ", "))")
        print("CSV:     \(writeError == nil ? files.csv.path : files.partial.path + " (incomplete)")\ncontext: \(writeError == nil ? files.context.path : files.contextPartial.path)")
        for row in rows where row.status == .fail {
            printError("FAIL \(row.kernel)/\(row.variant) \(row.dtype.rawValue) \(row.shape) threads=\(row.threads): "
                + (row.verification.map { "err_ratio \(Criterion.format($0.errRatio)) > bound \(Criterion.format($0.errBound)) at \($0.worst); " } ?? "")
                + row.note)
        }
        let noisy = rows.filter { $0.flags.contains("noisy") }
        if !noisy.isEmpty {
            print("\(noisy.count) rows flagged noisy (samples' coefficient of variation above \(Criterion.format(options.noisyCV * 100))%): trust their medians less; load average \(context.loadAverageAtStart.map { $0.map { String($0) }.joined(separator: " ") } ?? "unknown") at the start")
        }
        printScaling(ScalingReport.analyze(rows.map(RecordedRow.init)))
        if let writeError {
            printError("error: \(writeError)")
            throw ExitCode(CrosscheckCLI.Status.writeFailed)
        }
        if rows.contains(where: { $0.status.failsRun }) { throw ExitCode(CrosscheckCLI.Status.verificationFailed) }
        if let baselineRun {
            print("")
            let comparison = RunComparison(base: baselineRun.rows, new: rows.map(RecordedRow.init), threshold: threshold)
            printComparison(comparison, baseName: baselineRun.path, newName: files.csv.path)
            try exitForComparison(comparison)
        }
    }
}

/// How each variant timed at three or more sizes scales, against its declared complexity.
func printScaling(_ reports: [ScalingReport]) {
    guard !reports.isEmpty else { return }
    print("\nscaling (time against the size parameter n, least squares over \(reports.map(\.sizes).max() ?? 0) sizes or fewer):")
    for report in reports {
        var line = "  \(report.kernel)/\(report.variant) \(report.dtype) threads=\(report.threads): best \(report.best.complexity.rawValue) (rms \(String(format: "%.1f", report.best.relativeRMS * 100))%)"
        if let declared = report.declared {
            line += report.disagrees
                ? ", declared \(declared.rawValue) (rms \(String(format: "%.1f", (report.declaredFit?.relativeRMS ?? .nan) * 100))%): DIFFERS"
                : ", as declared"
        }
        print(line)
    }
}

/// Rows done, for progress lines with an estimate of the time left.
///
/// A case costs a part that grows with its rows (each variant's samples last at least the minimum
/// sample time) and a part that grows with its work (the reference loop, and calls longer than a
/// sample). The estimate fits time = a·rows + b·work (a, b ≥ 0) to the cases done so far and
/// applies it to what is left; with one case done, or a fit that explains nothing, it counts rows.
/// Counting rows alone made a sweep of growing sizes look nearly done while its largest case had
/// just begun; counting work alone made the first small cases predict hours.
final class Progress {
    let rows: Int
    var rowsDone = 0
    /// Each case's work (flops, or bytes), in the order the cases run.
    let caseWork: [Double]
    let start = monotonicNanoseconds()
    /// (rows, work, seconds) of each finished case.
    private var finished: [(rows: Double, work: Double, seconds: Double)] = []
    private var current: (index: Int, rowsAtStart: Int, time: UInt64)?

    init(rows: Int, caseWork: [Double]) {
        self.rows = rows
        self.caseWork = caseWork
    }

    /// `" (12/40 rows, 1m 05s elapsed, about 2m 10s left)"` as case `index` starts (the cases
    /// before it are done), or "" before the first row.
    func estimate(beforeCase index: Int) -> String {
        let now = monotonicNanoseconds()
        if let current {
            finished.append((Double(rowsDone - current.rowsAtStart), caseWork[current.index], Double(now - current.time) / 1e9))
        }
        current = (index, rowsDone, now)
        guard rowsDone > 0 else { return "" }
        let elapsed = Double(now - start) / 1e9
        let (a, b) = fit()
        let left = a * Double(rows - rowsDone) + b * caseWork[index...].reduce(0, +)
        return " (\(rowsDone)/\(rows) rows, \(Self.clock(elapsed)) elapsed, about \(Self.clock(left)) left)"
    }

    /// The non-negative least-squares (a, b) of seconds = a·rows + b·work over the finished cases.
    private func fit() -> (Double, Double) {
        let rowsOnly = finished.reduce(0) { $0 + $1.seconds * $1.rows } / max(finished.reduce(0) { $0 + $1.rows * $1.rows }, 1)
        var (srr, srw, sww, str, stw) = (0.0, 0.0, 0.0, 0.0, 0.0)
        for c in finished {
            srr += c.rows * c.rows; srw += c.rows * c.work; sww += c.work * c.work
            str += c.seconds * c.rows; stw += c.seconds * c.work
        }
        let determinant = srr * sww - srw * srw
        guard finished.count >= 2, determinant > 1e-9 * srr * sww else { return (rowsOnly, 0) }
        let a = (str * sww - stw * srw) / determinant, b = (stw * srr - str * srw) / determinant
        if a >= 0 && b >= 0 { return (a, b) }
        // A negative coefficient: the better of the two one-term fits.
        let workOnly = sww > 0 ? stw / sww : 0
        let residual = { (a: Double, b: Double) in self.finished.reduce(0) { $0 + pow($1.seconds - a * $1.rows - b * $1.work, 2) } }
        return residual(rowsOnly, 0) <= residual(0, workOnly) ? (rowsOnly, 0) : (0, workOnly)
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m \(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

/// On Ctrl-C (SIGINT) or SIGTERM, says where the rows measured so far are, then exits 130. The
/// handler only calls async-signal-safe functions on a message prepared beforehand.
enum Interruption {
    nonisolated(unsafe) static var message: UnsafeMutableBufferPointer<UInt8>? = nil

    static func announce(partial path: String, context: String) {
        let text = Array("\ninterrupted: the rows measured so far are in \(path) (context: \(context))\n".utf8)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: text.count)
        _ = buffer.initialize(from: text)
        message = buffer
        let handler: @convention(c) (Int32) -> Void = { _ in
            if let message = Interruption.message { _ = write(2, message.baseAddress, message.count) }
            _exit(130)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }

    static func clear() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// `.crosscheck/peak.json` in the working directory: where `peak` keeps its measurement.
let peakFile = URL(fileURLWithPath: ".crosscheck/peak.json")

/// The saved peak if it covers `maxThreads`; otherwise a fresh measurement, saved for next time.
func loadOrMeasurePeak(maxThreads: Int) -> MachinePeak {
    if let peak = try? MachinePeak.load(from: peakFile), (1...maxThreads).allSatisfy({ peak.triadGBps[String($0)] != nil }) {
        return peak
    }
    printError("no machine peak on record in \(peakFile.path) for \(maxThreads) threads; measuring it now ('peak' re-measures)")
    let peak = MachinePeak.measure(maxThreads: maxThreads, repeats: 3)
    try? peak.save(to: peakFile)
    return peak
}
