import Crosscheck
import Kernels

/// One convolution workload: a `conv2d` or `conv_transpose2d` layer on a batch, in a layout,
/// optionally named after the network layer it comes from.
public struct ConvolutionSpec: Sendable, Hashable, CustomStringConvertible {
    public enum Layer: Sendable, Hashable {
        case forward(Conv2DGeometry)
        case transposed(ConvTranspose2DGeometry)
    }

    public var layer: Layer
    /// The network layer (`resnet50/layer1.0.conv2`), written before the geometry.
    public var name: String?

    public init(_ layer: Layer, name: String? = nil) {
        self.layer = layer
        self.name = name
    }

    public var geometry: any ConvolutionLayerGeometry {
        switch layer {
        case .forward(let g): return g
        case .transposed(let g): return g
        }
    }

    /// Multiply-adds ×2 of the direct sum, the unit every variant's GFLOP/s is counted in.
    public var directFlops: Double {
        switch layer {
        case .forward(let g): return g.directFlops
        case .transposed(let g): return g.directFlops
        }
    }

    /// `[name@]N1-C64x56x56-K64x3x3-s1-p1-d1[-op0]-g1-nchw` (`-op` marks a transposed layer).
    public var description: String {
        let shape: String
        switch layer {
        case .forward(let g): shape = g.description
        case .transposed(let g): shape = g.description
        }
        return (name.map { "\($0)@" } ?? "") + shape
    }
}

/// The convolution family: `conv2d` by the reference loops, im2col and the engine (with the
/// im2col matrix in memory, or packed straight from the image), direct SIMD loops, Winograd
/// F(2×2, 3×3) and F(4×4, 3×3), and im2col with OpenBLAS; `conv_transpose2d` by its reference and
/// by the engine with col2im. Shapes are PyTorch's layers: ResNet-50's and MobileNet-v2's
/// (`ConvolutionWorkloads`), at batch 1 and 8, NCHW and NHWC.
///
/// Throughput is in direct-convolution flops, 2·N·C_out·H_out·W_out·(C_in/G)·kh·kw (for a
/// transposed layer 2·N·C_in·H·W·(C_out/G)·kh·kw), whatever the algorithm: a Winograd row does
/// fewer multiplications and can exceed the machine's FMA peak in these units.
///
/// Error models (derivations in `Sources/Kernels/Convolution`): every variant but Winograd sums
/// each output's k = (C_in/G)·kh·kw products and its bias, so `ErrorModels.innerProduct` with
/// length k + 1 relative to Σ|w||x| + |b| (the transposed layer: C_in/G + kh·kw terms); Winograd
/// variants check their own derived bound γ_n·S, n = C_in/G + 2α² + 9 (+2 for F(4×4)'s rounded
/// transform) + 1, S the magnitude the transforms grow the sum to (`WinogradTile`), hard tier only.
public enum ConvolutionSuite {
    /// Layers above this many direct flops run in Float only (Double where it is cheap), and
    /// without the reference variant timed (the case computes its reference once all the same).
    public static let doubleFlopsLimit = 5e7
    public static let referenceFlopsLimit = 3e8

    static func forward(_ layer: ConvolutionLayer, batch: Int, layout: ConvolutionLayout) -> ConvolutionSpec {
        // The workload layers are valid by construction (a unit test builds every one).
        ConvolutionSpec(.forward(try! layer.geometry(batch: batch, layout: layout)), name: layer.description)
    }

    static func sweep(_ layers: [ConvolutionLayer], batches: [Int] = ConvolutionWorkloads.batches) -> [ConvolutionSpec] {
        layers.flatMap { layer in batches.flatMap { batch in ConvolutionLayout.allCases.map { forward(layer, batch: batch, layout: $0) } } }
    }

    /// Learned upsampling layers: U-Net's 2×2 stride-2 up-convolution (512 → 256 on 28²) and
    /// DCGAN's 4×4 stride-2 one (128 → 64 on 32²).
    public static let transposedLayers: [ConvolutionSpec] = [1, 8].flatMap { batch in
        ConvolutionLayout.allCases.flatMap { layout in [
            ConvolutionSpec(.transposed(try! ConvTranspose2DGeometry(
                batch: batch, inputChannels: 512, inputHeight: 28, inputWidth: 28, outputChannels: 256,
                kernelHeight: 2, kernelWidth: 2, stride: 2, layout: layout)), name: "unet/up1"),
            ConvolutionSpec(.transposed(try! ConvTranspose2DGeometry(
                batch: batch, inputChannels: 128, inputHeight: 32, inputWidth: 32, outputChannels: 64,
                kernelHeight: 4, kernelWidth: 4, stride: 2, padding: 1, layout: layout)), name: "dcgan/up3"),
        ] }
    }

    public static let defaults = sweep(ConvolutionWorkloads.all) + transposedLayers

    /// `--quick`: one layer of each kind at batch 1, both layouts, and a dilated one.
    public static let quick = sweep([
        ConvolutionWorkloads.resnet50[3], ConvolutionWorkloads.resnet50[8], ConvolutionWorkloads.mobilenetV2Depthwise[4],
    ], batches: [1]) + transposedLayers.filter { $0.geometry.batch == 1 && $0.name == "dcgan/up3" }
        // A dilated 3×3 layer (DeepLab's atrous convolution), in both layouts: the taps' offsets
        // d·k must reach every kernel.
        + ConvolutionLayout.allCases.map { layout in
            ConvolutionSpec(.forward(try! Conv2DGeometry(
                batch: 1, inputChannels: 32, inputHeight: 28, inputWidth: 28, outputChannels: 32, kernelHeight: 3, kernelWidth: 3,
                padding: 2, dilation: 2, layout: layout)), name: "atrous")
        }

    /// What `swift test` walks: small layers at the kernels' seams, in both layouts — groups and
    /// depthwise, stride, dilation and asymmetric arguments, Winograd's partial tiles, the
    /// micro-tile edges (31, 32, 33 channels), 1×1 layers read in place, an empty batch, a layer
    /// large enough for every thread to get work, and transposed layers.
    public static let test: [ConvolutionSpec] = ConvolutionLayout.allCases.flatMap { layout -> [ConvolutionSpec] in
        func conv(_ n: Int, _ c: Int, _ h: Int, _ w: Int, _ k: Int, _ kh: Int, _ kw: Int, s: Spatial2D = 1, p: Spatial2D = 0,
                  d: Spatial2D = 1, g: Int = 1) -> ConvolutionSpec {
            ConvolutionSpec(.forward(try! Conv2DGeometry(
                batch: n, inputChannels: c, inputHeight: h, inputWidth: w, outputChannels: k, kernelHeight: kh, kernelWidth: kw,
                stride: s, padding: p, dilation: d, groups: g, layout: layout)))
        }
        return [
            conv(1, 3, 11, 13, 5, 3, 3, p: 1),
            conv(2, 4, 9, 7, 6, 3, 3, s: 2, p: 1, d: 2, g: 2),
            conv(1, 6, 8, 8, 6, 3, 3, p: 1, g: 6),
            conv(0, 4, 5, 5, 4, 3, 3, p: 1),
            conv(3, 8, 5, 5, 16, 1, 1),
            conv(1, 31, 9, 8, 33, 3, 3, p: 1),
            conv(2, 32, 7, 10, 32, 3, 3, p: Spatial2D(0, 1)),
            conv(1, 3, 31, 31, 16, 7, 7, s: 2, p: 3),
            conv(2, 24, 19, 37, 24, 3, 3, s: 2, p: 1, g: 24),
            conv(1, 5, 7, 9, 3, 2, 4, s: Spatial2D(1, 3), p: Spatial2D(0, 2), d: Spatial2D(2, 1)),
            conv(1, 32, 40, 40, 32, 3, 3, p: 1),
            ConvolutionSpec(.transposed(try! ConvTranspose2DGeometry(
                batch: 2, inputChannels: 6, inputHeight: 5, inputWidth: 3, outputChannels: 4, kernelHeight: 3, kernelWidth: 3,
                stride: Spatial2D(3, 2), padding: Spatial2D(1, 0), dilation: Spatial2D(1, 2), outputPadding: Spatial2D(2, 1), groups: 2, layout: layout))),
            ConvolutionSpec(.transposed(try! ConvTranspose2DGeometry(
                batch: 1, inputChannels: 64, inputHeight: 20, inputWidth: 20, outputChannels: 32, kernelHeight: 2, kernelWidth: 2,
                stride: 2, layout: layout))),
        ]
    }

    /// Named subsets of the defaults.
    public static let presets: [(name: String, description: String, specs: [ConvolutionSpec])] = [
        ("resnet50-3x3", "ResNet-50's stride-1 3x3 layers (56², 28², 14², 7²), batch 1 and 8, NCHW and NHWC",
         sweep(ConvolutionWorkloads.resnet50.filter { $0.kind == .conv3x3 })),
        ("resnet50-1x1", "ResNet-50's 1x1 layers", sweep(ConvolutionWorkloads.resnet50.filter { $0.kind == .conv1x1 })),
        ("resnet50-stem", "ResNet-50's 7x7 stride-2 stem on 224²", sweep(ConvolutionWorkloads.resnet50.filter { $0.kind == .stem })),
        ("depthwise", "MobileNet-v2's depthwise 3x3 layers", sweep(ConvolutionWorkloads.mobilenetV2Depthwise)),
        ("transposed", "transposed convolutions: U-Net's and DCGAN's upsampling layers", transposedLayers),
    ]

    public static let family = Family(
        name: "conv",
        summary: "2-D convolution (PyTorch conv2d / conv_transpose2d); shape is [layer@]N-CxHxW-KxKHxKW-sS-pP-dD[-opO]-gG-layout; GFLOP/s in direct-convolution flops",
        elementTypes: [.f32, .f64],
        sizes: Sizes(
            notation: "[layer@]N1-C64x56x56-K64x3x3-s1-p1-d1[-op0]-g1-nchw|nhwc (-op: transposed), or a workload layer NAME[:batch][:layout] (bench list)",
            parse: parse, defaults: defaults, quick: quick, test: test, presets: presets),
        context: { ["openblas_corename": OpenBLAS.coreName, "openblas_config": OpenBLAS.config] },
        cases: { spec, dtype in
            switch dtype {
            case .f32: return [makeCase(spec, Float.self)]
            case .f64: return spec.directFlops <= doubleFlopsLimit ? [makeCase(spec, Double.self)] : []
            default: throw CaseRequestError("conv has no element type \(dtype.rawValue)")
            }
        })

    /// The variants of `spec`'s layer, declared once with their bodies. Winograd variants exist
    /// only for the layers they compute (3×3, stride 1, dilation 1) and check their own bound.
    public static func variants<T: ConvolutionScalar>(_ spec: ConvolutionSpec, _: T.Type) -> [Variant<ConvolutionInstance<T>>] {
        switch spec.layer {
        case .forward(let g):
            return Conv2DAlgorithm.allCases.filter { $0.applies(to: g) }.compactMap { algorithm -> Variant<ConvolutionInstance<T>>? in
                if algorithm == .reference && spec.directFlops > referenceFlopsLimit { return nil }
                var check: (@Sendable (ConvolutionInstance<T>, Void) throws -> Verification)? = nil
                if case .winograd(let tile) = algorithm { check = { c, _ in c.checkWinograd(tile) } }
                return Variant(algorithm.description, threaded: algorithm != .reference, check: check) { c, threads in
                    try c.run { x, w, b, y in try conv2D(algorithm, geometry: g, input: x, weight: w, bias: b, output: y, threads: threads) }
                }
            }
        case .transposed(let g):
            return ConvTranspose2DAlgorithm.allCases.compactMap { algorithm in
                if algorithm == .reference && spec.directFlops > referenceFlopsLimit { return nil }
                return Variant(algorithm.description, threaded: algorithm != .reference) { c, threads in
                    try c.run { x, w, b, y in try convTranspose2D(algorithm, geometry: g, input: x, weight: w, bias: b, output: y, threads: threads) }
                }
            }
        }
    }

    /// The case for `spec` in element type `T`, as a row of `kernel` named `shape` (the
    /// upsampling family benchmarks learned upsampling layers beside interpolation this way).
    public static func makeCase<T: ConvolutionScalar>(_ spec: ConvolutionSpec, _: T.Type, kernel: String = "conv", shape: String? = nil) -> Case {
        let g = spec.geometry, size = MemoryLayout<T>.size
        let variants = variants(spec, T.self)
        // Input, weights, bias and output once as read and written per call.
        let workload = Workload(
            flops: spec.directFlops,
            bytes: Double(size) * (Double(g.inputCount) + Double(g.weightCount) + Double(g.outputChannels) + Double(g.outputCount)))
        // Inputs, their absolute values and the output in T; reference, magnitude and two Winograd
        // magnitudes in Double; the largest variant's scratch memory.
        let scratch: Int
        switch spec.layer {
        case .forward(let g): scratch = Conv2DAlgorithm.allCases.filter { $0.applies(to: g) }.map { $0.workspaceBytes(g, T.self, threads: 4) }.max() ?? 0
        case .transposed(let g): scratch = ConvTranspose2DAlgorithm.allCases.map { $0.workspaceBytes(g, T.self, threads: 4) }.max() ?? 0
        }
        let memory = SizeArithmetic.bytes([(g.inputCount, 2 * size), (g.weightCount, 2 * size), (g.outputCount, size + 4 * 8), (scratch, 1)])
        return Case(
            kernel: kernel, dtype: .of(T.self), shape: shape ?? spec.description, workload: workload, memoryBytes: memory,
            reference: variants.first { $0.name == "reference" }, variants: variants,
            prepare: { try ConvolutionInstance<T>(spec) })
    }

    /// Parses one `--sizes` entry: a workload layer `NAME[:batch][:layout]` (`layer1.0.conv2:8:nhwc`,
    /// `features.1.dw`), or a shape as the `shape` column writes it, optionally after `name@`.
    static func parse(_ text: String) throws -> ConvolutionSpec {
        if let at = text.firstIndex(of: "@") {
            var spec = try parseShape(String(text[text.index(after: at)...]), entry: text)
            spec.name = String(text[..<at])
            return spec
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if let layer = ConvolutionWorkloads.all.first(where: { $0.name == parts[0] || $0.description == parts[0] }) {
            guard parts.count <= 3 else { throw CaseRequestError("--sizes: '\(text)': use NAME[:batch][:layout]") }
            let batch = parts.count > 1 ? try SizeArithmetic.integer(Substring(parts[1]), in: text, minimum: 0) : 1
            let layout = try parts.count > 2 ? parseLayout(parts[2], entry: text) : .nchw
            do {
                return ConvolutionSpec(.forward(try layer.geometry(batch: batch, layout: layout)), name: layer.description)
            } catch {
                throw CaseRequestError("--sizes: '\(text)': \(error)")
            }
        }
        return try parseShape(text, entry: text)
    }

    static func parseLayout(_ text: String, entry: String) throws -> ConvolutionLayout {
        guard let layout = ConvolutionLayout(rawValue: text.lowercased()) else {
            throw CaseRequestError("--sizes: '\(entry)': layout '\(text)' is not nchw or nhwc")
        }
        return layout
    }

    /// `N1-C64x56x56-K64x3x3-s1-p1-d1[-op0]-g1-nchw`; s, p, d and op are one number or HxW.
    static func parseShape(_ text: String, entry: String) throws -> ConvolutionSpec {
        let usage = "use N1-C64x56x56-K64x3x3-s1-p1-d1[-op0]-g1-nchw or a workload layer name (bench list)"
        var fields: [String: String] = [:]
        var layout = ConvolutionLayout.nchw
        for token in text.split(separator: "-").map(String.init) {
            if let known = ConvolutionLayout(rawValue: token.lowercased()) { layout = known; continue }
            let key = ["op", "N", "C", "K", "s", "p", "d", "g"].first { token.hasPrefix($0) }
            guard let key, fields[key] == nil else { throw CaseRequestError("--sizes: '\(entry)': unexpected '\(token)'; \(usage)") }
            fields[key] = String(token.dropFirst(key.count))
        }
        func numbers(_ key: String, count: Int, default value: [Int]? = nil) throws -> [Int] {
            guard let field = fields[key] else {
                if let value { return value }
                throw CaseRequestError("--sizes: '\(entry)': missing \(key); \(usage)")
            }
            let values = try field.split(separator: "x", omittingEmptySubsequences: false).map { try SizeArithmetic.integer($0, in: entry) }
            if values.count == count { return values }
            if count == 2 && values.count == 1 { return [values[0], values[0]] }
            throw CaseRequestError("--sizes: '\(entry)': \(key)\(field) needs \(count) number\(count == 1 ? "" : "s"); \(usage)")
        }
        let n = try numbers("N", count: 1)[0], chw = try numbers("C", count: 3), khw = try numbers("K", count: 3)
        let s = try numbers("s", count: 2, default: [1, 1]), p = try numbers("p", count: 2, default: [0, 0])
        let d = try numbers("d", count: 2, default: [1, 1]), g = try numbers("g", count: 1, default: [1])[0]
        do {
            if fields["op"] != nil {
                let op = try numbers("op", count: 2)
                return ConvolutionSpec(.transposed(try ConvTranspose2DGeometry(
                    batch: n, inputChannels: chw[0], inputHeight: chw[1], inputWidth: chw[2], outputChannels: khw[0],
                    kernelHeight: khw[1], kernelWidth: khw[2], stride: Spatial2D(s[0], s[1]), padding: Spatial2D(p[0], p[1]),
                    dilation: Spatial2D(d[0], d[1]), outputPadding: Spatial2D(op[0], op[1]), groups: g, layout: layout)))
            }
            return ConvolutionSpec(.forward(try Conv2DGeometry(
                batch: n, inputChannels: chw[0], inputHeight: chw[1], inputWidth: chw[2], outputChannels: khw[0],
                kernelHeight: khw[1], kernelWidth: khw[2], stride: Spatial2D(s[0], s[1]), padding: Spatial2D(p[0], p[1]),
                dilation: Spatial2D(d[0], d[1]), groups: g, layout: layout)))
        } catch let error as ConvolutionError {
            throw CaseRequestError("--sizes: '\(entry)': \(error)")
        }
    }
}

/// A convolution case: seeded inputs uniform in [−1, 1) with a bias, the output the variants
/// write (NaN before each verifying run), the reference in Double and the magnitudes the error
/// bounds are relative to.
public final class ConvolutionInstance<T: ConvolutionScalar>: PreparedCase {
    let spec: ConvolutionSpec
    let input: UnsafeMutableBufferPointer<T>, weight: UnsafeMutableBufferPointer<T>, bias: UnsafeMutableBufferPointer<T>
    let output: UnsafeMutableBufferPointer<T>
    /// The reference and Σ|w||x| + |b|, per output element.
    let reference: [Double], magnitude: [Double]
    /// Winograd's S per output element, for the tiles that apply to the layer.
    let winogradMagnitude: [WinogradTile: [Double]]

    public init(_ spec: ConvolutionSpec, seed: UInt64 = 42) throws {
        self.spec = spec
        let g = spec.geometry
        var generator = SeededGenerator(seed: seed)
        func filled(_ count: Int) -> UnsafeMutableBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(count, 1))
            for i in 0..<count { buffer[i] = T(generator.nextSigned()) }
            return buffer
        }
        input = filled(g.inputCount)
        weight = filled(g.weightCount)
        bias = filled(g.outputChannels)
        output = .allocate(capacity: max(g.outputCount, 1))
        output.initialize(repeating: .nan)
        var reference = [Double](repeating: 0, count: g.outputCount), magnitude = reference
        var winograd: [WinogradTile: [Double]] = [:]
        let (x, w, b) = (UnsafeBufferPointer(input), UnsafeBufferPointer(weight), UnsafeBufferPointer(bias))
        try reference.withUnsafeMutableBufferPointer { r in
            try magnitude.withUnsafeMutableBufferPointer { m in
                switch spec.layer {
                case .forward(let g):
                    try conv2DReferenceInDouble(geometry: g, input: x, weight: w, bias: b, output: r)
                    try conv2DErrorMagnitude(geometry: g, input: x, weight: w, bias: b, output: m)
                    for tile in WinogradTile.allCases where WinogradTile.applies(to: g) {
                        var s = [Double](repeating: 0, count: g.outputCount)
                        try s.withUnsafeMutableBufferPointer { try winogradErrorMagnitude(tile, geometry: g, input: x, weight: w, bias: b, output: $0) }
                        winograd[tile] = s
                    }
                case .transposed(let g):
                    try convTranspose2DReferenceInDouble(geometry: g, input: x, weight: w, bias: b, output: r)
                    try convTranspose2DErrorMagnitude(geometry: g, input: x, weight: w, bias: b, output: m)
                }
            }
        }
        self.reference = reference
        self.magnitude = magnitude
        winogradMagnitude = winograd
    }

    deinit {
        input.deallocate(); weight.deallocate(); bias.deallocate(); output.deallocate()
    }

    /// Runs a kernel on the case's buffers.
    func run(_ kernel: (UnsafeBufferPointer<T>, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>, UnsafeMutableBufferPointer<T>) throws -> Void) throws {
        let count = spec.geometry.outputCount
        try kernel(UnsafeBufferPointer(rebasing: input[0..<spec.geometry.inputCount]), UnsafeBufferPointer(weight),
                   UnsafeBufferPointer(bias), UnsafeMutableBufferPointer(rebasing: output[0..<count]))
    }

    /// The output is write-only: NaN before each verifying run.
    public func resetForVerification() { output.update(repeating: .nan) }

    var computed: [Double] { (0..<spec.geometry.outputCount).map { Double(output[$0]) } }
    var u: Double { Double(T.ulpOfOne) / 2 }

    func describe(_ index: Int) -> String { "y[\(index)]" }

    /// Every variant but Winograd: an inner product of length k = (C_in/G)·kh·kw + 1 (bias)
    /// relative to Σ|w||x| + |b| (transposed: C_in/G + kh·kw), hard and statistical tiers.
    public func check(_: Void) -> Verification {
        let terms: Int
        switch spec.layer {
        case .forward(let g): terms = g.errorTermCount(hasBias: true)
        case .transposed(let g): terms = g.errorTermCount
        }
        return ErrorModels.innerProduct(computed: computed, reference: reference, magnitude: magnitude, k: terms,
                                        unitRoundoff: u, describe: describe)
    }

    /// Winograd F(m×m, 3×3): |ŷ − y| ≤ γ_n·S with its own n and S (`WinogradTile`), hard tier.
    func checkWinograd(_ tile: WinogradTile) -> Verification {
        guard case .forward(let g) = spec.layer, let s = winogradMagnitude[tile] else {
            return Verification(passed: false, model: "winograd", errRatio: .infinity, errBound: 0, maxAbsError: .infinity,
                                maxRelError: .infinity, note: "Winograd does not apply to \(spec)")
        }
        let n = tile.errorTermCount(g, hasBias: true)
        return ErrorModels.scaledForwardError(
            computed: computed, reference: reference, scale: s, unitRoundoff: u,
            bound: ErrorModels.innerProductBound(k: n, unitRoundoff: u),
            model: "winograd-\(tile) gamma_n*S (n=\(n))", describe: describe)
    }
}
