// A network as the receptive-field computations see it: a directed acyclic graph of layers that
// move positions around (convolution, pooling, transposed convolution, upsampling, pad, crop)
// and layers that merge paths (add, concat). Channels, weights and activations do not change a
// receptive field and are not represented.
//
// `ReceptiveFieldNetwork` is what a user writes (or a built-in defines); `resolved(input:)`
// infers every layer's output size with the canonical functions of ConvolutionArithmetic.swift,
// resolves TensorFlow SAME/VALID padding for that input size, and reduces every layer, per axis, to
// the geometry that the bottom-up, top-down and influence computations share.

/// A height/width pair (kernel sizes, strides, tensor sizes, per-axis results).
public struct Spatial<Value> {
    public var height: Value
    public var width: Value

    public init(_ height: Value, _ width: Value) {
        self.height = height
        self.width = width
    }

    /// The same value on both axes.
    public init(square value: Value) {
        self.init(value, value)
    }

    public subscript(axis: SpatialAxis) -> Value {
        get { axis == .height ? height : width }
        set { if axis == .height { height = newValue } else { width = newValue } }
    }

    /// Applies `transform` to each axis, passing the axis along.
    public func map<T, E: Error>(_ transform: (SpatialAxis, Value) throws(E) -> T) throws(E) -> Spatial<T> {
        Spatial<T>(try transform(.height, height), try transform(.width, width))
    }
}

extension Spatial: Equatable where Value: Equatable {}
extension Spatial: Hashable where Value: Hashable {}
extension Spatial: Sendable where Value: Sendable {}

/// Padding added (or, for `crop`, removed) on each side of a 2-D tensor.
public struct SidePadding: Equatable, Sendable {
    public var top: Int, bottom: Int, left: Int, right: Int

    public init(top: Int, bottom: Int, left: Int, right: Int) {
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }

    /// `height` rows above and below, `width` columns left and right (PyTorch's `padding=(h, w)`).
    public init(height: Int, width: Int) {
        self.init(top: height, bottom: height, left: width, right: width)
    }

    /// The same amount on all four sides.
    public init(_ all: Int) {
        self.init(height: all, width: all)
    }

    /// The padding before the first element along `axis` (top or left).
    public func before(_ axis: SpatialAxis) -> Int { axis == .height ? top : left }

    /// The padding after the last element along `axis` (bottom or right).
    public func after(_ axis: SpatialAxis) -> Int { axis == .height ? bottom : right }
}

/// How a convolution or pooling layer pads its input.
public enum LayerPadding: Equatable, Sendable {
    /// Given amounts (PyTorch's `padding`, or TF-Slim's explicit `tf.pad` before a VALID layer).
    case explicit(SidePadding)
    /// TensorFlow `'SAME'`: output ⌈i/s⌉, padding split with the odd pixel after (depends on i).
    case same
    /// TensorFlow `'VALID'`: no padding.
    case valid
}

/// Interpolation of an upsampling layer (PyTorch `interpolate`, integer scale factor).
public enum UpsamplingMode: String, Sendable, CaseIterable {
    /// Output o copies input ⌊o/s⌋.
    case nearest
    /// `align_corners=False`: output o reads the two inputs around (o + ½)/s − ½, clamped at 0.
    case bilinear
}

/// What a layer does to positions.
public enum LayerOperation: Equatable, Sendable {
    /// The network's input (only `ReceptiveFieldNetwork.inputName` has it).
    case input
    /// Convolution (any groups, depthwise included: channels do not matter here).
    case convolution(kernel: Spatial<Int>, stride: Spatial<Int>, dilation: Spatial<Int>, padding: LayerPadding)
    /// Max or average pooling; `ceilMode` as PyTorch's (explicit padding only).
    case pooling(kernel: Spatial<Int>, stride: Spatial<Int>, dilation: Spatial<Int>, padding: LayerPadding, ceilMode: Bool)
    /// Transposed convolution (PyTorch `conv_transpose2d`): `padding` is cropped from the full
    /// output, `outputPadding` added at the end.
    case transposedConvolution(kernel: Spatial<Int>, stride: Spatial<Int>, dilation: Spatial<Int>, padding: SidePadding,
                               outputPadding: Spatial<Int>)
    /// Upsampling by an integer factor per axis.
    case upsampling(scale: Spatial<Int>, mode: UpsamplingMode)
    /// Zero padding on each side (TF-Slim's `tf.pad` in `conv2d_same`).
    case pad(SidePadding)
    /// Cropping from each side (U-Net's skip connections).
    case crop(SidePadding)
    /// Elementwise sum of inputs of equal size (residual connections).
    case add
    /// Channel concatenation of inputs of equal size (inception blocks, U-Net).
    case concat

    /// The name of the layer type in specs and tables.
    public var typeName: String {
        switch self {
        case .input: "input"
        case .convolution: "conv"
        case .pooling: "pool"
        case .transposedConvolution: "transposed"
        case .upsampling(_, let mode): "upsample-\(mode.rawValue)"
        case .pad: "pad"
        case .crop: "crop"
        case .add: "add"
        case .concat: "concat"
        }
    }

    var mergesInputs: Bool {
        switch self {
        case .add, .concat: true
        default: false
        }
    }
}

/// One layer: its name, what it does, and the layers it reads.
public struct NetworkLayer: Equatable, Sendable {
    public var name: String
    public var operation: LayerOperation
    /// Names of earlier layers (or `ReceptiveFieldNetwork.inputName`). Empty: the previous layer.
    public var inputs: [String]

    public init(name: String, operation: LayerOperation, inputs: [String] = []) {
        self.name = name
        self.operation = operation
        self.inputs = inputs
    }
}

/// A network for receptive-field analysis: layers in an order where every layer's inputs come
/// before it (so the graph is acyclic by construction).
public struct ReceptiveFieldNetwork: Sendable {
    /// The name every network's input has; layers list it in `inputs` to read the input.
    public static let inputName = "input"

    public var name: String
    /// Which definition the network follows (paper, TF-Slim, torchvision), for `rf list`.
    public var source: String
    /// The input size used when none is given.
    public var defaultInput: Spatial<Int>
    public var layers: [NetworkLayer]

    public init(name: String, source: String = "", defaultInput: Spatial<Int>, layers: [NetworkLayer]) {
        self.name = name
        self.source = source
        self.defaultInput = defaultInput
        self.layers = layers
    }
}

/// A network or layer definition that cannot be used, named by layer and field.
public enum ReceptiveFieldError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A layer's definition is malformed or inconsistent (unknown input, wrong field type, sizes
    /// of merged inputs that differ, ...).
    case invalidLayer(layer: String, field: String, reason: String)
    /// A network-level field is malformed (the spec's `name`, `input` or `layers`).
    case invalidNetwork(field: String, reason: String)
    /// A layer's sizes cannot go together (from the output-size functions).
    case arithmetic(ConvolutionArithmeticError)
    /// A receptive-field quantity of the layer does not fit in an exact rational of `Int`s.
    case overflow(layer: String, quantity: String)

    public var description: String {
        switch self {
        case .invalidLayer(let layer, let field, let reason): "layer '\(layer)': \(field): \(reason)"
        case .invalidNetwork(let field, let reason): "network: \(field): \(reason)"
        case .arithmetic(let error): error.description
        case .overflow(let layer, let quantity): "layer '\(layer)': \(quantity) does not fit in a 64-bit fraction"
        }
    }
}

/// How output positions of a layer relate to its input positions along one axis; the one
/// description the bottom-up and top-down recursions share.
public enum AxisGeometry: Equatable, Sendable {
    /// Output o covers inputs o·s − offset + m·d for m in 0..<k, an extent K = d(k − 1) + 1
    /// (convolution, pooling; pad and crop as K = 1, s = 1, offset = padding or −crop).
    case window(effectiveKernel: Int, stride: Int, offset: Int)
    /// Input i feeds outputs i·s − offset + m·d for m in 0..<k (transposed convolution, and an
    /// upsampling layer as the transposed convolution it equals).
    case transposedWindow(effectiveKernel: Int, stride: Int, offset: Int)
    /// Positions pass through unchanged (the input, add, concat).
    case identity
}

/// One axis of a resolved layer.
public struct ResolvedAxis: Equatable, Sendable {
    public var inputSize: Int
    public var outputSize: Int
    /// Padding actually applied before and after (TensorFlow SAME resolved; crop is negative).
    public var paddingBefore: Int
    public var paddingAfter: Int
    public var geometry: AxisGeometry
}

/// A layer with its sizes inferred and its inputs as indices.
public struct ResolvedLayer: Equatable, Sendable {
    public var name: String
    public var operation: LayerOperation
    /// Indices of the layers it reads in `ResolvedNetwork.layers` (index 0 is the input).
    public var inputs: [Int]
    public var axes: Spatial<ResolvedAxis>

    public var outputSize: Spatial<Int> { Spatial(axes.height.outputSize, axes.width.outputSize) }
}

/// A network whose sizes are known: layer 0 is the input, then the layers in order.
public struct ResolvedNetwork: Sendable {
    public let name: String
    public let layers: [ResolvedLayer]

    /// The index of the layer called `name`, if any.
    public func index(of name: String) -> Int? {
        layers.firstIndex { $0.name == name }
    }

    /// Indices of the layers no other layer reads: the network's outputs. O(L + E).
    public var outputLayers: [Int] {
        let read = Set(layers.flatMap(\.inputs))
        return layers.indices.filter { !read.contains($0) }
    }
}

extension ReceptiveFieldNetwork {
    /// Infers every layer's output size for an input of `input` (default: `defaultInput`),
    /// resolving TensorFlow SAME/VALID padding, and checks the graph: unique names, inputs that
    /// name earlier layers, one input per positional layer and two or more per merge, merged
    /// inputs of equal size.
    ///
    /// - Complexity: O(L + E) for L layers and E input references (names hashed). Exact.
    /// - Throws: `ReceptiveFieldError` naming the layer and field at fault.
    public func resolved(input: Spatial<Int>? = nil) throws(ReceptiveFieldError) -> ResolvedNetwork {
        let inputSize = input ?? defaultInput
        for axis in SpatialAxis.allCases where inputSize[axis] < 1 {
            throw .invalidNetwork(field: "input", reason: "the input \(axis.rawValue) must be at least 1, got \(inputSize[axis])")
        }
        let identity = { (size: Int) in ResolvedAxis(inputSize: size, outputSize: size, paddingBefore: 0, paddingAfter: 0, geometry: .identity) }
        var resolvedLayers = [ResolvedLayer(name: Self.inputName, operation: .input, inputs: [],
                                            axes: Spatial(identity(inputSize.height), identity(inputSize.width)))]
        var indexByName = [Self.inputName: 0]
        if layers.isEmpty { throw .invalidNetwork(field: "layers", reason: "the network has no layers") }
        for layer in layers {
            if layer.name.isEmpty { throw .invalidLayer(layer: "layers[\(resolvedLayers.count - 1)]", field: "name", reason: "must not be empty") }
            if indexByName[layer.name] != nil {
                throw .invalidLayer(layer: layer.name, field: "name",
                                    reason: layer.name == Self.inputName ? "'\(Self.inputName)' is the network's input" : "another layer has this name")
            }
            if layer.operation == .input { throw .invalidLayer(layer: layer.name, field: "type", reason: "only the network's input is an input") }
            let names = layer.inputs.isEmpty ? [resolvedLayers[resolvedLayers.count - 1].name] : layer.inputs
            var inputIndices: [Int] = []
            for name in names {
                guard let index = indexByName[name] else {
                    throw .invalidLayer(layer: layer.name, field: "inputs", reason: "'\(name)' is not a layer defined before this one")
                }
                inputIndices.append(index)
            }
            if layer.operation.mergesInputs, inputIndices.count < 2 {
                throw .invalidLayer(layer: layer.name, field: "inputs", reason: "\(layer.operation.typeName) needs two or more inputs, got \(inputIndices.count)")
            }
            if !layer.operation.mergesInputs, inputIndices.count != 1 {
                throw .invalidLayer(layer: layer.name, field: "inputs", reason: "\(layer.operation.typeName) takes one input, got \(inputIndices.count)")
            }
            if case .pooling(_, _, _, let padding, true) = layer.operation, padding == .same || padding == .valid {
                throw .invalidLayer(layer: layer.name, field: "ceil_mode", reason: "applies to explicit padding only, not to 'SAME' or 'VALID'")
            }
            let inputSizes = inputIndices.map { resolvedLayers[$0].outputSize }
            if let mismatch = inputSizes.firstIndex(where: { $0 != inputSizes[0] }) {
                throw .invalidLayer(layer: layer.name, field: "inputs",
                                    reason: "\(layer.operation.typeName) needs inputs of one size: '\(names[0])' is \(inputSizes[0].height)x\(inputSizes[0].width), '\(names[mismatch])' is \(inputSizes[mismatch].height)x\(inputSizes[mismatch].width)")
            }
            let axes: Spatial<ResolvedAxis>
            do {
                axes = try inputSizes[0].map { (axis, size) throws(ConvolutionArithmeticError) in
                    try Self.resolveAxis(layer.operation, axis: axis, inputSize: size, layer: layer.name)
                }
            } catch {
                throw .arithmetic(error)
            }
            indexByName[layer.name] = resolvedLayers.count
            resolvedLayers.append(ResolvedLayer(name: layer.name, operation: layer.operation, inputs: inputIndices, axes: axes))
        }
        return ResolvedNetwork(name: name, layers: resolvedLayers)
    }

    /// One axis of one layer: output size (by the canonical functions), padding and geometry.
    static func resolveAxis(_ operation: LayerOperation, axis: SpatialAxis, inputSize: Int,
                            layer: String) throws(ConvolutionArithmeticError) -> ResolvedAxis {
        let check = SizeCheck(layer: layer, axis: axis)
        switch operation {
        case .input, .add, .concat:
            return ResolvedAxis(inputSize: inputSize, outputSize: inputSize, paddingBefore: 0, paddingAfter: 0, geometry: .identity)
        case .convolution(let kernel, let stride, let dilation, let padding), .pooling(let kernel, let stride, let dilation, let padding, _):
            let (k, s, d) = (kernel[axis], stride[axis], dilation[axis])
            let resolved: ResolvedPadding
            switch padding {
            case .same:
                resolved = try tensorFlowSamePadding(input: inputSize, kernel: k, stride: s, dilation: d, layer: layer, axis: axis)
            case .valid:
                resolved = try tensorFlowValidPadding(input: inputSize, kernel: k, stride: s, dilation: d, layer: layer, axis: axis)
            case .explicit(let sides):
                let (before, after) = (sides.before(axis), sides.after(axis))
                let output = if case .pooling(_, _, _, _, let ceilMode) = operation {
                    try poolingOutputSize(input: inputSize, kernel: k, stride: s, paddingBefore: before, paddingAfter: after,
                                          dilation: d, ceilMode: ceilMode, layer: layer, axis: axis)
                } else {
                    try convolutionOutputSize(input: inputSize, kernel: k, stride: s, paddingBefore: before, paddingAfter: after,
                                              dilation: d, layer: layer, axis: axis)
                }
                resolved = ResolvedPadding(output: output, before: before, after: after)
            }
            let extent = try effectiveKernelSize(kernel: k, dilation: d, layer: layer, axis: axis)
            return ResolvedAxis(inputSize: inputSize, outputSize: resolved.output, paddingBefore: resolved.before, paddingAfter: resolved.after,
                                geometry: .window(effectiveKernel: extent, stride: s, offset: resolved.before))
        case .transposedConvolution(let kernel, let stride, let dilation, let padding, let outputPadding):
            let (k, s, d) = (kernel[axis], stride[axis], dilation[axis])
            let output = try transposedConvolutionOutputSize(input: inputSize, kernel: k, stride: s, paddingBefore: padding.before(axis),
                                                             paddingAfter: padding.after(axis), outputPadding: outputPadding[axis],
                                                             dilation: d, layer: layer, axis: axis)
            let extent = try effectiveKernelSize(kernel: k, dilation: d, layer: layer, axis: axis)
            return ResolvedAxis(inputSize: inputSize, outputSize: output, paddingBefore: padding.before(axis), paddingAfter: padding.after(axis),
                                geometry: .transposedWindow(effectiveKernel: extent, stride: s, offset: padding.before(axis)))
        case .upsampling(let scale, let mode):
            let s = scale[axis]
            try check.positive(s, .stride)
            let output = try check.multiply(inputSize, s, .stride)
            _ = try check.multiply(2, s, .stride)        // the bilinear kernel has up to 2s taps
            _ = try check.multiply(2, output, .stride)   // and its source index uses 2o + 1
            let equivalent = upsamplingAsTransposedWindow(scale: s, mode: mode)
            return ResolvedAxis(inputSize: inputSize, outputSize: output, paddingBefore: 0, paddingAfter: 0,
                                geometry: .transposedWindow(effectiveKernel: equivalent.kernel, stride: s, offset: equivalent.offset))
        case .pad(let sides), .crop(let sides):
            var sign = -1
            if case .pad = operation { sign = 1 }
            let (before, after) = (sides.before(axis), sides.after(axis))
            try check.nonNegative(before, .padding)
            try check.nonNegative(after, .padding)
            let change = try check.add(before, after, .padding)
            let output = sign > 0 ? try check.add(inputSize, change, .padding) : inputSize - change
            if output < 1 { throw check.error(.padding, before, .outputTooSmall(output: output)) }
            return ResolvedAxis(inputSize: inputSize, outputSize: output, paddingBefore: sign * before, paddingAfter: sign * after,
                                geometry: .window(effectiveKernel: 1, stride: 1, offset: sign * before))
        }
    }
}

/// The transposed convolution an integer upsampling equals, as far as which inputs reach which
/// outputs: nearest ×s is the box kernel (k = s, offset 0); bilinear ×s with
/// `align_corners=False` reads input i at output o when |(o + ½)/s − ½ − i| < 1, which is the
/// tent kernel of k = 2s − (s mod 2) taps at offset ⌊s/2⌋ (its end taps have weight zero when s is
/// odd, so they are left out). Both give o = i·s outputs.
///
/// - Complexity: O(1). Exact.
func upsamplingAsTransposedWindow(scale: Int, mode: UpsamplingMode) -> (kernel: Int, offset: Int) {
    switch mode {
    case .nearest: (scale, 0)
    case .bilinear: (2 * scale - scale % 2, scale / 2)
    }
}
