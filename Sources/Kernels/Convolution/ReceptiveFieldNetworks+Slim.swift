// TF-Slim definitions (tensorflow/models, research/slim/nets): the networks of the
// google-research/receptive_field table. Scopes become layer names, without the network prefix
// ("vgg_16/conv1/conv1_1" is "conv1/conv1_1").

extension ReceptiveFieldNetwork {
    /// alexnet.py `alexnet_v2`: convolutions SAME except conv1 (11×11/4 VALID) and fc6 (5×5
    /// VALID); max pools 3×3/2 VALID.
    static let alexnetV2 = Builtin(
        name: "alexnet_v2", source: "TF-Slim alexnet_v2 (Krizhevsky 2014, 'One weird trick'), tensorflow/models research/slim/nets/alexnet.py",
        defaultInput: Spatial(square: 224)
    ) { _ throws(ReceptiveFieldError) in
        var net = NetworkBuilder()
        net.conv("conv1", 11, stride: 4, padding: .valid)
        net.pool("pool1", 3, stride: 2, padding: .valid)
        net.conv("conv2", 5, padding: .same)
        net.pool("pool2", 3, stride: 2, padding: .valid)
        net.conv("conv3", 3, padding: .same)
        net.conv("conv4", 3, padding: .same)
        net.conv("conv5", 3, padding: .same)
        net.pool("pool5", 3, stride: 2, padding: .valid)
        net.conv("fc6", 5, padding: .valid)
        net.conv("fc7", 1, padding: .same)
        net.conv("fc8", 1, padding: .same)
        return net.layers
    }

    /// vgg.py `vgg_a` (VGG configuration A, 11 weight layers).
    static let vggA = vgg(name: "vgg_a", convolutionsPerStage: [1, 1, 2, 2, 2], paper: "configuration A")

    /// vgg.py `vgg_16` (configuration D).
    static let vgg16 = vgg(name: "vgg_16", convolutionsPerStage: [2, 2, 3, 3, 3], paper: "configuration D")

    /// vgg.py: stages of 3×3 SAME convolutions `convN/convN_i`, each followed by a 2×2/2 VALID
    /// max pool `poolN`; then fc6 as a 7×7 VALID convolution and fc7, fc8 as 1×1.
    static func vgg(name: String, convolutionsPerStage: [Int], paper: String) -> Builtin {
        Builtin(name: name, source: "TF-Slim \(name) (Simonyan & Zisserman 2014, \(paper)), tensorflow/models research/slim/nets/vgg.py",
                defaultInput: Spatial(square: 224)) { _ throws(ReceptiveFieldError) in
            var net = NetworkBuilder()
            for (stage, count) in convolutionsPerStage.enumerated() {
                for index in 1...count { net.conv("conv\(stage + 1)/conv\(stage + 1)_\(index)", 3, padding: .same) }
                net.pool("pool\(stage + 1)", 2, stride: 2, padding: .valid)
            }
            net.conv("fc6", 7, padding: .valid)
            net.conv("fc7", 1, padding: .same)
            net.conv("fc8", 1, padding: .same)
            return net.layers
        }
    }

    /// resnet_v1.py `resnet_v1_{50,101,152,200}`: root `conv2d_same` 7×7/2 and a 3×3/2 SAME max
    /// pool, then four blocks of bottleneck units. TF-Slim puts each block's stride in its *last*
    /// unit (resnet_utils.py: "we subsample the output activations in the last residual unit of
    /// each block"), on the 3×3 `conv2` (a `conv2d_same`) and on the shortcut (a 1×1/2 max pool,
    /// or a 1×1/2 convolution where the depth changes). Block 4 has stride 1.
    ///
    /// The unit outputs (the residual sums) are `blockB/unit_U`; the end-point
    /// `resnet_v1_50/blockB` of the published table is the block's last unit.
    static func resnetV1Slim(depth: Int) -> Builtin {
        let units = [50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3], 200: [3, 24, 36, 3]][depth]!
        return Builtin(name: "resnet_v1_\(depth)",
                       source: "TF-Slim resnet_v1_\(depth) (He et al. 2015), tensorflow/models research/slim/nets/resnet_v1.py: stride in the last unit of each block",
                       defaultInput: Spatial(square: 224)) { _ throws(ReceptiveFieldError) in
            var net = NetworkBuilder()
            net.slimConv2dSame("conv1", 7, stride: 2)
            net.pool("pool1", 3, stride: 2, padding: .same)
            var channels = 64
            for (block, count) in units.enumerated() {
                let bottleneckDepth = 64 << block, outputDepth = 4 * bottleneckDepth
                for unit in 1...count {
                    let stride = unit == count && block < 3 ? 2 : 1
                    let scope = "block\(block + 1)/unit_\(unit)/bottleneck_v1"
                    let unitInput = net.last
                    let shortcut: String
                    if channels != outputDepth {
                        shortcut = net.conv(scope + "/shortcut", 1, stride: stride, padding: .same, from: unitInput)
                    } else if stride > 1 {
                        shortcut = net.pool(scope + "/shortcut", 1, stride: stride, padding: .same, from: unitInput)
                    } else {
                        shortcut = unitInput
                    }
                    net.conv(scope + "/conv1", 1, padding: .same, from: unitInput)
                    net.slimConv2dSame(scope + "/conv2", 3, stride: stride)
                    let residual = net.conv(scope + "/conv3", 1, padding: .same)
                    net.append("block\(block + 1)/unit_\(unit)", .add, from: [shortcut, residual])
                    channels = outputDepth
                }
            }
            return net.layers
        }
    }

    /// inception_v3.py `inception_v3_base` up to Mixed_7c: the stem with VALID convolutions and
    /// pools (Conv2d_2b_3x3 SAME), then inception blocks of SAME stride-1 branches joined by
    /// concatenation; the grid reductions Mixed_6a and Mixed_7a have 3×3/2 VALID branches. Mixed_7b
    /// and Mixed_7c concatenate 1×3 and 3×1 convolutions inside branches 1 and 2.
    static let inceptionV3 = Builtin(
        name: "inception_v3", source: "TF-Slim inception_v3 (Szegedy et al. 2015), tensorflow/models research/slim/nets/inception_v3.py",
        defaultInput: Spatial(square: 224)
    ) { _ throws(ReceptiveFieldError) in
        var net = NetworkBuilder()
        net.conv("Conv2d_1a_3x3", 3, stride: 2, padding: .valid)
        net.conv("Conv2d_2a_3x3", 3, padding: .valid)
        net.conv("Conv2d_2b_3x3", 3, padding: .same)
        net.pool("MaxPool_3a_3x3", 3, stride: 2, padding: .valid)
        net.conv("Conv2d_3b_1x1", 1, padding: .valid)
        net.conv("Conv2d_4a_3x3", 3, padding: .valid)
        net.pool("MaxPool_5a_3x3", 3, stride: 2, padding: .valid)

        // Branches: each a chain of (scope, kernel) SAME stride-1 convolutions; "AvgPool" is a 3×3 average pool.
        func block(_ name: String, _ branches: [[(String, (Int, Int))]]) {
            let blockInput = net.last
            var outputs: [String] = []
            for (index, branch) in branches.enumerated() {
                var previous = blockInput
                for (scope, kernel) in branch {
                    let layer = "\(name)/Branch_\(index)/\(scope)"
                    previous = scope.hasPrefix("AvgPool")
                        ? net.pool(layer, kernel.0, stride: 1, padding: .same, from: previous)
                        : net.conv(layer, kernel, padding: .same, from: previous)
                }
                outputs.append(previous)
            }
            net.append(name, .concat, from: outputs)
        }
        let pooledOneByOne: [(String, (Int, Int))] = [("AvgPool_0a_3x3", (3, 3)), ("Conv2d_0b_1x1", (1, 1))]
        for (name, branch1) in [("Mixed_5b", ["Conv2d_0a_1x1", "Conv2d_0b_5x5"]), ("Mixed_5c", ["Conv2d_0b_1x1", "Conv_1_0c_5x5"]),
                                ("Mixed_5d", ["Conv2d_0a_1x1", "Conv2d_0b_5x5"])] {
            block(name, [[("Conv2d_0a_1x1", (1, 1))],
                         [(branch1[0], (1, 1)), (branch1[1], (5, 5))],
                         [("Conv2d_0a_1x1", (1, 1)), ("Conv2d_0b_3x3", (3, 3)), ("Conv2d_0c_3x3", (3, 3))],
                         pooledOneByOne])
        }

        // Mixed_6a: 35×35 → 17×17.
        var blockInput = net.last
        let a0 = net.conv("Mixed_6a/Branch_0/Conv2d_1a_1x1", 3, stride: 2, padding: .valid, from: blockInput)
        net.conv("Mixed_6a/Branch_1/Conv2d_0a_1x1", 1, padding: .same, from: blockInput)
        net.conv("Mixed_6a/Branch_1/Conv2d_0b_3x3", 3, padding: .same)
        let a1 = net.conv("Mixed_6a/Branch_1/Conv2d_1a_1x1", 3, stride: 2, padding: .valid)
        let a2 = net.pool("Mixed_6a/Branch_2/MaxPool_1a_3x3", 3, stride: 2, padding: .valid, from: blockInput)
        net.append("Mixed_6a", .concat, from: [a0, a1, a2])

        for name in ["Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"] {
            block(name, [[("Conv2d_0a_1x1", (1, 1))],
                         [("Conv2d_0a_1x1", (1, 1)), ("Conv2d_0b_1x7", (1, 7)), ("Conv2d_0c_7x1", (7, 1))],
                         [("Conv2d_0a_1x1", (1, 1)), ("Conv2d_0b_7x1", (7, 1)), ("Conv2d_0c_1x7", (1, 7)),
                          ("Conv2d_0d_7x1", (7, 1)), ("Conv2d_0e_1x7", (1, 7))],
                         pooledOneByOne])
        }

        // Mixed_7a: 17×17 → 8×8.
        blockInput = net.last
        net.conv("Mixed_7a/Branch_0/Conv2d_0a_1x1", 1, padding: .same, from: blockInput)
        let b0 = net.conv("Mixed_7a/Branch_0/Conv2d_1a_3x3", 3, stride: 2, padding: .valid)
        net.conv("Mixed_7a/Branch_1/Conv2d_0a_1x1", 1, padding: .same, from: blockInput)
        net.conv("Mixed_7a/Branch_1/Conv2d_0b_1x7", (1, 7), padding: .same)
        net.conv("Mixed_7a/Branch_1/Conv2d_0c_7x1", (7, 1), padding: .same)
        let b1 = net.conv("Mixed_7a/Branch_1/Conv2d_1a_3x3", 3, stride: 2, padding: .valid)
        let b2 = net.pool("Mixed_7a/Branch_2/MaxPool_1a_3x3", 3, stride: 2, padding: .valid, from: blockInput)
        net.append("Mixed_7a", .concat, from: [b0, b1, b2])

        for (name, lastOf1) in [("Mixed_7b", "Conv2d_0b_3x1"), ("Mixed_7c", "Conv2d_0c_3x1")] {
            blockInput = net.last
            let c0 = net.conv("\(name)/Branch_0/Conv2d_0a_1x1", 1, padding: .same, from: blockInput)
            let c1 = net.conv("\(name)/Branch_1/Conv2d_0a_1x1", 1, padding: .same, from: blockInput)
            let c1a = net.conv("\(name)/Branch_1/Conv2d_0b_1x3", (1, 3), padding: .same, from: c1)
            let c1b = net.conv("\(name)/Branch_1/\(lastOf1)", (3, 1), padding: .same, from: c1)
            let c1Joined = net.append("\(name)/Branch_1/concat", .concat, from: [c1a, c1b])
            net.conv("\(name)/Branch_2/Conv2d_0a_1x1", 1, padding: .same, from: blockInput)
            let c2 = net.conv("\(name)/Branch_2/Conv2d_0b_3x3", 3, padding: .same)
            let c2a = net.conv("\(name)/Branch_2/Conv2d_0c_1x3", (1, 3), padding: .same, from: c2)
            let c2b = net.conv("\(name)/Branch_2/Conv2d_0d_3x1", (3, 1), padding: .same, from: c2)
            let c2Joined = net.append("\(name)/Branch_2/concat", .concat, from: [c2a, c2b])
            net.pool("\(name)/Branch_3/AvgPool_0a_3x3", 3, stride: 1, padding: .same, from: blockInput)
            let c3 = net.conv("\(name)/Branch_3/Conv2d_0b_1x1", 1, padding: .same)
            net.append(name, .concat, from: [c0, c1Joined, c2Joined, c3])
        }
        return net.layers
    }

    /// mobilenet_v1.py `mobilenet_v1_base` (MOBILENETV1_CONV_DEFS, SAME padding): Conv2d_0 3×3/2,
    /// then 13 depthwise-separable pairs Conv2d_i_depthwise (3×3, stride 2 at i = 2, 4, 6, 12)
    /// and Conv2d_i_pointwise (1×1). The width multiplier (mobilenet_v1_075 ...) changes channels
    /// only, so those variants have the same fields.
    static let mobilenetV1 = Builtin(
        name: "mobilenet_v1", source: "TF-Slim mobilenet_v1 (Howard et al. 2017), tensorflow/models research/slim/nets/mobilenet_v1.py",
        defaultInput: Spatial(square: 224)
    ) { _ throws(ReceptiveFieldError) in
        var net = NetworkBuilder()
        net.conv("Conv2d_0", 3, stride: 2, padding: .same)
        for (index, stride) in [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1].enumerated() {
            net.conv("Conv2d_\(index + 1)_depthwise", 3, stride: stride, padding: .same)
            net.conv("Conv2d_\(index + 1)_pointwise", 1, padding: .same)
        }
        return net.layers
    }
}
