// The built-in networks, defined layer by layer from their papers and from the TF-Slim
// (tensorflow/models research/slim/nets) and torchvision definitions — never from tables of
// results. Layer names follow the definition each network is taken from (TF-Slim scopes,
// torchvision module paths), so a row of a published table can be found by its end-point.

extension ReceptiveFieldNetwork {
    /// A built-in network: its name, the definition it follows, and how to build it.
    public struct Builtin: Sendable {
        public let name: String
        public let source: String
        public let defaultInput: Spatial<Int>
        let build: @Sendable (Spatial<Int>) throws(ReceptiveFieldError) -> [NetworkLayer]
    }

    /// Every built-in network, in the order `rf list` shows them.
    public static let builtins: [Builtin] = [
        alexnetV2, vggA, vgg16,
        resnetV1Slim(depth: 50), resnetV1Slim(depth: 101), resnetV1Slim(depth: 152), resnetV1Slim(depth: 200),
        resnet50Torchvision, inceptionV3, mobilenetV1, mobilenetV2Torchvision, unet,
    ]

    /// The built-in network called `name` (see `builtins`), built for `input` (default: its own
    /// default input; only U-Net's crops depend on it); nil if there is none of that name.
    ///
    /// - Complexity: O(L) for L layers.
    /// - Throws: `ReceptiveFieldError` if the network cannot be built for `input` (U-Net needs
    ///   sizes whose skip connections crop evenly).
    public static func builtin(_ name: String, input: Spatial<Int>? = nil) throws(ReceptiveFieldError) -> ReceptiveFieldNetwork? {
        guard let builtin = builtins.first(where: { $0.name == name }) else { return nil }
        let size = input ?? builtin.defaultInput
        return ReceptiveFieldNetwork(name: builtin.name, source: builtin.source, defaultInput: size, layers: try builtin.build(size))
    }
}

/// Appends layers to a network definition, each reading the previous layer unless told otherwise.
struct NetworkBuilder {
    private(set) var layers: [NetworkLayer] = []
    /// The name of the layer appended last (the input before the first).
    private(set) var last = ReceptiveFieldNetwork.inputName

    @discardableResult
    mutating func append(_ name: String, _ operation: LayerOperation, from inputs: [String]? = nil) -> String {
        layers.append(NetworkLayer(name: name, operation: operation, inputs: inputs ?? [last]))
        last = name
        return name
    }

    @discardableResult
    mutating func conv(_ name: String, _ kernel: (Int, Int), stride: Int = 1, dilation: Int = 1, padding: LayerPadding, from input: String? = nil) -> String {
        append(name, .convolution(kernel: Spatial(kernel.0, kernel.1), stride: Spatial(square: stride), dilation: Spatial(square: dilation),
                                  padding: padding), from: input.map { [$0] })
    }

    @discardableResult
    mutating func conv(_ name: String, _ kernel: Int, stride: Int = 1, dilation: Int = 1, padding: LayerPadding, from input: String? = nil) -> String {
        conv(name, (kernel, kernel), stride: stride, dilation: dilation, padding: padding, from: input)
    }

    @discardableResult
    mutating func pool(_ name: String, _ kernel: Int, stride: Int, padding: LayerPadding, from input: String? = nil) -> String {
        append(name, .pooling(kernel: Spatial(square: kernel), stride: Spatial(square: stride), dilation: Spatial(square: 1),
                              padding: padding, ceilMode: false), from: input.map { [$0] })
    }

    @discardableResult
    mutating func pad(_ name: String, _ amount: Int, from input: String? = nil) -> String {
        append(name, .pad(SidePadding(amount)), from: input.map { [$0] })
    }

    /// TF-Slim's `resnet_utils.conv2d_same`: a SAME convolution when the stride is 1; otherwise
    /// explicit padding of (K − 1)/2 before and the rest after, then a VALID convolution, so
    /// that the padding does not depend on the input size.
    @discardableResult
    mutating func slimConv2dSame(_ name: String, _ kernel: Int, stride: Int, from input: String? = nil) -> String {
        guard stride > 1 else { return conv(name, kernel, padding: .same, from: input) }
        let total = kernel - 1
        append(name + "_pad", .pad(SidePadding(top: total / 2, bottom: total - total / 2, left: total / 2, right: total - total / 2)),
               from: input.map { [$0] })
        return conv(name, kernel, stride: stride, padding: .valid)
    }
}

/// PyTorch-style symmetric padding.
func padding(_ amount: Int) -> LayerPadding { .explicit(SidePadding(amount)) }
