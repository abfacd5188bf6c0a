import Foundation
import Kernels
import SafeTensors

/// What to do with 2-D weights that look like embeddings.
public enum EmbeddingHandling: String, Sendable {
    /// A LoRA pair in PEFT's embedding layout (lora_embedding_A/B).
    case lora
    /// Saved whole.
    case full
    case skip
}

/// Everything `extractAdapter` needs; the `lora extract` options.
public struct ExtractOptions: @unchecked Sendable {
    public var base: String, tuned: String, out: String
    public var policy: RankPolicy
    public var method: SVDMethod
    public var include: NSRegularExpression?, exclude: NSRegularExpression?
    public var embeddingPattern: NSRegularExpression
    public var embeddings: EmbeddingHandling
    public var saveVectors: Bool
    public var dtype: DType
    public var alpha: Double?
    public var baseName: String
    public var threads: Int
    public var force: Bool

    public init(base: String, tuned: String, out: String, policy: RankPolicy, method: SVDMethod = .auto,
                include: NSRegularExpression? = nil, exclude: NSRegularExpression? = nil,
                embeddingPattern: NSRegularExpression = try! NSRegularExpression(pattern: "embed"),
                embeddings: EmbeddingHandling = .lora, saveVectors: Bool = false, dtype: DType = .f32,
                alpha: Double? = nil, baseName: String? = nil, threads: Int = 1, force: Bool = false) {
        self.base = base
        self.tuned = tuned
        self.out = out
        self.policy = policy
        self.method = method
        self.include = include
        self.exclude = exclude
        self.embeddingPattern = embeddingPattern
        self.embeddings = embeddings
        self.saveVectors = saveVectors
        self.dtype = dtype
        self.alpha = alpha
        self.baseName = baseName ?? base
        self.threads = threads
        self.force = force
    }
}

public struct ExtractSummary: Sendable {
    public let modules: Int
    /// Tensors skipped with a warning (shape mismatch, NaN or infinity, rank too large).
    public let problems: Int
    public let seconds: Double
}

/// Extracts a PEFT LoRA adapter from (base, tuned): the work of `lora extract`.
///
/// Streams the models one tensor pair at a time (memory: about one pair plus the adapter),
/// factors each changed 2-D weight with `compressDelta`, saves changed 1-D tensors whole if asked,
/// writes the adapter and `lora_report.csv` into a temporary directory beside `out`, and renames
/// it into place. Progress and warnings go to `log`.
/// - Throws: `AdapterError` when `out` exists without `force`, nothing could be written, or the
///   output cannot be written; `SafeTensorsError` for unreadable models.
public func extractAdapter(_ options: ExtractOptions, log: (String) -> Void) throws -> ExtractSummary {
    let outURL = URL(fileURLWithPath: options.out)
    let fileManager = FileManager.default
    if fileManager.fileExists(atPath: outURL.path) && !options.force {
        throw AdapterError("\(options.out) exists; pass --force to replace it")
    }
    let baseModel = try SafeTensorsModel(path: options.base)
    let tunedModel = try SafeTensorsModel(path: options.tuned)
    let policy = options.policy
    let includeRegex = options.include, excludeRegex = options.exclude
    let embeddingRegex = options.embeddingPattern
    let svdMethod = options.method
    let storedType = options.dtype

    func matches(_ regex: NSRegularExpression?, _ text: String) -> Bool {
        regex?.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
    let missing = Set(baseModel.names).subtracting(tunedModel.names)
    let extra = Set(tunedModel.names).subtracting(baseModel.names)
    for name in missing.sorted() { log("warning: '\(name)' is in --base but not in --tuned; skipped") }
    for name in extra.sorted() { log("warning: '\(name)' is in --tuned but not in --base; skipped") }

    let names = baseModel.names.filter { name in
        tunedModel.shardOf[name] != nil
            && (includeRegex == nil || matches(includeRegex, name))
            && !matches(excludeRegex, name)
    }
    if names.isEmpty { throw AdapterError("no tensor of \(options.base) is selected (both models, --include, --exclude)") }

    var modules: [AdapterModule] = []
    var report = ["module,kind,shape,rank,retained_energy,relative_error,optimal_relative_error,sigma_1,sigma_r_plus_1,seconds,method,note"]
    var problems = 0
    let start = Date()
    for (index, name) in names.enumerated() {
        let tick = Date()
        let baseInfo = try baseModel.info(name), tunedInfo = try tunedModel.info(name)
        let progress = "[\(index + 1)/\(names.count)] \(name) \(baseInfo.shape.map(String.init).joined(separator: "x"))"
        guard baseInfo.shape == tunedInfo.shape else {
            log("\(progress): warning: shapes differ (base \(baseInfo.shape), tuned \(tunedInfo.shape)); skipped")
            problems += 1
            continue
        }
        guard baseInfo.dtype.isFloatingPoint, tunedInfo.dtype.isFloatingPoint else {
            log("\(progress): \(baseInfo.dtype.rawValue) is not a floating-point weight; skipped")
            continue
        }
        // ΔW in Double (exact for F32, F16 and BF16 inputs), stored as Float; F64 weights are read
        // as Double so nothing is lost before the subtraction. One pair in memory at a time.
        let wide = baseInfo.dtype == .f64 || tunedInfo.dtype == .f64
        let (delta, tunedValues, changed, finite) = try readDelta(name, baseModel, tunedModel, wide: wide)
        baseModel.release(except: names.indices.contains(index + 1) ? names[index + 1] : nil)
        tunedModel.release(except: names.indices.contains(index + 1) ? names[index + 1] : nil)
        guard finite else {
            log("\(progress): warning: the delta contains NaN or infinity; skipped")
            problems += 1
            continue
        }
        guard changed else {
            log("\(progress): unchanged; skipped")
            continue
        }
        let module = name.hasSuffix(".weight") ? String(name.dropLast(".weight".count)) : name
        let shape = baseInfo.shape
        if shape.count == 1 || (shape.count == 2 && matches(embeddingRegex, name) && options.embeddings == .full) {
            if shape.count == 1 && !options.saveVectors {
                log("\(progress): 1-D, skipped (--vectors save keeps it)")
                continue
            }
            modules.append(.whole(name: name, shape: shape, values: tunedValues))
            report.append("\(module),whole,\(shape.map(String.init).joined(separator: "x")),,,,,,,\(seconds(since: tick)),,saved whole")
            log("\(progress): saved whole")
            continue
        }
        guard shape.count == 2 else {
            log("\(progress): \(shape.count)-D tensor; skipped")
            continue
        }
        let isEmbedding = matches(embeddingRegex, name)
        if isEmbedding && options.embeddings == .skip {
            log("\(progress): embedding, skipped (--embeddings)")
            continue
        }
        // Embeddings are stored by PEFT as factors of ΔWᵀ (dim × num); the SVD of ΔW gives them
        // by exchanging U and V, with no transposed copy of the (large) delta.
        let (m, n) = (shape[0], shape[1])
        var choice = policy.choice(for: module)
        if case .fixed(let r) = choice, r > min(m, n) {
            // A LoRA pair cannot have more rank than the matrix: keep the whole delta exactly.
            log("\(progress): warning: rank \(r) is larger than the matrix allows (\(m) × \(n)); using rank \(min(m, n))")
            choice = .fixed(min(m, n))
        }
        do {
            let factors = try compressDelta(delta, m: m, n: n, choice: choice, maxRank: policy.maxRank, method: svdMethod,
                                            threads: options.threads, ofTranspose: isEmbedding)
            let moduleAlpha = options.alpha ?? Double(factors.rank)
            modules.append(isEmbedding ? .embedding(module: module, factors: factors, alpha: moduleAlpha)
                                       : .linear(module: module, factors: factors, alpha: moduleAlpha))
            let elapsed = seconds(since: tick)
            report.append([module, isEmbedding ? "embedding" : "lora", shape.map(String.init).joined(separator: "x"), String(factors.rank),
                           format(factors.retainedEnergy), format(factors.relativeError), factors.optimalRelativeError.map(format) ?? "",
                           format(factors.sigma1), factors.sigmaNext.map(format) ?? "", elapsed, factors.method.rawValue, factors.note].joined(separator: ","))
            log("\(progress): rank \(factors.rank) (\(factors.method.rawValue)), retained \(format(factors.retainedEnergy)), rel. error \(format(factors.relativeError)), \(elapsed) s")
        } catch let error as CompressionError {
            log("\(progress): warning: \(error); skipped")
            problems += 1
        }
    }
    if modules.isEmpty {
        throw AdapterError("nothing to write: no selected tensor changed\(problems > 0 ? " or every changed one had a problem (see warnings)" : "")")
    }

    // Write everything into a temporary directory beside --out, then rename.
    let parent = outURL.deletingLastPathComponent()
    try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
    let temporary = parent.appendingPathComponent(".\(outURL.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
    try? fileManager.removeItem(at: temporary)
    try fileManager.createDirectory(at: temporary, withIntermediateDirectories: false)
    do {
        let adapter = PEFTAdapter(modules: modules, baseModelName: options.baseName)
        try adapter.write(to: temporary, dtype: storedType)
        try Data((report.joined(separator: "\n") + "\n").utf8).write(to: temporary.appendingPathComponent("lora_report.csv"))
        if fileManager.fileExists(atPath: outURL.path) { try fileManager.removeItem(at: outURL) }
        try fileManager.moveItem(at: temporary, to: outURL)
    } catch {
        try? fileManager.removeItem(at: temporary)
        throw AdapterError("could not write the adapter to \(options.out): \(error)")
    }
    return ExtractSummary(modules: modules.count, problems: problems, seconds: Date().timeIntervalSince(start))
}


/// ΔW = tuned − base as Float (differences taken in Double), tuned's values, whether anything
/// changed, and whether every difference is finite.
func readDelta(_ name: String, _ base: SafeTensorsModel, _ tuned: SafeTensorsModel, wide: Bool) throws -> ([Float], [Float], Bool, Bool) {
    var changed = false, finite = true
    if wide {
        let b = try base.file(for: name).doubles(name), t = try tuned.file(for: name).doubles(name)
        var delta = [Float](repeating: 0, count: b.count)
        for i in b.indices {
            let d = t[i] - b[i]
            if !d.isFinite { finite = false }
            if d != 0 { changed = true }
            delta[i] = Float(d)
        }
        return (delta, t.map { Float($0) }, changed, finite)
    }
    let b = try base.file(for: name).floats(name), t = try tuned.file(for: name).floats(name)
    var delta = [Float](repeating: 0, count: b.count)
    for i in b.indices {
        let d = Double(t[i]) - Double(b[i])
        if !d.isFinite { finite = false }
        if d != 0 { changed = true }
        delta[i] = Float(d)
    }
    return (delta, t, changed, finite)
}

func seconds(since date: Date) -> String { String(format: "%.3f", Date().timeIntervalSince(date)) }
func format(_ x: Double) -> String { String(format: "%.6g", x) }
