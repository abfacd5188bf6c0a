import Crosscheck
import Kernels
import Testing

@Suite("Convolution variants")
struct ConvolutionVariantTests {
    static func geometry(_ n: Int, _ c: Int, _ h: Int, _ w: Int, _ k: Int, _ kh: Int, _ kw: Int,
                         stride: Spatial2D = 1, padding: Spatial2D = 0, dilation: Spatial2D = 1, groups: Int = 1,
                         layout: ConvolutionLayout) -> Conv2DGeometry {
        try! Conv2DGeometry(batch: n, inputChannels: c, inputHeight: h, inputWidth: w, outputChannels: k,
                            kernelHeight: kh, kernelWidth: kw, stride: stride, padding: padding, dilation: dilation,
                            groups: groups, layout: layout)
    }

    static let shapes: [Conv2DGeometry] = ConvolutionLayout.allCases.flatMap { layout in [
        geometry(1, 3, 11, 13, 5, 3, 3, padding: 1, layout: layout),
        geometry(2, 4, 9, 7, 6, 3, 3, stride: 2, padding: 1, dilation: 2, groups: 2, layout: layout),
        geometry(1, 6, 8, 8, 6, 3, 3, padding: 1, groups: 6, layout: layout),
        geometry(1, 1, 1, 1, 1, 1, 1, layout: layout),
        geometry(3, 8, 5, 5, 16, 1, 1, layout: layout),
        geometry(1, 17, 23, 29, 37, 3, 3, padding: 1, layout: layout),
        geometry(1, 3, 31, 31, 64, 7, 7, stride: 2, padding: 3, layout: layout),
        geometry(2, 48, 19, 37, 48, 3, 3, stride: 2, padding: 1, groups: 48, layout: layout),
        geometry(1, 5, 7, 9, 3, 2, 4, stride: Spatial2D(1, 3), padding: Spatial2D(0, 2), dilation: Spatial2D(2, 1), layout: layout),
    ] }

    @Test(arguments: shapes)
    func everyAlgorithmFloat(geometry: Conv2DGeometry) throws {
        let testCase = try ConvolutionCase<Float>(geometry)
        for algorithm in Conv2DAlgorithm.allCases where algorithm.applies(to: geometry) {
            for threads in [1, 2, 3] {
                let v = try testCase.verify(algorithm, threads: threads)
                #expect(v.passed, "\(algorithm) threads=\(threads) \(geometry): err_ratio \(v.errRatio) > \(v.errBound) at \(v.worst); \(v.note)")
            }
        }
    }
}
