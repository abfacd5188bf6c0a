import CSoftmax
import Crosscheck
import Foundation

/// One softmax workload: n logits uniform in [−scale, scale].
public struct SoftmaxSpec: Sendable, CustomStringConvertible {
    public var n: Int
    public var scale: Double
    public var description: String { "\(n):\(Int(scale))" }

    /// Parses `N` (scale 10) or `N:SCALE`.
    static func parse(_ text: String) throws -> SoftmaxSpec {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let scale = parts.count == 2 ? Double(parts[1]) : 10, scale > 0, scale.isFinite else {
            throw CaseRequestError("--sizes: '\(text)' is not N or N:SCALE")
        }
        return SoftmaxSpec(n: try SizeArithmetic.integer(parts[0], in: text, minimum: 1), scale: scale)
    }
}

/// The logits, the softmax computed in Double, and the output buffer the variants write.
public final class SoftmaxCase: PreparedCase {
    public let logits: [Float]
    let expected: [Double]
    public let output: UnsafeMutableBufferPointer<Float>

    init(_ spec: SoftmaxSpec) {
        var generator = SeededGenerator(seed: 1)
        logits = (0..<spec.n).map { _ in Float(spec.scale * generator.nextSigned()) }
        let largest = Double(logits.max()!)
        let exponentials = logits.map { exp(Double($0) - largest) }
        let sum = exponentials.reduce(0, +)
        expected = exponentials.map { $0 / sum }
        output = .allocate(capacity: spec.n)
    }

    deinit { output.deallocate() }

    /// The output is write-only: NaN before each verifying run, so that a variant that writes
    /// nothing cannot pass on the previous variant's result.
    public func resetForVerification() { output.update(repeating: .nan) }

    /// The stable algorithm in Float: rounding x_i − m (relative error |x_i − m|·u after exp),
    /// expf (1 ulp = 2u), a sum of n positive terms (γ_{n−1}), the division or a multiplication by
    /// a rounded reciprocal (2u): |ŷ_i − y_i| ≤ (|x_i − m| + n + 5)·u·y_i to first order. Results
    /// below Float's normal range underflow: exp and the division each add up to half the smallest
    /// subnormal, 2⁻¹⁵⁰ (the sum is ≥ 1, so the first is not magnified): + 2⁻¹⁴⁹ absolute.
    public func check(_: Void) -> Verification {
        let largest = Double(logits.max()!), n = Double(logits.count), u = 0x1p-24
        return ErrorModels.scaledForwardError(
            computed: output.map(Double.init), reference: expected,
            scale: zip(logits, expected).map { (abs(Double($0) - largest) + n + 5) * $1 + 0x1p-149 / u },
            unitRoundoff: u, bound: 1, model: "softmax((|x-m|+n+5)u+2^-149)", describe: { "y[\($0)]" })
    }
}

public enum SoftmaxSuite {
    public static let variants: [Variant<SoftmaxCase>] = [
        Variant("naive") { c, _ in
            let largest = c.logits.max()!
            var sum: Float = 0
            for (i, x) in c.logits.enumerated() { c.output[i] = exp(x - largest); sum += c.output[i] }
            for i in c.output.indices { c.output[i] /= sum }
        },
        Variant("simd") { c, _ in softmaxSIMD(c.logits, into: c.output) },
        Variant("c") { c, _ in csoftmax(c.logits, c.output.baseAddress!, c.logits.count) },
        // No max subtraction: exp overflows Float beyond 88.7, and inf/inf is NaN.
        Variant("unstable") { c, _ in
            var sum: Float = 0
            for (i, x) in c.logits.enumerated() { c.output[i] = exp(x); sum += c.output[i] }
            for i in c.output.indices { c.output[i] /= sum }
        },
    ]

    public static let family = Family(
        name: "softmax", summary: "y = softmax(x) over n Float logits in [-scale, scale]; shape is n:scale",
        elementTypes: [.f32],
        sizes: Sizes(
            notation: "N or N:SCALE", parse: SoftmaxSpec.parse,
            defaults: [1_000, 100_000].flatMap { [SoftmaxSpec(n: $0, scale: 10), SoftmaxSpec(n: $0, scale: 100)] },
            quick: [SoftmaxSpec(n: 1_000, scale: 10), SoftmaxSpec(n: 1_000, scale: 100)]),
        cases: { spec, _ in
            [Case(kernel: "softmax", dtype: .f32, shape: spec.description, sizeN: Double(spec.n),
                  workload: Workload(flops: 4 * Double(spec.n), bytes: 8 * Double(spec.n), isMemoryBound: true),
                  memoryBytes: SizeArithmetic.bytes([(spec.n, 16)]),
                  reference: variants[0], variants: variants, prepare: { SoftmaxCase(spec) })]
        })
}

/// Stable softmax with 16-wide SIMD for the maximum, the sum and the scaling (exp stays scalar:
/// Swift has no vector exp).
func softmaxSIMD(_ x: [Float], into y: UnsafeMutableBufferPointer<Float>) {
    let n = x.count, wide = n / 16 * 16
    x.withUnsafeBufferPointer { x in
        var largest = SIMD16<Float>(repeating: -.infinity)
        for i in stride(from: 0, to: wide, by: 16) { largest = pointwiseMax(largest, SIMD16(x[i..<i + 16])) }
        var m = largest.max()
        for i in wide..<n { m = max(m, x[i]) }
        for i in 0..<n { y[i] = exp(x[i] - m) }
        let raw = UnsafeMutableRawPointer(y.baseAddress!)
        var sums = SIMD16<Float>(repeating: 0)
        for i in stride(from: 0, to: wide, by: 16) { sums += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) }
        var sum = sums.sum()
        for i in wide..<n { sum += y[i] }
        let reciprocal = SIMD16<Float>(repeating: 1 / sum)
        for i in stride(from: 0, to: wide, by: 16) {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * reciprocal, toByteOffset: 4 * i, as: SIMD16<Float>.self)
        }
        for i in wide..<n { y[i] *= reciprocal[0] }
    }
}
