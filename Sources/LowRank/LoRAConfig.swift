import Foundation
import SafeTensors

/// The settings of a PEFT `adapter_config.json` that decide what a LoRA adapter adds to each
/// weight, read the way PEFT reads them (peft 0.21, `tuners/lora/config.py` and `layer.py`):
///
/// - ΔW = scale·B·A for a linear layer, scale·(B·A)ᵀ with `fan_in_fan_out` (Conv1D-style weights
///   stored in × out) and for an embedding (`lora_embedding_A/B`, always transposed);
/// - scale = α/r, or α/√r with `use_rslora`;
/// - r and α per module from `rank_pattern`/`alpha_pattern` (the first key K, in file order, for
///   which the module name matches the regular expression `(.*\.)?(K)$`), else `r` and
///   `lora_alpha` (PEFT's defaults, 8 and 8, when absent);
/// - a module gets a LoRA layer only if `target_modules` selects it (a list: the name itself or a
///   suffix after a dot; a string: a regular expression matching the whole name; `all-linear`:
///   any) and `exclude_modules` does not.
///
/// Every other setting that changes the merged weights is refused by name rather than ignored:
/// DoRA, `lora_bias`, layer replication or selection, QA-LoRA, aLoRA, parameter targets,
/// trainable tokens, the LoRA variants configured by `use_bdlora`, `kasa_config`,
/// `monteclora_config`, `arrow_config`, and initialisations that rewrite the base weights
/// (PiSSA, OLoRA, CorDA, LoRA-GA, LoftQ). So is any setting this table does not know with a
/// value other than null, false or empty.
public struct LoRAConfig: @unchecked Sendable {
    public let path: String
    public let rank: Int
    public let alpha: Double
    public let rankPattern: [(key: String, rank: Int)]
    public let alphaPattern: [(key: String, alpha: Double)]
    public let useRSLoRA: Bool
    public let fanInFanOut: Bool
    public let baseModelName: String?
    private let rankRules: [(regex: NSRegularExpression, rank: Int)]
    private let alphaRules: [(regex: NSRegularExpression, alpha: Double)]
    /// nil: every module is a target (`all-linear`, or no list given).
    let targets: ModuleSelector?
    let excluded: ModuleSelector?

    /// Reads and checks `path`.
    /// - Throws: `AdapterError.invalidAdapter` (unreadable or not JSON, duplicate keys),
    ///   `.invalidSetting` (a wrong type or range), `.unsupportedSetting`.
    public init(path: String) throws {
        let bytes: [UInt8]
        do { bytes = try FileAccess.readRegularFile(path, limit: 10_000_000) } catch let error as SafeTensorsError {
            throw AdapterError.invalidAdapter(path, problem: error.problem)
        }
        try self.init(bytes: bytes, path: path)
    }

    /// Parses a config from bytes; `path` names it in errors.
    public init(bytes: [UInt8], path: String) throws {
        self.path = path
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch let error as JSONParseError {
            throw AdapterError.invalidAdapter(path, problem: "not valid JSON: \(error)")
        }
        guard let members = json.members else { throw AdapterError.invalidAdapter(path, problem: "not a JSON object") }
        func invalid(_ key: String, _ value: JSONValue, _ expected: String) -> AdapterError {
            .invalidSetting(config: path, key: key, value: value.summary, expected: expected)
        }
        var settings: [String: JSONValue] = [:]
        for member in members { settings[member.key] = member.value }

        guard let type = settings["peft_type"], type.string == "LORA" else {
            throw invalid("peft_type", settings["peft_type"] ?? .null, "this tool reads LoRA adapters (\"LORA\")")
        }
        let rankValue = settings["r"] ?? .number("8")
        guard let rank = rankValue.integer, rank >= 1 else { throw invalid("r", rankValue, "r must be an integer of at least 1") }
        self.rank = rank
        let alphaValue = settings["lora_alpha"] ?? .number("8")
        if case .string = alphaValue { throw invalid("lora_alpha", alphaValue, "lora_alpha must be a number, not a string") }
        guard let alpha = alphaValue.double, alpha.isFinite else { throw invalid("lora_alpha", alphaValue, "lora_alpha must be a finite number") }
        self.alpha = alpha

        var rankPattern: [(key: String, rank: Int)] = [], rankRules: [(regex: NSRegularExpression, rank: Int)] = []
        if let value = settings["rank_pattern"], value != .null {
            guard let entries = value.members else { throw invalid("rank_pattern", value, "rank_pattern must be an object of module patterns to ranks") }
            for entry in entries {
                guard let r = entry.value.integer, r >= 1 else {
                    throw invalid("rank_pattern[\"\(entry.key)\"]", entry.value, "a rank must be an integer of at least 1")
                }
                rankRules.append((try Self.patternRegex(entry.key, setting: "rank_pattern", path: path), r))
                rankPattern.append((entry.key, r))
            }
        }
        var alphaPattern: [(key: String, alpha: Double)] = [], alphaRules: [(regex: NSRegularExpression, alpha: Double)] = []
        if let value = settings["alpha_pattern"], value != .null {
            guard let entries = value.members else { throw invalid("alpha_pattern", value, "alpha_pattern must be an object of module patterns to alphas") }
            for entry in entries {
                if case .string = entry.value { throw invalid("alpha_pattern[\"\(entry.key)\"]", entry.value, "an alpha must be a number, not a string") }
                guard let a = entry.value.double, a.isFinite else { throw invalid("alpha_pattern[\"\(entry.key)\"]", entry.value, "an alpha must be a finite number") }
                alphaRules.append((try Self.patternRegex(entry.key, setting: "alpha_pattern", path: path), a))
                alphaPattern.append((entry.key, a))
            }
        }
        self.rankPattern = rankPattern
        self.alphaPattern = alphaPattern
        self.rankRules = rankRules
        self.alphaRules = alphaRules
        func flag(_ key: String) throws -> Bool {
            guard let value = settings[key], value != .null else { return false }
            guard case .bool(let on) = value else { throw invalid(key, value, "\(key) must be true or false") }
            return on
        }
        useRSLoRA = try flag("use_rslora")
        fanInFanOut = try flag("fan_in_fan_out")
        baseModelName = settings["base_model_name_or_path"]?.string
        targets = try ModuleSelector(settings["target_modules"], setting: "target_modules", path: path)
        excluded = try ModuleSelector(settings["exclude_modules"], setting: "exclude_modules", path: path)

        for member in members {
            if let reason = Self.unsupported[member.key], Self.isSet(member.value) {
                throw AdapterError.unsupportedSetting(config: path, key: member.key, value: member.value.summary, reason: reason)
            }
            if member.key == "init_lora_weights", let method = member.value.string,
               let rewriting = ["pissa", "olora", "corda", "lora_ga", "loftq"].first(where: { method.hasPrefix($0) }) {
                throw AdapterError.unsupportedSetting(config: path, key: "init_lora_weights", value: member.value.summary,
                    reason: "\(rewriting) initialisation rewrites the base weights, so the adapter applies to a residual model, not to the base given")
            }
            if !Self.understood.contains(member.key), Self.unsupported[member.key] == nil, Self.isSet(member.value) {
                throw AdapterError.unsupportedSetting(config: path, key: member.key, value: member.value.summary,
                    reason: "this tool does not know this setting, so it cannot tell whether it changes the result")
            }
        }
    }

    /// Settings read above, or that do not change the merged weights (training-time, loading-time
    /// or descriptive settings).
    static let understood: Set<String> = [
        "peft_type", "r", "lora_alpha", "rank_pattern", "alpha_pattern", "use_rslora", "fan_in_fan_out", "target_modules",
        "exclude_modules", "base_model_name_or_path", "init_lora_weights", "task_type", "inference_mode", "lora_dropout",
        "bias", "modules_to_save", "revision", "auto_mapping", "peft_version", "layers_pattern", "megatron_config",
        "megatron_core", "loftq_config", "eva_config", "corda_config", "lora_ga_config", "qalora_group_size",
        "ensure_weight_tying", "runtime_config", "velora_config",
    ]

    /// Settings that change the result and that this tool does not implement, with why.
    static let unsupported: [String: String] = [
        "use_dora": "DoRA rescales each column of the merged weight by a learned magnitude (lora_magnitude_vector); merge does not implement it",
        "lora_bias": "the B factor carries a bias that would be added to the layer's bias; merge does not implement it",
        "layer_replication": "the adapter applies to a model whose layers are replicated; merge does not implement it",
        "layers_to_transform": "the adapter applies to selected layer indices only; merge does not implement that selection",
        "use_qalora": "QA-LoRA pools the input features in groups; merge does not implement it",
        "alora_invocation_tokens": "Activated LoRA applies only after its invocation tokens and cannot be merged",
        "target_parameters": "LoRA on parameters (not modules) is not implemented by merge",
        "trainable_token_indices": "trainable token embeddings are not implemented by merge",
        "use_bdlora": "block-diagonal LoRA is not implemented by merge",
        "kasa_config": "KaSA changes the base weights and the factors' product; merge does not implement it",
        "monteclora_config": "Monte Carlo LoRA is not implemented by merge",
        "arrow_config": "Arrow routing mixes several adapters per input and cannot be merged",
    ]

    /// Whether a setting's value is anything but null, false, 0 or empty.
    static func isSet(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return false
        case .bool(let on): return on
        case .array(let elements): return !elements.isEmpty
        case .object(let members): return !members.isEmpty
        case .string(let text): return !text.isEmpty
        case .number: return value.double != 0
        }
    }

    static func patternRegex(_ key: String, setting: String, path: String) throws -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: "^(.*\\.)?(\(key))$") } catch {
            throw AdapterError.invalidSetting(config: path, key: "\(setting)[\"\(key)\"]", value: "\"\(key)\"", expected: "keys must be regular expressions")
        }
    }

    /// r for `module`: the first `rank_pattern` key that matches, else `r`.
    public func rank(for module: String) -> Int {
        rankRules.first { $0.regex.matches(module) }?.rank ?? rank
    }

    /// α for `module`: the first `alpha_pattern` key that matches, else `lora_alpha`.
    public func alpha(for module: String) -> Double {
        alphaRules.first { $0.regex.matches(module) }?.alpha ?? alpha
    }

    /// The scale of `module`'s product: α/r, or α/√r with `use_rslora`.
    public func scale(for module: String) -> Double {
        let r = Double(rank(for: module))
        return alpha(for: module) / (useRSLoRA ? r.squareRoot() : r)
    }

    /// Whether PEFT puts a LoRA layer on `module` (selected by `target_modules`, not excluded).
    public func targets(_ module: String) -> Bool {
        (targets?.selects(module) ?? true) && !(excluded?.selects(module) ?? false)
    }
}

/// PEFT's `target_modules`/`exclude_modules`: a list of names (the module itself or a suffix
/// after a dot) or one regular expression matching the whole name.
struct ModuleSelector: @unchecked Sendable {
    let names: Set<String>
    let regex: NSRegularExpression?

    /// nil for an absent, null or `all-linear` selector (everything).
    init?(_ value: JSONValue?, setting: String, path: String) throws {
        switch value {
        case nil, .null?: return nil
        case .string(let pattern)?:
            if pattern == "all-linear" { return nil }
            do { regex = try NSRegularExpression(pattern: "^(?:\(pattern))$") } catch {
                throw AdapterError.invalidSetting(config: path, key: setting, value: "\"\(pattern)\"", expected: "a string must be a regular expression")
            }
            names = []
        case .array(let elements)?:
            let strings = elements.compactMap(\.string)
            guard strings.count == elements.count else {
                throw AdapterError.invalidSetting(config: path, key: setting, value: "an array", expected: "it must list module names (strings)")
            }
            names = Set(strings)
            regex = nil
        case let other?:
            throw AdapterError.invalidSetting(config: path, key: setting, value: other.summary, expected: "it must be a list of module names or a regular expression")
        }
    }

    func selects(_ module: String) -> Bool {
        if let regex { return regex.matches(module) }
        return names.contains(module) || names.contains { module.hasSuffix("." + $0) }
    }
}

extension NSRegularExpression {
    /// Whether the expression matches somewhere in `text` (anchors in the pattern decide where).
    func matches(_ text: String) -> Bool {
        firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
