import Crosscheck
import Kernels

/// The soft target update family (DDPG's Polyak averaging θ′ ← τθ + (1 − τ)θ′, τ = 0.005, Float):
/// the textbook scalar loop (the reference), two fused multiply-adds 16 lanes at a time, and the
/// same on several threads. Memory-bound: 12 bytes per element, judged against the triad
/// bandwidth. Error model: |θ̂′ − y| ≤ c·(u·(τ|θ| + (1 − τ)|θ′|) + 2⁻¹⁴⁹) elementwise against the
/// Double value y, with c = 3 + 3u + u² for the textbook form and 2 + u for the fused one
/// (derived in `Sources/Kernels/Algorithms/SoftTargetUpdate.swift`).
public enum SoftUpdateSuite {
    /// DDPG's usual rate.
    public static let tau: Float = 0.005

    public static let defaults = [10_000, 1_000_000, 10_000_000, 100_000_000]
    public static let quick = [10_000, 1_000_000]
    /// Tails of the 32-element SIMD loop, and a vector large enough for two shares of 2¹⁸.
    public static let test = [1, 31, 32, 33, 1000, (1 << 19) + 77]

    public static let family = Family(
        name: "polyak",
        summary: "soft target update theta' = tau*theta + (1-tau)*theta', tau = 0.005, Float; shape is the element count",
        elementTypes: [.f32],
        sizes: Sizes(notation: "N (elements)", parse: { try SizeArithmetic.positiveInteger($0) }, defaults: defaults, quick: quick, test: test),
        cases: { n, _ in [makeCase(n)] })

    /// The variants; `naive` is the reference. Each updates the case's target in place.
    public static let variants: [Variant<SoftUpdateInstance>] = [
        Variant("naive", complexity: .linear) { c, _ in try c.update { try softUpdateNaive(target: $0, online: $1, tau: tau) } },
        Variant("simd", complexity: .linear, check: { c, _ in c.verify(.fused) }) { c, _ in
            try c.update { try softUpdateSIMD(target: $0, online: $1, tau: tau) }
        },
        Variant("parallel", threaded: true, complexity: .linear, check: { c, _ in c.verify(.fused) }) { c, threads in
            try c.update { try softUpdateParallel(target: $0, online: $1, tau: tau, threads: threads) }
        },
    ]

    public static func makeCase(_ n: Int) -> Case {
        Case(
            kernel: "polyak", dtype: .f32, shape: "\(n)", sizeN: Double(n),
            workload: Workload(flops: 3 * Double(n), bytes: 12 * Double(n), isMemoryBound: true),
            // θ, θ′ and its initial copy in Float, the reference in Double.
            memoryBytes: SizeArithmetic.bytes([(n, 3 * 4 + 8)]),
            reference: variants[0], variants: variants,
            prepare: { SoftUpdateInstance(n) })
    }
}

/// A soft-update case: θ, θ′ (updated in place by the variants), θ′'s initial values and the
/// Double reference computed from them.
public final class SoftUpdateInstance: PreparedCase {
    let online: UnsafeMutableBufferPointer<Float>
    let target: UnsafeMutableBufferPointer<Float>
    let initialTarget: [Float]
    let reference: [Double]

    init(_ n: Int) {
        let inputs = softUpdateInputs(count: n, seed: 20261128)
        online = .allocate(capacity: n)
        _ = online.initialize(from: inputs.online)
        target = .allocate(capacity: n)
        _ = target.initialize(from: inputs.target)
        initialTarget = inputs.target
        reference = inputs.target.withUnsafeBufferPointer { t in
            inputs.online.withUnsafeBufferPointer { o in (try? softUpdateReference(target: t, online: o, tau: SoftUpdateSuite.tau)) ?? [] }
        }
    }

    deinit {
        online.deallocate()
        target.deallocate()
    }

    /// Runs `kernel` on the case's buffers.
    func update(_ kernel: (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) throws -> Void) throws {
        try kernel(target, UnsafeBufferPointer(online))
    }

    public func resetForVerification() { _ = target.update(fromContentsOf: initialTarget) }

    public func check(_: Void) -> Verification { verify(.textbook) }

    /// The ratio max |θ̂′ − y| / (u·M + 2⁻¹⁴⁹) against the constant of `evaluation`.
    func verify(_ evaluation: SoftUpdateEvaluation) -> Verification {
        let (ratio, index) = reference.withUnsafeBufferPointer { r in
            initialTarget.withUnsafeBufferPointer { t in
                softUpdateErrorRatio(updated: UnsafeBufferPointer(target), reference: r, target: t,
                                     online: UnsafeBufferPointer(online), tau: SoftUpdateSuite.tau)
            }
        }
        var maxAbs = 0.0, maxRel = 0.0
        for i in reference.indices {
            let error = abs(Double(target[i]) - reference[i])
            maxAbs = max(maxAbs, error)
            if reference[i] != 0 { maxRel = max(maxRel, error / abs(reference[i])) }
        }
        let bound = evaluation.errorConstant
        return Verification(
            passed: ratio <= bound, model: evaluation == .fused ? "fma-form c=2+u" : "textbook-form c=3+3u+u^2",
            errRatio: ratio, errBound: bound, maxAbsError: maxAbs, maxRelError: maxRel,
            worst: "theta'[\(index)]", note: ratio <= bound ? "" : "error exceeds c·(u·(tau|theta| + (1-tau)|theta'|) + 2^-149)")
    }
}
