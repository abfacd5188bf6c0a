import Foundation
import Kernels
import SafeTensors

/// A PEFT LoRA adapter read back: its config (`LoRAConfig`, every setting honoured or refused),
/// its pairs by module and the tensors it saved whole.
public final class LoadedAdapter {
    public let directory: String
    public let config: LoRAConfig
    public let file: SafeTensorsFile
    /// Modules with a LoRA pair.
    public let moduleNames: Set<String>
    /// Base-model tensor names the adapter saved whole (biases, `modules_to_save`).
    public let wholeNames: Set<String>
    /// Whether NaN and infinities in the stored tensors are let through.
    public let allowNonFinite: Bool

    /// Reads `directory` (adapter_config.json and adapter_model.safetensors).
    /// - Throws: `AdapterError` (a missing or unusable file, a setting refused by `LoRAConfig`,
    ///   keys that are neither LoRA factors nor whole tensors, a pair whose rank differs from the
    ///   config's, a module `target_modules` does not select); `SafeTensorsError` for a malformed
    ///   weights file.
    public init(directory: String, allowNonFinite: Bool = false) throws {
        self.directory = directory
        self.allowNonFinite = allowNonFinite
        let url = URL(fileURLWithPath: directory)
        switch try FileAccess.kind(of: directory) {
        case .directory: break
        case .missing: throw AdapterError.invalidAdapter(directory, problem: "no such file or directory")
        case .regularFile: throw AdapterError.invalidAdapter(directory, problem: "is a file; give the adapter's directory (holding \(PEFTAdapter.configFile) and \(PEFTAdapter.weightsFile))")
        case .special(let what): throw AdapterError.invalidAdapter(directory, problem: "is \(what)")
        }
        let configPath = url.appendingPathComponent(PEFTAdapter.configFile).path
        if case .missing = try FileAccess.kind(of: configPath) {
            throw AdapterError.invalidAdapter(directory, problem: "has no \(PEFTAdapter.configFile): not a PEFT adapter directory")
        }
        config = try LoRAConfig(path: configPath)
        file = try SafeTensorsFile(path: url.appendingPathComponent(PEFTAdapter.weightsFile).path)
        var modules: Set<String> = [], whole: Set<String> = []
        let prefix = PEFTAdapter.keyPrefix
        for tensor in file.tensors {
            guard tensor.name.hasPrefix(prefix) else {
                throw AdapterError.invalidAdapter(file.path, problem: "key '\(tensor.name)' does not start with \(prefix)")
            }
            let key = String(tensor.name.dropFirst(prefix.count))
            if let range = key.range(of: ".lora_") {
                let module = String(key[..<range.lowerBound])
                guard PEFTAdapter.factorKeys(module: module, embedding: false).a == tensor.name
                        || PEFTAdapter.factorKeys(module: module, embedding: false).b == tensor.name
                        || PEFTAdapter.factorKeys(module: module, embedding: true).a == tensor.name
                        || PEFTAdapter.factorKeys(module: module, embedding: true).b == tensor.name else {
                    throw AdapterError.invalidAdapter(file.path, problem: "key '\(tensor.name)' is not a LoRA factor this tool applies (lora_A/B.weight, lora_embedding_A/B)")
                }
                guard config.targets(module) else {
                    throw AdapterError.invalidAdapter(file.path, problem: "module '\(module)' has LoRA factors but target_modules does not select it (PEFT would ignore them)")
                }
                modules.insert(module)
            } else {
                // `<module>.base_layer.bias` is the bias of a module that carries a LoRA pair.
                whole.insert(key.replacingOccurrences(of: ".base_layer.", with: "."))
            }
        }
        moduleNames = modules
        wholeNames = whole
        for module in modules { _ = try pairInfo(module) }
    }

    /// Whether `module`'s pair is stored in PEFT's embedding layout.
    public func isEmbedding(_ module: String) -> Bool {
        file.info(PEFTAdapter.factorKeys(module: module, embedding: true).a) != nil
    }

    /// The rank of `module`'s pair (rows of A), or nil if it has none.
    public func rank(_ module: String) -> Int? {
        file.info(PEFTAdapter.factorKeys(module: module, embedding: isEmbedding(module)).a)?.shape.first
    }

    /// The scale of `module` (α/r or α/√r, from the config).
    public func scale(_ module: String) -> Double { config.scale(for: module) }

    /// A and B of `module`, checked: both present and 2-D, ranks equal, and equal to the rank the
    /// config gives the module (PEFT builds the layer from the config and refuses other shapes).
    private func pairInfo(_ module: String) throws -> (a: TensorInfo, b: TensorInfo, embedding: Bool) {
        let embedding = isEmbedding(module)
        let (aName, bName) = PEFTAdapter.factorKeys(module: module, embedding: embedding)
        guard let a = file.info(aName), let b = file.info(bName), a.shape.count == 2, b.shape.count == 2 else {
            throw AdapterError.invalidAdapter(file.path, problem: "module '\(module)' lacks a 2-D \(aName) / \(bName) pair")
        }
        guard a.shape[0] == b.shape[1] else {
            throw AdapterError.invalidAdapter(file.path, problem: "module '\(module)': A is \(a.shape), B is \(b.shape): their ranks differ")
        }
        let configured = config.rank(for: module)
        guard a.shape[0] == configured else {
            throw AdapterError.invalidAdapter(file.path, problem: "module '\(module)' has rank \(a.shape[0]) but \(PEFTAdapter.configFile) gives it r = \(configured) (r, rank_pattern)")
        }
        return (a, b, embedding)
    }

    /// `module`'s pair as stored, with its scale and layout (embeddings and `fan_in_fan_out`
    /// modules are transposed).
    /// - Throws: `AdapterError.nonFinite` naming the tensor if A or B holds NaN or an infinity
    ///   (unless `allowNonFinite`).
    public func pair(_ module: String) throws -> StoredPair {
        let (a, b, embedding) = try pairInfo(module)
        let aValues = try checkedFloats(a.name), bValues = try checkedFloats(b.name)
        return StoredPair(a: aValues, b: bValues, rank: a.shape[0], rows: b.shape[0], columns: a.shape[1],
                          scale: scale(module), transposed: embedding || config.fanInFanOut)
    }

    /// The values of a stored tensor, refused if any is NaN or infinite (unless allowed).
    func checkedFloats(_ key: String) throws -> [Float] {
        let values = try file.floats(key)
        if !allowNonFinite {
            let bad = values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
            if bad > 0 { throw AdapterError.nonFinite(file: file.path, tensor: key, count: bad) }
        }
        return values
    }

    /// The key under which tensor `name` (a base-model name) is saved whole, if it is.
    public func wholeKey(_ name: String) -> String? {
        guard wholeNames.contains(name) else { return nil }
        let direct = PEFTAdapter.keyPrefix + name
        if file.info(direct) != nil { return direct }
        return PEFTAdapter.keyPrefix + String(name.dropLast(".bias".count)) + ".base_layer.bias"
    }

    /// The values of tensor `name` saved whole, or nil.
    public func whole(_ name: String) throws -> [Float]? {
        guard let key = wholeKey(name) else { return nil }
        return try checkedFloats(key)
    }
}
