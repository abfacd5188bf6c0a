import Foundation
import Testing
@testable import Crosscheck

@Suite("Statistics, generator and report")
struct HarnessTests {
    @Test func summaryOfKnownSamples() {
        let s = SampleSummary([5, 1, 4, 2, 3])
        #expect(s.min == 1 && s.median == 3 && s.count == 5)
        #expect(abs(s.p90 - 4.6) < 1e-12)   // NumPy: np.percentile([1,2,3,4,5], 90) == 4.6
        #expect(s.mad == 1)                  // deviations 2,1,0,1,2 → median 1
        #expect(abs(s.cv - (2.5).squareRoot() / 3) < 1e-12)
    }

    @Test func generatorIsReproducibleAndSeedDependent() {
        var g1 = SeededGenerator(seed: 7), g2 = SeededGenerator(seed: 7), g3 = SeededGenerator(seed: 8)
        let a = (0..<8).map { _ in g1.next() }, b = (0..<8).map { _ in g2.next() }, c = (0..<8).map { _ in g3.next() }
        #expect(a == b)
        #expect(a != c)
        var g = SeededGenerator(seed: 1)
        let uniform = (0..<10_000).map { _ in g.nextSigned() }
        #expect(uniform.allSatisfy { $0 >= -1 && $0 < 1 })
        #expect(abs(uniform.reduce(0, +) / 10_000) < 0.05)
    }

    @Test func csvQuotesFieldsAndKeepsColumnOrder() {
        #expect(CSVReport.escape("plain") == "plain")
        #expect(CSVReport.escape("a,b") == "\"a,b\"")
        #expect(CSVReport.escape("say \"hi\"") == "\"say \"\"hi\"\"\"")
        let header = CSVReport().header
        #expect(header.hasPrefix("kernel,variant,dtype,shape,threads,status,err_ratio,err_bound,max_abs_err,max_rel_err,samples,iterations,min_ns,median_ns,p90_ns,mad_ns,cv,flops,bytes,gflops,gbps,pct_peak,speedup_vs_reference,"))
        #expect(header.hasSuffix(",error_model,criteria,worst,note\r\n"))
    }

    /// Counter columns follow the 23 fixed ones; a counter's rate is its value over the median time.
    @Test func countersBecomeColumnsAfterTheFixedOnes() throws {
        let report = CSVReport(counters: TestFamilies.counting.counters + TestFamilies.counting.counters)
        let columns = report.columns
        #expect(Array(columns[23..<25]) == ["additions", "additions_per_s"])
        let rows = run(TestFamilies.counting, samples: 3)
        let loop = try #require(rows.first { $0.variant == "loop" && $0.dtype == .i64 })
        #expect(loop.status == .pass)
        #expect(loop.counters["additions"] == 100)
        let rate = try #require(loop.rate(of: TestFamilies.counting.counters[0]))
        #expect(abs(rate - 100 / (loop.timing!.median / 1e9)) < 1e-6 * rate)
        let fields = report.line(loop).split(separator: ",", omittingEmptySubsequences: false)
        #expect(fields[23] == "100")
        #expect(Double(fields[24]) != nil)
    }

    @Test func counterNamesCannotCollideWithColumns() {
        #expect(Counter.problem(with: "iterations") != nil)
        #expect(Counter.problem(with: "median_ns") != nil)
        #expect(Counter.problem(with: "cells_per_s") != nil)
        #expect(Counter.problem(with: "Cells") != nil)
        #expect(Counter.problem(with: "solver_iterations") == nil)
    }

    func run(_ family: Family, samples: Int = 3, threads: [Int] = [1, 2]) -> [ResultRow] {
        var options = RunOptions()
        options.threads = threads
        options.samples = samples
        options.minSampleTime = 0.0001
        return Runner(options: options).run((try? family.cases(at: .full)) ?? [])
    }

    /// A wrong variant is `fail` and untimed; an expected failure is `xfail` and does not count as
    /// a failure; a variant that cannot run is `skipped` with its reason; the run goes on.
    @Test func statusesOfEveryKind() {
        let rows = run(TestFamilies.doubling)
        #expect(rows.map(\.variant) == ["ref", "wrong", "threaded", "threaded", "sloppy", "unavailable"])
        #expect(rows.map(\.threads) == [1, 1, 1, 2, 1, 1])
        #expect(rows.map(\.status) == [.pass, .fail, .pass, .pass, .xfail, .skipped])
        #expect(rows[1].timing == nil && rows[4].timing == nil && rows[5].timing == nil)
        #expect(rows[0].timing != nil && rows[0].speedupVsReference != nil)
        #expect(rows[4].note.contains("by design"))
        #expect(rows[5].note.contains("lacks"))
        #expect(rows.filter { $0.status.failsRun }.map(\.variant) == ["wrong"])
    }

    @Test func verifyOnlyCasesAreNotTimed() {
        let rows = run(TestFamilies.table)
        #expect(rows.map(\.status) == [.verified])
        #expect(rows[0].timing == nil)
        #expect(CSVReport().line(rows[0]).contains(",verified,"))
    }

    /// Integers are compared as integers: 2⁵³ + 1 and 2⁵³ are equal in Double but not here.
    @Test func exactModelComparesIntegersAsIntegers() {
        let big: Int64 = 1 << 53
        #expect(!ErrorModels.exact(computed: [big + 1], reference: [big], describe: { "\($0)" }).passed)
        #expect(ErrorModels.exact(computed: [big, 3], reference: [big, 3], describe: { "\($0)" }).passed)
        let v = ErrorModels.exact(computed: [1, 2, 9, 4], reference: [1, 2, 3, 5], describe: { "x[\($0)]" })
        #expect(v.errRatio == 2 && v.worst == "x[2]" && v.note.contains("got 9, expected 3"))
        #expect(!ErrorModels.exactBits(computed: [Float(-0.0)], reference: [Float(0.0)], describe: { "\($0)" }).passed)
    }

    /// An output of the wrong length fails its row; it does not stop the process.
    @Test func wrongLengthFailsTheRow() {
        #expect(!ErrorModels.scaledForwardError(computed: [1], reference: [1, 2], scale: [1, 1], unitRoundoff: 0x1p-24, bound: 4, model: "m", describe: { "\($0)" }).passed)
        #expect(!ErrorModels.ulps(computed: [Float(1)], reference: [1, 2], maxULPs: 2, describe: { "\($0)" }).passed)
        #expect(!ErrorModels.statistical(estimates: [], exact: [1], halfWidths: [1], confidence: "c", describe: { "\($0)" }).passed)
        #expect(!ErrorModels.exact(computed: [1, 2, 3], reference: [1, 2], describe: { "\($0)" }).passed)
    }

    @Test func ulpModel() {
        let one = Float(1)
        #expect(ErrorModels.ulps(computed: [one.nextUp.nextUp], reference: [1], maxULPs: 2, describe: { "\($0)" }).passed)
        #expect(!ErrorModels.ulps(computed: [one.nextUp.nextUp.nextUp], reference: [1], maxULPs: 2, describe: { "\($0)" }).passed)
    }

    @Test func statisticalModelStatesItsTier() {
        let v = ErrorModels.statistical(estimates: [0.51, 0.2], exact: [0.5, 0.25], halfWidths: [0.02, 0.02],
                                        confidence: "Hoeffding, p = 1e-6", describe: { "V[\($0)]" })
        #expect(!v.passed && v.worst == "V[1]")
        #expect(v.criteria.map(\.tier) == [.statistical])
        #expect(v.criteria[0].summary.contains("(statistical)"))
    }

    /// With several criteria the decisive one (largest value over bound) fills err_ratio/err_bound.
    @Test func decisiveCriterion() {
        let v = Verification(model: "m", criteria: [Criterion("a", value: 5, bound: 30), Criterion("b", value: 1.005, bound: 1.01)],
                             maxAbsError: 0, maxRelError: 0)
        #expect(v.passed && v.errRatio == 1.005 && v.errBound == 1.01)
        let nan = Verification(model: "m", criteria: [Criterion("a", value: .nan, bound: 30)], maxAbsError: 0, maxRelError: 0)
        #expect(!nan.passed)
    }

    /// Whatever a wrong kernel produces prints and reaches the CSV.
    @Test(arguments: [Double.nan, .infinity, -.infinity, 1e300, -1e300, 9.3e18])
    func reportingNeverTraps(value: Double) {
        var row = ResultRow(
            kernel: "k", variant: "v", dtype: .f32, shape: "1", threads: 1, status: .fail,
            verification: Verification(passed: false, model: "m", errRatio: value, errBound: value, maxAbsError: value, maxRelError: value),
            timing: SampleSummary([value.isFinite ? abs(value) : 1]), iterations: 1,
            workload: Workload(flops: value, bytes: value), counters: ["c": value], pctPeak: value, speedupVsReference: value, note: "")
        row.note = "x"
        #expect(!TerminalTable.line(row, counters: [Counter("c", unit: "u")]).isEmpty)
        #expect(!CSVReport(counters: [Counter("c", unit: "u")]).line(row).isEmpty)
    }
}
