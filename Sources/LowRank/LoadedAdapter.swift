import Foundation
import Kernels
import SafeTensors

/// An adapter read back: its pairs by module, scales from its config.
public final class LoadedAdapter {
    public let file: SafeTensorsFile
    public let defaultRank: Int
    public let defaultAlpha: Double
    public let rankPattern: [String: Int]
    public let alphaPattern: [String: Double]
    public let moduleNames: Set<String>
    public let wholeNames: Set<String>
    public private(set) var used: Set<String> = []
    public let config: [String: Any]

    public init(directory: String) throws {
        let url = URL(fileURLWithPath: directory)
        let configPath = url.appendingPathComponent(PEFTAdapter.configFile).path
        guard let data = FileManager.default.contents(atPath: configPath) else { throw AdapterError("\(configPath): cannot read (is \(directory) a PEFT adapter directory?)") }
        guard let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw AdapterError("\(configPath): not a JSON object") }
        guard (config["peft_type"] as? String) == "LORA" else { throw AdapterError("\(configPath): peft_type is not LORA") }
        guard let r = config["r"] as? Int, r > 0 else { throw AdapterError("\(configPath): missing or invalid r") }
        self.config = config
        defaultRank = r
        defaultAlpha = (config["lora_alpha"] as? Double) ?? Double(r)
        rankPattern = (config["rank_pattern"] as? [String: Int]) ?? [:]
        alphaPattern = (config["alpha_pattern"] as? [String: Double]) ?? [:]
        if (config["use_rslora"] as? Bool) == true { throw AdapterError("\(configPath): use_rslora adapters are not supported") }
        file = try SafeTensorsFile(path: url.appendingPathComponent(PEFTAdapter.weightsFile).path)
        var modules: Set<String> = [], whole: Set<String> = []
        let prefix = PEFTAdapter.keyPrefix
        for tensor in file.tensors {
            guard tensor.name.hasPrefix(prefix) else { throw AdapterError("\(file.path): key '\(tensor.name)' does not start with \(prefix)") }
            let key = String(tensor.name.dropFirst(prefix.count))
            if let range = key.range(of: ".lora_") {
                modules.insert(String(key[..<range.lowerBound]))
            } else {
                // `<module>.base_layer.bias` is the bias of a module that carries a LoRA pair.
                whole.insert(key.replacingOccurrences(of: ".base_layer.", with: "."))
            }
        }
        moduleNames = modules
        wholeNames = whole
    }

    /// The scale alpha/r of `module`, from the patterns (matched as PEFT does: the key, or a
    /// suffix of the module name after a dot) or the defaults.
    public func scale(_ module: String, rank: Int) -> Double {
        let alpha = alphaPattern.first { module == $0.key || module.hasSuffix("." + $0.key) }?.value ?? defaultAlpha
        return alpha / Double(rank)
    }

    public func whole(_ name: String) throws -> [Float]? {
        guard wholeNames.contains(name) else { return nil }
        used.insert(name)
        let direct = PEFTAdapter.keyPrefix + name
        if file.info(direct) != nil { return try file.floats(direct) }
        let wrapped = PEFTAdapter.keyPrefix + String(name.dropLast(".bias".count)) + ".base_layer.bias"
        return try file.floats(wrapped)
    }

    /// Whether `module`'s pair is stored in PEFT's embedding layout.
    public func isEmbedding(_ module: String) -> Bool {
        file.info(PEFTAdapter.factorKeys(module: module, embedding: true).a) != nil
    }

    /// The rank of `module`'s pair (rows of A), or nil if it has none.
    public func rank(_ module: String) -> Int? {
        file.info(PEFTAdapter.factorKeys(module: module, embedding: isEmbedding(module)).a)?.shape.first
    }

    /// scale·B·A for a linear module (out × in), or scale·(B·A)ᵀ for an embedding, as `shape`.
    public func delta(module: String, shape: [Int]) throws -> [Float]? {
        guard moduleNames.contains(module) else { return nil }
        used.insert(module)
        let isEmbedding = self.isEmbedding(module)
        let (aName, bName) = PEFTAdapter.factorKeys(module: module, embedding: isEmbedding)
        guard let aInfo = file.info(aName), let bInfo = file.info(bName), aInfo.shape.count == 2, bInfo.shape.count == 2 else {
            throw AdapterError("\(file.path): module '\(module)' lacks a 2-D \(aName) / \(bName) pair")
        }
        let r = aInfo.shape[0]
        guard bInfo.shape[1] == r else { throw AdapterError("\(file.path): '\(module)': A is \(aInfo.shape), B is \(bInfo.shape): ranks differ") }
        let (rows, columns) = (bInfo.shape[0], aInfo.shape[1])
        let expected = isEmbedding ? [columns, rows] : [rows, columns]
        guard shape == expected else { throw AdapterError("\(file.path): '\(module)': B·A\(isEmbedding ? "ᵀ" : "") is \(expected), the base weight is \(shape)") }
        let a = try file.floats(aName), b = try file.floats(bName)
        var product = [Float](repeating: 0, count: rows * columns)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                gemm(m: rows, n: columns, k: r, alpha: Float(scale(module, rank: r)), a: MatrixOperand(bp.baseAddress!, ld: r),
                     b: MatrixOperand(ap.baseAddress!, ld: columns), beta: 0, c: &product, ldc: columns)
            }
        }
        if !isEmbedding { return product }
        var transposed = [Float](repeating: 0, count: product.count)
        for i in 0..<rows { for j in 0..<columns { transposed[j * rows + i] = product[i * columns + j] } }
        return transposed
    }
}

/// A problem with an adapter or an extraction, described for the user.
public struct AdapterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
