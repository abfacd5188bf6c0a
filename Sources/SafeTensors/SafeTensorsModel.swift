import Foundation

/// A model stored as safetensors: a single file, a sharded model (an index file
/// `*.safetensors.index.json` whose `weight_map` names each tensor's shard), or a directory that
/// holds either. Shards are opened (memory-mapped) on first use.
public final class SafeTensorsModel: @unchecked Sendable {
    public let path: String
    /// Tensor name → shard path.
    public let shardOf: [String: String]
    private var openShards: [String: SafeTensorsFile] = [:]
    /// Guards `openShards`: several threads may read tensors of one model.
    private let lock = NSLock()

    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SafeTensorsError(path: path, "no such file or directory")
        }
        if isDirectory.boolValue {
            let url = URL(fileURLWithPath: path)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            if let index = files.filter({ $0.hasSuffix(".safetensors.index.json") }).sorted().first {
                shardOf = try Self.readIndex(url.appendingPathComponent(index).path)
            } else {
                let single = files.filter { $0.hasSuffix(".safetensors") }.sorted()
                guard single.count == 1 else {
                    throw SafeTensorsError(path: path, single.isEmpty
                        ? "directory holds no .safetensors file and no *.safetensors.index.json"
                        : "directory holds \(single.count) .safetensors files but no index to say which tensor is where")
                }
                let file = try SafeTensorsFile(path: url.appendingPathComponent(single[0]).path)
                shardOf = Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, file.path) })
                openShards[file.path] = file
            }
        } else if path.hasSuffix(".index.json") {
            shardOf = try Self.readIndex(path)
        } else {
            let file = try SafeTensorsFile(path: path)
            shardOf = Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, file.path) })
            openShards[file.path] = file
        }
    }

    /// Tensor names, sorted.
    public var names: [String] { shardOf.keys.sorted() }

    /// The file holding `name`, opened on first use.
    public func file(for name: String) throws -> SafeTensorsFile {
        guard let shard = shardOf[name] else { throw SafeTensorsError(path: path, "no tensor named '\(name)'") }
        lock.lock()
        defer { lock.unlock() }
        let file = try openShards[shard] ?? SafeTensorsFile(path: shard)
        guard file.info(name) != nil else { throw SafeTensorsError(path: shard, "the index says this shard holds '\(name)', but it does not") }
        openShards[shard] = file
        return file
    }

    public func info(_ name: String) throws -> TensorInfo { try file(for: name).info(name)! }

    /// Closes shards other than the one holding `name`, so that streaming through a sharded model
    /// keeps one shard mapped at a time.
    public func release(except name: String? = nil) {
        let keep = name.flatMap { shardOf[$0] }
        lock.lock()
        openShards = openShards.filter { $0.key == keep }
        lock.unlock()
    }

    static func readIndex(_ indexPath: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: indexPath) else { throw SafeTensorsError(path: indexPath, "cannot read") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw SafeTensorsError(path: indexPath, "not a JSON object")
        }
        guard let weightMap = object["weight_map"] as? [String: Any] else { throw SafeTensorsError(path: indexPath, "no weight_map object") }
        let directory = URL(fileURLWithPath: indexPath).deletingLastPathComponent()
        var result: [String: String] = [:]
        for (name, value) in weightMap {
            guard let file = value as? String, !file.isEmpty, !file.hasPrefix("/"), !file.split(separator: "/").contains("..") else {
                throw SafeTensorsError(path: indexPath, "weight_map entry '\(name)' is not a file name inside the model's directory")
            }
            result[name] = directory.appendingPathComponent(file).path
        }
        return result
    }
}
