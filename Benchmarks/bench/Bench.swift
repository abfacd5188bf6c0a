import ArgumentParser
import Crosscheck
import Foundation
import Suites

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Verify every kernel variant against its reference, then time it; write a CSV report.",
        discussion: """
            Each case computes its reference once, checks every variant against it under the \
            family's error model, and times only the variants that pass. A failing variant is \
            reported with status=fail and the run exits non-zero at the end.
            """,
        subcommands: [Run.self, List.self, Peak.self],
        defaultSubcommand: Run.self)
}

/// `.crosscheck/peak.json` in the working directory: where `bench peak` keeps its measurement.
let peakFile = URL(fileURLWithPath: ".crosscheck/peak.json")

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Verify and time kernels (the default command).")

    @Option(help: "Regular expression matched against 'kernel/variant', e.g. 'matmul' or 'matmul/(tiled|blas)'.")
    var filter: String?

    @Option(help: "Comma-separated sizes in each family's notation (matmul: 512 or MxNxK, optionally -tA/-tB).")
    var sizes: String?

    @Option(help: "Comma-separated thread counts for threaded variants.")
    var threads: String = "1,2"

    @Option(help: "Comma-separated element types.")
    var dtype: String = "f32,f64"

    @Option(name: .customLong("min-time"), help: "Minimum seconds per timing sample.")
    var minTime: Double = 0.02

    @Option(help: "Timing samples per variant.")
    var samples: Int = 10

    @Option(help: "A family's named set of shapes (see 'bench list').")
    var preset: String?

    @Flag(help: "Small sizes and few samples: a first look, or CI.")
    var quick = false

    @Option(help: "Where to write the CSV (the context JSON goes beside it). Default: results/bench-<time>.csv")
    var csv: String?

    func validate() throws {
        if let filter { _ = try makeFilter(filter) }
        _ = try parseThreads()
        if minTime <= 0 || !minTime.isFinite { throw ValidationError("--min-time must be a positive number of seconds, got \(minTime)") }
        if samples < 1 { throw ValidationError("--samples must be at least 1, got \(samples)") }
        if let csv, csv.hasSuffix("/") { throw ValidationError("--csv must name a file, got the directory '\(csv)'") }
    }

    func parseThreads() throws -> [Int] {
        let values = threads.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--threads must be a comma-separated list of positive integers, got '\(threads)'")
        }
        return values.map { $0! }
    }

    func run() throws {
        let filterRegex = try filter.map(makeFilter)
        var request = CaseRequest(
            sizes: sizes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
            dtypes: dtype.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            preset: preset, quick: quick)
        if request.dtypes.isEmpty { throw ValidationError("--dtype is empty") }
        let families = Suites.all.filter { family in
            guard let filterRegex else { return true }
            return family.variants.contains { filterRegex.matches("\(family.name)/\($0.name)") }
        }
        if families.isEmpty {
            throw ValidationError("--filter '\(filter ?? "")' matches no kernel or variant; 'bench list' shows them")
        }
        if let preset, !families.contains(where: { $0.presets.contains(preset) }) {
            throw ValidationError("--preset '\(preset)' is not a preset of \(families.map(\.name).joined(separator: ", ")); 'bench list' shows them")
        }
        var cases: [Case] = []
        for family in families {
            if preset != nil && !family.presets.contains(preset!) { continue }
            do { cases += try family.makeCases(request) } catch let error as CaseRequestError {
                throw ValidationError(error.description)
            }
        }
        request.sizes = nil

        var options = RunOptions()
        options.threads = try parseThreads()
        options.minSampleTime = quick ? min(minTime, 0.005) : minTime
        options.samples = quick ? min(samples, 3) : samples
        options.maxTimePerVariant = quick ? 0.5 : 3
        if let filterRegex { options.variantFilter = { filterRegex.matches($0) } }
        options.peak = loadOrMeasurePeak(maxThreads: options.threads.max() ?? 1)

        let csvURL = URL(fileURLWithPath: csv ?? "results/bench-\(timestampForFileName()).csv")
        let jsonURL = csvURL.deletingPathExtension().appendingPathExtension("json")
        let context = RunContext.current(
            options: [
                "filter": filter ?? "", "sizes": sizes ?? "default", "threads": threads, "dtype": dtype,
                "min_time": String(options.minSampleTime), "samples": String(options.samples),
                "preset": preset ?? "", "quick": String(quick),
            ],
            libraries: Suites.libraryContext(), peak: options.peak)
        try context.write(to: jsonURL)

        print(TerminalTable.header)
        let runner = Runner(options: options) { event in
            switch event {
            case let .preparing(c, index, total):
                stderr("[\(index + 1)/\(total)] \(c.kernel) \(c.dtype) \(c.shape): generating inputs and computing the reference")
            case .verifying:
                break
            case let .finished(row):
                print(TerminalTable.line(row))
                fflush(stdout)
            }
        }
        var writeError: Error?
        let rows = runner.run(cases) { rows in
            do { try CSVReport.write(rows, to: csvURL) } catch { writeError = error }
        }
        if let writeError { throw RuntimeError("could not write \(csvURL.path): \(writeError)") }
        if rows.isEmpty { try CSVReport.write(rows, to: csvURL) }

        let failed = rows.filter { $0.status == .fail }
        print("\n\(rows.count) rows: \(rows.count - failed.count) pass, \(failed.count) fail")
        print("CSV:     \(csvURL.path)\ncontext: \(jsonURL.path)")
        if !failed.isEmpty {
            for row in failed {
                stderr("FAIL \(row.kernel)/\(row.variant) \(row.dtype) \(row.shape) threads=\(row.threads): "
                    + "err_ratio \(row.verification.map { String($0.errRatio) } ?? "-") > bound \(row.verification.map { String($0.errBound) } ?? "-")"
                    + " at \(row.verification?.worst ?? "?"); \(row.note)")
            }
            throw ExitCode(1)
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the kernel families, their variants and default sizes.")

    func run() {
        for family in Suites.all {
            print("\(family.name): \(family.summary)")
            print("  variants: \(family.variants.map { $0.name + ($0.isThreaded ? " (threaded)" : "") }.joined(separator: ", "))")
            print("  sizes:    \(family.defaultSizes)")
            if !family.presets.isEmpty { print("  presets:  \(family.presets.joined(separator: ", "))") }
        }
    }
}

struct Peak: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the machine's FMA peak (fp32, fp64) and triad bandwidth; later runs use it for pct_peak.")

    @Option(help: "Measure for 1...N threads (default: the number of cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        stderr("measuring FMA throughput and triad bandwidth on 1...\(threads) threads")
        let peak = MachinePeak.measure(maxThreads: threads)
        try peak.save(to: peakFile)
        printPeak(peak)
        print("saved to \(peakFile.path)")
    }
}

func printPeak(_ peak: MachinePeak) {
    for threads in peak.triadGBps.keys.sorted() {
        let f32 = peak.gflops["f32"]?[threads] ?? 0, f64 = peak.gflops["f64"]?[threads] ?? 0
        print("threads \(threads): fp32 \(Int(f32)) GFLOP/s, fp64 \(Int(f64)) GFLOP/s, triad \(Int(peak.triadGBps[threads] ?? 0)) GB/s")
    }
}

/// The saved peak if it covers `maxThreads`; otherwise a fresh measurement, saved for next time.
func loadOrMeasurePeak(maxThreads: Int) -> MachinePeak {
    if let peak = try? MachinePeak.load(from: peakFile), peak.bandwidth(threads: maxThreads) != nil {
        return peak
    }
    stderr("no machine peak on record in \(peakFile.path); measuring it now ('bench peak' re-measures)")
    let peak = MachinePeak.measure(maxThreads: maxThreads, repeats: 3)
    try? peak.save(to: peakFile)
    return peak
}

struct RuntimeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A compiled `--filter`.
struct FilterRegex: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>
    func matches(_ text: String) -> Bool { (try? regex.firstMatch(in: text)) != nil }
}

func makeFilter(_ pattern: String) throws -> FilterRegex {
    do { return FilterRegex(regex: try Regex(pattern)) } catch {
        throw ValidationError("--filter '\(pattern)' is not a valid regular expression: \(error)")
    }
}

func stderr(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

func timestampForFileName() -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: Date())
}
