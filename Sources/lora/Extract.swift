import ArgumentParser
import Foundation
import Kernels
import LowRank
import SafeTensors

struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Extract a LoRA adapter from (base, tuned) safetensors by truncated SVD of each delta.",
        discussion: """
            Each 2-D weight whose value changed becomes a LoRA pair: ΔW = W_tuned − W_base (in \
            float32, or float64 for F64 weights) is factored by SVD and truncated, B = U_r·Σ_r, A = V_rᵀ. \
            Tensors are streamed one pair at a time, with progress and the time left on standard error. \
            The output location is checked (never an input, replaced only if lora wrote it) and its \
            temporary directory created before any work; the adapter is renamed to --out when complete, \
            and Ctrl-C leaves nothing behind. A per-module CSV report goes to <out>/lora_report.csv, \
            every figure measured on the factors as stored (after --dtype rounding and the embedding \
            layout).
            """)

    @Option(help: "Base model: a .safetensors file, a *.safetensors.index.json, or a directory holding either.")
    var base: String

    @Option(help: "Fine-tuned model, in the same form as --base.")
    var tuned: String

    @Option(help: "Output adapter directory (must not exist unless --force; never an input, nor inside or around one).")
    var out: String

    @Option(help: "Rank of every LoRA pair.")
    var rank: Int?

    @Option(help: "Instead of --rank: keep the smallest rank that retains this fraction of ‖ΔW‖²_F (e.g. 0.9).")
    var energy: Double?

    @Option(name: .customLong("max-rank"), help: "Cap on any module's rank.")
    var maxRank: Int?

    @Option(name: .customLong("rank-override"), help: "Per-module rank or energy, 'REGEX=16' or 'REGEX=0.9' (repeatable; first match wins).")
    var rankOverrides: [String] = []

    @Option(help: "SVD method: exact (LAPACK), randomized, or auto (randomized on matrices wider than 512 where a certificate bounds its Eckart–Young ratio by 1.02, else exact).")
    var method: String = "auto"

    @Option(help: "Only modules whose tensor name matches this regular expression.")
    var include: String?

    @Option(help: "Skip modules whose tensor name matches this regular expression.")
    var exclude: String?

    @Option(help: "Embeddings (tensor names matching --embedding-pattern): lora, full (saved whole) or skip.")
    var embeddings: String = "lora"

    @Option(name: .customLong("embedding-pattern"), help: "Regular expression that marks a 2-D weight as an embedding.")
    var embeddingPattern: String = "embed"

    @Option(help: "1-D tensors (norms, biases) that changed: save (whole) or skip.")
    var vectors: String = "skip"

    @Option(help: "Stored dtype of the adapter: f32, f16 or bf16.")
    var dtype: String = "f32"

    @Option(help: "lora_alpha of every module (default: equal to its rank, so the scale alpha/r is 1).")
    var alpha: Double?

    @Option(name: .customLong("base-name"), help: "base_model_name_or_path written into adapter_config.json (default: --base).")
    var baseName: String?

    @Option(help: "Threads for the SVD and products.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Tensor pairs factored at the same time (each with threads / jobs threads; default: --threads).")
    var jobs: Int?

    @Flag(help: "Replace --out if it is an adapter directory lora wrote (holding nothing else).")
    var force = false

    @Flag(help: "After writing, reload the adapter, recompute each module's relative error against the true delta, and fail if any exceeds --verify-factor × its Eckart–Young optimum (plus the storage dtype's rounding).")
    var verify = false

    @Option(name: .customLong("verify-factor"), help: "The multiple of the optimum --verify allows (at least 1).")
    var verifyFactor: Double = 1.01

    func validate() throws {
        if (rank == nil) == (energy == nil) { throw ValidationError("give exactly one of --rank and --energy") }
        if let rank, rank < 1 { throw ValidationError("--rank must be at least 1, got \(rank)") }
        if let energy, !(energy > 0 && energy <= 1) { throw ValidationError("--energy must be in (0, 1], got \(energy)") }
        if let maxRank, maxRank < 1 { throw ValidationError("--max-rank must be at least 1, got \(maxRank)") }
        if SVDMethod(rawValue: method) == nil { throw ValidationError("--method must be exact, randomized or auto, got '\(method)'") }
        if !["lora", "full", "skip"].contains(embeddings) { throw ValidationError("--embeddings must be lora, full or skip, got '\(embeddings)'") }
        if !["save", "skip"].contains(vectors) { throw ValidationError("--vectors must be save or skip, got '\(vectors)'") }
        if !["f32", "f16", "bf16"].contains(dtype) { throw ValidationError("--dtype must be f32, f16 or bf16, got '\(dtype)'") }
        if let alpha, !(alpha > 0) { throw ValidationError("--alpha must be positive, got \(alpha)") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if !(verifyFactor >= 1) || !verifyFactor.isFinite { throw ValidationError("--verify-factor must be a finite number of at least 1, got \(verifyFactor)") }
        _ = try regex(include, "--include")
        _ = try regex(exclude, "--exclude")
        _ = try regex(embeddingPattern, "--embedding-pattern")
        _ = try overrides()
    }

    func regex(_ pattern: String?, _ option: String) throws -> NSRegularExpression? {
        guard let pattern else { return nil }
        do { return try NSRegularExpression(pattern: pattern) } catch {
            throw ValidationError("\(option) '\(pattern)' is not a valid regular expression")
        }
    }

    func overrides() throws -> [(pattern: NSRegularExpression, choice: RankChoice)] {
        try rankOverrides.map { text in
            guard let equals = text.lastIndex(of: "=") else { throw ValidationError("--rank-override '\(text)' is not REGEX=RANK or REGEX=FRACTION") }
            let pattern = String(text[..<equals]), value = String(text[text.index(after: equals)...])
            guard let choice = RankChoice.parse(value) else { throw ValidationError("--rank-override '\(text)': '\(value)' is neither a rank ≥ 1 nor a fraction in (0, 1]") }
            return (try regex(pattern, "--rank-override")!, choice)
        }
    }

    func run() throws {
        let options = ExtractOptions(
            base: base, tuned: tuned, out: out,
            policy: RankPolicy(defaultChoice: rank.map(RankChoice.fixed) ?? .energy(energy!), maxRank: maxRank, overrides: try overrides()),
            method: SVDMethod(rawValue: method)!, include: try regex(include, "--include"), exclude: try regex(exclude, "--exclude"),
            embeddingPattern: try regex(embeddingPattern, "--embedding-pattern")!,
            embeddings: EmbeddingHandling(rawValue: embeddings)!, saveVectors: vectors == "save",
            dtype: dtype == "f16" ? .f16 : dtype == "bf16" ? .bf16 : .f32,
            alpha: alpha, baseName: baseName ?? base, threads: threads, jobs: jobs ?? threads, force: force,
            verifyFactor: verify ? verifyFactor : nil)
        let summary = try extractAdapter(options, log: note)
        print("wrote \(out): \(summary.modules) modules in \(String(format: "%.2f", summary.seconds)) s (report: \(out)/\(ExtractionReport.fileName))")
        if summary.problems > 0 { note("\(summary.problems) tensor(s) had problems and were skipped; see the warnings above") }
        if let verification = summary.verification {
            print("verified: every one of \(verification.count) modules within \(verifyFactor) × its optimum (plus rounding)")
        }
    }
}
