import Foundation

extension ReceptiveFieldNetwork {
    /// The JSON form of a network, read by `init(specJSON:)` (`rf SPEC.json`), written by
    /// `specJSON()` (`rf export MODEL`) and printed by `rf format`.
    public static let specFormat = """
        A network spec is a JSON object:

          {
            "name": "tiny",                       optional
            "input": [224, 224],                  optional: the default input size, N or [H, W]
            "layers": [
              {"name": "conv1", "type": "conv", "kernel": 7, "stride": 2, "padding": 3},
              {"name": "pool1", "type": "pool", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": true},
              {"name": "a", "type": "conv", "kernel": [1, 7], "padding": "SAME", "inputs": ["pool1"]},
              {"name": "b", "type": "conv", "kernel": 3, "dilation": 2, "padding": 2, "inputs": ["pool1"]},
              {"name": "ab", "type": "concat", "inputs": ["a", "b"]},
              {"name": "up", "type": "transposed", "kernel": 4, "stride": 2, "padding": 1, "output_padding": 0},
              {"name": "up2", "type": "upsample", "scale": 2, "mode": "bilinear"},
              {"name": "padded", "type": "pad", "padding": [0, 1, 0, 1]},
              {"name": "cropped", "type": "crop", "crop": [0, 1, 0, 1]},
              {"name": "sum", "type": "add", "inputs": ["up2", "cropped"]}
            ]
          }

        Every layer has a unique "name" and a "type"; "inputs" lists earlier layers (or "input",
        the network's input) and defaults to the previous layer. Fields per type, with defaults:
          conv        kernel (required), stride 1, dilation 1, padding 0
          pool        kernel (required), stride = kernel, dilation 1, padding 0, ceil_mode false
          transposed  kernel (required), stride 1, dilation 1, padding 0, output_padding 0
          upsample    scale (required), mode "nearest" or "bilinear" (align_corners=False)
          pad         padding (required)
          crop        crop (required)
          add, concat inputs (two or more, required; inputs of one size)
        kernel, stride, dilation, scale and output_padding are N or [H, W]; padding and crop are N,
        [H, W] or [top, bottom, left, right], and for conv and pool also "SAME" or "VALID"
        (TensorFlow's, resolved from the input size). Sizes follow PyTorch's rules (conv2d,
        max_pool2d with ceil_mode, conv_transpose2d). Channels, groups and activations do not
        change a receptive field and are not written. Unknown fields are errors, so that a typo
        is not silently ignored.
        """
}

extension ReceptiveFieldNetwork {
    /// Reads a network from its JSON spec (`specFormat`).
    ///
    /// - Complexity: O(size of the JSON).
    /// - Throws: `ReceptiveFieldError.invalidLayer` naming the layer (by name, or `layers[i]` when
    ///   it has none) and the field at fault, or `.invalidNetwork` for the top level.
    public init(specJSON data: Data, defaultName: String = "network") throws(ReceptiveFieldError) {
        let spec: NetworkSpec
        do {
            spec = try JSONDecoder().decode(NetworkSpec.self, from: data)
        } catch let error as ReceptiveFieldError {
            throw error
        } catch let error as DecodingError {
            throw specError(error)
        } catch {
            throw .invalidNetwork(field: "(file)", reason: "not JSON: \(error.localizedDescription)")
        }
        var layers: [NetworkLayer] = []
        for layer in spec.layers { layers.append(try layer.networkLayer()) }
        self.init(name: spec.name ?? defaultName, source: spec.source ?? "JSON spec",
                  defaultInput: spec.input.map { Spatial($0.height, $0.width) } ?? Spatial(square: 224), layers: layers)
    }

    /// The network as a JSON spec that `init(specJSON:)` reads back to the same network.
    ///
    /// - Complexity: O(L) for L layers.
    public func specJSON() -> Data {
        var previous = Self.inputName
        let specs = layers.map { layer in
            defer { previous = layer.name }
            return LayerSpec(layer, readsPrevious: layer.inputs.isEmpty || layer.inputs == [previous])
        }
        let spec = NetworkSpec(name: name, source: source, input: IntPair(defaultInput), layers: specs)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(spec)
        } catch {
            fatalError("unreachable: a spec of strings, integers and booleans always encodes (\(error))")
        }
    }
}

/// A DecodingError outside a layer (the top level), as a message naming the field.
private func specError(_ error: DecodingError) -> ReceptiveFieldError {
    let (path, reason): ([CodingKey], String)
    switch error {
    case .typeMismatch(let type, let context): (path, reason) = (context.codingPath, "expected \(specTypeName(type))")
    case .valueNotFound(let type, let context): (path, reason) = (context.codingPath, "expected \(specTypeName(type)), got null")
    case .keyNotFound(let key, let context): (path, reason) = (context.codingPath + [key], "is required")
    case .dataCorrupted(let context): (path, reason) = (context.codingPath, "not valid JSON: \(context.debugDescription)")
    @unknown default: (path, reason) = ([], "\(error)")
    }
    let field = path.reduce("") { text, key in
        key.intValue.map { text + "[\($0)]" } ?? (text.isEmpty ? key.stringValue : text + "." + key.stringValue)
    }
    return .invalidNetwork(field: field.isEmpty ? "(file)" : field, reason: reason)
}

private func specTypeName(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type: "an integer"
    case is String.Type: "a string"
    case is Bool.Type: "true or false"
    case is [Any].Type: "an array"
    default: "an object"
    }
}

/// The top level of a spec. Unknown keys are errors, as in a layer (a misspelled "layers" must
/// not leave an empty network that looks valid).
private struct NetworkSpec: Codable {
    var name: String?
    var source: String?
    var input: IntPair?
    var layers: [LayerSpec]

    enum CodingKeys: String, CodingKey { case name, source, input, layers }

    init(name: String?, source: String?, input: IntPair?, layers: [LayerSpec]) {
        (self.name, self.source, self.input, self.layers) = (name, source, input, layers)
    }

    init(from decoder: Decoder) throws {
        for key in try decoder.container(keyedBy: SpecKey.self).allKeys where CodingKeys(rawValue: key.stringValue) == nil {
            throw ReceptiveFieldError.invalidLayer(layer: "(spec)", field: key.stringValue,
                                                   reason: "is not a field of a spec (its fields: name, source, input, layers)")
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        source = try container.decodeIfPresent(String.self, forKey: .source)
        input = try container.decodeIfPresent(IntPair.self, forKey: .input)
        layers = try container.decode([LayerSpec].self, forKey: .layers)
    }
}

/// N or [H, W].
private struct IntPair: Codable, Equatable {
    var height: Int
    var width: Int

    init(_ value: Spatial<Int>) {
        height = value.height
        width = value.width
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            (height, width) = (value, value)
        } else if let values = try? container.decode([Int].self), values.count == 2 {
            (height, width) = (values[0], values[1])
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an integer N or [height, width]")
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if height == width { try container.encode(height) } else { try container.encode([height, width]) }
    }
}

/// N, [H, W] or [top, bottom, left, right], or "SAME"/"VALID" where allowed.
private enum SidesSpec: Codable, Equatable {
    case sides(SidePadding)
    case same, valid

    init(_ padding: LayerPadding) {
        switch padding {
        case .explicit(let sides): self = .sides(sides)
        case .same: self = .same
        case .valid: self = .valid
        }
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .sides(SidePadding(value))
        } else if let values = try? container.decode([Int].self), values.count == 2 || values.count == 4 {
            self = .sides(values.count == 2 ? SidePadding(height: values[0], width: values[1])
                                             : SidePadding(top: values[0], bottom: values[1], left: values[2], right: values[3]))
        } else if let text = try? container.decode(String.self), ["SAME", "VALID"].contains(text.uppercased()) {
            self = text.uppercased() == "SAME" ? .same : .valid
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected N, [height, width], [top, bottom, left, right], \"SAME\" or \"VALID\"")
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .same: try container.encode("SAME")
        case .valid: try container.encode("VALID")
        case .sides(let p):
            if p.top == p.bottom && p.left == p.right {
                if p.top == p.left { try container.encode(p.top) } else { try container.encode([p.top, p.left]) }
            } else {
                try container.encode([p.top, p.bottom, p.left, p.right])
            }
        }
    }

    var layerPadding: LayerPadding {
        switch self {
        case .sides(let sides): .explicit(sides)
        case .same: .same
        case .valid: .valid
        }
    }
}

/// Any key, so that unknown fields can be listed.
private struct SpecKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// One layer of a spec, as written.
private struct LayerSpec: Codable {
    var name: String
    var type: String
    var inputs: [String]?
    var kernel: IntPair?
    var stride: IntPair?
    var dilation: IntPair?
    var padding: SidesSpec?
    var outputPadding: IntPair?
    var ceilMode: Bool?
    var scale: IntPair?
    var mode: String?
    var crop: SidesSpec?

    /// The JSON names of the fields (the synthesized `encode(to:)` writes them, leaving out nil).
    enum CodingKeys: String, CodingKey {
        case name, type, inputs, kernel, stride, dilation, padding, scale, mode, crop
        case outputPadding = "output_padding", ceilMode = "ceil_mode"
    }

    /// The fields each type accepts besides name, type and inputs.
    static let fieldsByType: [String: Set<String>] = [
        "conv": ["kernel", "stride", "dilation", "padding"],
        "pool": ["kernel", "stride", "dilation", "padding", "ceil_mode"],
        "transposed": ["kernel", "stride", "dilation", "padding", "output_padding"],
        "upsample": ["scale", "mode"],
        "pad": ["padding"], "crop": ["crop"], "add": [], "concat": [],
    ]

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let position = decoder.codingPath.last?.intValue.map { "layers[\($0)]" } ?? "layers[?]"
        func decode<T: Decodable>(_ type: T.Type, _ field: CodingKeys, as layer: String) throws -> T? {
            do {
                return try container.decodeIfPresent(type, forKey: field)
            } catch let error as DecodingError {
                var reason = "expected \(specTypeName(type))"
                if case .dataCorrupted(let context) = error { reason = context.debugDescription }
                throw ReceptiveFieldError.invalidLayer(layer: layer, field: field.rawValue, reason: reason)
            }
        }
        guard let name = try decode(String.self, .name, as: position) else {
            throw ReceptiveFieldError.invalidLayer(layer: position, field: "name", reason: "is required")
        }
        guard let type = try decode(String.self, .type, as: name) else {
            throw ReceptiveFieldError.invalidLayer(layer: name, field: "type", reason: "is required (one of \(Self.fieldsByType.keys.sorted().joined(separator: ", ")))")
        }
        guard let allowed = Self.fieldsByType[type] else {
            throw ReceptiveFieldError.invalidLayer(layer: name, field: "type", reason: "'\(type)' is not one of \(Self.fieldsByType.keys.sorted().joined(separator: ", "))")
        }
        for key in try decoder.container(keyedBy: SpecKey.self).allKeys
        where !allowed.contains(key.stringValue) && !["name", "type", "inputs"].contains(key.stringValue) {
            throw ReceptiveFieldError.invalidLayer(layer: name, field: key.stringValue,
                                                   reason: "is not a field of a \(type) layer (its fields: \((["name", "type", "inputs"] + allowed.sorted()).joined(separator: ", ")))")
        }
        self.name = name
        self.type = type
        inputs = try decode([String].self, .inputs, as: name)
        if inputs?.isEmpty == true {
            throw ReceptiveFieldError.invalidLayer(layer: name, field: "inputs", reason: "is empty; leave it out to read the previous layer")
        }
        kernel = try decode(IntPair.self, .kernel, as: name)
        stride = try decode(IntPair.self, .stride, as: name)
        dilation = try decode(IntPair.self, .dilation, as: name)
        padding = try decode(SidesSpec.self, .padding, as: name)
        outputPadding = try decode(IntPair.self, .outputPadding, as: name)
        ceilMode = try decode(Bool.self, .ceilMode, as: name)
        scale = try decode(IntPair.self, .scale, as: name)
        mode = try decode(String.self, .mode, as: name)
        crop = try decode(SidesSpec.self, .crop, as: name)
    }

    /// The spec of `layer`, leaving out `inputs` when it reads the previous layer and every field
    /// that has its default value.
    init(_ layer: NetworkLayer, readsPrevious: Bool) {
        name = layer.name
        type = layer.operation.typeName.hasPrefix("upsample") ? "upsample" : layer.operation.typeName
        inputs = readsPrevious ? nil : layer.inputs
        func unless(_ value: Spatial<Int>, is defaultValue: Int) -> IntPair? {
            value == Spatial(square: defaultValue) ? nil : IntPair(value)
        }
        func window(_ kernel: Spatial<Int>, _ stride: Spatial<Int>, _ dilation: Spatial<Int>, _ padding: SidesSpec, defaultStride: Spatial<Int>) {
            self.kernel = IntPair(kernel)
            self.stride = stride == defaultStride ? nil : IntPair(stride)
            self.dilation = unless(dilation, is: 1)
            self.padding = padding == .sides(SidePadding(0)) ? nil : padding
        }
        switch layer.operation {
        case .input, .add, .concat:
            break
        case .convolution(let kernel, let stride, let dilation, let padding):
            window(kernel, stride, dilation, SidesSpec(padding), defaultStride: Spatial(square: 1))
        case .pooling(let kernel, let stride, let dilation, let padding, let ceilMode):
            window(kernel, stride, dilation, SidesSpec(padding), defaultStride: kernel)
            self.ceilMode = ceilMode ? true : nil
        case .transposedConvolution(let kernel, let stride, let dilation, let padding, let outputPadding):
            window(kernel, stride, dilation, .sides(padding), defaultStride: Spatial(square: 1))
            self.outputPadding = unless(outputPadding, is: 0)
        case .upsampling(let scale, let mode):
            (self.scale, self.mode) = (IntPair(scale), mode == .nearest ? nil : mode.rawValue)
        case .pad(let sides):
            padding = .sides(sides)
        case .crop(let sides):
            crop = .sides(sides)
        }
    }

    /// The layer this spec describes, with defaults filled in and type-specific fields required.
    func networkLayer() throws(ReceptiveFieldError) -> NetworkLayer {
        func required<T>(_ value: T?, _ field: String) throws(ReceptiveFieldError) -> T {
            guard let value else { throw .invalidLayer(layer: name, field: field, reason: "is required for a \(type) layer") }
            return value
        }
        func spatial(_ pair: IntPair?, default value: Int) -> Spatial<Int> {
            pair.map { Spatial($0.height, $0.width) } ?? Spatial(square: value)
        }
        func explicit(_ sides: SidesSpec?, _ field: String) throws(ReceptiveFieldError) -> SidePadding {
            switch sides ?? .sides(SidePadding(0)) {
            case .sides(let value): return value
            case .same, .valid: throw .invalidLayer(layer: name, field: field, reason: "\"SAME\" and \"VALID\" apply to conv and pool layers only")
            }
        }
        let operation: LayerOperation
        switch type {
        case "conv":
            operation = .convolution(kernel: spatial(try required(kernel, "kernel"), default: 1), stride: spatial(stride, default: 1),
                                     dilation: spatial(dilation, default: 1), padding: (padding ?? .sides(SidePadding(0))).layerPadding)
        case "pool":
            let window = spatial(try required(kernel, "kernel"), default: 1)
            operation = .pooling(kernel: window, stride: stride.map { Spatial($0.height, $0.width) } ?? window,
                                 dilation: spatial(dilation, default: 1), padding: (padding ?? .sides(SidePadding(0))).layerPadding,
                                 ceilMode: ceilMode ?? false)
        case "transposed":
            operation = .transposedConvolution(kernel: spatial(try required(kernel, "kernel"), default: 1), stride: spatial(stride, default: 1),
                                               dilation: spatial(dilation, default: 1), padding: try explicit(padding, "padding"),
                                               outputPadding: spatial(outputPadding, default: 0))
        case "upsample":
            guard let upsamplingMode = UpsamplingMode(rawValue: mode ?? UpsamplingMode.nearest.rawValue) else {
                throw .invalidLayer(layer: name, field: "mode", reason: "'\(mode ?? "")' is not one of \(UpsamplingMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            operation = .upsampling(scale: spatial(try required(scale, "scale"), default: 1), mode: upsamplingMode)
        case "pad":
            operation = .pad(try explicit(try required(padding, "padding"), "padding"))
        case "crop":
            operation = .crop(try explicit(try required(crop, "crop"), "crop"))
        case "add":
            operation = .add
        default:
            operation = .concat
        }
        if operation.mergesInputs, inputs == nil { throw .invalidLayer(layer: name, field: "inputs", reason: "is required for a \(type) layer") }
        return NetworkLayer(name: name, operation: operation, inputs: inputs ?? [])
    }
}
