// torchvision definitions (torchvision/models) with symmetric PyTorch padding, and U-Net from
// its paper. Layer names are torchvision's module paths.

extension ReceptiveFieldNetwork {
    /// torchvision `resnet50` (ResNet v1.5): conv1 7×7/2 padding 3, maxpool 3×3/2 padding 1, then
    /// layer1…layer4 of [3, 4, 6, 3] bottlenecks. Unlike TF-Slim, the stride of layer2…layer4 is
    /// in the *first* bottleneck, on its 3×3 conv2 (and on the 1×1 `downsample` shortcut), so the
    /// fields differ from `resnet_v1_50`'s. Each bottleneck's residual sum is `layerL.B`.
    static let resnet50Torchvision = Builtin(
        name: "resnet50",
        source: "torchvision resnet50 (ResNet v1.5: stride on the 3x3 conv of the first bottleneck of each stage), torchvision/models/resnet.py",
        defaultInput: Spatial(square: 224)
    ) { _ throws(ReceptiveFieldError) in
        var net = NetworkBuilder()
        net.conv("conv1", 7, stride: 2, padding: padding(3))
        net.pool("maxpool", 3, stride: 2, padding: padding(1))
        for (stage, count) in [3, 4, 6, 3].enumerated() {
            for index in 0..<count {
                let stride = index == 0 && stage > 0 ? 2 : 1
                let scope = "layer\(stage + 1).\(index)"
                let blockInput = net.last
                // The first bottleneck of every stage changes the channel count, so it has a downsample.
                let shortcut = index == 0 ? net.conv(scope + ".downsample.0", 1, stride: stride, padding: padding(0), from: blockInput) : blockInput
                net.conv(scope + ".conv1", 1, padding: padding(0), from: blockInput)
                net.conv(scope + ".conv2", 3, stride: stride, padding: padding(1))
                let residual = net.conv(scope + ".conv3", 1, padding: padding(0))
                net.append(scope, .add, from: [shortcut, residual])
            }
        }
        return net.layers
    }

    /// torchvision `mobilenet_v2`: features.0 a 3×3/2 convolution (padding 1), then the inverted
    /// residual blocks features.1…17 of the paper's table 2 (t, c, n, s) — 1×1 expansion (when
    /// t ≠ 1), 3×3 depthwise with the block's stride (padding 1), 1×1 projection, and a residual
    /// sum `features.i` when the stride is 1 and the channels do not change — and features.18,
    /// a 1×1 convolution. (TF-Slim's mobilenet_v2 pads SAME instead, which shifts centres.)
    static let mobilenetV2Torchvision = Builtin(
        name: "mobilenet_v2", source: "torchvision mobilenet_v2 (Sandler et al. 2018), torchvision/models/mobilenetv2.py",
        defaultInput: Spatial(square: 224)
    ) { _ throws(ReceptiveFieldError) in
        var net = NetworkBuilder()
        net.conv("features.0.0", 3, stride: 2, padding: padding(1))
        var channels = 32, index = 1
        for (expansion, outputChannels, repeats, firstStride) in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                                                                   (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)] {
            for repeatIndex in 0..<repeats {
                let stride = repeatIndex == 0 ? firstStride : 1
                let scope = "features.\(index).conv"
                let blockInput = net.last
                var module = 0
                if expansion != 1 {
                    net.conv("\(scope).0.0", 1, padding: padding(0))
                    module = 1
                }
                net.conv("\(scope).\(module).0", 3, stride: stride, padding: padding(1))
                let projection = net.conv("\(scope).\(module + 1)", 1, padding: padding(0))
                if stride == 1 && channels == outputChannels {
                    net.append("features.\(index)", .add, from: [blockInput, projection])
                }
                channels = outputChannels
                index += 1
            }
        }
        net.conv("features.18.0", 1, padding: padding(0))
        return net.layers
    }

    /// U-Net (Ronneberger, Fischer & Brox 2015, figure 1): four levels of two unpadded 3×3
    /// convolutions and a 2×2/2 max pool, a bottom level of two 3×3 convolutions, then four
    /// up-convolutions (2×2 transposed convolutions, stride 2) each concatenated with the
    /// encoder's output centre-cropped to its size, two 3×3 convolutions, and a final 1×1
    /// convolution. 572×572 in, 388×388 out. The crops depend on the input size; sizes whose
    /// pooled or cropped maps would not be even are refused.
    static let unet = Builtin(
        name: "unet", source: "U-Net (Ronneberger et al. 2015, fig. 1): valid 3x3 convolutions, 2x2 up-convolutions, centre-cropped skip connections",
        defaultInput: Spatial(square: 572)
    ) { input throws(ReceptiveFieldError) in
        var net = NetworkBuilder()
        var size = input
        var skips: [(name: String, size: Spatial<Int>)] = []
        func doubleConvolution(_ scope: String) {
            net.conv(scope + ".conv1", 3, padding: padding(0))
            net.conv(scope + ".conv2", 3, padding: padding(0))
            size = Spatial(size.height - 4, size.width - 4)
        }
        func require(_ valid: Bool, _ what: String, _ value: Spatial<Int>) throws(ReceptiveFieldError) {
            if !valid {
                throw .invalidNetwork(field: "input", reason: "U-Net at \(input.height)x\(input.width) gives \(what) of \(value.height)x\(value.width); it needs every max-pooled map even and positive, and every skip-connection crop even and non-negative (572x572 works)")
            }
        }
        for level in 1...4 {
            doubleConvolution("down\(level)")
            try require(size.height > 0 && size.width > 0 && size.height % 2 == 0 && size.width % 2 == 0, "the map before pool\(level)", size)
            skips.append((net.last, size))
            net.pool("pool\(level)", 2, stride: 2, padding: padding(0))
            size = Spatial(size.height / 2, size.width / 2)
        }
        doubleConvolution("bottom")
        for level in stride(from: 4, through: 1, by: -1) {
            let up = net.append("up\(level)", .transposedConvolution(kernel: Spatial(square: 2), stride: Spatial(square: 2), dilation: Spatial(square: 1),
                                                                      padding: SidePadding(0), outputPadding: Spatial(square: 0)))
            size = Spatial(size.height * 2, size.width * 2)
            let skip = skips[level - 1]
            let excess = Spatial(skip.size.height - size.height, skip.size.width - size.width)
            try require(excess.height >= 0 && excess.width >= 0 && excess.height % 2 == 0 && excess.width % 2 == 0,
                        "a skip-connection crop (encoder minus decoder size)", excess)
            let crop = net.append("crop\(level)", .crop(SidePadding(height: excess.height / 2, width: excess.width / 2)), from: [skip.name])
            net.append("concat\(level)", .concat, from: [crop, up])
            doubleConvolution("up\(level)")
        }
        net.conv("output", 1, padding: padding(0))
        return net.layers
    }
}
