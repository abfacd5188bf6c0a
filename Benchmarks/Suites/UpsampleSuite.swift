import Crosscheck
import Kernels

/// One upsampling workload: an interpolation (`torch.nn.functional.interpolate`) or a pixel
/// shuffle/unshuffle of a batch of Float images.
///
/// Notation (the `shape` column): `NxCxHxW-OP[-ac]-SCALE[-rc][-nhwc]` with OP `nearest`,
/// `nearest-exact`, `bilinear` or `bicubic`, `-ac` for align_corners, SCALE either `xF` or
/// `xFH:FW` (scale factors; `:` because `,` separates sizes on the command line) or `toHxW` (an output size), `-rc` for recompute_scale_factor; or
/// `NxCxHxW-shuffle-rR` / `NxCxHxW-unshuffle-rR`. `-nhwc` stores both tensors channels-last.
/// Examples: `1x64x256x256-bilinear-x2`, `8x3x512x512-nearest-exact-x1.5:2.7-rc`,
/// `1x2x5x7-bicubic-ac-to9x11-nhwc`, `1x256x128x128-shuffle-r2`; and `NxCxHxW-convtranspose-xF`,
/// the learned upsampling layer (see `Operation.transposedConvolution`).
public struct UpsampleSpec: Sendable, Equatable, CustomStringConvertible {
    public enum Operation: Sendable, Equatable {
        case interpolate(UpsampleMode)
        case pixelShuffle(PixelShuffleGeometry.Direction, factor: Int)
        /// The learned alternative: a transposed convolution C → C with an F × F kernel and
        /// stride F (U-Net's up-convolution), computed by the convolution family's kernels.
        case transposedConvolution(factor: Int)
    }

    public var input: ImageShape
    public var operation: Operation
    public var layout: ImageLayout
    /// The (height, width) scale factors, or nil with `size`.
    public var scaleFactor: [Double]?
    /// The output (height, width), or nil with `scaleFactor`.
    public var size: [Int]?
    public var recomputeScaleFactor = false

    public init(_ input: ImageShape, _ operation: Operation, layout: ImageLayout = .nchw,
                scaleFactor: [Double]? = nil, size: [Int]? = nil, recomputeScaleFactor: Bool = false) {
        self.input = input
        self.operation = operation
        self.layout = layout
        self.scaleFactor = scaleFactor
        self.size = size
        self.recomputeScaleFactor = recomputeScaleFactor
    }

    /// An interpolation of `input` by `factor` on both axes.
    public static func interpolate(_ n: Int, _ c: Int, _ h: Int, _ w: Int, _ mode: UpsampleMode, by factor: Double,
                                   layout: ImageLayout = .nchw) -> UpsampleSpec {
        UpsampleSpec(ImageShape(batch: n, channels: c, height: h, width: w), .interpolate(mode), layout: layout, scaleFactor: [factor, factor])
    }

    public var description: String {
        var text = input.description
        switch operation {
        case let .interpolate(mode):
            text += "-\(mode)"
            if let scaleFactor {
                text += "-x" + (scaleFactor[0] == scaleFactor[1] ? format(scaleFactor[0]) : scaleFactor.map(format).joined(separator: ":"))
            }
            if let size { text += "-to\(size[0])x\(size[1])" }
            if recomputeScaleFactor { text += "-rc" }
        case let .pixelShuffle(direction, factor):
            text += "-\(direction.rawValue)-r\(factor)"
        case let .transposedConvolution(factor):
            text += "-convtranspose-x\(factor)"
        }
        return text + (layout == .nhwc ? "-nhwc" : "")
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// The upsampling family: PyTorch's `interpolate` (nearest, nearest-exact, bilinear, bicubic, with
/// and without align_corners, by scale factor or to a size) and `pixel_shuffle`/`pixel_unshuffle`
/// on Float NCHW or NHWC batches, each with the reference loops (Double), the vectorized kernel
/// on one thread (`simd`) and on several (`parallel`).
///
/// Memory-bound: the workload's bytes are the input read once and the output written once,
/// 4·(in + out), and `pct_peak` compares GB/s with the triad bandwidth. Flops (nominal, for
/// interpolation): two separable blends of `taps` terms per output, 2·(2·taps − 1) each.
///
/// Error models: nearest modes and shuffles exact, bit for bit; bilinear and bicubic
/// |ŷ − y| ≤ γ_k·Σ|w||x| per output against the Double reference, k = 6 and 10
/// (`UpsampleMode.roundingsInBound`, derived there), err_ratio = |ŷ − y| / (u·Σ|w||x|).
public enum UpsampleSuite {
    /// The shapes of the targets: ×2 nearest, bilinear and bicubic on 1×64×256×256 and
    /// 8×3×512×512, pixel shuffle r = 2 and 3; besides them nearest-exact, align_corners and a
    /// non-integer scale (the gathered columns), and NHWC.
    public static let defaults: [UpsampleSpec] = [
        .interpolate(1, 64, 256, 256, .nearest, by: 2),
        .interpolate(1, 64, 256, 256, .bilinear(alignCorners: false), by: 2),
        .interpolate(1, 64, 256, 256, .bicubic(alignCorners: false), by: 2),
        .interpolate(8, 3, 512, 512, .nearest, by: 2),
        .interpolate(8, 3, 512, 512, .bilinear(alignCorners: false), by: 2),
        .interpolate(8, 3, 512, 512, .bicubic(alignCorners: false), by: 2),
        .interpolate(1, 64, 256, 256, .nearestExact, by: 2),
        .interpolate(1, 64, 256, 256, .bilinear(alignCorners: true), by: 2),
        .interpolate(1, 64, 256, 256, .bilinear(alignCorners: false), by: 2.7),
        .interpolate(1, 64, 256, 256, .bilinear(alignCorners: false), by: 2, layout: .nhwc),
        UpsampleSpec(ImageShape(batch: 1, channels: 256, height: 128, width: 128), .pixelShuffle(.shuffle, factor: 2)),
        UpsampleSpec(ImageShape(batch: 1, channels: 288, height: 128, width: 128), .pixelShuffle(.shuffle, factor: 3)),
        UpsampleSpec(ImageShape(batch: 1, channels: 64, height: 256, width: 256), .pixelShuffle(.unshuffle, factor: 2)),
        // The learned alternative at the same scale as the ×2 interpolations.
        UpsampleSpec(ImageShape(batch: 1, channels: 64, height: 256, width: 256), .transposedConvolution(factor: 2)),
        UpsampleSpec(ImageShape(batch: 8, channels: 3, height: 512, width: 512), .transposedConvolution(factor: 2)),
    ]

    /// Every mode ×2 on 1×16×128×128 (1 MB in, 4 MB out), a non-integer scale, NHWC, and the
    /// shuffles on 1×64×64×64.
    public static let quick: [UpsampleSpec] =
        [UpsampleMode.nearest, .nearestExact, .bilinear(alignCorners: false), .bilinear(alignCorners: true),
         .bicubic(alignCorners: false), .bicubic(alignCorners: true)].map { .interpolate(1, 16, 128, 128, $0, by: 2) } + [
            .interpolate(1, 16, 128, 128, .bilinear(alignCorners: false), by: 1.5),
            .interpolate(1, 16, 128, 128, .bilinear(alignCorners: false), by: 2, layout: .nhwc),
            UpsampleSpec(ImageShape(batch: 1, channels: 64, height: 64, width: 64), .pixelShuffle(.shuffle, factor: 2)),
            UpsampleSpec(ImageShape(batch: 1, channels: 72, height: 64, width: 64), .pixelShuffle(.shuffle, factor: 3)),
            UpsampleSpec(ImageShape(batch: 1, channels: 16, height: 128, width: 128), .transposedConvolution(factor: 2)),
        ]

    /// What `swift test` walks: every mode through every path of the kernels — period-2 columns
    /// (×2, ≥ 64 output columns), gathered columns (non-integer scales, align_corners), NHWC with
    /// channel vectors and a tail (C = 19) and without (C = 3), an output size, downscaling,
    /// recompute_scale_factor, one-pixel inputs — outputs large enough for 2 and 3 threads
    /// (2¹⁷ elements each), and shuffles with r = 1 to 4 in both layouts, vector paths and tails.
    public static var test: [UpsampleSpec] {
        let modes: [UpsampleMode] = [.nearest, .nearestExact, .bilinear(alignCorners: false), .bilinear(alignCorners: true),
                                     .bicubic(alignCorners: false), .bicubic(alignCorners: true)]
        var specs: [UpsampleSpec] = []
        for mode in modes {
            specs.append(.interpolate(1, 4, 100, 130, mode, by: 2))
            specs.append(UpsampleSpec(ImageShape(batch: 2, channels: 19, height: 5, width: 6), .interpolate(mode), layout: .nhwc,
                                      scaleFactor: [1.5, 2.7]))
            specs.append(UpsampleSpec(ImageShape(batch: 1, channels: 3, height: 7, width: 9), .interpolate(mode), layout: .nhwc,
                                      size: [13, 4]))
            specs.append(UpsampleSpec(ImageShape(batch: 3, channels: 2, height: 11, width: 37), .interpolate(mode),
                                      scaleFactor: [2.1, 0.6], recomputeScaleFactor: true))
            specs.append(UpsampleSpec(ImageShape(batch: 2, channels: 1, height: 1, width: 1), .interpolate(mode), size: [3, 70]))
        }
        for layout in ImageLayout.allCases {
            specs += [
                UpsampleSpec(ImageShape(batch: 1, channels: 64, height: 64, width: 70), .pixelShuffle(.shuffle, factor: 2), layout: layout),
                UpsampleSpec(ImageShape(batch: 2, channels: 18, height: 3, width: 35), .pixelShuffle(.shuffle, factor: 3), layout: layout),
                UpsampleSpec(ImageShape(batch: 1, channels: 32, height: 2, width: 5), .pixelShuffle(.shuffle, factor: 4), layout: layout),
                UpsampleSpec(ImageShape(batch: 1, channels: 3, height: 4, width: 5), .pixelShuffle(.shuffle, factor: 1), layout: layout),
                UpsampleSpec(ImageShape(batch: 1, channels: 16, height: 128, width: 140), .pixelShuffle(.unshuffle, factor: 2), layout: layout),
                UpsampleSpec(ImageShape(batch: 1, channels: 2, height: 9, width: 51), .pixelShuffle(.unshuffle, factor: 3), layout: layout),
            ]
        }
        for layout in ImageLayout.allCases {
            specs.append(UpsampleSpec(ImageShape(batch: 2, channels: 5, height: 7, width: 9), .transposedConvolution(factor: 2), layout: layout))
        }
        return specs
    }

    public static let notation = "NxCxHxW-MODE[-ac]-xF[:F]|toHxW[-rc][-nhwc], MODE nearest|nearest-exact|bilinear|bicubic; or NxCxHxW-shuffle|unshuffle-rR[-nhwc]; or NxCxHxW-convtranspose-xF[-nhwc]"

    public static let family = Family(
        name: "upsample",
        summary: "interpolate (nearest, nearest-exact, bilinear, bicubic) and pixel shuffle/unshuffle as PyTorch's CPU kernels, and the learned alternative (transposed convolution, the conv family's kernels), Float; shape is the input and the operation",
        elementTypes: [.f32],
        sizes: Sizes(notation: notation, parse: parse, defaults: defaults, quick: quick, test: test),
        cases: { spec, _ in [try makeCase(spec)] })

    /// The variants: `reference` (plain loops in Double), `simd` (the vectorized kernel on one
    /// thread) and `parallel` (on `threads`). Each writes the case's output.
    public static let variants: [Variant<UpsampleInstance>] = [
        Variant("reference", check: { c, _ in c.checkReferenceOutput() }) { c, _ in c.runReference() },
        Variant("simd") { c, _ in c.runKernel(threads: 1) },
        Variant("parallel", threaded: true) { c, threads in c.runKernel(threads: threads) },
    ]

    /// The case of `spec`; throws a `CaseRequestError` carrying the kernels' own message when the
    /// arguments are invalid (zero scale, channels not divisible by r², ...).
    public static func makeCase(_ spec: UpsampleSpec) throws -> Case {
        if case let .transposedConvolution(factor) = spec.operation {
            return ConvolutionSuite.makeCase(try learnedLayer(spec, factor: factor), Float.self, kernel: "upsample", shape: spec.description)
        }
        let geometry = try UpsampleInstance.Geometry(spec)
        let (input, output) = (geometry.input.count, geometry.output.count)
        let taps = geometry.taps
        let workload = Workload(
            flops: taps > 1 ? Double(output) * 2 * Double(2 * taps - 1) : 0,
            bytes: 4 * (Double(input) + Double(output)), isMemoryBound: true)
        // The input in Float and Double, the output in Float, the reference, the magnitude and
        // the reference variant's output in Double.
        let memory = SizeArithmetic.bytes([(input, 4 + 8), (output, 4 + 3 * 8)])
        return Case(
            kernel: "upsample", dtype: .f32, shape: spec.description, workload: workload, memoryBytes: memory,
            reference: variants[0], variants: variants, prepare: { UpsampleInstance(spec, geometry) })
    }

    /// The transposed convolution C → C, F × F kernel, stride F, that upsamples `spec.input` by F.
    static func learnedLayer(_ spec: UpsampleSpec, factor: Int, entry: String? = nil) throws -> ConvolutionSpec {
        do {
            return ConvolutionSpec(.transposed(try ConvTranspose2DGeometry(
                batch: spec.input.batch, inputChannels: spec.input.channels, inputHeight: spec.input.height, inputWidth: spec.input.width,
                outputChannels: spec.input.channels, kernelHeight: factor, kernelWidth: factor, stride: Spatial2D(factor, factor),
                layout: spec.layout == .nhwc ? .nhwc : .nchw)))
        } catch {
            throw CaseRequestError("--sizes: '\(entry ?? spec.description)': \(error)")
        }
    }

    /// Parses one `--sizes` entry (see `UpsampleSpec`).
    public static func parse(_ text: String) throws -> UpsampleSpec {
        func fail(_ why: String) -> CaseRequestError {
            CaseRequestError("--sizes: '\(text)': \(why); use \(notation)")
        }
        var tokens = text.lowercased().split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let dimensions = tokens.removeFirst().split(separator: "x", omittingEmptySubsequences: false)
        guard dimensions.count == 4 else { throw fail("the input is not NxCxHxW") }
        let sizes = try dimensions.map { try SizeArithmetic.integer($0, in: text) }
        _ = try SizeArithmetic.product(sizes, entry: text)
        let input = ImageShape(batch: sizes[0], channels: sizes[1], height: sizes[2], width: sizes[3])
        guard let name = tokens.first else { throw fail("no operation") }
        tokens.removeFirst()
        var spec: UpsampleSpec
        switch name {
        case "shuffle", "unshuffle":
            guard let factorToken = tokens.first, factorToken.hasPrefix("r"),
                  let factor = Int(factorToken.dropFirst()) else { throw fail("\(name) needs -rR") }
            tokens.removeFirst()
            spec = UpsampleSpec(input, .pixelShuffle(name == "shuffle" ? .shuffle : .unshuffle, factor: factor))
        case "nearest", "bilinear", "bicubic":
            var mode: UpsampleMode = name == "nearest" ? .nearest : name == "bilinear" ? .bilinear(alignCorners: false) : .bicubic(alignCorners: false)
            if name == "nearest", tokens.first == "exact" { mode = .nearestExact; tokens.removeFirst() }
            if tokens.first == "ac" {
                switch mode {
                case .bilinear: mode = .bilinear(alignCorners: true)
                case .bicubic: mode = .bicubic(alignCorners: true)
                case .nearest, .nearestExact: throw fail("align_corners (-ac) is for bilinear and bicubic")
                }
                tokens.removeFirst()
            }
            spec = UpsampleSpec(input, .interpolate(mode))
            guard let scale = tokens.first else { throw fail("no scale (-xF or -toHxW)") }
            tokens.removeFirst()
            if scale.hasPrefix("x") {
                let factors = scale.dropFirst().split(separator: ":").map { Double($0) }
                guard factors.count == 1 || factors.count == 2, let first = factors[0], let last = factors[factors.count - 1] else {
                    throw fail("'\(scale)' is not xF or xFH:FW")
                }
                spec.scaleFactor = [first, last]
            } else if scale.hasPrefix("to") {
                let parts = scale.dropFirst(2).split(separator: "x", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw fail("'\(scale)' is not toHxW") }
                spec.size = try parts.map { try SizeArithmetic.integer($0, in: text) }
            } else {
                throw fail("'\(scale)' is not a scale (-xF) or a size (-toHxW)")
            }
            if tokens.first == "rc" { spec.recomputeScaleFactor = true; tokens.removeFirst() }
        case "convtranspose":
            guard let factorToken = tokens.first, factorToken.hasPrefix("x"),
                  let factor = Int(factorToken.dropFirst()), factor >= 1 else { throw fail("convtranspose needs an integer factor -xF") }
            tokens.removeFirst()
            spec = UpsampleSpec(input, .transposedConvolution(factor: factor))
        default:
            throw fail("unknown operation '\(name)'")
        }
        if tokens.first == "nhwc" { spec.layout = .nhwc; tokens.removeFirst() }
        if let extra = tokens.first { throw fail("unexpected '-\(extra)'") }
        // The kernels' own checks: divisibility, zero or empty sizes, overflow.
        if case let .transposedConvolution(factor) = spec.operation {
            _ = try learnedLayer(spec, factor: factor, entry: text)
        } else {
            _ = try UpsampleInstance.Geometry(spec, entry: text)
        }
        return spec
    }
}

/// An upsampling case: the seeded input, the output every variant writes (NaN before each
/// verifying run, so an output left unwritten fails), the Double reference and Σ|w||x|.
public final class UpsampleInstance: PreparedCase {
    /// The validated geometry of an interpolation or a shuffle.
    enum Geometry {
        case interpolate(UpsampleGeometry)
        case shuffle(PixelShuffleGeometry)

        /// The geometry of `spec`; a `CaseRequestError` quoting `entry` (the spec by default)
        /// with the kernels' own message when its arguments are invalid.
        init(_ spec: UpsampleSpec, entry: String? = nil) throws {
            do {
                switch spec.operation {
                case let .interpolate(mode):
                    self = .interpolate(try UpsampleGeometry(
                        input: spec.input, layout: spec.layout, mode: mode,
                        size: spec.size.map { ($0[0], $0[1]) }, scaleFactor: spec.scaleFactor.map { ($0[0], $0[1]) },
                        recomputeScaleFactor: spec.recomputeScaleFactor ? true : nil))
                case let .pixelShuffle(direction, factor):
                    self = .shuffle(try PixelShuffleGeometry(input: spec.input, layout: spec.layout, factor: factor, direction: direction))
                case .transposedConvolution:
                    fatalError("a transposed convolution is a case of the convolution kernels (UpsampleSuite.makeCase)")
                }
            } catch let error as UpsampleError {
                throw CaseRequestError("--sizes: '\(entry ?? spec.description)': \(error)")
            }
        }

        var input: ImageShape {
            switch self {
            case let .interpolate(g): return g.input
            case let .shuffle(g): return g.input
            }
        }

        var output: ImageShape {
            switch self {
            case let .interpolate(g): return g.output
            case let .shuffle(g): return g.output
            }
        }

        /// Taps per axis; 1 for a shuffle.
        var taps: Int {
            if case let .interpolate(g) = self { return g.mode.taps }
            return 1
        }
    }

    let spec: UpsampleSpec
    let geometry: Geometry
    let input: UnsafeMutableBufferPointer<Float>
    let output: UnsafeMutableBufferPointer<Float>
    /// Where the `reference` variant writes.
    let referenceOutput: UnsafeMutableBufferPointer<Double>
    /// The reference computed once, and the magnitude Σ|w||x| of each output's sum.
    let reference: [Double]
    let magnitude: [Double]

    init(_ spec: UpsampleSpec, _ geometry: Geometry) {
        self.spec = spec
        self.geometry = geometry
        var generator = SeededGenerator(seed: 20261128)
        let values: [Float] = .uniform(count: geometry.input.count, using: &generator)
        input = .allocate(capacity: values.count)
        _ = input.initialize(from: values)
        output = .allocate(capacity: geometry.output.count)
        output.initialize(repeating: .nan)
        referenceOutput = .allocate(capacity: geometry.output.count)
        referenceOutput.initialize(repeating: .nan)
        var reference = [Double](repeating: 0, count: geometry.output.count), magnitude = reference
        let source = UnsafeBufferPointer(input)
        switch geometry {
        case let .interpolate(g):
            reference.withUnsafeMutableBufferPointer { upsampleReference(source, into: $0, geometry: g) }
            magnitude.withUnsafeMutableBufferPointer { upsampleMagnitude(source, into: $0, geometry: g) }
        case let .shuffle(g):
            var shuffled = [Float](repeating: .nan, count: geometry.output.count)
            shuffled.withUnsafeMutableBufferPointer { pixelShuffleReference(source, into: $0, geometry: g) }
            reference = shuffled.map(Double.init)
            magnitude = reference.map(abs)
        }
        self.reference = reference
        self.magnitude = magnitude
    }

    deinit {
        input.deallocate()
        output.deallocate()
        referenceOutput.deallocate()
    }

    func runReference() {
        switch geometry {
        case let .interpolate(g):
            upsampleReference(UnsafeBufferPointer(input), into: referenceOutput, geometry: g)
        case let .shuffle(g):
            // The shuffle's reference copies Floats; its Double view is exact.
            pixelShuffleReference(UnsafeBufferPointer(input), into: output, geometry: g)
            for i in output.indices { referenceOutput[i] = Double(output[i]) }
        }
    }

    func runKernel(threads: Int) {
        switch geometry {
        case let .interpolate(g): upsample(UnsafeBufferPointer(input), into: output, geometry: g, threads: threads)
        case let .shuffle(g): pixelShuffle(UnsafeBufferPointer(input), into: output, geometry: g, threads: threads)
        }
    }

    public func resetForVerification() {
        output.update(repeating: .nan)
        referenceOutput.update(repeating: .nan)
    }

    /// Exact (bit for bit) for nearest modes and shuffles; otherwise
    /// max |ŷ − y| / (u·Σ|w||x|) ≤ γ_k/u, k = `roundingsInBound`.
    public func check(_: Void) -> Verification {
        let computed = Array(output)
        if geometry.taps == 1 {
            return ErrorModels.exactBits(computed: computed, reference: reference.map { Float($0) }, describe: describe)
        }
        guard case let .interpolate(g) = geometry else { fatalError("unreachable: shuffles have one tap") }
        let k = g.mode.roundingsInBound
        return ErrorModels.scaledForwardError(
            computed: computed.map(Double.init), reference: reference, scale: magnitude,
            unitRoundoff: 0x1p-24, bound: ErrorModels.gammaRatio(k, unitRoundoff: 0x1p-24),
            model: "gamma_\(k)*sum|w||x|", describe: describe)
    }

    /// The reference variant recomputes the reference: it must agree exactly.
    func checkReferenceOutput() -> Verification {
        ErrorModels.exact(computed: Array(referenceOutput), reference: reference, model: "exact (reference)", describe: describe)
    }

    /// `y[n,c,h,w]` for element `index` in the output's layout.
    func describe(_ index: Int) -> String {
        let shape = geometry.output
        var rest = index
        if spec.layout == .nchw {
            let w = rest % shape.width; rest /= shape.width
            let h = rest % shape.height; rest /= shape.height
            return "y[\(rest / shape.channels),\(rest % shape.channels),\(h),\(w)]"
        }
        let c = rest % shape.channels; rest /= shape.channels
        let w = rest % shape.width; rest /= shape.width
        return "y[\(rest / shape.height),\(c),\(rest % shape.height),\(w)]"
    }
}
