/// The shape of a 2-D convolution layer: sizes, stride, padding, dilation, groups and memory
/// layout, validated once, with the output size (from ConvolutionArithmetic.swift's
/// `convolutionOutputSize` and `transposedConvolutionOutputSize`, the one home of those formulas)
/// and every buffer's element count computed with overflow-checked arithmetic. Every convolution
/// kernel takes one of these, so one value decides each buffer's size and its use.

/// The memory layout of a convolution's activations and weights. Both are PyTorch's: NHWC is the
/// memory order of the same tensors in `torch.channels_last` format.
public enum ConvolutionLayout: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Activations [N][C][H][W]; convolution weights [C_out][C_in/groups][kh][kw];
    /// transposed-convolution weights [C_in][C_out/groups][kh][kw].
    case nchw
    /// Activations [N][H][W][C]; convolution weights [C_out][kh][kw][C_in/groups];
    /// transposed-convolution weights [C_in][kh][kw][C_out/groups].
    case nhwc

    public var description: String { rawValue }
}

/// A per-axis pair of a layer argument (stride, padding, dilation, output padding):
/// `height` applies along rows, `width` along columns. An integer literal sets both.
public struct Spatial2D: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    public init(integerLiteral value: Int) { self.init(value, value) }

    /// `2` when both axes agree, `2x1` otherwise.
    public var description: String { height == width ? "\(height)" : "\(height)x\(width)" }
}

/// A convolution layer's arguments do not describe a valid layer, or a buffer does not fit it.
/// Each message names the argument (PyTorch's name for it) and the value at fault.
public enum ConvolutionError: Error, CustomStringConvertible, Equatable {
    /// An argument that must be positive (channels, groups, threads) is not.
    case notPositive(argument: String, value: Int)
    /// The batch is negative.
    case negative(argument: String, value: Int)
    /// `in_channels` or `out_channels` is not a multiple of `groups`.
    case channelsNotDivisibleByGroups(argument: String, channels: Int, groups: Int)
    /// An axis's sizes, kernel, stride, padding, dilation or output padding do not make a layer
    /// (a kernel larger than the padded input, zero stride, negative padding, output padding not
    /// below stride or dilation, …): the output-size arithmetic's error, naming layer, field,
    /// axis and value.
    case layer(ConvolutionArithmeticError)
    /// An element count does not fit in `Int`.
    case sizeOverflow(argument: String)
    /// A buffer holds fewer elements than the layer reads or writes.
    case bufferTooSmall(argument: String, count: Int, required: Int)
    /// The algorithm does not apply to this layer (Winograd: 3×3, stride 1, dilation 1 only).
    case unsupported(algorithm: String, reason: String)

    public var description: String {
        switch self {
        case let .notPositive(argument, value):
            return "convolution: \(argument) must be positive, got \(value)"
        case let .negative(argument, value):
            return "convolution: \(argument) must not be negative, got \(value)"
        case let .channelsNotDivisibleByGroups(argument, channels, groups):
            return "convolution: \(argument) = \(channels) is not divisible by groups = \(groups)"
        case let .layer(error):
            return error.description
        case let .sizeOverflow(argument):
            return "convolution: \(argument) overflows Int"
        case let .bufferTooSmall(argument, count, required):
            return "convolution: \(argument) holds \(count) elements, the layer needs \(required)"
        case let .unsupported(algorithm, reason):
            return "convolution: \(algorithm) does not apply: \(reason)"
        }
    }
}

func checkedProduct(_ a: Int, _ b: Int, _ argument: String) throws -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    if overflow { throw ConvolutionError.sizeOverflow(argument: argument) }
    return product
}

func checkedSum(_ a: Int, _ b: Int, _ argument: String) throws -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    if overflow { throw ConvolutionError.sizeOverflow(argument: argument) }
    return sum
}

/// The product of `factors`, checked; `argument` names the count in the error.
func checkedCount(_ factors: [Int], _ argument: String) throws -> Int {
    try factors.reduce(1) { try checkedProduct($0, $1, argument) }
}

/// The arguments shared by convolution and transposed convolution, checked once.
private func checkLayerArguments(batch: Int, inputChannels: Int, outputChannels: Int, groups: Int) throws {
    if batch < 0 { throw ConvolutionError.negative(argument: "batch", value: batch) }
    if inputChannels < 1 { throw ConvolutionError.notPositive(argument: "in_channels", value: inputChannels) }
    if outputChannels < 1 { throw ConvolutionError.notPositive(argument: "out_channels", value: outputChannels) }
    if groups < 1 { throw ConvolutionError.notPositive(argument: "groups", value: groups) }
    if inputChannels % groups != 0 {
        throw ConvolutionError.channelsNotDivisibleByGroups(argument: "in_channels", channels: inputChannels, groups: groups)
    }
    if outputChannels % groups != 0 {
        throw ConvolutionError.channelsNotDivisibleByGroups(argument: "out_channels", channels: outputChannels, groups: groups)
    }
}

/// What convolution and transposed convolution layers share: the activations' sizes, layout
/// and element counts, and the positions of elements in their buffers.
public protocol ConvolutionLayerGeometry: Sendable {
    var batch: Int { get }
    var inputChannels: Int { get }
    var inputHeight: Int { get }
    var inputWidth: Int { get }
    var outputChannels: Int { get }
    var outputHeight: Int { get }
    var outputWidth: Int { get }
    var kernelHeight: Int { get }
    var kernelWidth: Int { get }
    var groups: Int { get }
    var layout: ConvolutionLayout { get }
    var inputCount: Int { get }
    var weightCount: Int { get }
    var outputCount: Int { get }
}

extension ConvolutionLayerGeometry {
    public var inputChannelsPerGroup: Int { inputChannels / groups }
    public var outputChannelsPerGroup: Int { outputChannels / groups }

    /// Position of x[n, c, y, x] in the input buffer.
    @inline(__always)
    public func inputIndex(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Int {
        layout == .nchw
            ? ((n * inputChannels + c) * inputHeight + y) * inputWidth + x
            : ((n * inputHeight + y) * inputWidth + x) * inputChannels + c
    }

    /// Position of y[n, c, y, x] in the output buffer.
    @inline(__always)
    public func outputIndex(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Int {
        layout == .nchw
            ? ((n * outputChannels + c) * outputHeight + y) * outputWidth + x
            : ((n * outputHeight + y) * outputWidth + x) * outputChannels + c
    }

    /// `N8-C64x56x56-K64x3x3`: batch, input channels × height × width, output channels × kernel.
    var sizeDescription: String {
        "N\(batch)-C\(inputChannels)x\(inputHeight)x\(inputWidth)-K\(outputChannels)x\(kernelHeight)x\(kernelWidth)"
    }

    /// Throws unless the buffers hold the layer's input, weights, bias (C_out, when present) and
    /// output.
    func checkBuffers(input: Int, weight: Int, bias: Int?, output: Int) throws {
        if input < inputCount { throw ConvolutionError.bufferTooSmall(argument: "input", count: input, required: inputCount) }
        if weight < weightCount { throw ConvolutionError.bufferTooSmall(argument: "weight", count: weight, required: weightCount) }
        if let bias, bias < outputChannels { throw ConvolutionError.bufferTooSmall(argument: "bias", count: bias, required: outputChannels) }
        if output < outputCount { throw ConvolutionError.bufferTooSmall(argument: "output", count: output, required: outputCount) }
    }
}

/// A 2-D convolution layer applied to a batch (PyTorch's `conv2d`):
///
///     y[n, co, oy, ox] = b[co] + Σ_{ci, ky, kx} w[co, ci, ky, kx] · x[n, g·C_in/G + ci, oy·s_h + ky·d_h − p_h, ox·s_w + kx·d_w − p_w]
///
/// with g = co / (C_out/G) the group of output channel co, ci over the group's C_in/G input
/// channels, and x zero outside the image. Depthwise convolution is G = C_in = C_out.
/// The memory order of x, w and y is `layout`'s.
public struct Conv2DGeometry: ConvolutionLayerGeometry, Hashable, CustomStringConvertible {
    public let batch: Int
    public let inputChannels: Int, inputHeight: Int, inputWidth: Int
    public let outputChannels: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let stride: Spatial2D, padding: Spatial2D, dilation: Spatial2D
    public let groups: Int
    public let layout: ConvolutionLayout
    /// From `convolutionOutputSize`.
    public let outputHeight: Int, outputWidth: Int
    /// Elements of the input (N·C_in·H·W), the weights (C_out·(C_in/G)·kh·kw) and the output
    /// (N·C_out·H_out·W_out).
    public let inputCount: Int, weightCount: Int, outputCount: Int

    /// - Throws: `ConvolutionError` naming the argument at fault: batch < 0, channels or groups
    ///   < 1, channels not divisible by groups, an element count that overflows, or (`.layer`) an
    ///   axis whose size, kernel, stride or dilation is below 1, whose padding is negative, or
    ///   whose kernel is larger than the padded input.
    public init(
        batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int, outputChannels: Int,
        kernelHeight: Int, kernelWidth: Int, stride: Spatial2D = 1, padding: Spatial2D = 0, dilation: Spatial2D = 1,
        groups: Int = 1, layout: ConvolutionLayout = .nchw
    ) throws {
        try checkLayerArguments(batch: batch, inputChannels: inputChannels, outputChannels: outputChannels, groups: groups)
        do {
            outputHeight = try convolutionOutputSize(input: inputHeight, kernel: kernelHeight, stride: stride.height, padding: padding.height,
                                                     dilation: dilation.height, layer: "conv2d", axis: .height)
            outputWidth = try convolutionOutputSize(input: inputWidth, kernel: kernelWidth, stride: stride.width, padding: padding.width,
                                                    dilation: dilation.width, layer: "conv2d", axis: .width)
        } catch {
            throw ConvolutionError.layer(error)
        }
        self.batch = batch
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.layout = layout
        inputCount = try checkedCount([batch, inputChannels, inputHeight, inputWidth], "input element count")
        weightCount = try checkedCount([outputChannels, inputChannels / groups, kernelHeight, kernelWidth], "weight element count")
        outputCount = try checkedCount([batch, outputChannels, outputHeight, outputWidth], "output element count")
        // Work sizes the kernels form from these (im2col columns per image, with all channels).
        _ = try checkedCount([inputChannels, kernelHeight, kernelWidth, outputHeight, outputWidth, max(batch, 1)], "im2col element count")
    }

    /// k = (C_in/G)·kh·kw: the number of products summed into each output element.
    public var reductionLength: Int { inputChannelsPerGroup * kernelHeight * kernelWidth }
    /// Output pixels of one image, H_out·W_out.
    public var outputPixels: Int { outputHeight * outputWidth }
    /// Depthwise: each output channel reads exactly one input channel (C_in/G = C_out/G = 1).
    public var isDepthwise: Bool { inputChannelsPerGroup == 1 && outputChannelsPerGroup == 1 }
    /// 2·N·C_out·H_out·W_out·k: the multiply-adds of the direct sum, the unit every variant's
    /// throughput is counted in (a Winograd variant can exceed the machine's peak in it).
    public var directFlops: Double { 2 * Double(outputCount) * Double(reductionLength) }

    /// Position of w[co, ci, ky, kx] (ci within the group) in the weight buffer.
    @inline(__always)
    public func weightIndex(_ co: Int, _ ci: Int, _ ky: Int, _ kx: Int) -> Int {
        layout == .nchw
            ? ((co * inputChannelsPerGroup + ci) * kernelHeight + ky) * kernelWidth + kx
            : ((co * kernelHeight + ky) * kernelWidth + kx) * inputChannelsPerGroup + ci
    }

    /// `N8-C64x56x56-K64x3x3-s1-p1-d1-g1-nchw`: batch, input channels × height × width, output
    /// channels × kernel, stride, padding, dilation, groups, layout.
    public var description: String {
        sizeDescription + "-s\(stride)-p\(padding)-d\(dilation)-g\(groups)-\(layout)"
    }
}

/// A 2-D transposed convolution layer applied to a batch (PyTorch's `conv_transpose2d`), the
/// adjoint of the convolution with the same arguments: every input element scatters its
/// weighted kernel into the output,
///
///     y[n, g·C_out/G + co, iy·s_h + ky·d_h − p_h, ix·s_w + kx·d_w − p_w] += w[g·C_in/G + ci, co, ky, kx] · x[n, g·C_in/G + ci, iy, ix]
///
/// (positions outside the output dropped), plus b[co]. The output size is
/// `transposedConvolutionOutputSize`'s. The memory order of x, w and y is `layout`'s.
public struct ConvTranspose2DGeometry: ConvolutionLayerGeometry, Hashable, CustomStringConvertible {
    public let batch: Int
    public let inputChannels: Int, inputHeight: Int, inputWidth: Int
    public let outputChannels: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let stride: Spatial2D, padding: Spatial2D, dilation: Spatial2D, outputPadding: Spatial2D
    public let groups: Int
    public let layout: ConvolutionLayout
    public let outputHeight: Int, outputWidth: Int
    /// Elements of the input (N·C_in·H·W), the weights (C_in·(C_out/G)·kh·kw) and the output.
    public let inputCount: Int, weightCount: Int, outputCount: Int

    /// - Throws: `ConvolutionError` naming the argument at fault, as `Conv2DGeometry`, and
    ///   (`.layer`) for output_padding < 0, output_padding not below stride or dilation, or an
    ///   empty output.
    public init(
        batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int, outputChannels: Int,
        kernelHeight: Int, kernelWidth: Int, stride: Spatial2D = 1, padding: Spatial2D = 0, dilation: Spatial2D = 1,
        outputPadding: Spatial2D = 0, groups: Int = 1, layout: ConvolutionLayout = .nchw
    ) throws {
        try checkLayerArguments(batch: batch, inputChannels: inputChannels, outputChannels: outputChannels, groups: groups)
        do {
            outputHeight = try transposedConvolutionOutputSize(
                input: inputHeight, kernel: kernelHeight, stride: stride.height, padding: padding.height, outputPadding: outputPadding.height,
                dilation: dilation.height, layer: "conv_transpose2d", axis: .height)
            outputWidth = try transposedConvolutionOutputSize(
                input: inputWidth, kernel: kernelWidth, stride: stride.width, padding: padding.width, outputPadding: outputPadding.width,
                dilation: dilation.width, layer: "conv_transpose2d", axis: .width)
        } catch {
            throw ConvolutionError.layer(error)
        }
        self.batch = batch
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.outputPadding = outputPadding
        self.groups = groups
        self.layout = layout
        inputCount = try checkedCount([batch, inputChannels, inputHeight, inputWidth], "input element count")
        weightCount = try checkedCount([inputChannels, outputChannels / groups, kernelHeight, kernelWidth], "weight element count")
        outputCount = try checkedCount([batch, outputChannels, outputHeight, outputWidth], "output element count")
        // The column buffer of one image: (C_out·kh·kw) × (H·W).
        _ = try checkedCount([outputChannels, kernelHeight, kernelWidth, inputHeight, inputWidth, max(batch, 1)], "column element count")
    }

    /// (C_in/G)·kh·kw: the most products any output element sums (interior elements of a
    /// stride-1 layer sum all of them; with stride s about 1/(s_h·s_w) of them).
    public var reductionLength: Int { inputChannelsPerGroup * kernelHeight * kernelWidth }
    /// 2·N·C_in·H·W·(C_out/G)·kh·kw: the multiply-adds of the scatter, including the products
    /// that fall outside the output and are dropped (what the GEMM computes).
    public var directFlops: Double { 2 * Double(inputCount) * Double(outputChannelsPerGroup * kernelHeight * kernelWidth) }

    /// Position of w[ci, co, ky, kx] (ci over all input channels, co within the group) in the
    /// weight buffer.
    @inline(__always)
    public func weightIndex(_ ci: Int, _ co: Int, _ ky: Int, _ kx: Int) -> Int {
        layout == .nchw
            ? ((ci * outputChannelsPerGroup + co) * kernelHeight + ky) * kernelWidth + kx
            : ((ci * kernelHeight + ky) * kernelWidth + kx) * outputChannelsPerGroup + co
    }

    /// `N1-C16x7x7-K8x3x3-s2-p1-d1-op1-g1-nchw`, as `Conv2DGeometry`'s with the output padding.
    public var description: String {
        sizeDescription + "-s\(stride)-p\(padding)-d\(dilation)-op\(outputPadding)-g\(groups)-\(layout)"
    }
}
