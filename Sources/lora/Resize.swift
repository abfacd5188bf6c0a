import ArgumentParser
import Foundation
import LowRank
import SafeTensors

struct Resize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lower the ranks of a PEFT LoRA adapter without the base model (exact SVD of each module's B·A).",
        discussion: """
            Each module's product P = scale·B·A is decomposed exactly (thin QR of B and Aᵀ, SVD of the r × r core), \
            its new rank k chosen by one rule, and the optimal rank-k factors written (B = U_kΣ_k, A = V_kᵀ, \
            lora_alpha = k). Rules: --rank, --energy (as extract), or kohya-ss sd-scripts' dynamic methods \
            --sv-ratio, --sv-fro, --sv-cumulative, reproduced exactly from networks/resize_lora.py (their rank is \
            one more than the smallest meeting the target, as kohya computes it), capped by --max-rank. \
            Tensors saved whole are copied. A per-module report goes to <out>/lora_resize_report.csv: old and new \
            rank, retained energy (and kohya's fro_retained, sum_retained, max_ratio), the relative error of the \
            stored result and the Eckart–Young optimum.
            """)

    @Option(help: "The adapter directory to resize (adapter_model.safetensors + adapter_config.json).")
    var adapter: String

    @Option(help: "Output adapter directory (must not exist unless --force; never the input).")
    var out: String

    @Option(help: "New rank of every module (capped by its rank).")
    var rank: Int?

    @Option(help: "Keep the smallest rank retaining this fraction of each module's ‖B·A‖²_F, in (0, 1].")
    var energy: Double?

    @Option(name: .customLong("sv-ratio"), help: "kohya sv_ratio: keep the singular values above σ₁ / RATIO (RATIO ≥ 1).")
    var svRatio: Double?

    @Option(name: .customLong("sv-fro"), help: "kohya sv_fro: keep this fraction of the Frobenius norm, in (0, 1].")
    var svFro: Double?

    @Option(name: .customLong("sv-cumulative"), help: "kohya sv_cumulative: keep this fraction of the sum of the singular values, in (0, 1].")
    var svCumulative: Double?

    @Option(name: .customLong("max-rank"), help: "Cap on any module's new rank (kohya's --new_rank for the dynamic methods).")
    var maxRank: Int?

    @Option(help: "Stored dtype of the new factors: f32, f16 or bf16 (default: each module keeps its own).")
    var dtype: String?

    @Flag(help: "Replace --out if it is an adapter directory lora wrote (holding nothing else).")
    var force = false

    @Option(help: "Threads for the products and factorizations.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        let given = [rank != nil, energy != nil, svRatio != nil, svFro != nil, svCumulative != nil].filter { $0 }.count
        if given != 1 { throw ValidationError("give exactly one of --rank, --energy, --sv-ratio, --sv-fro and --sv-cumulative") }
        if let rank, rank < 1 { throw ValidationError("--rank must be at least 1, got \(rank)") }
        if let energy, !(energy > 0 && energy <= 1) { throw ValidationError("--energy must be in (0, 1], got \(energy)") }
        if let svRatio, !(svRatio >= 1 && svRatio.isFinite) { throw ValidationError("--sv-ratio must be a finite number of at least 1, got \(svRatio)") }
        if let svFro, !(svFro > 0 && svFro <= 1) { throw ValidationError("--sv-fro must be in (0, 1], got \(svFro)") }
        if let svCumulative, !(svCumulative > 0 && svCumulative <= 1) { throw ValidationError("--sv-cumulative must be in (0, 1], got \(svCumulative)") }
        if let maxRank, maxRank < 1 { throw ValidationError("--max-rank must be at least 1, got \(maxRank)") }
        if let dtype, !["f32", "f16", "bf16"].contains(dtype) { throw ValidationError("--dtype must be f32, f16 or bf16, got '\(dtype)'") }
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let rule: ResizeRule = rank.map(ResizeRule.rank) ?? energy.map(ResizeRule.energy) ?? svRatio.map(ResizeRule.svRatio)
            ?? svFro.map(ResizeRule.svFro) ?? .svCumulative(svCumulative!)
        let stored: DType? = dtype.map { $0 == "f16" ? .f16 : $0 == "bf16" ? .bf16 : .f32 }
        let rows = try resizeAdapter(ResizeOptions(adapter: adapter, out: out, rule: rule, maxRank: maxRank, dtype: stored, force: force,
                                                   threads: threads), log: note)
        let before = rows.reduce(0) { $0 + $1.oldRank }, after = rows.reduce(0) { $0 + $1.newRank }
        print("wrote \(out): \(rows.count) modules, total rank \(before) → \(after) (report: \(out)/\(ResizeReport.fileName))")
    }
}
