/// Why an extraction, merge, resize or verification did not produce its output: each case is a
/// fault a caller (or a user) acts on, and its description names the file, tensor, setting or
/// argument at fault.
public enum AdapterError: Error, CustomStringConvertible, Equatable {
    // MARK: the output location (checked before any work)

    /// The output exists and `--force` was not given.
    case outputExists(String)
    /// The output is an input, contains one, or lies inside one (paths compared after resolving
    /// symbolic links).
    case outputOverlapsInput(output: String, input: String, relation: PathRelation)
    /// The output exists but is not something this tool may replace (not an adapter it wrote, a
    /// directory holding other files, not a regular file, a symbolic link).
    case outputNotReplaceable(String, reason: String)
    /// The output's directory cannot be created or written.
    case outputUnwritable(String, reason: String)

    // MARK: what to extract

    /// `--include`/`--exclude` and the two models leave no tensor to look at.
    case nothingSelected(model: String)
    /// Every selected tensor was unchanged, not floating-point, or had a problem.
    case nothingToWrite(NothingToWrite)

    // MARK: adapters read back

    /// An adapter directory or file that cannot be used as it is.
    case invalidAdapter(String, problem: String)
    /// A setting of `adapter_config.json` that changes the result and that this tool does not
    /// implement (so applying the adapter without it would be wrong).
    case unsupportedSetting(config: String, key: String, value: String, reason: String)
    /// A setting whose value has the wrong type or range.
    case invalidSetting(config: String, key: String, value: String, expected: String)
    /// Every module's scale is zero: applying the adapter changes nothing.
    case noOpAdapter(config: String, reason: String)
    /// A stored tensor holds NaN or an infinity (or a merge would produce one).
    case nonFinite(file: String, tensor: String, count: Int)
    /// Adapter modules that the base model does not have.
    case modulesNotInBase(adapter: String, base: String, modules: [String])
    /// An adapter module whose product does not have the base weight's shape.
    case shapeMismatch(adapter: String, module: String, adapterShape: [Int], baseShape: [Int])

    // MARK: checks after writing

    /// `--verify`: modules whose reloaded error exceeds the allowed multiple of the optimum.
    case verificationFailed(adapter: String, modules: [VerificationFailure])

    public var description: String {
        switch self {
        case .outputExists(let path):
            return "\(path) exists; pass --force to replace it"
        case let .outputOverlapsInput(output, input, relation):
            switch relation {
            case .same: return "--out \(output) is the input \(input); choose another output"
            case .outputContainsInput: return "--out \(output) contains the input \(input); writing there would replace it. Choose another output"
            case .outputInsideInput: return "--out \(output) lies inside the input \(input); choose an output outside the inputs"
            }
        case let .outputNotReplaceable(path, reason):
            return "\(path): \(reason); refusing to replace it (remove it yourself or choose another --out)"
        case let .outputUnwritable(path, reason):
            return "cannot write the output \(path): \(reason)"
        case .nothingSelected(let model):
            return "no tensor of \(model) is selected (tensors in both models, after --include and --exclude)"
        case .nothingToWrite(let counts):
            return "nothing to write: \(counts)"
        case let .invalidAdapter(path, problem):
            return "\(path): \(problem)"
        case let .unsupportedSetting(config, key, value, reason):
            return "\(config): \(key) = \(value) is not supported: \(reason)"
        case let .invalidSetting(config, key, value, expected):
            return "\(config): \(key) = \(value), but \(expected)"
        case let .noOpAdapter(config, reason):
            return "\(config): the adapter changes nothing: \(reason)"
        case let .nonFinite(file, tensor, count):
            return "\(file): tensor '\(tensor)' holds \(count) NaN or infinite value\(count == 1 ? "" : "s") (pass --allow-non-finite to write them anyway)"
        case let .modulesNotInBase(adapter, base, modules):
            return "\(adapter): \(modules.count) module\(modules.count == 1 ? "" : "s") not found in \(base): \(modules.prefix(5).joined(separator: ", "))\(modules.count > 5 ? ", …" : "")"
        case let .shapeMismatch(adapter, module, adapterShape, baseShape):
            return "\(adapter): module '\(module)': the adapter's product is \(adapterShape), the base weight is \(baseShape)"
        case let .verificationFailed(adapter, modules):
            let worst = modules.sorted { $0.ratio > $1.ratio }.prefix(5).map(\.description).joined(separator: "; ")
            return "\(adapter): verification failed for \(modules.count) module\(modules.count == 1 ? "" : "s"): \(worst)"
        }
    }
}

/// How an output path relates to an input path.
public enum PathRelation: Sendable, Equatable {
    case same, outputContainsInput, outputInsideInput
}

/// Why nothing was written: what the selected tensors were.
public struct NothingToWrite: Sendable, Equatable, CustomStringConvertible {
    public var selected = 0
    public var unchanged = 0
    /// Integer or boolean tensors (a LoRA adapter holds floating-point factors only), by dtype.
    public var notFloatingPoint: [String: [String]] = [:]
    /// Tensors skipped with a warning (shape mismatch, NaN or infinity, failed SVD).
    public var problems = 0
    /// Changed 1-D tensors left out because `--vectors save` was not given.
    public var vectorsSkipped = 0
    /// Tensors left out by `--embeddings skip` or because they are not 1-D or 2-D.
    public var otherSkipped = 0

    public init() {}

    public var description: String {
        var parts = ["of \(selected) selected tensor\(selected == 1 ? "" : "s")"]
        if unchanged > 0 { parts.append("\(unchanged) unchanged") }
        for (dtype, names) in notFloatingPoint.sorted(by: { $0.key < $1.key }) {
            parts.append("\(names.count) \(dtype) (not floating-point, cannot be a LoRA pair: \(names.prefix(3).joined(separator: ", "))\(names.count > 3 ? ", …" : ""))")
        }
        if vectorsSkipped > 0 { parts.append("\(vectorsSkipped) changed 1-D tensor\(vectorsSkipped == 1 ? "" : "s") skipped (--vectors save keeps them)") }
        if otherSkipped > 0 { parts.append("\(otherSkipped) skipped (--embeddings skip, or neither 1-D nor 2-D)") }
        if problems > 0 { parts.append("\(problems) had problems (see the warnings)") }
        return parts.joined(separator: ", ")
    }
}

/// One module that failed `--verify`.
public struct VerificationFailure: Sendable, Equatable, CustomStringConvertible {
    public let module: String
    public let relativeError: Double
    public let optimalRelativeError: Double
    public let allowedFactor: Double

    public var ratio: Double { optimalRelativeError > 0 ? relativeError / optimalRelativeError : .infinity }

    public var description: String {
        "\(module): relative error \(format(relativeError)) > \(allowedFactor) × optimum \(format(optimalRelativeError))"
    }
}
