import Foundation
import Testing
@testable import Kernels

struct ReceptiveFieldSpecTests {
    static func parse(_ json: String) throws(ReceptiveFieldError) -> ReceptiveFieldNetwork {
        try ReceptiveFieldNetwork(specJSON: Data(json.utf8))
    }

    @Test("every built-in network survives export and reading back", arguments: ReceptiveFieldTests.builtinNames)
    func roundTrip(_ name: String) throws {
        let original = try #require(try ReceptiveFieldNetwork.builtin(name))
        let copy = try ReceptiveFieldNetwork(specJSON: original.specJSON())
        #expect(copy.name == original.name && copy.source == original.source && copy.defaultInput == original.defaultInput)
        #expect(copy.layers.count == original.layers.count)
        // Inputs left out of the spec mean "the previous layer"; resolved, the graphs are the same.
        let (a, b) = (try original.resolved(), try copy.resolved())
        #expect(a.layers == b.layers)
    }

    @Test("the example of the documented format parses, resolves and is aligned")
    func documentedExample() throws {
        let text = ReceptiveFieldNetwork.specFormat
        let start = try #require(text.range(of: "  {\n")).lowerBound, end = try #require(text.range(of: "\n  }\n")).upperBound
        let json = text[start..<end].split(separator: "\n").map { line in
            line.replacingOccurrences(of: #",\s+optional.*$"#, with: ",", options: .regularExpression)
        }.joined(separator: "\n")
        let resolved = try Self.parse(json).resolved()
        #expect(resolved.name == "tiny" && resolved.layers.count == 11)
        #expect(try resolved.verifyReceptiveFields(influenceLayers: resolved.outputLayers).passed)
        #expect(try resolved.receptiveFieldsBottomUp().allSatisfy { $0.misalignment == nil })
    }

    @Test("every field of the documented format")
    func documentedFormat() throws {
        let network = try Self.parse("""
            {"name": "tiny", "input": [32, 48], "layers": [
              {"name": "conv1", "type": "conv", "kernel": 7, "stride": 2, "padding": 3},
              {"name": "pool1", "type": "pool", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": true},
              {"name": "a", "type": "conv", "kernel": [1, 7], "padding": "SAME", "inputs": ["pool1"]},
              {"name": "b", "type": "conv", "kernel": 3, "dilation": 2, "padding": 2, "inputs": ["pool1"]},
              {"name": "ab", "type": "concat", "inputs": ["a", "b"]},
              {"name": "up", "type": "transposed", "kernel": 4, "stride": 2, "padding": 1, "output_padding": [0, 1], "dilation": [1, 1]},
              {"name": "up2", "type": "upsample", "scale": 2, "mode": "bilinear"},
              {"name": "padded", "type": "pad", "padding": [0, 1, 2, 3]},
              {"name": "cropped", "type": "crop", "crop": [0, 1, 2, 3], "inputs": ["padded"]},
              {"name": "valid", "type": "pool", "kernel": 2, "padding": "valid", "inputs": ["cropped"]},
              {"name": "sum", "type": "add", "inputs": ["valid", "valid"]}
            ]}
            """)
        #expect(network.name == "tiny" && network.defaultInput == Spatial(32, 48))
        #expect(network.layers[1].operation == .pooling(kernel: Spatial(square: 3), stride: Spatial(square: 2), dilation: Spatial(square: 1),
                                                         padding: .explicit(SidePadding(1)), ceilMode: true))
        #expect(network.layers[2].operation == .convolution(kernel: Spatial(1, 7), stride: Spatial(square: 1), dilation: Spatial(square: 1), padding: .same))
        #expect(network.layers[7].operation == .pad(SidePadding(top: 0, bottom: 1, left: 2, right: 3)))
        // A pool's stride defaults to its kernel (PyTorch's rule).
        #expect(network.layers[9].operation == .pooling(kernel: Spatial(square: 2), stride: Spatial(square: 2), dilation: Spatial(square: 1),
                                                         padding: .valid, ceilMode: false))
        let resolved = try network.resolved()
        let sizes = resolved.layers.map { "\($0.outputSize.height)x\($0.outputSize.width)" }
        // The same chain in PyTorch (conv2d, max_pool2d ceil_mode, conv_transpose2d output_padding
        // (0, 1), interpolate bilinear ×2, F.pad, slicing, max_pool2d) gives these sizes.
        #expect(sizes == ["32x48", "16x24", "9x13", "9x13", "9x13", "9x13", "18x27", "36x54", "37x59", "36x54", "18x27", "18x27"])
        #expect(try resolved.verifyReceptiveFields(influenceLayers: []).passed)
    }

    @Test("a malformed spec names the layer and the field", arguments: [
        (#"{"layers": [{"name": "c", "type": "conv"}]}"#, "c", "kernel"),
        (#"{"layers": [{"name": "c", "type": "conv", "kernel": 3, "stride": "two"}]}"#, "c", "stride"),
        (#"{"layers": [{"name": "c", "type": "conv", "kernel": [1, 2, 3]}]}"#, "c", "kernel"),
        (#"{"layers": [{"name": "c", "type": "conv", "kernel": 2.5}]}"#, "c", "kernel"),
        (#"{"layers": [{"name": "c", "type": "conv", "kernel": 3, "strides": 2}]}"#, "c", "strides"),
        (#"{"layers": [{"name": "c", "type": "conv", "kernel": 3, "padding": "FULL"}]}"#, "c", "padding"),
        (#"{"layers": [{"name": "c", "type": "conv", "kernel": 3, "padding": [1, 2, 3]}]}"#, "c", "padding"),
        (#"{"layers": [{"name": "c", "type": "conv", "kernel": 3, "ceil_mode": true}]}"#, "c", "ceil_mode"),
        (#"{"layers": [{"name": "p", "type": "pool", "kernel": 3, "ceil_mode": "yes"}]}"#, "p", "ceil_mode"),
        (#"{"layers": [{"name": "t", "type": "transposed", "kernel": 2, "padding": "SAME"}]}"#, "t", "padding"),
        (#"{"layers": [{"name": "u", "type": "upsample", "scale": 2, "mode": "bicubic"}]}"#, "u", "mode"),
        (#"{"layers": [{"name": "u", "type": "upsample"}]}"#, "u", "scale"),
        (#"{"layers": [{"name": "x", "type": "deconv", "kernel": 2}]}"#, "x", "type"),
        (#"{"layers": [{"name": "x", "kernel": 2}]}"#, "x", "type"),
        (#"{"layers": [{"name": "c", "type": "conv", "kernel": 1}, {"type": "conv", "kernel": 1}]}"#, "layers[1]", "name"),
        (#"{"layers": [{"name": 7, "type": "conv", "kernel": 1}]}"#, "layers[0]", "name"),
        (#"{"layers": [{"name": "s", "type": "add"}]}"#, "s", "inputs"),
        (#"{"layers": [{"name": "c", "type": "conv", "kernel": 1, "inputs": "input"}]}"#, "c", "inputs"),
        (#"{"layers": [{"name": "k", "type": "crop", "crop": "SAME"}]}"#, "k", "crop"),
    ])
    func malformedLayer(_ json: String, _ layer: String, _ field: String) {
        do {
            _ = try Self.parse(json)
            Issue.record("accepted: \(json)")
        } catch {
            guard case .invalidLayer(let named, let about, let reason) = error else {
                Issue.record("\(json): \(error)")
                return
            }
            #expect(named == layer && about == field, "\(json): \(error)")
            #expect(!reason.isEmpty && error.description.hasPrefix("layer '\(layer)': \(field): "))
        }
    }

    @Test("a malformed top level or graph names what is wrong", arguments: [
        ("not json", "(file)"),
        (#"{"name": "x"}"#, "layers"),
        (#"{"layers": {"name": "c"}}"#, "layers"),
        (#"{"layers": [3]}"#, "layers[0]"),
        (#"{"input": [1, 2, 3], "layers": []}"#, "input"),
        (#"{"input": "big", "layers": []}"#, "input"),
    ])
    func malformedNetwork(_ json: String, _ field: String) {
        do {
            _ = try Self.parse(json)
            Issue.record("accepted: \(json)")
        } catch {
            guard case .invalidNetwork(let about, _) = error else {
                Issue.record("\(json): \(error)")
                return
            }
            #expect(about == field, "\(json): \(error)")
        }
    }

    @Test("values that parse but cannot work are refused when the network is resolved, by layer and field")
    func refusedAtResolution() throws {
        let cases: [(String, ReceptiveFieldError)] = [
            (#"{"layers": [{"name": "c", "type": "conv", "kernel": 3, "stride": -1}]}"#,
             .arithmetic(ConvolutionArithmeticError(layer: "c", field: .stride, axis: .height, value: -1, problem: .notPositive))),
            (#"{"layers": [{"name": "p", "type": "pool", "kernel": 2, "padding": 2}]}"#,
             .arithmetic(ConvolutionArithmeticError(layer: "p", field: .padding, axis: .height, value: 2, problem: .poolPaddingExceedsHalfKernel(kernel: 2)))),
            (#"{"layers": [{"name": "c", "type": "conv", "kernel": 3, "inputs": ["later"]}, {"name": "later", "type": "conv", "kernel": 1}]}"#,
             .invalidLayer(layer: "c", field: "inputs", reason: "'later' is not a layer defined before this one")),
            (#"{"layers": []}"#, .invalidNetwork(field: "layers", reason: "the network has no layers")),
        ]
        for (json, expected) in cases {
            #expect(throws: expected, "\(json)") { try Self.parse(json).resolved() }
        }
    }
}
