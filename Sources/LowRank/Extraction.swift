import Dispatch
import Crosscheck
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
    /// Tensor pairs factored at the same time (each with threads / jobs threads).
    public var jobs: Int
    public var force: Bool

    public init(base: String, tuned: String, out: String, policy: RankPolicy, method: SVDMethod = .auto,
                include: NSRegularExpression? = nil, exclude: NSRegularExpression? = nil,
                embeddingPattern: NSRegularExpression = try! NSRegularExpression(pattern: "embed"),
                embeddings: EmbeddingHandling = .lora, saveVectors: Bool = false, dtype: DType = .f32,
                alpha: Double? = nil, baseName: String? = nil, threads: Int = 1, jobs: Int = 1, force: Bool = false) {
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
        self.jobs = jobs
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
/// Streams the models one tensor pair per job at a time (memory: about one pair per job plus the
/// adapter),
/// factors each changed 2-D weight with `compressDelta`, saves changed 1-D tensors whole if asked,
/// writes the adapter and `lora_report.csv` into a temporary directory beside `out`, and renames
/// it into place. Progress and warnings go to `log`.
/// - Throws: `AdapterError` when `out` exists without `force`, nothing could be written, or the
///   output cannot be written; `SafeTensorsError` for unreadable models. A module whose SVD fails
///   (`CompressionError`, `LAPACKError`) is skipped with a warning and counted in `problems`.
public func extractAdapter(_ options: ExtractOptions, log: (String) -> Void) throws -> ExtractSummary {
    let baseModel = try SafeTensorsModel(path: options.base)
    let tunedModel = try SafeTensorsModel(path: options.tuned)
    let location = try OutputLocation.check(options.out, kind: .adapterDirectory,
                                            inputs: [options.base, options.tuned] + baseModel.files + tunedModel.files, force: options.force)
    let pending = try PendingDirectory(location, files: OutputLocation.adapterFiles)
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
    if names.isEmpty { throw AdapterError.nothingSelected(model: options.base) }

    // One tensor pair: what it contributes to the adapter and the report.
    struct Outcome {
        var module: AdapterModule?
        var reportLine: String?
        var problem = false
        /// Why nothing was kept, for the message when nothing at all is.
        var skip: SkipReason?
        var messages: [String] = []
    }
    let jobs = max(1, min(options.jobs, names.count))
    func process(_ index: Int, kernelThreads: Int) throws -> Outcome {
        var outcome = Outcome()
        let name = names[index]
        let tick = Date()
        let baseInfo = try baseModel.info(name), tunedInfo = try tunedModel.info(name)
        let progress = "[\(index + 1)/\(names.count)] \(name) \(baseInfo.shape.map(String.init).joined(separator: "x"))"
        func say(_ text: String) { outcome.messages.append("\(progress): \(text)") }
        guard baseInfo.shape == tunedInfo.shape else {
            say("warning: shapes differ (base \(baseInfo.shape), tuned \(tunedInfo.shape)); skipped")
            outcome.problem = true
            return outcome
        }
        guard baseInfo.dtype.isFloatingPoint, tunedInfo.dtype.isFloatingPoint else {
            let dtype = baseInfo.dtype.isFloatingPoint ? tunedInfo.dtype : baseInfo.dtype
            if baseInfo.dtype == tunedInfo.dtype, try baseModel.file(for: name).bytes(name) == tunedModel.file(for: name).bytes(name) {
                say("unchanged (\(dtype.rawValue)); skipped")
                outcome.skip = .unchanged
            } else {
                say("warning: changed, but \(dtype.rawValue) is not a floating-point type, so it cannot be part of a LoRA adapter; skipped")
                outcome.skip = .notFloatingPoint(dtype.rawValue)
            }
            return outcome
        }
        // ΔW in Double (exact for F32, F16 and BF16 inputs), stored as Float; F64 weights are read
        // as Double so nothing is lost before the subtraction.
        let wide = baseInfo.dtype == .f64 || tunedInfo.dtype == .f64
        let (delta, changed, finite) = try readDelta(name, baseModel, tunedModel, wide: wide)
        guard finite else {
            say("warning: the delta contains NaN or infinity; skipped")
            outcome.problem = true
            return outcome
        }
        guard changed else {
            say("unchanged; skipped")
            outcome.skip = .unchanged
            return outcome
        }
        let module = name.hasSuffix(".weight") ? String(name.dropLast(".weight".count)) : name
        let shape = baseInfo.shape
        if shape.count == 1 || (shape.count == 2 && matches(embeddingRegex, name) && options.embeddings == .full) {
            if shape.count == 1 && !options.saveVectors {
                say("1-D, skipped (--vectors save keeps it)")
                outcome.skip = .vector
                return outcome
            }
            outcome.module = .whole(name: name, shape: shape, values: try tunedModel.file(for: name).floats(name))
            outcome.reportLine = [module, "whole", shape.map(String.init).joined(separator: "x"), "", "", "", "", "", "",
                                  seconds(since: tick), "", "saved whole"].map(CSVReport.escape).joined(separator: ",")
            say("saved whole")
            return outcome
        }
        guard shape.count == 2 else {
            say("\(shape.count)-D tensor; skipped")
            outcome.skip = .other
            return outcome
        }
        let isEmbedding = matches(embeddingRegex, name)
        if isEmbedding && options.embeddings == .skip {
            say("embedding, skipped (--embeddings)")
            outcome.skip = .other
            return outcome
        }
        // Embeddings are stored by PEFT as factors of ΔWᵀ (dim × num); the SVD of ΔW gives them
        // by exchanging U and V, with no transposed copy of the (large) delta.
        let (m, n) = (shape[0], shape[1])
        var choice = policy.choice(for: module)
        if case .fixed(let r) = choice, r > min(m, n) {
            // A LoRA pair cannot have more rank than the matrix: keep the whole delta exactly.
            say("warning: rank \(r) is larger than the matrix allows (\(m) × \(n)); using rank \(min(m, n))")
            choice = .fixed(min(m, n))
        }
        do {
            let factors = try compressDelta(delta, m: m, n: n, choice: choice, maxRank: policy.maxRank, method: svdMethod,
                                            threads: kernelThreads, ofTranspose: isEmbedding)
            let moduleAlpha = options.alpha ?? Double(factors.rank)
            outcome.module = isEmbedding ? .embedding(module: module, factors: factors, alpha: moduleAlpha)
                                         : .linear(module: module, factors: factors, alpha: moduleAlpha)
            let elapsed = seconds(since: tick)
            outcome.reportLine = [module, isEmbedding ? "embedding" : "lora", shape.map(String.init).joined(separator: "x"), String(factors.rank),
                                  format(factors.retainedEnergy), format(factors.relativeError), factors.optimalRelativeError.map(format) ?? "",
                                  format(factors.sigma1), factors.sigmaNext.map(format) ?? "", elapsed, factors.method.rawValue, factors.note].map(CSVReport.escape).joined(separator: ",")
            say("rank \(factors.rank) (\(factors.method.rawValue)), retained \(format(factors.retainedEnergy)), rel. error \(format(factors.relativeError)), \(elapsed) s")
            if case .energy(let fraction) = choice, !energyReached(factors.retainedEnergy, fraction, k: min(m, n)) {
                say("warning: energy \(fraction) not reached within the rank cap \(factors.rank) (retained \(String(format: "%.9f", factors.retainedEnergy)))")
            }
        } catch let error as CompressionError {
            say("warning: \(error); skipped")
            outcome.problem = true
        } catch let error as LAPACKError {
            say("warning: \(error); skipped")
            outcome.problem = true
        }
        return outcome
    }

    // Large pairs (four million elements or more) come first, one at a time with every thread;
    // then `jobs` workers take the others, each factoring with threads / jobs threads, so that
    // small matrices keep both cores busy where one at a time leaves LAPACK's sequential parts on
    // one core. Memory: about one pair per job plus the adapter.
    let start = Date()
    var outcomes = [Outcome?](repeating: nil, count: names.count)
    var failure: Error?
    let lock = NSLock()
    let elementCounts = try names.map { try baseModel.info($0).elementCount }
    let large = names.indices.filter { elementCounts[$0] >= 4_000_000 }
    let small = names.indices.filter { elementCounts[$0] < 4_000_000 }
    func run(_ index: Int, kernelThreads: Int) {
        do {
            let outcome = try process(index, kernelThreads: kernelThreads)
            lock.lock()
            outcomes[index] = outcome
            outcome.messages.forEach(log)
            lock.unlock()
        } catch {
            lock.lock()
            failure = failure ?? error
            lock.unlock()
        }
    }
    for index in large where failure == nil { run(index, kernelThreads: options.threads) }
    var nextSmall = 0
    func worker(_: Int) {
        while true {
            lock.lock()
            let position = nextSmall
            nextSmall += 1
            let stop = failure != nil
            lock.unlock()
            if position >= small.count || stop { return }
            run(small[position], kernelThreads: max(1, options.threads / jobs))
        }
    }
    if jobs == 1 || small.count < 2 {
        worker(0)
    } else {
        DispatchQueue.concurrentPerform(iterations: jobs) { worker($0) }
    }
    if let failure { throw failure }
    let completed = outcomes.compactMap { $0 }
    let modules = completed.compactMap(\.module)
    let report = ["module,kind,shape,rank,retained_energy,relative_error,optimal_relative_error,sigma_1,sigma_r_plus_1,seconds,method,note"]
        + completed.compactMap(\.reportLine)
    let problems = completed.filter(\.problem).count
    if modules.isEmpty {
        var counts = NothingToWrite()
        counts.selected = names.count
        counts.problems = problems
        for (index, outcome) in outcomes.enumerated() {
            switch outcome?.skip {
            case .unchanged?: counts.unchanged += 1
            case .notFloatingPoint(let dtype)?: counts.notFloatingPoint[dtype, default: []].append(names[index])
            case .vector?: counts.vectorsSkipped += 1
            case .other?: counts.otherSkipped += 1
            case nil: break
            }
        }
        throw AdapterError.nothingToWrite(counts)
    }

    // Everything goes into the temporary directory created before the work, then one rename.
    do {
        let adapter = PEFTAdapter(modules: modules, baseModelName: options.baseName)
        try adapter.write(to: pending.temporary, dtype: storedType)
        try Data((report.joined(separator: "\n") + "\n").utf8).write(to: pending.temporary.appendingPathComponent(ExtractionReport.fileName))
    } catch {
        throw AdapterError.outputUnwritable(options.out, reason: "\(error)")
    }
    try pending.commit()
    return ExtractSummary(modules: modules.count, problems: problems, seconds: Date().timeIntervalSince(start))
}

/// Why a selected tensor contributed nothing.
enum SkipReason {
    case unchanged, notFloatingPoint(String), vector, other
}

/// Whether `retained` reaches the energy `fraction` up to rounding: the retained energy is a sum of
/// up to k squared singular values of a Float delta, each with relative error of order
/// ε = 2⁻²³, so it may fall short of an exact 1 (or of any fraction it meets exactly) by about
/// √k·ε; 8√k·ε is allowed.
func energyReached(_ retained: Double, _ fraction: Double, k: Int) -> Bool {
    retained >= fraction - 8 * Double(k).squareRoot() * Double(Float.ulpOfOne)
}

/// ΔW = tuned − base as Float (one rounding of the exact difference), whether anything changed,
/// and whether every difference is finite.
func readDelta(_ name: String, _ base: SafeTensorsModel, _ tuned: SafeTensorsModel, wide: Bool) throws -> ([Float], Bool, Bool) {
    var nonzero = 0, nonFinite = 0
    if wide {
        let b = try base.file(for: name).doubles(name), t = try tuned.file(for: name).doubles(name)
        var delta = [Float](repeating: 0, count: b.count)
        for i in b.indices {
            let d = t[i] - b[i]
            nonFinite &+= d.isFinite ? 0 : 1
            nonzero &+= d != 0 ? 1 : 0
            delta[i] = Float(d)
        }
        return (delta, nonzero > 0, nonFinite == 0)
    }
    // The base is read whole into what becomes ΔW; the tuned tensor streams through a small reused
    // buffer. Fresh memory costs a page fault per 4 KB here (measured: reading a 47 MB tensor
    // into a new array took 60 ms), so the pair costs one large allocation, not three.
    var delta = try base.file(for: name).floats(name)
    let tunedFile = try tuned.file(for: name)
    let chunk = 1 << 16
    try withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { buffer in
        try delta.withUnsafeMutableBufferPointer { d in
            for start in stride(from: 0, to: d.count, by: chunk) {
                let count = min(chunk, d.count - start)
                try tunedFile.readFloats(name, range: start..<(start + count), into: buffer)
                for i in 0..<count {
                    let x = buffer[i] - d[start + i]
                    d[start + i] = x
                    nonzero &+= x != 0 ? 1 : 0
                    nonFinite &+= x.isFinite ? 0 : 1
                }
            }
        }
    }
    return (delta, nonzero > 0, nonFinite == 0)
}

func seconds(since date: Date) -> String { String(format: "%.3f", Date().timeIntervalSince(date)) }
func format(_ x: Double) -> String { String(format: "%.6g", x) }
