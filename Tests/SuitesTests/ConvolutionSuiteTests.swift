import Crosscheck
import Kernels
import Testing
@testable import Suites

/// The convolution family's own checks: its size notation, that every workload layer is valid,
/// and that its error models fail on wrong outputs. Every variant is walked at the test sizes by
/// `FamilyWalkerTests`; the kernels' golden-vector tests are in KernelsTests.
@Suite("Convolution suite")
struct ConvolutionSuiteTests {
    @Test func sizeNotation() throws {
        for spec in ConvolutionSuite.test + ConvolutionSuite.quick {
            #expect(try ConvolutionSuite.parse(spec.description) == spec, "\(spec)")
        }
        let named = try ConvolutionSuite.parse("layer1.0.conv2:8:nhwc")
        #expect(named.name == "resnet50/layer1.0.conv2" && named.geometry.batch == 8 && named.geometry.layout == .nhwc)
        #expect(try ConvolutionSuite.parse("features.1.dw").geometry.groups == 32)
        #expect(try ConvolutionSuite.parse("N2-C6x9x9-K4x3x3-s2x1-p1-g2-nhwc").description == "N2-C6x9x9-K4x3x3-s2x1-p1-d1-g2-nhwc")
        for bad in ["", "N1", "N1-C3x8x8-K4x3", "N1-C3x8x8-K4x9x9", "N1-C3x8x8-K4x3x3-g2", "N1-C3x8x8-K4x3x3-s0",
                    "N1-C3x8x8-K4x3x3-q1", "N1-C3x8x8-K4x3x3-s1-s2", "layer1.0.conv2:x", "layer1.0.conv2:1:nwhc",
                    "N1-C3x8x8-K4x3x3-s1-op2", "N-1-C3x8x8-K4x3x3"] {
            #expect(throws: CaseRequestError.self, "\(bad)") { try ConvolutionSuite.parse(bad) }
        }
    }

    @Test func workloadLayersAreValid() throws {
        for layer in ConvolutionWorkloads.all {
            for batch in ConvolutionWorkloads.batches {
                let g = try layer.geometry(batch: batch, layout: .nchw)
                #expect(g.outputHeight >= 1 && g.outputCount > 0, "\(layer)")
            }
        }
    }

    /// A result without its bias fails the inner-product model; a direct sum's result is well
    /// within Winograd's own bound, and the same result shifted by a hundred units of its
    /// magnitude fails it.
    @Test func wrongOutputsFail() throws {
        let g = try Conv2DGeometry(batch: 1, inputChannels: 8, inputHeight: 9, inputWidth: 9, outputChannels: 8,
                                   kernelHeight: 3, kernelWidth: 3, padding: 1)
        let instance = try ConvolutionInstance<Float>(ConvolutionSpec(.forward(g)))
        let x = UnsafeBufferPointer(instance.input), w = UnsafeBufferPointer(instance.weight)
        try conv2D(.implicitGEMM, geometry: g, input: x, weight: w, bias: UnsafeBufferPointer(instance.bias), output: instance.output)
        #expect(instance.check(()).passed)
        #expect(instance.checkWinograd(.f2x3).passed)
        for i in 0..<g.outputCount { instance.output[i] += Float(100 * 0x1p-24 * instance.winogradMagnitude[.f2x3]![i]) }
        #expect(!instance.checkWinograd(.f2x3).passed)
        try conv2D(.implicitGEMM, geometry: g, input: x, weight: w, bias: nil, output: instance.output)
        #expect(!instance.check(()).passed)
    }
}
