import Testing
@testable import Kernels

struct ConvolutionArithmeticTests {
    // Every size and rejection against PyTorch's table: the rf family's `pytorch-shapes` case,
    // walked by FamilyWalkerTests and checked by ReceptiveFieldSuiteTests.

    @Test("ceil_mode adds a partial window, but not one that would start in the right padding")
    func ceilModeDropsWindowInPadding() throws {
        // i = 4, k = 3, s = 2, p = 1: floor gives ⌊3/2⌋ + 1 = 2; ceil ⌈3/2⌉ + 1 = 3, the third
        // window starting at padded position 4 < i + p = 5, inside the input: kept.
        #expect(try poolingOutputSize(input: 4, kernel: 3, stride: 2, padding: 1) == 2)
        #expect(try poolingOutputSize(input: 4, kernel: 3, stride: 2, padding: 1, ceilMode: true) == 3)
        // i = 5, k = 2, s = 2, p = 1: ceil ⌈5/2⌉ + 1 = 4, but the fourth window would start at
        // padded position 6 ≥ i + p = 6, in the right padding: dropped (PyTorch also gives 3).
        #expect(try poolingOutputSize(input: 5, kernel: 2, stride: 2, padding: 1, ceilMode: true) == 3)
        #expect(try poolingOutputSize(input: 6, kernel: 3, stride: 2, padding: 1, ceilMode: true) == 4)
    }

    /// TensorFlow's documented SAME rule, as google-research/receptive_field writes it
    /// (parse_layer_parameters.py): total = max(k − (i mod s if i mod s ≠ 0 else s), 0), ⌊total/2⌋
    /// before; output ⌈i/s⌉. A formula written independently of `tensorFlowSamePadding`'s.
    @Test("TF SAME padding equals TensorFlow's documented rule", arguments: [1, 2, 3, 4])
    func sameMatchesDocumentedRule(_ stride: Int) throws {
        for input in 1...40 {
            for kernel in 1...8 {
                let remainder = input % stride
                let total = max(kernel - (remainder == 0 ? stride : remainder), 0)
                let resolved = try tensorFlowSamePadding(input: input, kernel: kernel, stride: stride)
                #expect(resolved == ResolvedPadding(output: (input + stride - 1) / stride, before: total / 2, after: total - total / 2),
                        "i=\(input) k=\(kernel) s=\(stride)")
                // The resolved padding gives the same output through the convolution formula.
                #expect(try convolutionOutputSize(input: input, kernel: kernel, stride: stride, paddingBefore: resolved.before,
                                                  paddingAfter: resolved.after) == resolved.output)
            }
        }
    }

    @Test("TF SAME with dilation uses the effective kernel, VALID refuses a kernel larger than the input")
    func dilatedSameAndValid() throws {
        // K = 2·(3 − 1) + 1 = 5: output ⌈10/2⌉ = 5, total (5 − 1)·2 + 5 − 10 = 3, split 1 + 2.
        #expect(try tensorFlowSamePadding(input: 10, kernel: 3, stride: 2, dilation: 2) == ResolvedPadding(output: 5, before: 1, after: 2))
        #expect(try tensorFlowValidPadding(input: 10, kernel: 3, stride: 2, dilation: 2) == ResolvedPadding(output: 3, before: 0, after: 0))
        #expect(throws: ConvolutionArithmeticError.self) { try tensorFlowValidPadding(input: 4, kernel: 3, stride: 1, dilation: 2) }
    }

    @Test("asymmetric padding: each side counts once")
    func asymmetricPadding() throws {
        #expect(try convolutionOutputSize(input: 224, kernel: 7, stride: 2, paddingBefore: 3, paddingAfter: 3) == 112)
        #expect(try convolutionOutputSize(input: 224, kernel: 3, stride: 2, paddingBefore: 0, paddingAfter: 1) == 112)
        #expect(try poolingOutputSize(input: 7, kernel: 3, stride: 2, paddingBefore: 0, paddingAfter: 1) == 3)
        #expect(try transposedConvolutionOutputSize(input: 4, kernel: 4, stride: 2, paddingBefore: 1, paddingAfter: 2) == 7)
    }

    @Test("errors name the layer, the field, the axis and the value")
    func errorsNameLayerAndField() {
        do {
            _ = try convolutionOutputSize(input: 8, kernel: 3, stride: 0, layer: "conv1", axis: .width)
            Issue.record("stride 0 accepted")
        } catch {
            #expect(error == ConvolutionArithmeticError(layer: "conv1", field: .stride, axis: .width, value: 0, problem: .notPositive))
            #expect(error.description == "layer 'conv1': stride (width) must be at least 1, got 0")
        }
        do {
            _ = try transposedConvolutionOutputSize(input: 5, kernel: 3, stride: 2, outputPadding: 2, layer: "up")
            Issue.record("output_padding 2 with stride 2 accepted")
        } catch {
            #expect(error.field == .outputPadding)
            #expect(error.description.contains("layer 'up': output_padding 2 must be smaller than the stride (2) or the dilation (1)"))
        }
    }

    @Test("size arithmetic that would overflow is an error, not a wrapped size")
    func overflowIsAnError() {
        #expect(throws: ConvolutionArithmeticError(layer: "convolution", field: .padding, value: 1, problem: .overflow)) {
            try convolutionOutputSize(input: Int.max, kernel: 3, padding: 1)
        }
        #expect(throws: ConvolutionArithmeticError.self) { try effectiveKernelSize(kernel: Int.max, dilation: 2) }
        #expect(throws: ConvolutionArithmeticError.self) { try transposedConvolutionOutputSize(input: Int.max / 2, kernel: 3, stride: 4) }
        #expect(throws: ConvolutionArithmeticError.self) { try poolingOutputSize(input: Int.max - 1, kernel: 3, stride: Int.max, ceilMode: true) }
        #expect(throws: ConvolutionArithmeticError.self) { try tensorFlowSamePadding(input: Int.max, kernel: 5, stride: 1) }
    }
}
