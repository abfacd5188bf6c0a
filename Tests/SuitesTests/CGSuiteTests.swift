import Crosscheck
import Kernels
import Testing
@testable import Suites

/// The cg family's own checks: its size notation, and that its error model fails wrong answers.
/// Every variant at the test sizes is walked by `FamilyWalkerTests`.
@Suite("CG suite")
struct CGSuiteTests {
    @Test func sizeNotation() throws {
        #expect(try CGSuite.parse("poisson100") == .poisson(100))
        #expect(try CGSuite.parse("Poisson30x40") == .poisson(30, 40))
        #expect(try CGSuite.parse("dense2000") == .dense(2000, .k1e3))
        #expect(try CGSuite.parse("dense512-clustered") == .dense(512, .clustered))
        #expect(CGSpec.poisson(30, 40).description == "poisson30x40" && CGSpec.dense(64, .k1e6).description == "dense64-k1e6")
        for bad in ["poisson", "poisson0", "poisson3x", "poisson1x2x3", "dense", "dense-k10", "dense64-k7", "sparse9", "poisson99999999999x99999999999"] {
            #expect(throws: CaseRequestError.self, "\(bad)") { try CGSuite.parse(bad) }
        }
    }

    /// Wrong answers fail: x = b (not a solution), an under-converged run, and a run stopped by
    /// its iteration limit.
    @Test func errorModelFailsWrongAnswers() throws {
        let spec = CGSpec.poisson(9, 7)
        let instance = try CGInstance<Double>(spec)
        let grid = try PoissonGrid(rows: 9, columns: 7)
        let work = Workload(flops: 1, bytes: 1)
        func run(_ options: CGOptions) throws -> CGCall {
            let report = try instance.b.withUnsafeBufferPointer { b in
                try instance.x.withUnsafeMutableBufferPointer { x in try conjugateGradient(PoissonStencil2D<Double>(grid: grid), b: b, x: x, options: options) }
            }
            return CGCall(report: report, perIteration: work)
        }
        let loose = try run(.scipy(rtol: 1e-3))
        #expect(!instance.check(loose).passed && instance.check(loose).failedCriteria.contains("residual"))
        let stopped = try run(.scipy(rtol: 1e-8, maximumIterations: 3))
        #expect(instance.check(stopped).failedCriteria.contains("converged"))
        let good = try run(.scipy(rtol: 1e-8))
        #expect(instance.check(good).passed)
        instance.x = instance.b
        #expect(!instance.check(good).passed)

        // The matrix-vector product alone: right, then one element off by 1e-12 relative.
        _ = instance.applyStencil(threads: 1, perCall: work)
        #expect(instance.verifyProduct().passed)
        instance.product[10] *= 1 + 1e-12
        #expect(!instance.verifyProduct().passed)
    }

    /// Each call reports its iterations, and its work as iterations × the variant's work per iteration.
    @Test func callsReportIterationsAndWork() throws {
        let spec = CGSpec.poisson(12, 12)
        let instance = try CGInstance<Float>(spec)
        for variant in CGSuite.variants(for: spec, Float.self) where variant.name == "stencil" {
            let (verification, report) = try variant.verify(instance)
            #expect(verification.passed)
            let k = try #require(report.counters["solver_iterations"])
            #expect(k > 0 && report.workload?.bytes == k * 8 * 144 * 4)
        }
    }
}
