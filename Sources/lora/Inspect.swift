import ArgumentParser
import Foundation
import SafeTensors
import LowRank

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors of a model, or the ranks, alphas and target modules of a PEFT adapter.")

    @Argument(help: "A .safetensors file, a *.safetensors.index.json, a model directory, or an adapter directory.")
    var path: String

    func run() throws {
        let configPath = URL(fileURLWithPath: path).appendingPathComponent("adapter_config.json").path
        if FileManager.default.fileExists(atPath: configPath) {
            let adapter = try LoadedAdapter(directory: path)
            print("PEFT \(adapter.config["peft_type"] ?? "?") adapter, base model \(adapter.config["base_model_name_or_path"] ?? "?")")
            print("default r \(adapter.defaultRank), lora_alpha \(adapter.defaultAlpha)")
            for module in adapter.moduleNames.sorted() {
                let r = adapter.rank(module) ?? 0
                print("  \(module)  r=\(r)  alpha=\(adapter.scale(module, rank: r) * Double(r))\(adapter.isEmbedding(module) ? "  (embedding)" : "")")
            }
            for name in adapter.wholeNames.sorted() { print("  \(name)  (saved whole)") }
            print("\(adapter.moduleNames.count) LoRA modules, \(adapter.wholeNames.count) tensors saved whole, \(adapter.file.tensors.count) tensors in \(PEFTAdapter.weightsFile)")
            return
        }
        let model = try SafeTensorsModel(path: path)
        var parameters = 0
        for name in model.names {
            let info = try model.info(name)
            parameters += info.elementCount
            print("\(name)  \(info.dtype.rawValue)  [\(info.shape.map(String.init).joined(separator: ", "))]")
        }
        print("\(model.names.count) tensors, \(parameters) parameters")
    }
}
