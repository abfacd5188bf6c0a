import Crosscheck
import Kernels
import Testing

/// Every variant against the reference on seeded inputs, at edge shapes, under each variant's
/// error bound, in both layouts and element types, on 1, 2 and 3 threads.
@Suite("Convolution variants")
struct ConvolutionVariantTests {
    static func conv(_ n: Int, _ c: Int, _ h: Int, _ w: Int, _ k: Int, _ kh: Int, _ kw: Int,
                     stride: Spatial2D = 1, padding: Spatial2D = 0, dilation: Spatial2D = 1, groups: Int = 1,
                     layout: ConvolutionLayout) -> TestLayer {
        .forward(try! Conv2DGeometry(
            batch: n, inputChannels: c, inputHeight: h, inputWidth: w, outputChannels: k, kernelHeight: kh, kernelWidth: kw,
            stride: stride, padding: padding, dilation: dilation, groups: groups, layout: layout))
    }

    /// Micro-tile 6 × 32 (Float) / 6 × 16 (Double); Winograd tiles 2 and 4 (± 1 in the output);
    /// direct kernels' 4 vectors of columns (NCHW), 4 pixels × a vector of channels (NHWC
    /// depthwise), 6 pixels × 2 vectors (NHWC); layers large enough for every thread to work.
    static let shapes: [TestLayer] = ConvolutionLayout.allCases.flatMap { layout in [
        conv(1, 3, 11, 13, 5, 3, 3, padding: 1, layout: layout),
        conv(2, 4, 9, 7, 6, 3, 3, stride: 2, padding: 1, dilation: 2, groups: 2, layout: layout),
        conv(1, 6, 8, 8, 6, 3, 3, padding: 1, groups: 6, layout: layout),
        conv(1, 1, 1, 1, 1, 1, 1, layout: layout),
        conv(1, 1, 1, 1, 1, 3, 3, padding: 1, layout: layout),
        conv(0, 4, 5, 5, 4, 3, 3, padding: 1, layout: layout),
        conv(3, 8, 5, 5, 16, 1, 1, layout: layout),
        conv(1, 17, 23, 29, 37, 3, 3, padding: 1, layout: layout),
        conv(1, 31, 9, 8, 33, 3, 3, padding: 1, layout: layout),
        conv(2, 32, 7, 10, 32, 3, 3, padding: Spatial2D(0, 1), layout: layout),
        conv(1, 3, 31, 31, 64, 7, 7, stride: 2, padding: 3, layout: layout),
        conv(2, 48, 19, 37, 48, 3, 3, stride: 2, padding: 1, groups: 48, layout: layout),
        conv(1, 19, 67, 5, 19, 3, 3, padding: 1, groups: 19, layout: layout),
        conv(1, 5, 7, 9, 3, 2, 4, stride: Spatial2D(1, 3), padding: Spatial2D(0, 2), dilation: Spatial2D(2, 1), layout: layout),
        conv(1, 4, 12, 12, 8, 1, 1, stride: 2, layout: layout),
        conv(1, 32, 40, 40, 32, 3, 3, padding: 1, layout: layout),
        conv(2, 64, 13, 11, 40, 3, 3, padding: 1, groups: 2, layout: layout),
    ] }

    /// Depthwise layers for the NCHW plane kernel's two forms (`DepthwisePlanes`): flat (stride_w
    /// 1, W_out = W: masked reads) with planes narrower than, as wide as and wider than a vector,
    /// dilation 2, stride_h 2; phase-split (stride 2 and 3, padding 0 so W_out < W); batch > 1;
    /// the last two large enough (≥ 2·10⁵ flops) that two threads share the planes. And the NHWC
    /// 3×3 interior kernel (`depthwise3x3`): at least a vector of channels (16 Float, 8 Double),
    /// with and without a tail, interiors of 8 + 1, 8 + 4 + 2, 1, 4 + 2 + 1 and 8 + 2 + 1 pixels,
    /// stride 1 and 2, padding 0, 1 and 2 (border pixels and rows with one or two taps of three
    /// inside), in rows of at most 8 pixels (channels outer) and wider, dilation 2 (the general
    /// path); the last large enough
    /// (≥ 6·10⁶ flops) that three threads share its rows.
    static let depthwiseShapes: [TestLayer] = ConvolutionLayout.allCases.flatMap { layout in [
        conv(2, 5, 7, 7, 5, 3, 3, padding: 1, groups: 5, layout: layout),
        conv(1, 3, 9, 16, 3, 3, 3, padding: 1, groups: 3, layout: layout),
        conv(2, 3, 10, 13, 3, 3, 3, padding: 2, dilation: 2, groups: 3, layout: layout),
        conv(1, 2, 5, 9, 2, 3, 3, stride: Spatial2D(2, 1), padding: 1, groups: 2, layout: layout),
        conv(3, 4, 6, 23, 4, 3, 3, stride: 2, padding: 1, groups: 4, layout: layout),
        conv(1, 4, 11, 37, 4, 3, 3, groups: 4, layout: layout),
        conv(1, 3, 10, 11, 3, 3, 3, stride: 3, padding: 1, groups: 3, layout: layout),
        conv(1, 2, 4, 5, 2, 1, 1, groups: 2, layout: layout),
        conv(2, 32, 6, 11, 32, 3, 3, padding: 1, groups: 32, layout: layout),
        conv(1, 17, 5, 16, 17, 3, 3, groups: 17, layout: layout),
        conv(1, 48, 7, 3, 48, 3, 3, padding: 1, groups: 48, layout: layout),
        conv(1, 16, 6, 9, 16, 3, 3, padding: 1, groups: 16, layout: layout),
        conv(2, 33, 9, 30, 33, 3, 3, stride: 2, padding: 1, groups: 33, layout: layout),
        conv(1, 16, 8, 23, 16, 3, 3, stride: 2, groups: 16, layout: layout),
        conv(1, 32, 9, 12, 32, 3, 3, padding: 2, dilation: 2, groups: 32, layout: layout),
        conv(1, 16, 4, 5, 16, 3, 3, padding: 2, groups: 16, layout: layout),
        conv(2, 16, 5, 2, 16, 3, 3, stride: 2, padding: 2, groups: 16, layout: layout),
        conv(1, 16, 5, 9, 16, 3, 3, padding: 2, groups: 16, layout: layout),
        conv(1, 32, 9, 15, 32, 3, 3, stride: 2, padding: 1, groups: 32, layout: layout),
        conv(3, 24, 31, 7, 24, 3, 3, padding: 1, groups: 24, layout: layout),
        conv(2, 20, 41, 33, 20, 3, 3, stride: 2, padding: 1, groups: 20, layout: layout),
        conv(3, 64, 48, 48, 64, 3, 3, padding: 1, groups: 64, layout: layout),
    ] }

    static let transposedShapes: [TestLayer] = ConvolutionLayout.allCases.flatMap { layout in [
        (1, 3, 4, 5, 2, 4, 4, Spatial2D(2, 2), Spatial2D(1, 1), Spatial2D(1, 1), Spatial2D(0, 0), 1),
        (2, 6, 5, 3, 4, 3, 3, Spatial2D(3, 2), Spatial2D(1, 0), Spatial2D(1, 2), Spatial2D(2, 1), 2),
        (1, 1, 1, 1, 1, 1, 1, Spatial2D(1, 1), Spatial2D(0, 0), Spatial2D(1, 1), Spatial2D(0, 0), 1),
        (1, 33, 9, 7, 31, 3, 3, Spatial2D(2, 2), Spatial2D(1, 1), Spatial2D(1, 1), Spatial2D(1, 1), 1),
        (1, 64, 20, 20, 32, 2, 2, Spatial2D(2, 2), Spatial2D(0, 0), Spatial2D(1, 1), Spatial2D(0, 0), 1),
    ].map { n, c, h, w, k, kh, kw, s, p, d, op, groups in
        TestLayer.transposed(try! ConvTranspose2DGeometry(
            batch: n, inputChannels: c, inputHeight: h, inputWidth: w, outputChannels: k, kernelHeight: kh, kernelWidth: kw,
            stride: s, padding: p, dilation: d, outputPadding: op, groups: groups, layout: layout))
    } }

    @Test(arguments: shapes + transposedShapes)
    func everyAlgorithmFloat(layer: TestLayer) throws {
        try ConvolutionCase<Float>(layer).expectEveryAlgorithmPasses()
        try ConvolutionCase<Float>(layer, bias: false, seed: 8).expectEveryAlgorithmPasses("no bias")
    }

    @Test(arguments: shapes + transposedShapes)
    func everyAlgorithmDouble(layer: TestLayer) throws {
        try ConvolutionCase<Double>(layer).expectEveryAlgorithmPasses()
    }

    @Test(arguments: depthwiseShapes)
    func depthwiseDirect(layer: TestLayer) throws {
        for bias in [true, false] {
            let float = try ConvolutionCase<Float>(layer, bias: bias), double = try ConvolutionCase<Double>(layer, bias: bias)
            for threads in [1, 2, 3] {
                let (f, d) = (try float.verify(.forward(.direct), threads: threads), try double.verify(.forward(.direct), threads: threads))
                #expect(f.passed, "Float threads=\(threads) bias=\(bias) \(layer): err_ratio \(f.errRatio) > \(f.errBound) at \(f.worst)")
                #expect(d.passed, "Double threads=\(threads) bias=\(bias) \(layer): err_ratio \(d.errRatio) > \(d.errBound) at \(d.worst)")
            }
        }
    }

    /// Planes shared among two threads give the same bits as one thread.
    @Test(arguments: depthwiseShapes.suffix(2) + depthwiseShapes.prefix(depthwiseShapes.count / 2).suffix(2))
    func depthwiseIndependentOfThreadCount(layer: TestLayer) throws {
        let testCase = try ConvolutionCase<Float>(layer)
        let outputs = try [1, 2].map { try testCase.run(.forward(.direct), threads: $0) }
        #expect(outputs[1] == outputs[0], "\(layer)")
    }

    /// The flat form's masked reads: an infinity in an input plane's last column spoils only the
    /// outputs whose window holds it, not the first column of the next row, which reads its
    /// flattened neighbour through a masked lane (a 0/1 multiplier would give ∞·0 = NaN there).
    @Test func depthwiseInfinityStaysInItsWindows() throws {
        let g = try Conv2DGeometry(batch: 1, inputChannels: 1, inputHeight: 6, inputWidth: 7, outputChannels: 1, kernelHeight: 3,
                                   kernelWidth: 3, padding: 1, groups: 1, layout: .nchw)
        var input = [Float](repeating: 1, count: g.inputCount)
        input[2 * 7 + 6] = .infinity
        var output = [Float](repeating: .nan, count: g.outputCount)
        let weight = [Float](repeating: 1, count: 9)
        try input.withUnsafeBufferPointer { x in
            try weight.withUnsafeBufferPointer { w in
                try output.withUnsafeMutableBufferPointer { try conv2D(.direct, geometry: g, input: x, weight: w, bias: nil, output: $0) }
            }
        }
        for oy in 0..<6 {
            for ox in 0..<7 {
                let touches = abs(oy - 2) <= 1 && ox >= 5
                #expect(touches ? output[oy * 7 + ox] == .infinity : output[oy * 7 + ox].isFinite, "(\(oy), \(ox)): \(output[oy * 7 + ox])")
            }
        }
    }

    /// Splitting the work among threads never changes the order of an output's sums, so every
    /// variant but OpenBLAS gives the same bits on 1, 2 and 3 threads.
    @Test(arguments: [shapes[15], shapes[16], shapes[shapes.count / 2 + 15], transposedShapes[4]])
    func resultIsIndependentOfThreadCount(layer: TestLayer) throws {
        let testCase = try ConvolutionCase<Float>(layer)
        for algorithm in TestAlgorithm.all(for: layer) where algorithm.description != "blas" {
            let outputs = try [1, 2, 3].map { try testCase.run(algorithm, threads: $0) }
            #expect(outputs[1] == outputs[0] && outputs[2] == outputs[0], "\(algorithm) \(layer)")
        }
    }

    /// The checks can fail: NHWC weights read as NCHW (the same numbers in another order) give
    /// a result far outside the bound.
    @Test func wrongWeightLayoutFails() throws {
        let nhwc = try Conv2DGeometry(batch: 1, inputChannels: 4, inputHeight: 6, inputWidth: 6, outputChannels: 8,
                                      kernelHeight: 3, kernelWidth: 3, padding: 1, layout: .nhwc)
        let testCase = try ConvolutionCase<Float>(.forward(nhwc))
        let scrambled = try ConvolutionCase<Float>(.forward(nhwc), input: testCase.input,
                                                   weight: channelsLast(testCase.weight, 8, 4, 3, 3), bias: testCase.bias,
                                                   expected: testCase.reference)
        let v = try scrambled.verify(.forward(.implicitGEMM), threads: 1)
        #expect(!v.passed)
    }

    /// Winograd's bound is its own: relative to S, which exceeds the direct sum's magnitude by
    /// the transforms' growth, more for F(4×4) than for F(2×2).
    @Test func winogradMagnitudeGrowth() throws {
        let layer = Self.conv(1, 16, 12, 12, 16, 3, 3, padding: 1, layout: .nchw)
        let testCase = try ConvolutionCase<Float>(layer)
        var growth: [Double] = []
        for tile in WinogradTile.allCases {
            let (_, s, _) = try testCase.bound(.forward(.winograd(tile)))
            let ratios = zip(s, testCase.magnitude).map { $0 / $1 }
            #expect(ratios.allSatisfy { $0 >= 1 - 1e-12 }, "S < Σ|w||x| for \(tile)")
            growth.append(ratios.reduce(0, max))
        }
        #expect(growth[1] > growth[0])
    }
}
