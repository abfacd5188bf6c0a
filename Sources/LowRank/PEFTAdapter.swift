import Foundation
import SafeTensors

/// One module's contribution to an adapter.
public enum AdapterModule: Sendable {
    /// A LoRA pair for a linear layer: ΔW (out × in) = scale·B·A.
    case linear(module: String, factors: LowRankFactors, alpha: Double)
    /// A LoRA pair for an embedding: ΔW (num × dim) = scale·(B·A)ᵀ, B (dim × r), A (r × num).
    case embedding(module: String, factors: LowRankFactors, alpha: Double)
    /// A tensor saved whole (a changed bias, norm or embedding).
    case whole(name: String, shape: [Int], values: [Float])
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

    /// The safetensors tensors, with factors stored as `dtype`. B carries Σ and the inverse of
    /// the scale, so that scale·B·A reproduces the factors' product.
    public func tensors(dtype: DType) -> [TensorData] {
        let targets = Set(modules.compactMap { module -> String? in
            if case let .linear(name, _, _) = module { return name }
            return nil
        })
        var out: [TensorData] = []
        for module in modules {
            switch module {
            case let .linear(name, f, alpha):
                let scale = alpha / Double(f.rank)
                let keys = Self.factorKeys(module: name, embedding: false)
                out.append(TensorData(name: keys.a, shape: [f.rank, f.n], values: f.a, as: dtype))
                out.append(TensorData(name: keys.b, shape: [f.m, f.rank], values: f.b.map { Float(Double($0) / scale) }, as: dtype))
            case let .embedding(name, f, alpha):
                // Factors of ΔWᵀ (dim × num): B = U_rΣ_r (dim × r), A = V_rᵀ (r × num).
                let scale = alpha / Double(f.rank)
                let keys = Self.factorKeys(module: name, embedding: true)
                out.append(TensorData(name: keys.a, shape: [f.rank, f.n], values: f.a, as: dtype))
                out.append(TensorData(name: keys.b, shape: [f.m, f.rank], values: f.b.map { Float(Double($0) / scale) }, as: dtype))
            case let .whole(name, shape, values):
                out.append(TensorData(name: Self.keyPrefix + Self.savedKey(name, targets: targets), shape: shape, values: values, as: dtype))
            }
        }
        return out
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
            switch module {
            case let .linear(name, f, alpha), let .embedding(name, f, alpha):
                ranks[name] = f.rank
                alphas[name] = alpha
                targets.append(name)
            case let .whole(name, _, _):
                saved.append(name)
            }
        }
        // The most common rank and alpha are the defaults; the others go to the patterns.
        let defaultRank = mostCommon(Array(ranks.values)) ?? 8
        let defaultAlpha = mostCommon(Array(alphas.values)) ?? Double(defaultRank)
        let rankPattern = ranks.filter { $0.value != defaultRank }
        let alphaPattern = alphas.filter { $0.value != defaultAlpha }
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
            "fan_in_fan_out": false,
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
    public func write(to directory: URL, dtype: DType) throws {
        try SafeTensorsWriter.write(tensors(dtype: dtype), metadata: ["format": "pt"], to: directory.appendingPathComponent(Self.weightsFile))
        let data = try JSONSerialization.data(withJSONObject: config(), options: [.prettyPrinted, .sortedKeys])
        try data.write(to: directory.appendingPathComponent(Self.configFile))
    }
}

func mostCommon<T: Hashable & Comparable>(_ values: [T]) -> T? {
    var counts: [T: Int] = [:]
    for v in values { counts[v, default: 0] += 1 }
    return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
}
