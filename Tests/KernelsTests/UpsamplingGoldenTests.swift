import Testing
import TestSupport
@testable import Kernels

/// Every upsampling variant against PyTorch (reference/upsampling/make_golden.py).
@Suite("Upsampling against PyTorch")
struct UpsamplingGoldenTests {
    typealias Support = UpsamplingTestSupport

    struct GoldenFile: Decodable {
        let axes: [AxisCase]
        let imageInputs: [String: [Double]]
        let images: [ImageCase]
        let shuffles: [ShuffleCase]
    }

    struct AxisSpec: Decodable {
        let scaleFactor: Double?, recompute: Bool?, size: Int?
        enum CodingKeys: String, CodingKey { case scaleFactor = "scale_factor", recompute, size }
    }

    struct AxisCase: Decodable, CustomStringConvertible {
        let mode: String, kernel: String, input: Int, spec: AxisSpec
        /// Per output index, the (input index, weight) pairs PyTorch used.
        let weights: [[[Double]]]
        var description: String { "\(mode) \(kernel) in=\(input) \(spec)" }
    }

    struct ImageSpec: Decodable, CustomStringConvertible {
        let scaleFactor: [Double]?, recompute: Bool?, size: [Int]?
        enum CodingKeys: String, CodingKey { case scaleFactor = "scale_factor", recompute, size }
        var description: String {
            if let size { return "size=\(size)" }
            return "scale_factor=\(scaleFactor ?? []) recompute=\(recompute.map(String.init) ?? "None")"
        }
    }

    struct ImageCase: Decodable, CustomStringConvertible, Sendable {
        let mode: String, layout: String, input: String, spec: ImageSpec
        let outputShape: [Int], output: [Double]
        var description: String { "\(mode) \(layout) \(input) \(spec)" }
    }

    struct ShuffleCase: Decodable, CustomStringConvertible, Sendable {
        let direction: String, layout: String, shape: [Int], factor: Int
        let outputShape: [Int], input: [Double], output: [Double]
        var description: String { "\(direction) \(layout) \(shape) r=\(factor)" }
    }

    static let golden = loadReference("reference/upsampling/golden.json", as: GoldenFile.self)

    static func shape(_ sizes: [Int]) -> ImageShape {
        ImageShape(batch: sizes[0], channels: sizes[1], height: sizes[2], width: sizes[3])
    }

    /// PyTorch's weights differ from the exact cubic-convolution weights by at most this many
    /// units of u = 2⁻²⁴ (it evaluates the polynomials in Float after rounding t + 1 and 2 − t);
    /// the largest difference in the golden file is about 12.
    static let pytorchCubicWeightError = 16.0

    /// Each axis's indices against PyTorch's, bit for bit, through both of PyTorch's kernels;
    /// bilinear weights bit for bit too, bicubic weights within `pytorchCubicWeightError`·u.
    @Test(arguments: ["nearest", "nearest-exact", "bilinear", "bilinear-ac", "bicubic", "bicubic-ac"])
    func axisSamplingMatchesPyTorch(modeName: String) throws {
        let cases = (Self.golden?.axes ?? []).filter { $0.mode == modeName }
        #expect(cases.count > 100)
        let mode = Support.mode(named: modeName)
        var worstCubicWeightError = 0.0
        for golden in cases {
            let spec = golden.spec
            let outputSize = try spec.size ?? UpsampleGeometry.outputSize(golden.input, spec.scaleFactor!, argument: "f")
            let sampling = AxisSampling(
                mode: mode, inputSize: golden.input, outputSize: outputSize,
                scaleFactor: spec.size == nil && spec.recompute != true ? spec.scaleFactor : nil,
                kernel: golden.kernel == "generic" ? .generic : .channelsLast)
            #expect(golden.weights.count == outputSize, "\(golden)")
            for i in 0..<min(outputSize, golden.weights.count) {
                var ours = [Double](repeating: 0, count: golden.input), taps = [Int](repeating: 0, count: golden.input)
                for t in 0..<sampling.taps {
                    ours[sampling.index(i, t)] += sampling.weight(i, t)
                    taps[sampling.index(i, t)] += 1
                }
                var theirs = [Double](repeating: 0, count: golden.input)
                for pair in golden.weights[i] { theirs[Int(pair[0])] = pair[1] }
                for k in 0..<golden.input {
                    let difference = abs(ours[k] - theirs[k])
                    if mode.taps == 4 {
                        worstCubicWeightError = max(worstCubicWeightError, difference / Support.u)
                        #expect(difference <= (Self.pytorchCubicWeightError + Double(taps[k])) * Support.u,
                                "\(golden) output \(i) input \(k): \(ours[k]) vs PyTorch \(theirs[k])")
                    } else if taps[k] > 1 {
                        // PyTorch adds the weights of taps clamped onto one element in Float.
                        #expect(difference <= Support.u * abs(ours[k]), "\(golden) output \(i) input \(k)")
                    } else {
                        #expect(Float(ours[k]) == Float(theirs[k]),
                                "\(golden) output \(i) input \(k): \(ours[k]) vs PyTorch \(theirs[k])")
                    }
                }
            }
        }
        if mode.taps == 4 { #expect(worstCubicWeightError > 1, "PyTorch's cubic weights are expected to differ a little") }
    }

    static var imageCases: [ImageCase] { golden?.images ?? [] }

    /// Whole interpolations: nearest modes bit for bit (reference, vectorized, threaded);
    /// bilinear and bicubic within the derived bound of the reference, and the reference within
    /// PyTorch's own rounding of PyTorch.
    @Test(arguments: imageCases)
    func interpolationMatchesPyTorch(golden: ImageCase) throws {
        let input = Self.shape(golden.input.split(separator: "x").map { Int($0)! })
        let layout = ImageLayout(rawValue: golden.layout)!
        let mode = Support.mode(named: golden.mode)
        let spec = golden.spec
        let geometry = try UpsampleGeometry(
            input: input, layout: layout, mode: mode,
            size: spec.size.map { ($0[0], $0[1]) }, scaleFactor: spec.scaleFactor.map { ($0[0], $0[1]) },
            recomputeScaleFactor: spec.recompute)
        #expect(geometry.output == Self.shape(golden.outputShape))
        if geometry.output != Self.shape(golden.outputShape) { return }
        let x = Support.fromNCHW((Self.golden?.imageInputs[golden.input] ?? []).map { Float($0) }, shape: input, layout: layout)
        let pytorch = golden.output.map { Double(Float($0)) }
        let (reference, magnitude) = Support.reference(x, geometry)
        let referenceNCHW = Support.toNCHW(reference, shape: geometry.output, layout: layout)
        let magnitudeNCHW = Support.toNCHW(magnitude, shape: geometry.output, layout: layout)
        let pytorchBound = Support.toNCHW(pytorchErrorBound(x, geometry, magnitude: magnitude), shape: geometry.output, layout: layout)
        for i in pytorch.indices where !(abs(referenceNCHW[i] - pytorch[i]) <= pytorchBound[i]) {
            Issue.record("\(golden): reference \(referenceNCHW[i]) vs PyTorch \(pytorch[i]) at \(i), allowed \(pytorchBound[i])")
            break
        }
        for threads in [1, 3] {
            let ours = Support.toNCHW(Support.upsampled(x, geometry, threads: threads), shape: geometry.output, layout: layout)
            if mode.taps == 1 {
                #expect(ours.map { Double($0) } == pytorch, "\(golden) threads=\(threads)")
            } else {
                let worst = Support.worstRatio(ours.map { Double($0) }, referenceNCHW, magnitude: magnitudeNCHW)
                #expect(worst.ratio <= Support.gammaOverU(mode.roundingsInBound),
                        "\(golden) threads=\(threads): err_ratio \(worst.ratio) at \(worst.index)")
            }
        }
    }

    /// How far PyTorch's Float result may be from the exact interpolant, per output (in the
    /// geometry's layout). Nearest: 0. Bilinear: γ₇·Σ|w||x| — its weights are the exact ones
    /// rounded once, multiplied in Float (channels-last kernel), then four products summed.
    /// Bicubic: γ₈·Σ|w||x| for its two 4-term sums, plus its weight errors (absolute, at most
    /// `pytorchCubicWeightError`·u each) times Σ_{r,c}(|w_r| + |w_c| + ε)|x|.
    func pytorchErrorBound(_ x: [Float], _ g: UpsampleGeometry, magnitude: [Double]) -> [Double] {
        let u = Support.u
        switch g.mode.taps {
        case 1:
            return [Double](repeating: 0, count: magnitude.count)
        case 2:
            return magnitude.map { Support.gammaOverU(7) * u * $0 }
        default:
            let epsilon = Self.pytorchCubicWeightError * u
            var bound = [Double](repeating: 0, count: magnitude.count)
            Support.forEachElement(g.output) { n, c, h, w, _ in
                let offset = g.output.offset(n: n, c: c, h: h, w: w, layout: g.layout)
                var weightTerms = 0.0
                for r in 0..<4 {
                    for t in 0..<4 {
                        let value = Double(x[g.input.offset(n: n, c: c, h: g.rows.index(h, r), w: g.columns.index(w, t), layout: g.layout)])
                        weightTerms += (abs(g.rows.weight(h, r)) + abs(g.columns.weight(w, t)) + epsilon) * abs(value)
                    }
                }
                bound[offset] = Support.gammaOverU(8) * u * magnitude[offset] + epsilon * weightTerms * (1 + 9 * u)
            }
            return bound
        }
    }

    static var shuffleCases: [ShuffleCase] { golden?.shuffles ?? [] }

    /// Pixel shuffle and unshuffle, both variants, bit for bit.
    @Test(arguments: shuffleCases)
    func pixelShuffleMatchesPyTorch(golden: ShuffleCase) throws {
        let layout = ImageLayout(rawValue: golden.layout)!
        let geometry = try PixelShuffleGeometry(
            input: Self.shape(golden.shape), layout: layout, factor: golden.factor,
            direction: PixelShuffleGeometry.Direction(rawValue: golden.direction)!)
        #expect(geometry.output == Self.shape(golden.outputShape))
        let x = Support.fromNCHW(golden.input.map { Float($0) }, shape: geometry.input, layout: layout)
        let expected = golden.output.map { Float($0) }
        var reference = [Float](repeating: .nan, count: geometry.output.count)
        x.withUnsafeBufferPointer { input in
            reference.withUnsafeMutableBufferPointer { pixelShuffleReference(input, into: $0, geometry: geometry) }
        }
        #expect(Support.toNCHW(reference, shape: geometry.output, layout: layout) == expected, "\(golden) reference")
        for threads in [1, 2] {
            var output = [Float](repeating: .nan, count: geometry.output.count)
            x.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { pixelShuffle(input, into: $0, geometry: geometry, threads: threads) }
            }
            #expect(Support.toNCHW(output, shape: geometry.output, layout: layout) == expected, "\(golden) threads=\(threads)")
        }
    }
}
