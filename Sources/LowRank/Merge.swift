import Foundation
import SafeTensors

/// What `mergeAdapter` needs; the `lora merge` options.
public struct MergeOptions: Sendable {
    public var base: String, adapter: String, out: String
    public var force: Bool
    /// Write NaN and infinities found in the adapter (or produced by the merge) instead of refusing.
    public var allowNonFinite: Bool
    public var threads: Int

    public init(base: String, adapter: String, out: String, force: Bool = false, allowNonFinite: Bool = false, threads: Int = 1) {
        self.base = base
        self.adapter = adapter
        self.out = out
        self.force = force
        self.allowNonFinite = allowNonFinite
        self.threads = threads
    }
}

public struct MergeSummary: Sendable, Equatable {
    public let tensors: Int
    /// Tensors the adapter changed: a LoRA pair with a non-zero scale, or a tensor saved whole.
    public let changed: Int
}

/// Writes base + ΔW for every module of a PEFT LoRA adapter, ΔW as PEFT computes it (see
/// `LoRAConfig` and `StoredPair`), into one `.safetensors` file: the work of `lora merge`.
///
/// Everything is checked before the first tensor is computed: the adapter's settings (refused by
/// name if this tool does not implement them), that every module exists in the base with the
/// product's shape, that the adapter is not a no-op, and the output location. Tensors are then
/// computed and streamed one at a time to a file with no name (`SafeTensorsFileWriter`), linked
/// into place when complete; an interrupted merge leaves nothing. Changed tensors are computed in
/// Float and stored in the base tensor's dtype.
/// - Memory: one base tensor and its delta at a time, plus the adapter.
/// - Throws: `AdapterError` (settings, shapes, missing modules, non-finite values naming the
///   tensor, a no-op adapter, the output location), `SafeTensorsError` for unreadable files.
public func mergeAdapter(_ options: MergeOptions, log: (String) -> Void) throws -> MergeSummary {
    let adapter = try LoadedAdapter(directory: options.adapter, allowNonFinite: options.allowNonFinite)
    let model = try SafeTensorsModel(path: options.base)
    let location = try OutputLocation.check(options.out, kind: .file, inputs: [options.base, options.adapter] + model.files + [adapter.file.path],
                                            force: options.force)
    PartialOutputs.removeStale(for: location.path)

    enum Plan { case copy, whole(String), lora(String) }
    var plans: [String: Plan] = [:], headers: [TensorHeader] = []
    var used: Set<String> = []
    var silent: [String] = []
    for name in model.names {
        let info = try model.info(name)
        let module = name.hasSuffix(".weight") ? String(name.dropLast(".weight".count)) : name
        if let key = adapter.wholeKey(name) {
            let stored = adapter.file.info(key)!
            guard stored.elementCount == info.elementCount else {
                throw AdapterError.shapeMismatch(adapter: options.adapter, module: name, adapterShape: stored.shape, baseShape: info.shape)
            }
            plans[name] = .whole(key)
            used.insert(name)
        } else if adapter.moduleNames.contains(module) {
            guard info.dtype.isFloatingPoint else {
                throw AdapterError.invalidAdapter(options.adapter, problem: "module '\(module)' applies to \(name), which is \(info.dtype.rawValue), not floating-point")
            }
            let shapes = try adapterShapes(adapter, module)
            guard shapes == info.shape else {
                throw AdapterError.shapeMismatch(adapter: options.adapter, module: module, adapterShape: shapes, baseShape: info.shape)
            }
            plans[name] = .lora(module)
            used.insert(module)
            if adapter.scale(module) == 0 { silent.append(module) }
        } else {
            plans[name] = .copy
        }
        // Copies keep their dtype; computed tensors keep a floating-point dtype, else become F32.
        let copied: Bool
        if case .copy = plans[name]! { copied = true } else { copied = false }
        headers.append(TensorHeader(name: name, dtype: copied || info.dtype.isFloatingPoint ? info.dtype : .f32, shape: info.shape))
    }
    let unused = adapter.moduleNames.union(adapter.wholeNames).subtracting(used)
    if !unused.isEmpty { throw AdapterError.modulesNotInBase(adapter: options.adapter, base: options.base, modules: unused.sorted()) }
    if silent.count == adapter.moduleNames.count && adapter.wholeNames.isEmpty {
        throw AdapterError.noOpAdapter(config: adapter.config.path, reason: adapter.config.alpha == 0 && adapter.config.alphaPattern.isEmpty
            ? "lora_alpha is 0, so every module's scale is 0 and the merged model would equal the base"
            : "every module's alpha is 0 (lora_alpha, alpha_pattern), so the merged model would equal the base")
    }
    for module in silent.sorted() { log("warning: module '\(module)' has alpha 0 (scale 0): it changes nothing") }

    let writer = try SafeTensorsFileWriter(destination: location.path, tensors: headers)
    var changed = 0
    for header in writer.order {
        let name = header.name
        let sourceFile = try model.file(for: name)
        switch plans[name]! {
        case .copy:
            try sourceFile.bytes(name).withUnsafeBytes { try writer.append(name, bytes: $0) }
            continue
        case .whole(let key):
            let values = try adapter.checkedFloats(key)
            try TensorData.encode(values, as: header.dtype).withUnsafeBytes { try writer.append(name, bytes: $0) }
            changed += 1
        case .lora(let module):
            var values = try sourceFile.floats(name)
            let pair = try adapter.pair(module)
            let baseFinite = values.allSatisfy(\.isFinite)
            values.withUnsafeMutableBufferPointer { buffer in
                pair.accumulateDelta(rows: 0..<header.shape[0], alpha: 1, beta: 1, into: buffer.baseAddress!, ldc: header.shape[1], threads: options.threads)
            }
            if baseFinite && !options.allowNonFinite {
                let bad = values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
                if bad > 0 { throw AdapterError.nonFinite(file: options.out, tensor: name, count: bad) }
            }
            try TensorData.encode(values, as: header.dtype).withUnsafeBytes { try writer.append(name, bytes: $0) }
            if pair.scale != 0 { changed += 1 }
        }
    }
    try writer.commit(replace: options.force)
    return MergeSummary(tensors: writer.order.count, changed: changed)
}

/// The shape of the delta a module's pair makes, from the tensor headers alone.
private func adapterShapes(_ adapter: LoadedAdapter, _ module: String) throws -> [Int] {
    let embedding = adapter.isEmbedding(module)
    let keys = PEFTAdapter.factorKeys(module: module, embedding: embedding)
    let a = adapter.file.info(keys.a)!, b = adapter.file.info(keys.b)!
    return embedding || adapter.config.fanInFanOut ? [a.shape[1], b.shape[0]] : [b.shape[0], a.shape[1]]
}
