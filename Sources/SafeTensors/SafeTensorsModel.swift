import Foundation

/// A model stored as safetensors: a single file, a sharded model (an index file
/// `*.safetensors.index.json` whose `weight_map` names each tensor's shard), or a directory that
/// holds either. Shards are opened on first use (an open shard costs a descriptor, not memory).
public final class SafeTensorsModel: Sendable {
    public let path: String
    /// Tensor name → shard path.
    public let shardOf: [String: String]
    /// The index file, when the model is sharded.
    public let indexPath: String?
    private let openShards: Locked<[String: SafeTensorsFile]>

    /// Opens the model at `path`.
    /// - Throws: `SafeTensorsError` for a missing path, a loop of symbolic links, a FIFO or device,
    ///   a directory that holds neither one `.safetensors` file nor an index, a malformed index or
    ///   a malformed single file (shards are checked when first read).
    public init(path: String) throws {
        self.path = path
        var opened: [String: SafeTensorsFile] = [:]
        switch try FileAccess.kind(of: path) {
        case .missing:
            throw SafeTensorsError(path: path, "no such file or directory")
        case .special(let what):
            throw SafeTensorsError(path: path, "is \(what)")
        case .directory:
            let url = URL(fileURLWithPath: path)
            let files: [String]
            do { files = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                throw SafeTensorsError(path: path, "cannot list the directory: \(error.localizedDescription)")
            }
            if let index = files.filter({ $0.hasSuffix(".safetensors.index.json") }).sorted().first {
                indexPath = url.appendingPathComponent(index).path
                shardOf = try Self.readIndex(indexPath!)
            } else {
                let single = files.filter { $0.hasSuffix(".safetensors") }.sorted()
                guard single.count == 1 else {
                    throw SafeTensorsError(path: path, single.isEmpty
                        ? "directory holds no .safetensors file and no *.safetensors.index.json"
                        : "directory holds \(single.count) .safetensors files but no index to say which tensor is where")
                }
                let file = try SafeTensorsFile(path: url.appendingPathComponent(single[0]).path)
                indexPath = nil
                shardOf = Dictionary(file.tensors.map { ($0.name, file.path) }, uniquingKeysWith: { first, _ in first })
                opened[file.path] = file
            }
        case .regularFile:
            if path.hasSuffix(".index.json") {
                indexPath = path
                shardOf = try Self.readIndex(path)
            } else {
                let file = try SafeTensorsFile(path: path)
                indexPath = nil
                shardOf = Dictionary(file.tensors.map { ($0.name, file.path) }, uniquingKeysWith: { first, _ in first })
                opened[file.path] = file
            }
        }
        openShards = Locked(opened)
    }

    /// Tensor names, sorted.
    public var names: [String] { shardOf.keys.sorted() }

    /// Every file the model is read from: the index (if any) and each shard, sorted.
    public var files: [String] { ([indexPath].compactMap { $0 } + Set(shardOf.values)).sorted() }

    /// The file holding `name`, opened on first use.
    public func file(for name: String) throws -> SafeTensorsFile {
        guard let shard = shardOf[name] else { throw SafeTensorsError(path: path, "no tensor named '\(name)'") }
        let file = try openShards.withLock { shards in
            if let file = shards[shard] { return file }
            let file = try SafeTensorsFile(path: shard)
            shards[shard] = file
            return file
        }
        guard file.info(name) != nil else { throw SafeTensorsError(path: shard, "the index says this shard holds '\(name)', but it does not") }
        return file
    }

    public func info(_ name: String) throws -> TensorInfo { try file(for: name).info(name)! }

    static func readIndex(_ indexPath: String) throws -> [String: String] {
        try parseIndex(FileAccess.readRegularFile(indexPath), indexPath: indexPath)
    }

    /// Parses a sharded model's index (`{"weight_map": {tensor: shard file}}`) from bytes: the
    /// entry point the fuzz target drives. Shard names must be plain relative paths inside the
    /// index's directory (no absolute path, no `..`); the result maps each tensor to its shard's
    /// path beside `indexPath`.
    /// - Throws: `SafeTensorsError` naming `indexPath` and the fault (bad or ambiguous JSON, no
    ///   `weight_map` object, an entry that is not such a file name, an empty map).
    public static func parseIndex(_ bytes: [UInt8], indexPath: String) throws -> [String: String] {
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch let error as JSONParseError {
            throw SafeTensorsError(path: indexPath, "not valid JSON: \(error)")
        }
        guard json.members != nil else { throw SafeTensorsError(path: indexPath, "not a JSON object") }
        guard let weightMap = json["weight_map"]?.members else { throw SafeTensorsError(path: indexPath, "no weight_map object") }
        guard !weightMap.isEmpty else { throw SafeTensorsError(path: indexPath, "weight_map is empty") }
        let directory = URL(fileURLWithPath: indexPath).deletingLastPathComponent()
        var result: [String: String] = [:]
        for entry in weightMap {
            guard let file = entry.value.string, !file.isEmpty, !file.hasPrefix("/"), !file.contains("\0"),
                  !file.split(separator: "/").contains("..") else {
                throw SafeTensorsError(path: indexPath, "weight_map entry '\(entry.key)' is not a file name inside the model's directory")
            }
            result[entry.key] = directory.appendingPathComponent(file).path
        }
        return result
    }
}
