import Foundation

/// A tensor to write: name, dtype, shape and its little-endian bytes.
public struct TensorData: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let bytes: Data

    public init(name: String, dtype: DType, shape: [Int], bytes: Data) {
        precondition(bytes.count == shape.reduce(1, *) * dtype.size, "tensor \(name): \(bytes.count) bytes for shape \(shape) of \(dtype.rawValue)")
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// `values` stored as `dtype` (F32, F16, BF16 or F64), rounding to nearest.
    public init(name: String, shape: [Int], values: [Float], as dtype: DType) {
        precondition(values.count == shape.reduce(1, *), "tensor \(name): \(values.count) values for shape \(shape)")
        // Built as whole arrays, then one copy into Data (appending element by element took
        // 0.7 s for an 11.7M-value embedding).
        let data: Data
        switch dtype {
        case .f32: data = values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
        case .f16: data = values.map { Float16($0).bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
        case .bf16: data = values.map { BFloat16.fromFloat($0).littleEndian }.withUnsafeBytes { Data($0) }
        case .f64: data = values.map { Double($0).bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
        default: preconditionFailure("TensorData(values:) supports F32, F16, BF16 and F64, not \(dtype.rawValue)")
        }
        self.init(name: name, dtype: dtype, shape: shape, bytes: data)
    }
}

/// Writes `.safetensors` files that the Python package reads: header JSON with `__metadata__`
/// first, tensors in order of name with contiguous data offsets, the header padded with spaces to
/// a multiple of 8 bytes. (Python's own writer orders tensors by dtype, then name; readers do not
/// depend on the order.)
public enum SafeTensorsWriter {
    /// The complete file contents. O(total bytes).
    public static func serialize(_ tensors: [TensorData], metadata: [String: String] = ["format": "pt"]) -> Data {
        let sorted = tensors.sorted { $0.name < $1.name }
        var header = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in sorted {
            let end = offset + tensor.bytes.count
            entries.append("\(jsonString(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Data(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var file = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(headerBytes)
        for tensor in sorted { file.append(tensor.bytes) }
        return file
    }

    /// Writes the file through a temporary file in the same directory and a rename, so that a
    /// reader never sees a half-written file.
    public static func write(_ tensors: [TensorData], metadata: [String: String] = ["format": "pt"], to url: URL) throws {
        let names = tensors.map(\.name)
        if Set(names).count != names.count {
            throw SafeTensorsError(path: url.path, "duplicate tensor names")
        }
        do {
            try serialize(tensors, metadata: metadata).write(to: url, options: .atomic)
        } catch {
            throw SafeTensorsError(path: url.path, "cannot write: \(error.localizedDescription)")
        }
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
