import Crosscheck
import Kernels
import Testing
import TestSupport

/// `reference/convolution/golden.json`, written by `make_golden.py` there: PyTorch's conv2d and
/// conv_transpose2d on small odd layers, tensors in NCHW order.
struct ConvolutionGoldenFile: Decodable {
    let torch: String
    let conv2d: [GoldenLayer]
    let conv_transpose2d: [GoldenLayer]

    static let loaded = loadReference("reference/convolution/golden.json", as: ConvolutionGoldenFile.self)
}

struct GoldenLayer: Decodable, Sendable {
    let name: String
    let n: Int, c_in: Int, h: Int, w: Int, c_out: Int, kh: Int, kw: Int
    let stride: [Int], padding: [Int], dilation: [Int], output_padding: [Int]?
    let groups: Int
    let bias: [Float]?
    let output_shape: [Int]
    let input: [Float], weight: [Float], expected: [Double]

    /// The layer in `layout` (a transposed one when the file gives an output padding).
    func layer(_ layout: ConvolutionLayout) throws -> TestLayer {
        let (s, p, d) = (Spatial2D(stride[0], stride[1]), Spatial2D(padding[0], padding[1]), Spatial2D(dilation[0], dilation[1]))
        if let output_padding {
            return .transposed(try ConvTranspose2DGeometry(
                batch: n, inputChannels: c_in, inputHeight: h, inputWidth: w, outputChannels: c_out, kernelHeight: kh, kernelWidth: kw,
                stride: s, padding: p, dilation: d, outputPadding: Spatial2D(output_padding[0], output_padding[1]), groups: groups, layout: layout))
        }
        return .forward(try Conv2DGeometry(
            batch: n, inputChannels: c_in, inputHeight: h, inputWidth: w, outputChannels: c_out, kernelHeight: kh, kernelWidth: kw,
            stride: s, padding: p, dilation: d, groups: groups, layout: layout))
    }

    /// The case in `layout` and element type T, PyTorch's output as the reference; NHWC data is
    /// the NCHW data permuted to channels_last order.
    func testCase<T: ConvolutionScalar>(_ layout: ConvolutionLayout, _: T.Type) throws -> ConvolutionCase<T> {
        let layer = try layer(layout)
        let g = layer.geometry
        #expect([g.batch, g.outputChannels, g.outputHeight, g.outputWidth] == output_shape,
                "\(name): our output shape differs from PyTorch's \(output_shape)")
        var (x, weights, y) = (input.map { T($0) }, weight.map { T($0) }, expected)
        if layout == .nhwc {
            x = channelsLast(x, n, c_in, h, w)
            let weightShape = output_padding == nil ? (c_out, c_in / groups) : (c_in, c_out / groups)
            weights = channelsLast(weights, weightShape.0, weightShape.1, kh, kw)
            y = channelsLast(y, output_shape[0], output_shape[1], output_shape[2], output_shape[3])
        }
        return try ConvolutionCase(layer, input: x, weight: weights, bias: bias?.map { T($0) }, expected: y)
    }
}

/// Every variant against PyTorch on the golden layers, in both layouts and both element types,
/// on 1, 2 and 3 threads, under each variant's error bound.
@Suite("Convolution against PyTorch")
struct ConvolutionGoldenTests {
    @Test(arguments: ConvolutionLayout.allCases, [false, true])
    func matchesPyTorch(layout: ConvolutionLayout, transposed: Bool) throws {
        let file = try #require(ConvolutionGoldenFile.loaded)
        for golden in transposed ? file.conv_transpose2d : file.conv2d {
            try golden.testCase(layout, Float.self).expectEveryAlgorithmPasses(golden.name)
            try golden.testCase(layout, Double.self).expectEveryAlgorithmPasses(golden.name)
        }
    }

    /// The golden file covers what it claims: every stride/padding/dilation/groups combination.
    @Test func coverage() throws {
        let file = try #require(ConvolutionGoldenFile.loaded)
        let combinations = Set(file.conv2d.map { "\($0.stride[0]) \($0.padding[0]) \($0.dilation[0]) \($0.groups == $0.c_in ? "dw" : String($0.groups))" })
        #expect(combinations.isSuperset(of: [1, 2].flatMap { s in [0, 1].flatMap { p in [1, 2].flatMap { d in ["1", "2", "dw"].map { "\(s) \(p) \(d) \($0)" } } } }))
        #expect(file.conv2d.contains { $0.bias == nil } && file.conv2d.contains { $0.bias != nil })
        #expect(file.conv_transpose2d.contains { ($0.output_padding ?? [0])[0] > 0 })
    }
}
