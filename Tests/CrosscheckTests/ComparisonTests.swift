import Foundation
import Testing
import TestSupport
@testable import Crosscheck
@testable import CrosscheckCLI
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("Compare, scaling and the HTML report")
struct ComparisonTests {
    struct GoldenFile: Decodable { let generator: String; let cases: [GoldenCase] }
    struct GoldenCase: Decodable, CustomTestStringConvertible {
        let name: String, a: [Double], b: [Double], method: String, p: Double
        var testDescription: String { name }
    }

    static let golden: [GoldenCase] = loadReference("reference/statistics/mannwhitney.json", as: GoldenFile.self)?.cases ?? []

    @Test func goldenDataLoaded() { #expect(Self.golden.count == 5) }

    /// The U test's p-values against SciPy's (reference/statistics/make_golden.py).
    @Test(arguments: golden)
    func mannWhitneyMatchesSciPy(_ golden: GoldenCase) {
        let p = SampleComparison.mannWhitneyP(golden.a, golden.b)
        #expect(abs(p - golden.p) <= 1e-9 * max(1, golden.p), "\(golden.name): \(p) against SciPy's \(golden.p)")
    }

    @Test func threeSamplesCannotBeSignificant() {
        #expect(SampleComparison.smallestMannWhitneyP(3, 3) == 0.1)
        #expect(SampleComparison.smallestMannWhitneyP(10, 10) < 1e-4)
    }

    @Test func bootstrapIntervalCoversTheRatio() throws {
        let base = (0..<10).map { 100 + Double($0) }, new = base.map { $0 * 1.5 }
        let interval = try #require(SampleComparison.medianRatioInterval(base: base, new: new))
        #expect(interval.low <= 1.5 && interval.high >= 1.5 && interval.low > 1.3)
    }

    /// Synthetic times that follow a class exactly (with ±2% noise) are fitted to that class.
    @Test(arguments: [Complexity.linear, .nLogN, .quadratic, .cubic])
    func complexityFitFindsTheClass(_ complexity: Complexity) throws {
        var generator = SeededGenerator(seed: 5)
        let points = [100.0, 300, 1000, 3000, 10_000, 30_000].map { n in (n, 7 * complexity.growth(n) * (1 + 0.02 * generator.nextSigned())) }
        let fits = try #require(ComplexityFit.fits(points))
        #expect(fits[0].complexity == complexity)
        #expect(ComplexityFit.fits(Array(points.prefix(2))) == nil)
    }

    func row(_ variant: String, status: String = "pass", median: Double?, samples: [Double]?, shape: String = "64") -> RecordedRow {
        var fields = ["kernel": "k", "variant": variant, "dtype": "f32", "shape": shape, "threads": "1", "status": status]
        if let median { fields["median_ns"] = String(median) }
        var row = RecordedRow(fields: fields)!
        row.samples = samples
        return row
    }

    /// Two runs drawn from the same distribution are unchanged; a variant slowed by 20% is
    /// regressed; a verification regression comes first; three samples fall back to the threshold.
    @Test func verdicts() {
        var generator = SeededGenerator(seed: 9)
        func samples(_ center: Double) -> [Double] { (0..<10).map { _ in center * (1 + 0.01 * generator.nextSigned()) } }
        let a1 = samples(100), a2 = samples(100), b1 = samples(100), b2 = samples(120)
        let base = [row("same", median: SampleSummary(a1).median, samples: a1), row("slow", median: SampleSummary(b1).median, samples: b1),
                    row("broken", median: 50, samples: samples(50)), row("gone", median: 1, samples: [1])]
        let new = [row("same", median: SampleSummary(a2).median, samples: a2), row("slow", median: SampleSummary(b2).median, samples: b2),
                   row("broken", status: "fail", median: nil, samples: nil), row("fresh", median: 1, samples: [1])]
        let comparison = RunComparison(base: base, new: new)
        #expect(comparison.entries.map(\.verdict) == [.verificationRegressed, .regressed, .unchanged, .added, .removed])
        #expect(comparison.entries[1].pValue! < 0.001)
        #expect(!comparison.fewSamples)
        let few = RunComparison(base: [row("x", median: 100, samples: [99, 100, 101])], new: [row("x", median: 110, samples: [109, 110, 111])])
        #expect(few.fewSamples && few.entries[0].verdict == .regressed && few.entries[0].basis.contains("threshold"))
    }

    /// A report written by the run reads back through SwiftCSV with its samples; the HTML page
    /// parses as XML, has a chart per family and element type with a line per variant and thread
    /// count, and shows the roofline.
    @Test func reportRoundTripAndHTML() throws {
        var options = RunOptions()
        options.threads = [1, 2]
        options.samples = 3
        options.minSampleTime = 0.0001
        options.peak = MachinePeak(gflops: ["f64": ["1": 50, "2": 100]], triadGBps: ["1": 20, "2": 30], measuredAt: "now")
        let cases = try TestFamilies.doubling.cases(CaseRequest(sizes: ["100", "1000", "10000"], dtypes: [.f64]))
        let rows = Runner(options: options).run(cases)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-html-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = try ReportFiles(path: directory.appendingPathComponent("run.csv").path)
        let report = CSVReport(counters: [])
        let stream = try files.open(header: report.header)
        for row in rows { try stream.append(report.line(row)) }
        try stream.finish()
        var context = RunContext.current(options: [:], libraries: ["lib": "1.0 <&>"], peak: options.peak)
        context.samples = Dictionary(rows.compactMap { r in r.timing.map { (RecordedRow(r).key, $0.samples) } }, uniquingKeysWith: { a, _ in a })
        try ReportFiles.writeAtomically(context.encoded(), to: files.context)

        let recorded = try RecordedRun(path: files.csv.path)
        #expect(recorded.rows.count == rows.count)
        #expect(recorded.rows.map(\.status) == rows.map(\.status.rawValue))
        let ref = try #require(recorded.rows.first { $0.variant == "ref" && $0.shape == "1000" })
        #expect(ref.samples?.count == 3 && ref.median != nil && ref.sizeN == nil)

        let (html, charts) = HTMLReport.render(rows: recorded.rows, context: recorded.context, title: "t <&> \"q\"")
        #expect(charts.count == 1)
        let document = try XMLDocument(data: Data(html.utf8), options: [])
        let svgs = try document.nodes(forXPath: "//*[local-name()='svg']")
        #expect(svgs.count == 1)
        // Timed series: ref, threaded on 1 and 2 threads (wrong fails, sloppy is xfail, unavailable skipped).
        #expect(try document.nodes(forXPath: "//*[local-name()='polyline']").count == 3)
        let text = document.rootElement()?.stringValue ?? ""
        #expect(text.contains("FMA peak 1 thr") && text.contains("lib") && text.contains("1.0 <&>"))
        #expect(try document.nodes(forXPath: "//*[local-name()='td'][@class='fail']").count == 3)
        _ = try XMLDocument(data: Data(charts[0].svg.utf8), options: [])
    }

    /// The context records the environment variables that change the kernels' or libraries'
    /// behaviour (the thread backend, BLAS thread counts), and only those.
    @Test func contextRecordsTheKernelsEnvironment() throws {
        setenv("CROSSCHECK_TEST_ENVIRONMENT_MARKER", "dispatch", 1)
        setenv("UNRELATED_TEST_ENVIRONMENT_MARKER", "x", 1)
        defer { unsetenv("CROSSCHECK_TEST_ENVIRONMENT_MARKER"); unsetenv("UNRELATED_TEST_ENVIRONMENT_MARKER") }
        let context = RunContext.current(options: [:], libraries: [:], peak: nil)
        #expect(context.environment?["CROSSCHECK_TEST_ENVIRONMENT_MARKER"] == "dispatch")
        #expect(context.environment?["UNRELATED_TEST_ENVIRONMENT_MARKER"] == nil)
        #expect(context.environment?["PATH"] == nil)
        let decoded = try JSONDecoder().decode(RunContext.self, from: context.encoded())
        #expect(decoded.environment == context.environment)
    }

    /// A damaged report (a timed row whose median is NaN, zero or negative) is refused by name.
    @Test func damagedMediansAreRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-damaged-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for median in ["nan", "0", "-5"] {
            let url = directory.appendingPathComponent("bad-\(median).csv")
            try Data("kernel,variant,dtype,shape,threads,status,median_ns\r\nk,v,f32,1,1,pass,\(median)\r\n".utf8).write(to: url)
            #expect(throws: UsageError.self) { _ = try RecordedRun(path: url.path) }
        }
    }
}
