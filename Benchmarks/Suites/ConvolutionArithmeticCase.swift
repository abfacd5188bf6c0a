import Foundation
import Crosscheck
import Kernels

/// One PyTorch shape inference from reference/receptive_field/golden.json (written by
/// make_golden.py beside it): [input, kernel, stride, padding, dilation, extra, output or null,
/// error kind or null]; `extra` is ceil_mode (max_pool2d) or output_padding (conv_transpose2d).
public struct PyTorchSizeCase: Decodable, Sendable, CustomStringConvertible {
    public var input, kernel, stride, padding, dilation, extra: Int
    public var output: Int?
    public var error: String?

    public init(from decoder: Decoder) throws {
        var row = try decoder.unkeyedContainer()
        input = try row.decode(Int.self)
        kernel = try row.decode(Int.self)
        stride = try row.decode(Int.self)
        padding = try row.decode(Int.self)
        dilation = try row.decode(Int.self)
        extra = try row.decode(Int.self)
        output = try row.decodeIfPresent(Int.self)
        error = try row.decodeIfPresent(String.self)
    }

    public var description: String { "i=\(input) k=\(kernel) s=\(stride) p=\(padding) d=\(dilation) extra=\(extra)" }
}

/// The whole table: PyTorch's version, its messages, and the cases per operation.
public struct PyTorchSizes: Decodable, Sendable {
    public var torch_version: String
    public var messages: [String: String]
    public var ops: [String: [PyTorchSizeCase]]

    /// reference/receptive_field/golden.json of this source tree.
    public static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("reference/receptive_field/golden.json")
}

/// The kind of an arithmetic error, as make_golden.py classifies PyTorch's messages.
public func pyTorchErrorKind(_ error: ConvolutionArithmeticError) -> String {
    switch (error.problem, error.field) {
    case (.notPositive, .stride): "stride_not_positive"
    case (.notPositive, .dilation): "dilation_not_positive"
    case (.notPositive, .kernel): "kernel_not_positive"
    case (.negative, .outputPadding): "output_padding_negative"
    case (.negative, .padding): "padding_negative"
    case (.poolPaddingExceedsHalfKernel, _): "pool_padding_exceeds_half_kernel"
    case (.kernelExceedsPaddedInput, _): "kernel_exceeds_padded_input"
    case (.outputPaddingNotBelowStrideOrDilation, _): "output_padding_too_large"
    case (.outputTooSmall, _): "output_too_small"
    default: "other: \(error)"
    }
}

/// The output-size arithmetic against PyTorch's own shape inference, as a verify-only case of
/// the rf family: every size and every rejection of about 3,600 combinations of convolution,
/// pooling (with ceil_mode) and transposed convolution must match. The receptive-field recursions
/// rest on this arithmetic, and nothing else in a run checks it against an independent oracle.
public final class ConvolutionArithmeticCase: PreparedCase {
    let table: PyTorchSizes

    init() throws {
        do {
            table = try JSONDecoder().decode(PyTorchSizes.self, from: Data(contentsOf: PyTorchSizes.url))
        } catch {
            throw Skip("PyTorch's shape table \(PyTorchSizes.url.path) cannot be read here (\(error)); it is read from the source tree")
        }
    }

    /// Every case's output size or rejection by the project's arithmetic, by operation.
    func compute() -> [(op: String, case: PyTorchSizeCase, result: Result<Int, ConvolutionArithmeticError>)] {
        table.ops.sorted { $0.key < $1.key }.flatMap { op, cases in
            cases.map { c in
                let result: Result<Int, ConvolutionArithmeticError>
                switch op {
                case "conv2d":
                    result = Result { () throws(ConvolutionArithmeticError) in
                        try convolutionOutputSize(input: c.input, kernel: c.kernel, stride: c.stride, padding: c.padding, dilation: c.dilation)
                    }
                case "max_pool2d":
                    result = Result { () throws(ConvolutionArithmeticError) in
                        try poolingOutputSize(input: c.input, kernel: c.kernel, stride: c.stride, padding: c.padding, dilation: c.dilation,
                                              ceilMode: c.extra == 1)
                    }
                default:
                    result = Result { () throws(ConvolutionArithmeticError) in
                        try transposedConvolutionOutputSize(input: c.input, kernel: c.kernel, stride: c.stride, padding: c.padding,
                                                            outputPadding: c.extra, dilation: c.dilation)
                    }
                }
                return (op, c, result)
            }
        }
    }

    /// Exact: the same size, or a rejection of the same kind, for every case.
    public func check(_ results: [(op: String, case: PyTorchSizeCase, result: Result<Int, ConvolutionArithmeticError>)]) -> Verification {
        let expected = table.ops.values.reduce(0) { $0 + $1.count }
        var mismatches: [String] = []
        for (op, c, result) in results {
            switch (result, c.output, c.error) {
            case (.success(let size), let wanted?, nil) where size == wanted: break
            case (.failure(let error), nil, let kind?) where pyTorchErrorKind(error) == kind: break
            default: mismatches.append("\(op) \(c): got \(result), PyTorch \(c.output.map(String.init) ?? c.error ?? "?")")
            }
        }
        return Verification(
            model: "exact", criteria: [Criterion("mismatches", value: Double(mismatches.count), bound: 0),
                                       Criterion("missing", value: Double(max(0, expected - results.count)), bound: 0)],
            maxAbsError: mismatches.isEmpty ? 0 : .nan, maxRelError: mismatches.isEmpty ? 0 : .nan,
            worst: mismatches.first ?? "",
            note: mismatches.isEmpty ? "\(results.count) shape inferences of PyTorch \(table.torch_version) reproduced" : "\(mismatches.count) of \(expected) differ")
    }

    static let variants = [Variant<ConvolutionArithmeticCase>("arithmetic") { c, _ in c.compute() }]

    /// The case, named `pytorch-shapes`.
    static func makeCase() -> Case {
        Case(kernel: "rf", dtype: .none, shape: ReceptiveFieldSpec.pyTorchShapes, workload: Workload(flops: 0, bytes: 0), memoryBytes: 16 << 20,
             reference: nil, variants: variants, verifyOnly: true, prepare: { try ConvolutionArithmeticCase() })
    }
}
