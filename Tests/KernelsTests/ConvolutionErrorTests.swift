import Kernels
import Testing

/// Output sizes against PyTorch's formulas, and bad layers and buffers: typed errors that name
/// the argument at fault, never a crash.
@Suite("Convolution arguments")
struct ConvolutionErrorTests {
    /// (input, kernel, stride, padding, dilation) → output, as PyTorch's conv2d gives it
    /// (⌊(i + 2p − d(k − 1) − 1)/s⌋ + 1): the geometry's sizes come from the project's one
    /// output-size function.
    @Test(arguments: [
        ((224, 7, 2, 3, 1), 112), ((56, 3, 1, 1, 1), 56), ((56, 3, 2, 1, 1), 28), ((7, 3, 2, 1, 1), 4),
        ((10, 3, 1, 0, 2), 6), ((3, 3, 1, 0, 1), 1), ((1, 3, 1, 1, 1), 1), ((5, 1, 3, 0, 1), 2), ((11, 4, 3, 2, 2), 3),
    ])
    func outputSizes(arguments: (Int, Int, Int, Int, Int), expected: Int) throws {
        let (i, k, s, p, d) = arguments
        let g = try Conv2DGeometry(batch: 1, inputChannels: 1, inputHeight: i, inputWidth: 1, outputChannels: 1, kernelHeight: k, kernelWidth: 1,
                                   stride: Spatial2D(s, 1), padding: Spatial2D(p, 0), dilation: Spatial2D(d, 1))
        #expect(g.outputHeight == expected && g.outputWidth == 1)
    }

    /// (input, kernel, stride, padding, dilation, output_padding) → output, as PyTorch's
    /// conv_transpose2d gives it: (i − 1)s − 2p + d(k − 1) + output_padding + 1.
    @Test(arguments: [
        ((7, 3, 2, 1, 1, 1), 14), ((4, 4, 2, 1, 1, 0), 8), ((1, 1, 1, 0, 1, 0), 1), ((5, 3, 1, 0, 2, 1), 10), ((3, 2, 3, 0, 1, 2), 10),
    ])
    func transposedOutputSizes(arguments: (Int, Int, Int, Int, Int, Int), expected: Int) throws {
        let (i, k, s, p, d, op) = arguments
        let g = try ConvTranspose2DGeometry(batch: 1, inputChannels: 1, inputHeight: 1, inputWidth: i, outputChannels: 1, kernelHeight: 1,
                                            kernelWidth: k, stride: Spatial2D(1, s), padding: Spatial2D(0, p), dilation: Spatial2D(1, d),
                                            outputPadding: Spatial2D(0, op))
        #expect(g.outputWidth == expected && g.outputHeight == 1)
    }

    static func layer(batch: Int = 1, channels: Int = 4, size: Int = 8, outChannels: Int = 4, kernel: Int = 3,
                      stride: Spatial2D = 1, padding: Spatial2D = 0, dilation: Spatial2D = 1, groups: Int = 1) throws -> Conv2DGeometry {
        try Conv2DGeometry(batch: batch, inputChannels: channels, inputHeight: size, inputWidth: size, outputChannels: outChannels,
                           kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    /// Each bad layer throws the error that names its argument and value.
    @Test func badLayersNameTheirArgument() {
        let cases: [(() throws -> Any, ConvolutionError, String)] = [
            ({ try Self.layer(channels: 6, groups: 4) }, .channelsNotDivisibleByGroups(argument: "in_channels", channels: 6, groups: 4), "in_channels = 6"),
            ({ try Self.layer(channels: 4, outChannels: 6, groups: 4) }, .channelsNotDivisibleByGroups(argument: "out_channels", channels: 6, groups: 4), "out_channels = 6"),
            ({ try Self.layer(groups: 0) }, .notPositive(argument: "groups", value: 0), "groups"),
            ({ try Self.layer(stride: Spatial2D(0, 1)) }, .layer(ConvolutionArithmeticError(layer: "conv2d", field: .stride, axis: .height, value: 0, problem: .notPositive)), "stride (height)"),
            ({ try Self.layer(stride: Spatial2D(1, 0)) }, .layer(ConvolutionArithmeticError(layer: "conv2d", field: .stride, axis: .width, value: 0, problem: .notPositive)), "stride (width)"),
            ({ try Self.layer(padding: Spatial2D(-1, 0)) }, .layer(ConvolutionArithmeticError(layer: "conv2d", field: .padding, axis: .height, value: -1, problem: .negative)), "padding (height)"),
            ({ try Self.layer(dilation: 0) }, .layer(ConvolutionArithmeticError(layer: "conv2d", field: .dilation, axis: .height, value: 0, problem: .notPositive)), "dilation (height)"),
            ({ try Self.layer(size: 4, kernel: 5) }, .layer(ConvolutionArithmeticError(layer: "conv2d", field: .padding, axis: .height, value: 0, problem: .kernelExceedsPaddedInput(paddedInput: 4, effectiveKernel: 5))), "padded input of 4"),
            ({ try Self.layer(size: 4, kernel: 3, dilation: 2) }, .layer(ConvolutionArithmeticError(layer: "conv2d", field: .padding, axis: .height, value: 0, problem: .kernelExceedsPaddedInput(paddedInput: 4, effectiveKernel: 5))), "effective kernel"),
            ({ try Self.layer(batch: -1) }, .negative(argument: "batch", value: -1), "batch"),
            ({ try Self.layer(channels: 0) }, .notPositive(argument: "in_channels", value: 0), "in_channels"),
            ({ try Self.layer(kernel: 0) }, .layer(ConvolutionArithmeticError(layer: "conv2d", field: .kernel, axis: .height, value: 0, problem: .notPositive)), "kernel (height)"),
            ({ try Self.layer(size: Int.max / 2, padding: Spatial2D(Int.max / 2, 0)) }, .layer(ConvolutionArithmeticError(layer: "conv2d", field: .padding, axis: .height, value: Int.max / 2, problem: .overflow)), "overflow"),
            ({ try Self.layer(batch: 1 << 40, channels: 1 << 20) }, .sizeOverflow(argument: "input element count"), "input element count"),
            ({ try ConvTranspose2DGeometry(batch: 1, inputChannels: 2, inputHeight: 5, inputWidth: 5, outputChannels: 2,
                                           kernelHeight: 3, kernelWidth: 3, stride: 2, outputPadding: 2) },
             .layer(ConvolutionArithmeticError(layer: "conv_transpose2d", field: .outputPadding, axis: .height, value: 2, problem: .outputPaddingNotBelowStrideOrDilation(stride: 2, dilation: 1))), "output_padding (height) 2"),
            ({ try ConvTranspose2DGeometry(batch: 1, inputChannels: 2, inputHeight: 5, inputWidth: 5, outputChannels: 2,
                                           kernelHeight: 3, kernelWidth: 3, stride: 1, outputPadding: Spatial2D(0, -1)) },
             .layer(ConvolutionArithmeticError(layer: "conv_transpose2d", field: .outputPadding, axis: .width, value: -1, problem: .negative)), "output_padding (width)"),
            ({ try ConvTranspose2DGeometry(batch: 1, inputChannels: 2, inputHeight: 1, inputWidth: 1, outputChannels: 2,
                                           kernelHeight: 1, kernelWidth: 1, padding: 1) },
             .layer(ConvolutionArithmeticError(layer: "conv_transpose2d", field: .padding, axis: .height, value: 1, problem: .outputTooSmall(output: -1))), "output size of -1"),
            ({ try ConvTranspose2DGeometry(batch: 1, inputChannels: 3, inputHeight: 4, inputWidth: 4, outputChannels: 2,
                                           kernelHeight: 3, kernelWidth: 3, groups: 3) },
             .channelsNotDivisibleByGroups(argument: "in_channels", channels: 3, groups: 3), ""),
        ]
        for (index, (make, expected, phrase)) in cases.enumerated() {
            do {
                _ = try make()
                Issue.record("case \(index): expected \(expected), got a layer")
            } catch let error as ConvolutionError {
                if case .channelsNotDivisibleByGroups = expected, phrase.isEmpty {
                    // in_channels 3 is divisible by 3; out_channels 2 is not.
                    #expect(error == .channelsNotDivisibleByGroups(argument: "out_channels", channels: 2, groups: 3))
                    continue
                }
                #expect(error == expected, "case \(index)")
                #expect(error.description.contains(phrase), "case \(index): '\(error)' does not name '\(phrase)'")
            } catch {
                Issue.record("case \(index): untyped error \(error)")
            }
        }
    }

    /// A transposed layer may have output_padding ≥ stride when it is below the dilation.
    @Test func outputPaddingBelowDilationIsAllowed() throws {
        let g = try ConvTranspose2DGeometry(batch: 1, inputChannels: 1, inputHeight: 3, inputWidth: 3, outputChannels: 1,
                                            kernelHeight: 3, kernelWidth: 3, stride: 1, dilation: 2, outputPadding: 1)
        #expect(g.outputHeight == 8)
    }

    /// Buffers shorter than the layer, zero threads, and Winograd on a layer it cannot compute.
    @Test func badCallsThrow() throws {
        let g = try Self.layer(stride: 2, padding: 1)
        let input = [Float](repeating: 1, count: g.inputCount), weight = [Float](repeating: 1, count: g.weightCount)
        var output = [Float](repeating: 0, count: g.outputCount)
        func call(_ algorithm: Conv2DAlgorithm, input: [Float], weight: [Float], bias: [Float]?, outputCount: Int, threads: Int = 1) throws {
            try input.withUnsafeBufferPointer { x in
                try weight.withUnsafeBufferPointer { w in
                    try output.withUnsafeMutableBufferPointer { y in
                        let y = UnsafeMutableBufferPointer(rebasing: y[0..<outputCount])
                        if let bias {
                            try bias.withUnsafeBufferPointer { try conv2D(algorithm, geometry: g, input: x, weight: w, bias: $0, output: y, threads: threads) }
                        } else {
                            try conv2D(algorithm, geometry: g, input: x, weight: w, bias: nil, output: y, threads: threads)
                        }
                    }
                }
            }
        }
        #expect(throws: ConvolutionError.bufferTooSmall(argument: "input", count: g.inputCount - 1, required: g.inputCount)) {
            try call(.im2colGEMM, input: Array(input.dropLast()), weight: weight, bias: nil, outputCount: g.outputCount)
        }
        #expect(throws: ConvolutionError.bufferTooSmall(argument: "weight", count: 0, required: g.weightCount)) {
            try call(.direct, input: input, weight: [], bias: nil, outputCount: g.outputCount)
        }
        #expect(throws: ConvolutionError.bufferTooSmall(argument: "bias", count: 3, required: 4)) {
            try call(.implicitGEMM, input: input, weight: weight, bias: [0, 0, 0], outputCount: g.outputCount)
        }
        #expect(throws: ConvolutionError.bufferTooSmall(argument: "output", count: 5, required: g.outputCount)) {
            try call(.blas, input: input, weight: weight, bias: nil, outputCount: 5)
        }
        #expect(throws: ConvolutionError.notPositive(argument: "threads", value: 0)) {
            try call(.reference, input: input, weight: weight, bias: nil, outputCount: g.outputCount, threads: 0)
        }
        do {
            try call(.winograd(.f2x3), input: input, weight: weight, bias: nil, outputCount: g.outputCount)
            Issue.record("Winograd ran a stride-2 layer")
        } catch let error as ConvolutionError {
            guard case .unsupported(let algorithm, let reason) = error else { Issue.record("\(error)"); return }
            #expect(algorithm == "winograd-f2x3" && reason.contains("stride 2"))
        }
        #expect(Conv2DAlgorithm.allCases.filter { !$0.applies(to: g) }.count == 2)
    }
}
