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

    /// The variants of a case are timed in rounds — a warm-up call of each, then a sample of
    /// each in turn — so that a drift of the machine reaches them alike; a variant whose call
    /// throws leaves the rotation with its error while the others go on, and one over its time
    /// budget leaves once it has its minimum samples.
    @Test func variantsAreTimedInTurns() throws {
        struct Thrown: Error {}
        final class Log: @unchecked Sendable { var calls: [(variant: Int, count: Int)] = [] }
        let log = Log()
        var options = RunOptions()
        options.samples = 4
        options.minSampleTime = 0.0001
        options.minimumSamples = 2
        options.maxTimePerVariant = 0.02
        func variant(_ v: Int, sleep: UInt32 = 0, throwsOnCall: Int? = nil) -> (Int) throws -> CallReport {
            { count in
                log.calls.append((v, count))
                if let throwsOnCall, log.calls.filter({ $0.variant == v }).count == throwsOnCall { throw Thrown() }
                if sleep > 0 { usleep(sleep) }
                return CallReport()
            }
        }
        // Variant 1 throws at its sixth call (its second timed one); variant 2 spends 25 ms a call,
        // over the 20 ms budget, so it stops at 2 samples.
        let results = Runner(options: options).timeInterleaved([variant(0), variant(1, throwsOnCall: 6), variant(2, sleep: 25_000)])
        let order = log.calls.map(\.variant)
        #expect(Array(order.prefix(6)) == [0, 0, 1, 1, 2, 2] && log.calls.prefix(6).allSatisfy { $0.count == 1 }, "warm-ups first")
        // Each sample is a lead-in call and the timed calls.
        let samples = log.calls.dropFirst(6)
        #expect(samples.enumerated().allSatisfy { $0.offset % 2 == 1 || $0.element.count == 1 })
        #expect(samples.enumerated().filter { $0.offset % 2 == 0 }.map(\.element.variant) == [0, 1, 2, 0, 1, 2, 0, 0], "\(order)")
        let first = try results[0].get(), third = try results[2].get()
        #expect(first.summary.count == 4 && third.summary.count == 2)
        #expect(third.summary.median >= 25_000_000 / Double(third.iterations))
        guard case .failure(let error) = results[1] else { Issue.record("variant 1 should have failed"); return }
        #expect(error is Thrown)
    }

    /// A variant whose call lasts over 0.1 s gets no lead-in call before its samples: two warm-up
    /// calls, then only the timed ones.
    @Test func longCallsHaveNoLeadIn() throws {
        final class Log: @unchecked Sendable { var calls: [Int] = [] }
        let log = Log()
        var options = RunOptions()
        options.samples = 2
        options.minSampleTime = 0.0001
        let results = Runner(options: options).timeInterleaved([{ count in
            log.calls.append(count)
            usleep(110_000)
            return CallReport()
        }])
        #expect(log.calls == [1, 1, 1, 1], "\(log.calls)")
        #expect(try results[0].get().summary.count == 2)
    }

    /// After a call whose threads go on spinning, the next sample waits until they are quiet.
    @Test func samplesWaitForSpinningThreadsToStop() {
        let spinUntil = monotonicNanoseconds() + 30_000_000
        let spinner = Thread { while monotonicNanoseconds() < spinUntil {} }
        spinner.start()
        let start = monotonicNanoseconds()
        waitForQuietProcess(limit: 1)
        let waited = monotonicNanoseconds() - start
        #expect(monotonicNanoseconds() >= spinUntil || waited >= 29_000_000, "waited \(waited) ns")
        #expect(waited < 1_100_000_000, "the limit holds")
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
