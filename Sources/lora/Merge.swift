import ArgumentParser
import Foundation
import LowRank

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write base + ΔW for every module of a PEFT LoRA adapter (the round trip of extract).",
        discussion: """
            ΔW is what PEFT adds: scale·B·A with scale = lora_alpha/r (lora_alpha/√r with use_rslora), \
            per-module r and alpha from rank_pattern/alpha_pattern, transposed for embeddings and under \
            fan_in_fan_out. Settings that change the result and are not implemented (use_dora, lora_bias, \
            layer_replication, ...) are refused by name. Tensors without a LoRA pair are copied; tensors \
            the adapter saved whole replace the base's. Changed tensors are computed in float32 and \
            stored in the base tensor's dtype. The output is written to a file with no name and linked \
            into place when complete: an interrupted merge leaves nothing behind.
            """)

    @Option(help: "Base model: a .safetensors file, a *.safetensors.index.json, or a directory holding either.")
    var base: String

    @Option(help: "Adapter directory (adapter_model.safetensors + adapter_config.json).")
    var adapter: String

    @Option(help: "Output .safetensors file (must not exist unless --force; never an input).")
    var out: String

    @Flag(help: "Replace --out if it is an existing regular file.")
    var force = false

    @Flag(name: .customLong("allow-non-finite"), help: "Merge even if the adapter holds NaN or infinities (or the merge produces them); refused by default.")
    var allowNonFinite = false

    @Option(help: "Threads for the products.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let summary = try mergeAdapter(MergeOptions(base: base, adapter: adapter, out: out, force: force,
                                                    allowNonFinite: allowNonFinite, threads: threads), log: note)
        print("wrote \(out): \(summary.tensors) tensors, \(summary.changed) changed by the adapter")
    }
}
