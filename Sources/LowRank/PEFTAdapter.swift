import Foundation
import SafeTensors

/// One module's contribution to an adapter, already encoded as the tensors the file will hold.
public struct AdapterModule: Sendable {
    public enum Kind: String, Sendable {
        /// A LoRA pair for a linear layer: ΔW (out × in) = scale·B·A.
        case linear
        /// A LoRA pair for an embedding: ΔW (num × dim) = scale·(B·A)ᵀ, B (dim × r), A (r × num).
        case embedding
        /// A tensor saved whole (a changed bias, norm or embedding).
        case whole
    }

    /// The module name (a pair) or the base-model tensor name (whole).
    public let name: String
    public let kind: Kind
    /// The pair's rank (0 for a whole tensor).
    public let rank: Int
    public let alpha: Double
    /// A then B for a pair (under their PEFT keys), or the one tensor (under its base-model name;
    /// `PEFTAdapter` chooses its key).
    public let tensors: [TensorData]

    /// A LoRA pair from factors B (m × r) and A (r × n) with ΔW ≈ B·A (for an embedding, the
    /// factors of ΔWᵀ), stored as `dtype`: A as is, B divided by the scale α/r so that
    /// scale·B·A reproduces the factors' product. The one place where factors become the bytes
    /// of an adapter (extract and resize both come here).
    public static func pair(_ module: String, factors: LowRankFactors, alpha: Double, embedding: Bool, dtype: DType) -> AdapterModule {
        let scale = alpha / Double(factors.rank)
        let keys = PEFTAdapter.factorKeys(module: module, embedding: embedding)
        return AdapterModule(name: module, kind: embedding ? .embedding : .linear, rank: factors.rank, alpha: alpha, tensors: [
            TensorData(name: keys.a, shape: [factors.rank, factors.n], values: factors.a, as: dtype),
            TensorData(name: keys.b, shape: [factors.m, factors.rank], values: factors.b.map { Float(Double($0) / scale) }, as: dtype),
        ])
    }

    /// A tensor saved whole, stored as `dtype`.
    public static func whole(_ name: String, shape: [Int], values: [Float], dtype: DType) -> AdapterModule {
        AdapterModule(name: name, kind: .whole, rank: 0, alpha: 0, tensors: [TensorData(name: name, shape: shape, values: values, as: dtype)])
    }

    /// A tensor saved whole, as already encoded.
    public static func whole(_ name: String, tensor: TensorData) -> AdapterModule {
        AdapterModule(name: name, kind: .whole, rank: 0, alpha: 0, tensors: [tensor])
    }

    /// The pair exactly as stored (decoded from its bytes), with the layout PEFT gives it:
    /// transposed for an embedding, or as `transposed` says (a `fan_in_fan_out` adapter).
    /// - Throws: `AdapterError.invalidAdapter` for a whole tensor.
    public func storedPair(transposed: Bool? = nil) throws -> StoredPair {
        guard kind != .whole else { throw AdapterError.invalidAdapter(name, problem: "a tensor saved whole is not a LoRA pair") }
        return try StoredPair(a: tensors[0], b: tensors[1], scale: alpha / Double(rank), transposed: transposed ?? (kind == .embedding))
    }
}

/// A PEFT LoRA adapter: `adapter_model.safetensors` and `adapter_config.json` in the layout the
/// Python `peft` package loads (`PeftModel.from_pretrained`).
///
/// Keys: `base_model.model.<module>.lora_A.weight` [r, in] and `...lora_B.weight` [out, r] for
/// linear layers; `base_model.model.<module>.lora_embedding_A` [r, num] and
/// `...lora_embedding_B` [dim, r] for embeddings; whole tensors under
/// `base_model.model.<name>`. Scale is `lora_alpha / r` per module (`rank_pattern` and
/// `alpha_pattern` hold the modules whose rank or alpha differ from the default).
public struct PEFTAdapter {
    public var modules: [AdapterModule]
    public var baseModelName: String
    /// Whether the linear layers' weights are stored in × out (GPT-2's Conv1D), so that
    /// ΔW = scale·(B·A)ᵀ.
    public var fanInFanOut = false

    public init(modules: [AdapterModule], baseModelName: String) {
        self.modules = modules
        self.baseModelName = baseModelName
    }

    public static let weightsFile = "adapter_model.safetensors"
    public static let configFile = "adapter_config.json"

    /// The prefix PEFT puts before every module name in the adapter's keys.
    public static let keyPrefix = "base_model.model."

    /// The keys of a module's A and B factors: `lora_A.weight`/`lora_B.weight` for a linear layer,
    /// `lora_embedding_A`/`lora_embedding_B` (no `.weight`) for an embedding.
    public static func factorKeys(module: String, embedding: Bool) -> (a: String, b: String) {
        let base = keyPrefix + module + "."
        return embedding ? (base + "lora_embedding_A", base + "lora_embedding_B") : (base + "lora_A.weight", base + "lora_B.weight")
    }

    /// The safetensors tensors: the pairs as encoded, whole tensors under their PEFT keys.
    public func tensors() -> [TensorData] {
        let targets = Set(modules.filter { $0.kind == .linear }.map(\.name))
        return modules.flatMap { module -> [TensorData] in
            guard module.kind == .whole else { return module.tensors }
            let tensor = module.tensors[0]
            return [TensorData(name: Self.keyPrefix + Self.savedKey(module.name, targets: targets), dtype: tensor.dtype, shape: tensor.shape, bytes: tensor.bytes)]
        }
    }

    /// Where PEFT looks for a tensor saved whole: the bias of a module that carries a LoRA pair is
    /// `<module>.base_layer.bias` (PEFT wraps the layer; `<module>.bias` would be ignored without
    /// a warning); any other tensor keeps its name. Measured with peft 0.21.2.
    static func savedKey(_ name: String, targets: Set<String>) -> String {
        if name.hasSuffix(".bias"), targets.contains(String(name.dropLast(".bias".count))) {
            return String(name.dropLast(".bias".count)) + ".base_layer.bias"
        }
        return name
    }

    /// The adapter_config.json object.
    public func config() -> [String: Any] {
        var ranks: [String: Int] = [:], alphas: [String: Double] = [:], targets: [String] = []
        var saved: [String] = []
        for module in modules {
            if module.kind == .whole {
                saved.append(module.name)
            } else {
                ranks[module.name] = module.rank
                alphas[module.name] = module.alpha
                targets.append(module.name)
            }
        }
        // The most common rank and alpha are the defaults; the others go to the patterns, whose
        // keys are regular expressions matched against the end of a module name: escaped and
        // anchored, so that each names exactly its module.
        let defaultRank = mostCommon(Array(ranks.values)) ?? 8
        let defaultAlpha = mostCommon(Array(alphas.values)) ?? Double(defaultRank)
        let rankPattern = Dictionary(uniqueKeysWithValues: ranks.filter { $0.value != defaultRank }.map { ("^" + NSRegularExpression.escapedPattern(for: $0.key), $0.value) })
        let alphaPattern = Dictionary(uniqueKeysWithValues: alphas.filter { $0.value != defaultAlpha }.map { ("^" + NSRegularExpression.escapedPattern(for: $0.key), $0.value) })
        return [
            "peft_type": "LORA",
            "task_type": NSNull(),
            "base_model_name_or_path": baseModelName,
            "r": defaultRank,
            "lora_alpha": defaultAlpha,
            "target_modules": targets.sorted(),
            "rank_pattern": rankPattern,
            "alpha_pattern": alphaPattern,
            // Saved biases are absolute values that PEFT loads whatever this says; "all" says so.
            "bias": saved.contains { $0.hasSuffix(".bias") } ? "all" : "none",
            "fan_in_fan_out": fanInFanOut,
            "lora_dropout": 0.0,
            "modules_to_save": NSNull(),
            "inference_mode": true,
            "init_lora_weights": true,
            "use_rslora": false,
            "use_dora": false,
            "layers_to_transform": NSNull(),
            "layers_pattern": NSNull(),
            "revision": NSNull(),
        ]
    }

    /// Writes both files into `directory` (which must exist; a temporary directory that is
    /// renamed into place as a whole, so the files themselves are written in place).
    public func write(to directory: URL) throws {
        try SafeTensorsWriter.write(tensors(), metadata: ["format": "pt"], to: directory.appendingPathComponent(Self.weightsFile))
        let data = try JSONSerialization.data(withJSONObject: config(), options: [.prettyPrinted, .sortedKeys])
        try data.write(to: directory.appendingPathComponent(Self.configFile))
    }
}

func mostCommon<T: Hashable & Comparable>(_ values: [T]) -> T? {
    var counts: [T: Int] = [:]
    for v in values { counts[v, default: 0] += 1 }
    return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
}
