import ArgumentParser
import Foundation
import Kernels
import LowRank
import SafeTensors

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write base + scale·B·A for every module of a PEFT LoRA adapter (the round trip of extract).",
        discussion: "Tensors without a LoRA pair are copied; tensors the adapter saved whole replace the base's. Changed tensors are computed in float32 and stored in the base tensor's dtype (an F64 weight therefore carries float32 precision); the output is written through a temporary file.")

    @Option(help: "Base model: a .safetensors file, a *.safetensors.index.json, or a directory holding either.")
    var base: String

    @Option(help: "Adapter directory (adapter_model.safetensors + adapter_config.json).")
    var adapter: String

    @Option(help: "Output .safetensors file.")
    var out: String

    @Flag(help: "Replace --out if it exists.")
    var force = false

    func run() throws {
        if FileManager.default.fileExists(atPath: out) && !force { throw LoraError("\(out) exists; pass --force to replace it") }
        let loaded = try LoadedAdapter(directory: adapter)
        let model = try SafeTensorsModel(path: base)
        var tensors: [TensorData] = []
        var applied = 0
        for name in model.names {
            let info = try model.info(name)
            let module = name.hasSuffix(".weight") ? String(name.dropLast(".weight".count)) : name
            var values: [Float]
            if let whole = try loaded.whole(name) {
                guard whole.count == info.elementCount else {
                    throw LoraError("\(adapter): '\(name)' has \(whole.count) values, the base tensor \(info.shape) has \(info.elementCount)")
                }
                values = whole
                applied += 1
            } else if let delta = try loaded.delta(module: module, shape: info.shape) {
                guard info.dtype.isFloatingPoint else { throw LoraError("\(base): '\(name)' is \(info.dtype.rawValue), not a floating-point weight") }
                values = try model.file(for: name).floats(name)
                for i in values.indices { values[i] += delta[i] }
                applied += 1
            } else {
                tensors.append(TensorData(name: name, dtype: info.dtype, shape: info.shape, bytes: Data(try model.file(for: name).bytes(name))))
                continue
            }
            tensors.append(TensorData(name: name, shape: info.shape, values: values, as: info.dtype.isFloatingPoint ? info.dtype : .f32))
        }
        let unused = loaded.moduleNames.union(loaded.wholeNames).subtracting(loaded.used)
        if !unused.isEmpty { throw LoraError("\(adapter): modules not found in \(base): \(unused.sorted().prefix(5).joined(separator: ", "))\(unused.count > 5 ? ", …" : "")") }
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"], to: outURL)
        print("wrote \(out): \(tensors.count) tensors, \(applied) changed by the adapter")
    }
}

