import TestSupport
import Foundation
import Testing
@testable import Kernels

/// A network from a layer list, for the hand-made graphs below.
func network(_ name: String, input: Int, _ layers: [NetworkLayer]) -> ReceptiveFieldNetwork {
    ReceptiveFieldNetwork(name: name, defaultInput: Spatial(square: input), layers: layers)
}

func conv(_ name: String, _ kernel: Int, stride: Int = 1, dilation: Int = 1, padding: LayerPadding = .explicit(SidePadding(0)),
          from inputs: [String] = []) -> NetworkLayer {
    NetworkLayer(name: name, operation: .convolution(kernel: Spatial(square: kernel), stride: Spatial(square: stride),
                                                     dilation: Spatial(square: dilation), padding: padding), inputs: inputs)
}

func transposed(_ name: String, _ kernel: Int, stride: Int, dilation: Int = 1, padding: Int = 0, outputPadding: Int = 0,
                from inputs: [String] = []) -> NetworkLayer {
    NetworkLayer(name: name, operation: .transposedConvolution(kernel: Spatial(square: kernel), stride: Spatial(square: stride),
                                                               dilation: Spatial(square: dilation), padding: SidePadding(padding),
                                                               outputPadding: Spatial(square: outputPadding)), inputs: inputs)
}

func upsample(_ name: String, _ scale: Int, _ mode: UpsamplingMode) -> NetworkLayer {
    NetworkLayer(name: name, operation: .upsampling(scale: Spatial(square: scale), mode: mode))
}

struct ReceptiveFieldTests {
    static let builtinNames = ReceptiveFieldNetwork.builtins.map(\.name)

    /// The layers whose influence boxes are checked: every layer, except in the three deep
    /// ResNets, where the last unit of each block (the published end-points) is.
    static func checkedLayers(_ network: ReceptiveFieldNetwork) -> [String] {
        guard network.layers.count > 130 else { return network.layers.map(\.name) }
        var lastUnit: [Substring: String] = [:]   // "blockB" → its last "blockB/unit_U" (layers are in order)
        for name in network.layers.map(\.name) where name.hasPrefix("block") && !name.contains("/bottleneck") {
            lastUnit[name.prefix { $0 != "/" }] = name
        }
        return lastUnit.values.sorted()
    }

    @Test("bottom-up = top-down on every layer, and = the influence box of interior elements", arguments: builtinNames)
    func recursionsAgreeWithInfluence(_ name: String) throws {
        let atDefault = try #require(try ReceptiveFieldNetwork.builtin(name))
        let plain = try atDefault.resolved().verifyReceptiveFields(influenceLayers: [])
        #expect(plain.passed, "\(plain.directionMismatches)")
        #expect(plain.layersCompared == atDefault.layers.count + 1)

        let checked = Self.checkedLayers(atDefault)
        let input = try atDefault.influenceCheckInput(layers: checked)
        let resolved = try #require(try ReceptiveFieldNetwork.builtin(name, input: input)).resolved()
        let verification = try resolved.verifyReceptiveFields(influenceLayers: checked.compactMap(resolved.index(of:)))
        #expect(verification.directionMismatches.isEmpty, "\(verification.directionMismatches)")
        #expect(verification.influence.count == checked.count)
        for (layer, result) in verification.influence {
            switch result {
            case .equal:
                break
            case .contained(_, _, let startGap, let endGap):
                // Only U-Net has up-convolutions; over one phase period its envelope is reached at both ends.
                #expect(name == "unet", "\(layer): \(result)")
                #expect(startGap == Spatial(square: .zero) && endGap == Spatial(square: .zero), "\(layer): \(result)")
            case .failed, .skipped:
                Issue.record("\(name) '\(layer)' at \(input.height)x\(input.width): \(result)")
            }
        }
    }

    struct PublishedRow {
        var network: String, resolution: Int?, endPoint: String, rf: Int, stride: Int, padding: Int?
    }

    static func publishedRows() throws -> [PublishedRow] {
        let url = referenceURL("reference/receptive_field/published.csv")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst()
        return lines.map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return PublishedRow(network: cells[0], resolution: Int(cells[1]), endPoint: cells[2], rf: Int(cells[4])!,
                                stride: Int(cells[5])!, padding: Int(cells[6]))
        }
    }

    /// The built-in network and layer of a published end-point, or nil for networks not defined here.
    static func layer(for row: PublishedRow) -> (network: String, layer: String)? {
        let network = row.network == "mobilenet_v1_075" ? "mobilenet_v1" : row.network
        guard builtinNames.contains(network) else { return nil }
        var endPoint = row.endPoint
        if let slash = endPoint.firstIndex(of: "/"), endPoint.hasPrefix(row.network + "/") { endPoint = String(endPoint[endPoint.index(after: slash)...]) }
        if network.hasPrefix("resnet_v1_") {
            // resnet_v1_N/blockB is the output of block B's last unit.
            let units = ["resnet_v1_50": [3, 4, 6, 3], "resnet_v1_101": [3, 4, 23, 3], "resnet_v1_152": [3, 8, 36, 3], "resnet_v1_200": [3, 24, 36, 3]][network]!
            let block = Int(endPoint.dropFirst("block".count))!
            endPoint = "block\(block)/unit_\(units[block - 1])"
        }
        return (network, endPoint)
    }

    @Test("the google-research/receptive_field table: every row of the networks defined here")
    func publishedTable() throws {
        let rows = try Self.publishedRows()
        #expect(rows.count == 561)
        var checked = 0
        var resolvedCache: [String: (ResolvedNetwork, [LayerField])] = [:]
        for row in rows {
            guard let (networkName, layerName) = Self.layer(for: row) else { continue }
            let size = row.resolution ?? 224
            let key = "\(networkName)@\(size)"
            if resolvedCache[key] == nil {
                let resolved = try #require(try ReceptiveFieldNetwork.builtin(networkName)).resolved(input: Spatial(square: size))
                resolvedCache[key] = (resolved, try resolved.receptiveFieldsBottomUp())
            }
            let (resolved, fields) = resolvedCache[key]!
            let index = try #require(resolved.index(of: layerName), "\(row.network) \(row.endPoint) → \(layerName)")
            for axis in SpatialAxis.allCases {
                let field = fields[index].field[axis]
                #expect(field.size == Rational(row.rf), "\(row.network)@\(size) \(row.endPoint) \(axis) rf")
                #expect(field.jump == Rational(row.stride), "\(row.network)@\(size) \(row.endPoint) \(axis) stride")
                if let padding = row.padding, row.resolution != nil {
                    #expect(field.effectivePadding == Rational(padding), "\(row.network)@\(size) \(row.endPoint) \(axis) padding")
                }
            }
            #expect(fields[index].misalignment == nil)
            checked += 1
        }
        // alexnet_v2 21, vgg_a 39, vgg_16 39, inception_v3 54, mobilenet_v1(+_075) 84, resnet_v1_* 48.
        #expect(checked == 285)
    }

    @Test("the issue's values: alexnet_v2 and vgg_16 at 224")
    func issueValues() throws {
        for (networkName, layer, rf, stride, padding) in [("alexnet_v2", "conv1", 11, 4, 0), ("alexnet_v2", "pool1", 19, 8, 0),
                                                          ("alexnet_v2", "conv2", 51, 8, 16), ("alexnet_v2", "pool5", 195, 32, 64),
                                                          ("vgg_16", "conv1/conv1_1", 3, 1, 1), ("vgg_16", "pool1", 6, 2, 2),
                                                          ("vgg_16", "pool5", 212, 32, 90)] {
            let resolved = try #require(try ReceptiveFieldNetwork.builtin(networkName)).resolved()
            let field = try resolved.receptiveFieldTopDown(of: try #require(resolved.index(of: layer))).field.width
            #expect([field.size, field.jump, field.effectivePadding] == [Rational(rf), Rational(stride), Rational(padding)], "\(networkName) \(layer)")
        }
    }

    @Test("TF-Slim and torchvision place ResNet-50's stride differently, so their fields differ")
    func resnetDefinitionsDiffer() throws {
        func last(_ name: String) throws -> AxisField {
            try #require(try ReceptiveFieldNetwork.builtin(name)).resolved().receptiveFieldsBottomUp().last!.field.height
        }
        let slim = try last("resnet_v1_50"), torchvision = try last("resnet50")
        #expect([slim.size, slim.jump, slim.effectivePadding] == [Rational(483), Rational(32), Rational(239)])
        #expect([torchvision.size, torchvision.jump, torchvision.effectivePadding] == [Rational(427), Rational(32), Rational(213)])
    }

    @Test("paths that disagree on centre or jump are reported as misaligned, in both directions")
    func misalignmentDetected() throws {
        let centre = network("centre", input: 16, [
            conv("a", 3, padding: .explicit(SidePadding(1)), from: ["input"]),
            // A 2×2 window padded one before and none after: same size, centre half a pixel earlier.
            conv("b", 2, padding: .explicit(SidePadding(top: 1, bottom: 0, left: 1, right: 0)), from: ["input"]),
            NetworkLayer(name: "sum", operation: .add, inputs: ["a", "b"]),
            conv("after", 3, padding: .explicit(SidePadding(1))),
        ])
        let jump = network("jump", input: 8, [
            conv("strided", 1, stride: 2, from: ["input"]),
            NetworkLayer(name: "cropped", operation: .crop(SidePadding(2)), inputs: ["input"]),
            NetworkLayer(name: "cat", operation: .concat, inputs: ["strided", "cropped"]),
        ])
        for (graph, merge) in [(centre, "sum"), (jump, "cat")] {
            let resolved = try graph.resolved()
            let up = try resolved.receptiveFieldsBottomUp(), down = try resolved.receptiveFieldsTopDown()
            let mergeIndex = try #require(resolved.index(of: merge))
            for index in resolved.layers.indices {
                #expect((up[index].misalignment != nil) == (index >= mergeIndex), "\(graph.name) bottom-up '\(up[index].layer)'")
                #expect((down[index].misalignment != nil) == (index >= mergeIndex), "\(graph.name) top-down '\(down[index].layer)'")
            }
            let verification = try resolved.verifyReceptiveFields(influenceLayers: [mergeIndex])
            #expect(verification.passed)
            #expect(verification.influence.first.map { if case .skipped = $0.result { true } else { false } } == true)
        }
        // The aligned version of the first graph: both branches centred.
        var aligned = centre
        aligned.layers[1] = conv("b", 5, padding: .explicit(SidePadding(2)), from: ["input"])
        #expect(try aligned.resolved().receptiveFieldsBottomUp().allSatisfy { $0.misalignment == nil })
        #expect(try aligned.resolved().receptiveFieldsTopDown().allSatisfy { $0.misalignment == nil })
    }

    @Test("dilation: the field spans the holes; the influence set has them, its bounding box does not")
    func dilatedConvolutions() throws {
        // DeepLab-style atrous stack: rates 1, 2, 4, 8 with 3×3 kernels, stride 1, padding = rate.
        let atrous = network("atrous", input: 96, [1, 2, 4, 8].enumerated().map { index, rate in
            conv("rate\(rate)", 3, dilation: rate, padding: .explicit(SidePadding(rate)))
        })
        let resolved = try atrous.resolved()
        let fields = try resolved.receptiveFieldsBottomUp()
        #expect(fields.last!.field.height.size == Rational(1 + 2 * (1 + 2 + 4 + 8)))
        let verification = try resolved.verifyReceptiveFields(influenceLayers: Array(1..<resolved.layers.count))
        #expect(verification.passed, "\(verification.influence)")
        #expect(verification.influence.allSatisfy { if case .equal = $0.result { true } else { false } })
        // A single dilated layer reads 3 of the 5 positions its box spans.
        let single = try network("single", input: 9, [conv("d2", 3, dilation: 2)]).resolved()
        #expect(single.influenceBox(of: 1, element: Spatial(1, 1)) == Spatial(1...5, 1...5))
        #expect(ResolvedNetwork.taps(of: single.layers[1], along: .height, outputs: 1...1) == [[1, 3, 5]])
    }

    @Test("transposed convolution and upsampling: fractional jumps, both directions agree, every box inside its field")
    func fractionalJumps() throws {
        let decoder = network("decoder", input: 40, [
            conv("down", 3, stride: 2, padding: .explicit(SidePadding(1))),
            transposed("up", 4, stride: 2, padding: 1),
            upsample("nearest", 2, .nearest),
            upsample("bilinear", 3, .bilinear),
            transposed("dilated", 3, stride: 3, dilation: 2, padding: 2, outputPadding: 1),
            conv("smooth", 3, padding: .explicit(SidePadding(1))),
        ])
        let resolved = try decoder.resolved()
        let fields = try resolved.receptiveFieldsBottomUp()
        #expect(fields.map(\.field.height.jump) == [.one, Rational(2), .one, try Rational(1, 2), try Rational(1, 6), try Rational(1, 18), try Rational(1, 18)])
        let verification = try resolved.verifyReceptiveFields(influenceLayers: Array(1..<resolved.layers.count))
        #expect(verification.passed, "\(verification.directionMismatches) \(verification.influence)")
        #expect(verification.influence.allSatisfy { if case .skipped = $0.result { false } else { true } }, "\(verification.influence)")
    }

    @Test("after an up-convolution the field is an envelope that no element need fill")
    func envelopeNotReached() throws {
        // A 2×2/2 up-convolution then a 1×1/2 convolution: output o reads exactly input o, but the
        // translation-invariant field of the up-convolution is 1.5 wide, so a half-pixel gap stays.
        let resolved = try network("gap", input: 12, [transposed("up", 2, stride: 2), conv("pick", 1, stride: 2)]).resolved()
        let field = try resolved.receptiveFieldsBottomUp()[2].field.height
        #expect(field.size == (try Rational(3, 2)) && field.jump == .one)
        #expect(resolved.influenceBox(of: 2, element: Spatial(5, 5)) == Spatial(5...5, 5...5))
        guard case .contained(_, let period, let startGap, let endGap) = try resolved.checkInfluence(of: 2, against: try resolved.receptiveFieldsBottomUp()) else {
            Issue.record("expected a contained result")
            return
        }
        #expect(period == Spatial(1, 1))
        #expect(startGap == Spatial(square: try Rational(1, 2)) && endGap == Spatial(square: .zero))
    }

    @Test("a bad network is an error naming the layer and field")
    func invalidNetworks() throws {
        let cases: [(ReceptiveFieldNetwork, String, String)] = [
            (network("unknown input", input: 8, [conv("a", 3, from: ["nowhere"])]), "a", "inputs"),
            (network("later input", input: 8, [conv("a", 3, from: ["b"]), conv("b", 3)]), "a", "inputs"),
            (network("duplicate", input: 8, [conv("a", 1), conv("a", 1)]), "a", "name"),
            (network("reserved", input: 8, [conv("input", 1)]), "input", "name"),
            (network("lonely add", input: 8, [NetworkLayer(name: "sum", operation: .add, inputs: ["input"])]), "sum", "inputs"),
            (network("two inputs", input: 8, [conv("a", 1), conv("b", 1, from: ["a", "input"])]), "b", "inputs"),
            (network("sizes", input: 8, [conv("a", 3), NetworkLayer(name: "sum", operation: .add, inputs: ["a", "input"])]), "sum", "inputs"),
            (network("ceil same", input: 8, [NetworkLayer(name: "p", operation: .pooling(kernel: Spatial(square: 2), stride: Spatial(square: 2), dilation: Spatial(square: 1), padding: .same, ceilMode: true))]), "p", "ceil_mode"),
        ]
        for (graph, layer, field) in cases {
            do {
                _ = try graph.resolved()
                Issue.record("\(graph.name): accepted")
            } catch {
                guard case .invalidLayer(let named, let about, _) = error else {
                    Issue.record("\(graph.name): \(error)")
                    continue
                }
                #expect(named == layer && about == field, "\(graph.name): \(error)")
            }
        }
        // Size arithmetic errors carry the layer, axis and field.
        #expect(throws: ReceptiveFieldError.arithmetic(ConvolutionArithmeticError(layer: "big", field: .padding, axis: .height, value: 0,
                                                                                   problem: .kernelExceedsPaddedInput(paddedInput: 8, effectiveKernel: 9)))) {
            try network("kernel too large", input: 8, [conv("big", 9)]).resolved()
        }
        #expect(throws: ReceptiveFieldError.invalidNetwork(field: "input", reason: "the input height must be at least 1, got 0")) {
            try network("empty input", input: 8, [conv("a", 1)]).resolved(input: Spatial(0, 8))
        }
        #expect(throws: ReceptiveFieldError.self) { try ReceptiveFieldNetwork.builtin("unet", input: Spatial(square: 570)) }
    }

    @Test("the report: one row per layer, exact values, CSV with one column per axis")
    func report() throws {
        let resolved = try #require(try ReceptiveFieldNetwork.builtin("inception_v3")).resolved()
        let report = ReceptiveFieldReport(network: resolved, fields: try resolved.receptiveFieldsBottomUp())
        let text = report.textRecords(), csv = report.csvRecords()
        #expect(text.count == resolved.layers.count && csv.count == resolved.layers.count)
        #expect(text.allSatisfy { $0.count == ReceptiveFieldReport.textColumns.count })
        #expect(csv.allSatisfy { $0.count == ReceptiveFieldReport.csvColumns.count })
        let mixed = try #require(resolved.index(of: "Mixed_7c"))
        #expect(text[mixed] == ["Mixed_7c", "concat", "", "", "", "0", "5x5", "32", "1311", "37", "618"])
        let oneBySeven = try #require(resolved.index(of: "Mixed_6b/Branch_1/Conv2d_0b_1x7"))
        #expect(Array(text[oneBySeven][2...5]) == ["1x7", "1", "1", "0x3"])
        #expect(Array(csv[oneBySeven][3...12]) == ["1", "7", "1", "1", "1", "1", "0", "0", "3", "3"])
        // SAME with an even input and stride 2 pads 0 before and 1 after.
        let mobilenet = try #require(try ReceptiveFieldNetwork.builtin("mobilenet_v1")).resolved()
        let rows = ReceptiveFieldReport(network: mobilenet, fields: try mobilenet.receptiveFieldsBottomUp()).textRecords()
        #expect(rows[1][5] == "0+1" && rows[1][9] == "1")
    }
}

struct RationalTests {
    @Test("exact arithmetic in lowest terms")
    func arithmetic() throws {
        let half = try Rational(2, 4), third = try Rational(-1, -3), oneThird = try Rational(1, 3)
        #expect(half.numerator == 1 && half.denominator == 2 && third == oneThird)
        #expect(try half.adding(third) == (try Rational(5, 6)))
        #expect(try half.subtracting(third) == (try Rational(1, 6)))
        #expect(try half.multiplied(by: Rational(-6)) == Rational(-3))
        #expect(try half.divided(by: try Rational(-3, 4)) == (try Rational(-2, 3)))
        let zero = try Rational(0, -5), minusThreeAndHalf = try Rational(-7, 2), threeAndHalf = try Rational(7, 2)
        #expect(zero == .zero && zero.denominator == 1)
        #expect(minusThreeAndHalf.floor == -4 && minusThreeAndHalf.ceiling == -3 && threeAndHalf.floor == 3 && threeAndHalf.ceiling == 4)
        #expect([try Rational(1, 4), try Rational(-3, 2), Rational(7), try Rational(1, 3), try Rational(-1, 80)].map(\.exactDecimal)
                    == ["0.25", "-1.5", "7", "1/3", "-0.0125"])
    }

    @Test("overflow and division by zero throw; comparison is exact at the extremes")
    func limits() throws {
        #expect(throws: RationalOverflow.self) { try Rational(Int.max).adding(.one) }
        #expect(throws: RationalOverflow.self) { try Rational(Int.max).multiplied(by: Rational(2)) }
        #expect(throws: RationalOverflow.self) { try Rational(1, 0) }
        #expect(throws: RationalOverflow.self) { try Rational.one.divided(by: .zero) }
        #expect(throws: RationalOverflow.self) { try Rational(Int.min, -1) }
        // Cross-reduction keeps products small: (max/3)·(3/max) = 1.
        #expect(try Rational(Int.max, 3).multiplied(by: Rational(3, Int.max)) == .one)
        // Cross products of these overflow 64 bits; the comparison uses 128.
        #expect(try Rational(Int.max - 1, Int.max) < Rational(Int.max, Int.max - 1))
        #expect(try Rational(Int.min + 1, 3) < Rational(Int.min + 2, 3))
        #expect(!(try Rational(5, 7) < Rational(5, 7)))
    }
}
