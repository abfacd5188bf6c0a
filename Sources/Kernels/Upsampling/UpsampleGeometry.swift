/// An interpolation mode of `torch.nn.functional.interpolate` on 4-D tensors (`antialias=False`).
public enum UpsampleMode: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// `nearest`: the input element at ⌊i·s⌋ (s = in/out or 1/scale_factor); OpenCV's rule, kept
    /// by PyTorch for compatibility. It is not centred: ×2 maps output 0 and 1 to input 0.
    case nearest
    /// `nearest-exact`: the element at ⌊(i + ½)·s⌋, the pixel-centre rule of Pillow and SciPy.
    case nearestExact
    /// `bilinear`: 2 × 2 taps, weights 1 − t and t per axis.
    case bilinear(alignCorners: Bool)
    /// `bicubic`: 4 × 4 taps, Keys' cubic convolution with a = −0.75 per axis.
    case bicubic(alignCorners: Bool)

    /// Taps per axis: 1, 2 or 4.
    public var taps: Int {
        switch self {
        case .nearest, .nearestExact: return 1
        case .bilinear: return 2
        case .bicubic: return 4
        }
    }

    var alignCorners: Bool {
        switch self {
        case .nearest, .nearestExact: return false
        case .bilinear(let align), .bicubic(let align): return align
        }
    }

    /// PyTorch's name, with `-ac` when align_corners is true: `nearest`, `nearest-exact`,
    /// `bilinear`, `bilinear-ac`, `bicubic`, `bicubic-ac`.
    public var description: String {
        switch self {
        case .nearest: return "nearest"
        case .nearestExact: return "nearest-exact"
        case .bilinear(let align): return align ? "bilinear-ac" : "bilinear"
        case .bicubic(let align): return align ? "bicubic-ac" : "bicubic"
        }
    }
}

/// Which of PyTorch's two CPU upsampling kernels' index arithmetic to reproduce. They agree
/// mathematically but not in rounding, and PyTorch picks one per call
/// (`_use_vectorized_kernel_cond_2d` in aten/src/ATen/native/cpu/UpSampleKernel.cpp), so
/// PyTorch's own output depends on the memory layout, the channel count, the output size and
/// even its thread count. Measured against torch 2.x on this machine:
///
/// | mode          | `channelsLast` kernel                        | `generic` kernel (TensorIterator)       |
/// |---------------|----------------------------------------------|-----------------------------------------|
/// | nearest       | out = in → i; out = 2·in → i/2; else ⌊i·s⌋  | ⌊i·s⌋ (no shortcuts)                    |
/// | nearest-exact | ⌊Float((i + ½)·s)⌋, product in Double        | ⌊Float(r + ½)⌋, r = s·(i+½) − ½ fused   |
/// | bilinear      | r = s·(i+½) − ½ with one rounding (FMA)      | r with two roundings                    |
/// | bicubic       | (never used)                                 | r with one rounding (FMA)               |
///
/// The shortcuts matter when a scale factor is given that does not match the sizes: factor
/// 2.1 on 5 pixels gives 10 = 2·5 outputs, which `channelsLast` maps by i/2 and `generic` by
/// ⌊i/2.1⌋. The FMA changes the source coordinate by one unit in its last place, which changes
/// a bilinear weight by up to 2⁻²⁴·coordinate (ratios of 50 u at coordinates near 100).
public enum PyTorchUpsampleKernel: Sendable, Equatable, CaseIterable {
    case channelsLast
    case generic

    /// The kernel PyTorch 2.x picks: `channelsLast` when the input is channels-last contiguous
    /// (an `nhwc` tensor, or any tensor with H·W = 1) with more than 3 channels, or when the
    /// output's height + width is at most 128, or — for bilinear only — when PyTorch runs on one
    /// thread and there are exactly 3 channels; `generic` otherwise. Bicubic always uses
    /// `generic`. `threads` is PyTorch's intra-op thread count (`torch.get_num_threads()`).
    public static func dispatched(
        mode: UpsampleMode, layout: ImageLayout, input: ImageShape,
        outputHeight: Int, outputWidth: Int, threads: Int = 1
    ) -> PyTorchUpsampleKernel {
        if case .bicubic = mode { return .generic }
        let channelsLastContiguous = layout == .nhwc || input.height * input.width == 1
        if (channelsLastContiguous && input.channels > 3) || outputHeight + outputWidth <= 128 { return .channelsLast }
        if case .bilinear = mode, threads == 1, input.channels == 3 { return .channelsLast }
        return .generic
    }

    /// Whether this kernel rounds s·(i + ½) − ½ once (as an FMA) in `mode`.
    func fusesSourceIndex(_ mode: UpsampleMode) -> Bool {
        switch mode {
        case .bilinear: return self == .channelsLast
        case .nearest, .nearestExact, .bicubic: return true
        }
    }
}

/// The shape arithmetic of one `interpolate` call, computed once and shared by every variant
/// (reference, vectorized, threaded): the output shape and, per axis, the input indices and
/// weights each output row and column reads.
///
/// It mirrors `torch.nn.functional.interpolate(input, size, scale_factor, mode, align_corners,
/// recompute_scale_factor)` on a Float tensor:
/// - exactly one of `size` and `scaleFactor` must be given;
/// - with a scale factor f, the output size is ⌊in × f⌋ (the product in Double, as PyTorch);
///   the mapping then uses 1/f unless `recomputeScaleFactor` is true, in which case it uses
///   in/out (the factor only chose the size);
/// - with a size, the mapping uses in/out; `recomputeScaleFactor = true` is an error there;
/// - with align_corners, the mapping uses (in−1)/(out−1) whatever was given.
///
/// Downscaling (an output smaller than the input) is allowed in every mode, as PyTorch allows
/// it; without antialiasing it samples rather than averages.
///
/// - Complexity: O(out_h + out_w) time and memory.
public struct UpsampleGeometry: Sendable {
    public let input: ImageShape
    public let output: ImageShape
    public let layout: ImageLayout
    public let mode: UpsampleMode
    /// The PyTorch kernel whose index arithmetic is reproduced.
    public let pytorchKernel: PyTorchUpsampleKernel
    /// The sampling of the height axis (output rows) and of the width axis (output columns).
    let rows: AxisSampling
    let columns: AxisSampling

    /// Validates the arguments and computes the output shape and the sampling tables.
    ///
    /// - Parameters:
    ///   - input: N × C × H × W, with N ≥ 0 and C, H, W ≥ 1 (H, W and the output's below 2³¹).
    ///   - size: the output (height, width), each ≥ 1.
    ///   - scaleFactor: the (height, width) scale factors, each finite and > 0, with
    ///     ⌊in × f⌋ ≥ 1.
    ///   - recomputeScaleFactor: PyTorch's `recompute_scale_factor` (nil behaves as false).
    ///   - pytorchKernel: whose rounding to reproduce; nil for the one PyTorch dispatches to on
    ///     one thread (`PyTorchUpsampleKernel.dispatched`).
    /// - Throws: `UpsampleError` naming the argument at fault.
    public init(
        input: ImageShape, layout: ImageLayout, mode: UpsampleMode,
        size: (height: Int, width: Int)? = nil, scaleFactor: (height: Double, width: Double)? = nil,
        recomputeScaleFactor: Bool? = nil, pytorchKernel: PyTorchUpsampleKernel? = nil
    ) throws {
        self.input = try input.validated("input")
        self.layout = layout
        self.mode = mode
        let outputHeight: Int, outputWidth: Int
        var mappingFactors: (height: Double, width: Double)?
        switch (size, scaleFactor) {
        case (.some, .some): throw UpsampleError.sizeAndScaleFactor
        case (nil, nil): throw UpsampleError.neitherSizeNorScaleFactor
        case let (.some(size), nil):
            if recomputeScaleFactor == true { throw UpsampleError.recomputeScaleFactorWithSize }
            if size.height < 1 { throw UpsampleError.invalidSize(argument: "size height", value: size.height, minimum: 1) }
            if size.width < 1 { throw UpsampleError.invalidSize(argument: "size width", value: size.width, minimum: 1) }
            (outputHeight, outputWidth) = size
        case let (nil, .some(factors)):
            outputHeight = try Self.outputSize(input.height, factors.height, argument: "scale_factor height")
            outputWidth = try Self.outputSize(input.width, factors.width, argument: "scale_factor width")
            if recomputeScaleFactor != true { mappingFactors = factors }
        }
        output = try ImageShape(batch: input.batch, channels: input.channels, height: outputHeight, width: outputWidth)
            .validated("output")
        // The kernels index columns with 32-bit integers.
        if max(input.height, input.width, outputHeight, outputWidth) > Int(Int32.max) {
            throw UpsampleError.tooLarge(argument: "spatial size", shape: "\(input) → \(output)")
        }
        let kernel = pytorchKernel ?? .dispatched(
            mode: mode, layout: layout, input: input, outputHeight: outputHeight, outputWidth: outputWidth)
        self.pytorchKernel = kernel
        rows = AxisSampling(mode: mode, inputSize: input.height, outputSize: outputHeight,
                            scaleFactor: mappingFactors?.height, kernel: kernel)
        columns = AxisSampling(mode: mode, inputSize: input.width, outputSize: outputWidth,
                               scaleFactor: mappingFactors?.width, kernel: kernel)
    }

    /// ⌊inputSize × factor⌋ with the product in Double, as PyTorch (`compute_output_size` and
    /// `interpolate`'s recompute path both truncate the Double product).
    static func outputSize(_ inputSize: Int, _ factor: Double, argument: String) throws -> Int {
        if !factor.isFinite || factor <= 0 { throw UpsampleError.invalidScaleFactor(argument: argument, value: factor) }
        let product = (Double(inputSize) * factor).rounded(.towardZero)
        guard let size = Int(exactly: product) else {
            throw UpsampleError.tooLarge(argument: argument, shape: "\(inputSize) × \(factor)")
        }
        if size < 1 { throw UpsampleError.emptyOutput(argument: argument, inputSize: inputSize, scaleFactor: factor) }
        return size
    }
}
