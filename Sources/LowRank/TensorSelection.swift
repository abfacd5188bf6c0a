import Foundation
import SafeTensors

/// A tensor both models hold, chosen for extraction.
struct SelectedTensor: Sendable {
    let name: String
    let base: TensorInfo
    let tuned: TensorInfo

    /// The module a weight belongs to: the name without `.weight`.
    var module: String { name.hasSuffix(".weight") ? String(name.dropLast(".weight".count)) : name }
}

/// Select and pair: the tensors both models hold whose names `include` matches (if given) and
/// `exclude` does not, sorted by name. A name in only one model is skipped with a warning.
/// - Throws: `AdapterError.nothingSelected` when none is left; `SafeTensorsError` for a shard
///   that cannot be read.
func selectTensors(base: SafeTensorsModel, tuned: SafeTensorsModel, include: NSRegularExpression?, exclude: NSRegularExpression?,
                   log: (String) -> Void) throws -> [SelectedTensor] {
    for name in Set(base.names).subtracting(tuned.names).sorted() { log("warning: '\(name)' is in --base but not in --tuned; skipped") }
    for name in Set(tuned.names).subtracting(base.names).sorted() { log("warning: '\(name)' is in --tuned but not in --base; skipped") }
    let names = base.names.filter { name in
        tuned.shardOf[name] != nil && (include?.matches(name) ?? true) && !(exclude?.matches(name) ?? false)
    }
    if names.isEmpty { throw AdapterError.nothingSelected(model: base.path) }
    return try names.map { SelectedTensor(name: $0, base: try base.info($0), tuned: try tuned.info($0)) }
}
