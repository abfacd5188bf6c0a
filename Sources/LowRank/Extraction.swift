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
    /// After writing, reload the adapter and fail if a module's error exceeds this multiple of its
    /// optimum (plus the storage dtype's rounding); nil: no verification.
    public var verifyFactor: Double?

    public init(base: String, tuned: String, out: String, policy: RankPolicy, method: SVDMethod = .auto,
                include: NSRegularExpression? = nil, exclude: NSRegularExpression? = nil,
                embeddingPattern: NSRegularExpression = try! NSRegularExpression(pattern: "embed"),
                embeddings: EmbeddingHandling = .lora, saveVectors: Bool = false, dtype: DType = .f32,
                alpha: Double? = nil, baseName: String? = nil, threads: Int = 1, jobs: Int = 1, force: Bool = false,
                verifyFactor: Double? = nil) {
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
        self.verifyFactor = verifyFactor
    }
}

public struct ExtractSummary: Sendable {
    public let modules: Int
    /// Tensors skipped with a warning (shape mismatch, NaN or infinity, rank too large).
    public let problems: Int
    public let seconds: Double
    /// The report's rows, in tensor order.
    public let rows: [ExtractionReport.Row]
    /// `--verify`'s measurements, when asked for.
    public let verification: [VerificationRow]?
}

/// Extracts a PEFT LoRA adapter from (base, tuned): the work of `lora extract`.
///
/// The steps: open both models (headers only) and check the output location, creating its
/// temporary directory before any work (`OutputLocation`, `PendingDirectory`); select and pair
/// the tensors (`selectTensors`); compress each pair (`PairCompressor`: factors from
/// `compressDelta`, encoded as stored, measured as stored) in the order and concurrency of
/// `PairSchedule`; write the adapter and `lora_report.csv` (`ExtractionReport`) into the
/// temporary directory and rename it into place; with `verifyFactor`, reload and check it
/// (`verifyAdapter`). Progress, with the time left, and warnings go to `log`.
/// - Memory: about one tensor pair per job (ΔW in Float plus a tuned-tensor chunk), plus the
///   adapter; the files are read with `pread`, never mapped.
/// - Throws: `AdapterError` (the output location, nothing selected or nothing to write, a
///   failed verification); `SafeTensorsError` for unreadable models. A module whose SVD fails
///   (`CompressionError`, `LAPACKError`) is skipped with a warning and counted in `problems`.
public func extractAdapter(_ options: ExtractOptions, log: (String) -> Void) throws -> ExtractSummary {
    let start = Date()
    let baseModel = try SafeTensorsModel(path: options.base)
    let tunedModel = try SafeTensorsModel(path: options.tuned)
    let location = try OutputLocation.check(options.out, kind: .adapterDirectory,
                                            inputs: [options.base, options.tuned] + baseModel.files + tunedModel.files, force: options.force)
    let pending = try PendingDirectory(location, files: OutputLocation.adapterFiles)
    let selected = try selectTensors(base: baseModel, tuned: tunedModel, include: options.include, exclude: options.exclude, log: log)

    let compressor = PairCompressor(options: options, base: baseModel, tuned: tunedModel)
    let elementCounts = selected.map(\.base.elementCount)
    let schedule = PairSchedule(elementCounts: elementCounts, threads: options.threads, jobs: options.jobs)
    let progress = Progress(total: elementCounts.reduce(0, +), count: selected.count)
    let outcomes = Locked([PairOutcome?](repeating: nil, count: selected.count))
    let logged = Locked(())
    try schedule.run { index, threads in
        let outcome = try compressor.compress(selected[index], threads: threads)
        outcomes.withLock { $0[index] = outcome }
        let status = progress.finished(elementCounts[index])
        let tensor = selected[index]
        let label = "[\(status.done)/\(selected.count)] \(tensor.name) \(tensor.base.shape.map(String.init).joined(separator: "x"))"
        logged.withLock { _ in
            for message in outcome.messages { log("\(label): \(message)") }
            if outcome.messages.isEmpty { log(label) }
            log("    \(status.summary)")
        }
    }

    let completed = outcomes.withLock { $0 }.map { $0! }
    let modules = completed.compactMap(\.module)
    let rows = completed.compactMap(\.row)
    let problems = completed.filter(\.problem).count
    if modules.isEmpty {
        var counts = NothingToWrite()
        counts.selected = selected.count
        counts.problems = problems
        for (tensor, outcome) in zip(selected, completed) {
            switch outcome.skip {
            case .unchanged?: counts.unchanged += 1
            case .notFloatingPoint(let dtype)?: counts.notFloatingPoint[dtype, default: []].append(tensor.name)
            case .vector?: counts.vectorsSkipped += 1
            case .other?: counts.otherSkipped += 1
            case nil: break
            }
        }
        throw AdapterError.nothingToWrite(counts)
    }

    do {
        try PEFTAdapter(modules: modules, baseModelName: options.baseName).write(to: pending.temporary)
        try Data(ExtractionReport.columns.csv(rows).utf8).write(to: pending.temporary.appendingPathComponent(ExtractionReport.fileName))
    } catch {
        throw AdapterError.outputUnwritable(options.out, reason: "\(error)")
    }
    try pending.commit()
    var verification: [VerificationRow]?
    if let factor = options.verifyFactor {
        verification = try verifyAdapter(at: options.out, base: baseModel, tuned: tunedModel, rows: rows, factor: factor,
                                          threads: options.threads, log: log)
    }
    return ExtractSummary(modules: modules.count, problems: problems, seconds: Date().timeIntervalSince(start), rows: rows,
                          verification: verification)
}

/// Progress through a list of tensors, weighted by their sizes: how many are done, the time so
/// far, and the time left estimated from the elements still to go at the rate so far.
final class Progress: Sendable {
    let total: Int, count: Int
    let start = Date()
    private let state = Locked((done: 0, elements: 0))

    init(total: Int, count: Int) {
        self.total = max(1, total)
        self.count = count
    }

    /// Records a finished tensor of `elements` elements.
    func finished(_ elements: Int) -> (done: Int, summary: String) {
        let (done, processed) = state.withLock { state -> (Int, Int) in
            state.done += 1
            state.elements += elements
            return (state.done, state.elements)
        }
        let elapsed = Date().timeIntervalSince(start)
        let left = processed > 0 ? elapsed * Double(total - processed) / Double(processed) : 0
        let percent = 100 * Double(processed) / Double(total)
        return (done, String(format: "%.0f%% of the elements, %.1f s so far, about %.0f s left", percent, elapsed, left))
    }
}
