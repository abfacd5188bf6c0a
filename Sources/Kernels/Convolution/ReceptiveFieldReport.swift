// The per-layer table `rf` prints: each layer's parameters, output size and field, as text cells
// (one value per cell when both axes agree, "H x W" otherwise) and as CSV records with one
// column per axis. Exact values: integers, terminating decimals, or fractions such as 1/3.

/// The receptive fields of a resolved network, one row per layer (the input first).
public struct ReceptiveFieldReport: Sendable {
    public let network: ResolvedNetwork
    public let fields: [LayerField]

    /// The report of `network` with `fields` (one per layer, from either recursion).
    public init(network: ResolvedNetwork, fields: [LayerField]) {
        if fields.count != network.layers.count { fatalError("ReceptiveFieldReport: \(fields.count) fields for \(network.layers.count) layers") }
        self.network = network
        self.fields = fields
    }

    /// Headers of `textRecords()`.
    public static let textColumns = ["layer", "type", "kernel", "stride", "dilation", "padding", "output", "jump", "rf", "centre", "eff. pad"]

    /// One row of cells per layer: layer, type, kernel, stride (the scale of an upsampling layer),
    /// dilation, padding applied (before+after when they differ; negative for a crop), output
    /// size, jump, field size, centre of element 0's field, effective padding; a misaligned layer
    /// is marked with `*` after its name.
    ///
    /// - Complexity: O(L).
    public func textRecords() -> [[String]] {
        zip(network.layers, fields).map { layer, field in
            let parameters = Self.parameters(of: layer.operation)
            return [
                layer.name + (field.misalignment == nil ? "" : " *"), layer.operation.typeName,
                parameters.kernel.map(Self.pair) ?? "", parameters.stride.map(Self.pair) ?? "", parameters.dilation.map(Self.pair) ?? "",
                Self.pair(layer.axes.map { _, axis in
                    axis.paddingBefore == axis.paddingAfter ? String(axis.paddingBefore) : "\(axis.paddingBefore)+\(axis.paddingAfter)"
                }),
                "\(layer.outputSize.height)x\(layer.outputSize.width)",
                Self.pair(field.field.map { $1.jump.exactDecimal }), Self.pair(field.field.map { $1.size.exactDecimal }),
                Self.pair(field.field.map { $1.centre.exactDecimal }), Self.pair(field.field.map { $1.effectivePadding.exactDecimal }),
            ]
        }
    }

    /// Headers of `csvRecords()`.
    public static let csvColumns = [
        "layer", "type", "inputs", "kernel_h", "kernel_w", "stride_h", "stride_w", "dilation_h", "dilation_w",
        "pad_top", "pad_bottom", "pad_left", "pad_right", "out_h", "out_w", "jump_h", "jump_w", "rf_h", "rf_w",
        "centre_h", "centre_w", "effective_padding_h", "effective_padding_w", "aligned",
    ]

    /// One record of unescaped fields per layer, in the order of `csvColumns`; inputs are
    /// separated by spaces, absent parameters are empty, `aligned` is `true` or `false`.
    ///
    /// - Complexity: O(L).
    public func csvRecords() -> [[String]] {
        zip(network.layers, fields).map { layer, field in
            let parameters = Self.parameters(of: layer.operation)
            let both = { (value: Spatial<Int>?) in [value.map { String($0.height) } ?? "", value.map { String($0.width) } ?? ""] }
            let rational = { (value: (AxisField) -> Rational) in [value(field.field.height).exactDecimal, value(field.field.width).exactDecimal] }
            let (height, width) = (layer.axes.height, layer.axes.width)
            return [layer.name, layer.operation.typeName, layer.inputs.map { network.layers[$0].name }.joined(separator: " ")]
                + both(parameters.kernel) + both(parameters.stride) + both(parameters.dilation)
                + [height.paddingBefore, height.paddingAfter, width.paddingBefore, width.paddingAfter].map(String.init)
                + [String(height.outputSize), String(width.outputSize)]
                + rational(\.jump) + rational(\.size) + rational(\.centre) + rational(\.effectivePadding)
                + [field.misalignment == nil ? "true" : "false"]
        }
    }

    /// The misaligned layers with what disagrees.
    public var misalignments: [(layer: String, reason: String)] {
        fields.compactMap { field in field.misalignment.map { (field.layer, $0) } }
    }

    /// Kernel, stride (an upsampling layer's scale) and dilation of a layer, where it has them.
    static func parameters(of operation: LayerOperation) -> (kernel: Spatial<Int>?, stride: Spatial<Int>?, dilation: Spatial<Int>?) {
        switch operation {
        case .convolution(let kernel, let stride, let dilation, _), .pooling(let kernel, let stride, let dilation, _, _),
             .transposedConvolution(let kernel, let stride, let dilation, _, _):
            (kernel, stride, dilation)
        case .upsampling(let scale, _):
            (nil, scale, nil)
        case .input, .pad, .crop, .add, .concat:
            (nil, nil, nil)
        }
    }

    /// "3" when both axes agree, "1x7" otherwise.
    static func pair<T: CustomStringConvertible & Equatable>(_ value: Spatial<T>) -> String {
        value.height == value.width ? value.height.description : "\(value.height)x\(value.width)"
    }
}
