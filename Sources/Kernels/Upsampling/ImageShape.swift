/// Memory order of a batch of images: `nchw` (PyTorch's default, "channels first": each channel
/// is a contiguous plane) or `nhwc` (PyTorch's `channels_last`: the channels of one pixel are
/// contiguous).
public enum ImageLayout: String, Sendable, CaseIterable, CustomStringConvertible {
    case nchw, nhwc

    public var description: String { rawValue }
}

/// The logical sizes of a batch of images, N × C × H × W, whatever the memory layout.
public struct ImageShape: Sendable, Equatable, CustomStringConvertible {
    public var batch: Int
    public var channels: Int
    public var height: Int
    public var width: Int

    public init(batch: Int, channels: Int, height: Int, width: Int) {
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// `NxCxHxW`.
    public var description: String { "\(batch)x\(channels)x\(height)x\(width)" }

    /// N·C·H·W. Valid once `validated` has accepted the shape (it checks for overflow).
    public var count: Int { batch * channels * height * width }

    /// The offset of element (n, c, h, w) in a buffer of this shape stored in `layout`. O(1).
    @inline(__always)
    public func offset(n: Int, c: Int, h: Int, w: Int, layout: ImageLayout) -> Int {
        switch layout {
        case .nchw: return ((n * channels + c) * height + h) * width + w
        case .nhwc: return ((n * height + h) * width + w) * channels + c
        }
    }

    /// Throws unless the batch is at least 0, the other sizes at least `minimumSpatialSize`
    /// (channels at least 1), and N·C·H·W fits in an `Int`. `role` names the tensor in messages
    /// ("input", "output").
    func validated(_ role: String, minimumSpatialSize: Int = 1) throws -> ImageShape {
        if batch < 0 { throw UpsampleError.invalidSize(argument: "\(role) batch", value: batch, minimum: 0) }
        if channels < 1 { throw UpsampleError.invalidSize(argument: "\(role) channels", value: channels, minimum: 1) }
        if height < minimumSpatialSize {
            throw UpsampleError.invalidSize(argument: "\(role) height", value: height, minimum: minimumSpatialSize)
        }
        if width < minimumSpatialSize {
            throw UpsampleError.invalidSize(argument: "\(role) width", value: width, minimum: minimumSpatialSize)
        }
        var total = 1
        for size in [batch, channels, height, width] {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            if overflow { throw UpsampleError.tooLarge(argument: role, shape: description) }
            total = product
        }
        return self
    }
}

/// Bad arguments to an upsampling or pixel-shuffle kernel. Each message names the argument at
/// fault and its value, in PyTorch's vocabulary (`size`, `scale_factor`, `upscale_factor`, ...).
public enum UpsampleError: Error, CustomStringConvertible, Equatable {
    /// A size below its minimum (a zero or negative height, width, channel count or `size`).
    case invalidSize(argument: String, value: Int, minimum: Int)
    /// A scale factor that is zero, negative, infinite or NaN.
    case invalidScaleFactor(argument: String, value: Double)
    /// A scale factor whose output size floor(input × factor) is zero.
    case emptyOutput(argument: String, inputSize: Int, scaleFactor: Double)
    /// Both `size` and `scale_factor` given (PyTorch: "only one of size or scale_factor should be defined").
    case sizeAndScaleFactor
    /// Neither `size` nor `scale_factor` given.
    case neitherSizeNorScaleFactor
    /// `recompute_scale_factor = true` with an explicit size, which PyTorch rejects.
    case recomputeScaleFactorWithSize
    /// A pixel shuffle's channel count not divisible by r², or an unshuffle's height or width not
    /// divisible by r.
    case notDivisible(argument: String, value: Int, divisor: Int)
    /// The output (or input) has more elements than an `Int` can count, or an output size
    /// overflows.
    case tooLarge(argument: String, shape: String)

    public var description: String {
        switch self {
        case let .invalidSize(argument, value, minimum):
            return "\(argument) must be at least \(minimum), got \(value)"
        case let .invalidScaleFactor(argument, value):
            return "\(argument) must be a finite number greater than 0, got \(value)"
        case let .emptyOutput(argument, inputSize, scaleFactor):
            return "\(argument) \(scaleFactor) gives an empty output: floor(\(inputSize) × \(scaleFactor)) = 0"
        case .sizeAndScaleFactor:
            return "size and scale_factor: only one of them may be given"
        case .neitherSizeNorScaleFactor:
            return "size or scale_factor: one of them must be given"
        case .recomputeScaleFactorWithSize:
            return "recompute_scale_factor: not meaningful with an explicit size"
        case let .notDivisible(argument, value, divisor):
            return "\(argument) must be divisible by \(divisor), got \(value)"
        case let .tooLarge(argument, shape):
            return "\(argument) \(shape) has more elements than an Int can count"
        }
    }
}
