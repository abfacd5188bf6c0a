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
        let header = CSVReport.render([]).split(separator: "\r\n").first.map(String.init)
        #expect(header?.hasPrefix("kernel,variant,dtype,shape,threads,status,err_ratio,err_bound,max_abs_err,max_rel_err,samples,iterations,min_ns,median_ns,p90_ns,mad_ns,cv,flops,bytes,gflops,gbps,pct_peak,speedup_vs_reference") == true)
    }

    /// A case whose "optimized" variant is wrong must come out `fail`, untimed, and the run goes on.
    @Test func failingVariantIsReportedAndNotTimed() {
        final class Doubling: PreparedCase {
            var output = 0.0
            func run(_ variant: Variant, threads: Int) throws { output = variant.name == "wrong" ? 2.5 : 2 }
            func verify(_ variant: Variant, threads: Int) throws -> Verification {
                try run(variant, threads: threads)
                return ErrorModels.scaledForwardError(
                    computed: [output], reference: [2], scale: [2], unitRoundoff: 0x1p-53, bound: 2,
                    model: "test", describe: { "y[\($0)]" })
            }
        }
        let reference = Variant("ref")
        let testCase = Case(
            kernel: "double", dtype: "f64", shape: "1", workload: Workload(flops: 1, bytes: 8),
            reference: reference, variants: [reference, Variant("wrong"), Variant("threaded", isThreaded: true)],
            prepare: { Doubling() })
        var options = RunOptions()
        options.threads = [1, 2]
        options.samples = 3
        options.minSampleTime = 0.0001
        let rows = Runner(options: options).run([testCase])
        #expect(rows.map(\.variant) == ["ref", "wrong", "threaded", "threaded"])
        #expect(rows.map(\.threads) == [1, 1, 1, 2])
        #expect(rows[1].status == .fail && rows[1].timing == nil)
        #expect(rows[0].status == .pass && rows[0].timing != nil && rows[0].speedupVsReference != nil)
        #expect(rows[3].status == .pass)
    }
}
