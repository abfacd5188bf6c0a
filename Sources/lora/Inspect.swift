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
        let configPath = URL(fileURLWithPath: path).appendingPathComponent(PEFTAdapter.configFile).path
        if case .directory = try FileAccess.kind(of: path), case .regularFile = try FileAccess.kind(of: configPath) {
            let adapter = try LoadedAdapter(directory: path)
            let config = adapter.config
            print("PEFT LORA adapter, base model \(config.baseModelName ?? "?")")
            print("default r \(config.rank), lora_alpha \(config.alpha)\(config.useRSLoRA ? ", use_rslora" : "")\(config.fanInFanOut ? ", fan_in_fan_out" : "")")
            for module in adapter.moduleNames.sorted() {
                let r = adapter.rank(module) ?? 0
                print("  \(module)  r=\(r)  alpha=\(config.alpha(for: module))  scale=\(adapter.scale(module))\(adapter.isEmbedding(module) ? "  (embedding)" : "")")
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
