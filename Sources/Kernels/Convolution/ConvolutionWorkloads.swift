/// Convolution layers of published networks, as plain data, for benchmarks and their peers
/// (`Benchmarks/peers/torch_conv.py` lists the same layers).

/// One square convolution layer of a network: C_in → C_out channels on an H × H input,
/// a k × k kernel with stride, padding and groups (dilation 1).
public struct ConvolutionLayer: Sendable, Hashable, CustomStringConvertible {
    /// What kind of layer it is, for choosing workloads: the stem, a 3×3 or 1×1 layer of a
    /// residual network, or a depthwise 3×3 layer.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case stem, conv3x3, conv1x1, depthwise
    }

    public let network: String
    public let name: String
    public let kind: Kind
    public let inputChannels: Int, outputChannels: Int
    public let inputSize: Int
    public let kernel: Int, stride: Int, padding: Int, groups: Int

    public init(network: String, name: String, kind: Kind, inputChannels: Int, outputChannels: Int, inputSize: Int,
                kernel: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1) {
        self.network = network
        self.name = name
        self.kind = kind
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.inputSize = inputSize
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    /// The layer on a batch in a layout.
    /// - Throws: `ConvolutionError` if the batch is negative.
    public func geometry(batch: Int, layout: ConvolutionLayout) throws -> Conv2DGeometry {
        try Conv2DGeometry(
            batch: batch, inputChannels: inputChannels, inputHeight: inputSize, inputWidth: inputSize, outputChannels: outputChannels,
            kernelHeight: kernel, kernelWidth: kernel, stride: Spatial2D(stride, stride), padding: Spatial2D(padding, padding),
            groups: groups, layout: layout)
    }

    /// `resnet50/layer1.0.conv2`.
    public var description: String { "\(network)/\(name)" }
}

/// The layers the convolution benchmarks run, at batch 1 and 8, Float.
public enum ConvolutionWorkloads {
    public static let batches = [1, 8]

    /// ResNet-50 (torchvision's v1.5: the stride-2 downsampling in the 3×3 layer of a stage's
    /// first block): the stem, the stride-1 3×3 layers of the four stages, and 1×1 layers that
    /// reduce and expand channels.
    public static let resnet50: [ConvolutionLayer] = [
        ConvolutionLayer(network: "resnet50", name: "conv1", kind: .stem, inputChannels: 3, outputChannels: 64, inputSize: 224,
                         kernel: 7, stride: 2, padding: 3),
        ConvolutionLayer(network: "resnet50", name: "layer1.0.conv2", kind: .conv3x3, inputChannels: 64, outputChannels: 64, inputSize: 56,
                         kernel: 3, padding: 1),
        ConvolutionLayer(network: "resnet50", name: "layer2.1.conv2", kind: .conv3x3, inputChannels: 128, outputChannels: 128, inputSize: 28,
                         kernel: 3, padding: 1),
        ConvolutionLayer(network: "resnet50", name: "layer3.1.conv2", kind: .conv3x3, inputChannels: 256, outputChannels: 256, inputSize: 14,
                         kernel: 3, padding: 1),
        ConvolutionLayer(network: "resnet50", name: "layer4.1.conv2", kind: .conv3x3, inputChannels: 512, outputChannels: 512, inputSize: 7,
                         kernel: 3, padding: 1),
        ConvolutionLayer(network: "resnet50", name: "layer1.1.conv1", kind: .conv1x1, inputChannels: 256, outputChannels: 64, inputSize: 56, kernel: 1),
        ConvolutionLayer(network: "resnet50", name: "layer1.0.conv3", kind: .conv1x1, inputChannels: 64, outputChannels: 256, inputSize: 56, kernel: 1),
        ConvolutionLayer(network: "resnet50", name: "layer2.1.conv3", kind: .conv1x1, inputChannels: 128, outputChannels: 512, inputSize: 28, kernel: 1),
        ConvolutionLayer(network: "resnet50", name: "layer3.1.conv1", kind: .conv1x1, inputChannels: 1024, outputChannels: 256, inputSize: 14, kernel: 1),
        ConvolutionLayer(network: "resnet50", name: "layer4.1.conv3", kind: .conv1x1, inputChannels: 512, outputChannels: 2048, inputSize: 7, kernel: 1),
    ]

    /// MobileNet-v2's depthwise 3×3 layers (torchvision's numbering of `features`), one per
    /// channel count, with the stride-2 layer on 112².
    public static let mobilenetV2Depthwise: [ConvolutionLayer] = [
        (1, 32, 112, 1), (2, 96, 112, 2), (3, 144, 56, 1), (5, 192, 28, 1), (8, 384, 14, 1), (12, 576, 14, 1), (15, 960, 7, 1),
    ].map { feature, channels, size, stride in
        ConvolutionLayer(network: "mobilenet_v2", name: "features.\(feature).dw", kind: .depthwise, inputChannels: channels,
                         outputChannels: channels, inputSize: size, kernel: 3, stride: stride, padding: 1, groups: channels)
    }

    /// Every layer above.
    public static var all: [ConvolutionLayer] { resnet50 + mobilenetV2Depthwise }
}
