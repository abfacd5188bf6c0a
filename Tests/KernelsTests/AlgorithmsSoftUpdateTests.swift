import Testing
@testable import Kernels

@Suite("Algorithms: soft target update")
struct AlgorithmsSoftUpdateTests {
    enum Variant: CaseIterable { case naive, simd, parallel }

    /// Runs one variant on copies of the inputs; returns the updated target.
    func run(_ variant: Variant, target: [Float], online: [Float], tau: Float, threads: Int = 2) throws -> [Float] {
        var updated = target
        try updated.withUnsafeMutableBufferPointer { t in
            try online.withUnsafeBufferPointer { o in
                switch variant {
                case .naive: try softUpdateNaive(target: t, online: o, tau: tau)
                case .simd: try softUpdateSIMD(target: t, online: o, tau: tau)
                case .parallel: try softUpdateParallel(target: t, online: o, tau: tau, threads: threads)
                }
            }
        }
        return updated
    }

    func ratio(_ updated: [Float], target: [Float], online: [Float], tau: Float) throws -> Double {
        try target.withUnsafeBufferPointer { t in
            try online.withUnsafeBufferPointer { o in
                let reference = try softUpdateReference(target: t, online: o, tau: tau)
                return updated.withUnsafeBufferPointer { u in
                    reference.withUnsafeBufferPointer { r in softUpdateErrorRatio(updated: u, reference: r, target: t, online: o, tau: tau).ratio }
                }
            }
        }
    }

    @Test(arguments: [0, 1, 31, 32, 33, 1000], [Float(0), 0.005, 0.5, 0.9, 1])
    func withinTheDerivedBound(count: Int, tau: Float) throws {
        let (target, online) = softUpdateInputs(count: count, seed: UInt64(count))
        for variant in Variant.allCases {
            let updated = try run(variant, target: target, online: online, tau: tau)
            let bound = (variant == .naive ? SoftUpdateEvaluation.textbook : .fused).errorConstant
            let seen = try ratio(updated, target: target, online: online, tau: tau)
            #expect(seen <= bound, "\(variant) n=\(count) tau=\(tau): ratio \(seen) > \(bound)")
        }
        if tau == 1 { #expect(try run(.simd, target: target, online: online, tau: tau) == online) }
        if tau == 0 { #expect(try run(.simd, target: target, online: online, tau: tau) == target) }
    }

    /// Large enough for two shares of at least 2¹⁸ elements: the threaded result must be the
    /// SIMD one bit for bit.
    @Test func parallelMatchesSIMDExactly() throws {
        let count = (1 << 19) + 77
        let (target, online) = softUpdateInputs(count: count, seed: 7)
        let simd = try run(.simd, target: target, online: online, tau: 0.005)
        let parallel = try run(.parallel, target: target, online: online, tau: 0.005, threads: 2)
        #expect(simd.map(\.bitPattern) == parallel.map(\.bitPattern))
        #expect(try ratio(parallel, target: target, online: online, tau: 0.005) <= SoftUpdateEvaluation.fused.errorConstant)
    }

    /// Subnormal and cancelling inputs: the bound's absolute term and its relative form.
    @Test func subnormalAndCancellingInputs() throws {
        let online: [Float] = [1e-40, -1e-40, 3e-39, 1, -1, 1e30, .leastNonzeroMagnitude]
        let target: [Float] = [-1e-40, 2e-40, -3e-39, -1, 1, -1e30, 0]
        for tau: Float in [0.005, 0.5, 0.75] {
            for variant in Variant.allCases {
                let updated = try run(variant, target: target, online: online, tau: tau)
                let bound = (variant == .naive ? SoftUpdateEvaluation.textbook : .fused).errorConstant
                #expect(try ratio(updated, target: target, online: online, tau: tau) <= bound, "\(variant) tau=\(tau)")
            }
        }
    }

    /// The check is not a rubber stamp: an update that was not applied, or zeros, fail it.
    @Test func wrongResultsFailTheCheck() throws {
        let (target, online) = softUpdateInputs(count: 100, seed: 3)
        #expect(try ratio(target, target: target, online: online, tau: 0.005) > SoftUpdateEvaluation.textbook.errorConstant)
        #expect(try ratio([Float](repeating: 0, count: 100), target: target, online: online, tau: 0.005) > 1e3)
    }

    @Test func badArgumentsAreTypedErrors() throws {
        for tau in [Float.nan, -0.1, 1.5] {
            #expect(throws: SoftUpdateError.self) { try run(.simd, target: [1], online: [2], tau: tau) }
        }
        #expect(throws: SoftUpdateError.countMismatch(target: 2, online: 1)) { try run(.naive, target: [1, 2], online: [2], tau: 0.1) }
    }
}
