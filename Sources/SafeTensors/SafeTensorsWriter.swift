import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tensor to write: name, dtype, shape and its little-endian bytes.
public struct TensorData: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let bytes: Data

    public init(name: String, dtype: DType, shape: [Int], bytes: Data) {
        if bytes.count != shape.reduce(1, *) * dtype.size { fatalError("TensorData \(name): \(bytes.count) bytes for shape \(shape) of \(dtype.rawValue)") }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// `values` stored as `dtype` (F32, F16, BF16 or F64), rounding to nearest.
    public init(name: String, shape: [Int], values: [Float], as dtype: DType) {
        if values.count != shape.reduce(1, *) { fatalError("TensorData \(name): \(values.count) values for shape \(shape)") }
        self.init(name: name, dtype: dtype, shape: shape, bytes: Self.encode(values, as: dtype))
    }

    /// The little-endian bytes of `values` as `dtype` (F32, F16, BF16 or F64), rounding to
    /// nearest (ties to even). O(values.count).
    public static func encode(_ values: [Float], as dtype: DType) -> Data {
        // Built as whole arrays, then one copy into Data (appending element by element took
        // 0.7 s for an 11.7M-value embedding).
        switch dtype {
        case .f32: return values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
        case .f16: return values.map { Float16($0).bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
        case .bf16: return values.map { BFloat16.fromFloat($0).littleEndian }.withUnsafeBytes { Data($0) }
        case .f64: return values.map { Double($0).bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
        default: fatalError("TensorData.encode supports F32, F16, BF16 and F64, not \(dtype.rawValue)")
        }
    }

    public var header: TensorHeader { TensorHeader(name: name, dtype: dtype, shape: shape) }
}

/// A tensor's entry in a header: what `SafeTensorsFileWriter` needs before any data.
public struct TensorHeader: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]

    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    public var byteCount: Int { shape.reduce(1, *) * dtype.size }
}

/// Writes `.safetensors` files that the Python package reads: header JSON with `__metadata__`
/// first, tensors in order of name with contiguous data offsets, the header padded with spaces to
/// a multiple of 8 bytes. (Python's own writer orders tensors by dtype, then name; readers do not
/// depend on the order.)
public enum SafeTensorsWriter {
    /// The header bytes (length prefix included) for `tensors` sorted by name, and that order.
    static func header(_ tensors: [TensorHeader], metadata: [String: String]) -> (bytes: [UInt8], order: [TensorHeader]) {
        let sorted = tensors.sorted { $0.name < $1.name }
        var entries: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in sorted {
            let end = offset + tensor.byteCount
            entries.append("\(jsonString(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var json = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        return (withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json, sorted)
    }

    /// The complete file contents. O(total bytes).
    public static func serialize(_ tensors: [TensorData], metadata: [String: String] = ["format": "pt"]) -> Data {
        let (headerBytes, _) = header(tensors.map(\.header), metadata: metadata)
        var file = Data(headerBytes)
        for tensor in tensors.sorted(by: { $0.name < $1.name }) { file.append(tensor.bytes) }
        return file
    }

    /// Writes the file through `SafeTensorsFileWriter` (a file with no name until it is complete,
    /// then an atomic rename), replacing a regular file at `url` if `replace`.
    /// - Throws: `SafeTensorsError` for duplicate names or a failed write.
    public static func write(_ tensors: [TensorData], metadata: [String: String] = ["format": "pt"], to url: URL, replace: Bool = true) throws {
        let writer = try SafeTensorsFileWriter(destination: url.path, tensors: tensors.map(\.header), metadata: metadata)
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for tensor in writer.order { try byName[tensor.name]!.bytes.withUnsafeBytes { try writer.append(tensor.name, bytes: $0) } }
        try writer.commit(replace: replace)
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

/// Streams a `.safetensors` file to disk one tensor at a time, so that writing a model never
/// holds more than the tensor in hand, and makes it appear at its final name only when complete.
///
/// The data goes into a file with no name (`O_TMPFILE` in the destination's directory): if the
/// process dies, even by SIGKILL, nothing is left behind. `commit` links it into place: directly
/// under the final name for a new file (`linkat`, which never replaces anything), or for
/// `replace`, under a temporary name then `rename` over the old file (atomic: a reader sees the
/// old file or the new one, never a mixture). Where the file system has no `O_TMPFILE`, the data
/// goes to the temporary name `PartialOutputs.partialPath` from the start, removed on SIGINT or
/// SIGTERM and, after a SIGKILL, by the next run's `PartialOutputs.removeStale`.
public final class SafeTensorsFileWriter {
    public let destination: String
    /// The tensors in the order `append` must receive them (by name).
    public let order: [TensorHeader]
    private var descriptor: Int32
    /// The temporary name written to, when the file system has no `O_TMPFILE`.
    private var namedTemporary: (path: String, token: Int)?
    private var next = 0
    private var finished = false

    /// Creates the unnamed file and writes the header.
    /// - Throws: `SafeTensorsError` for duplicate tensor names or a directory that cannot be
    ///   written.
    public init(destination: String, tensors: [TensorHeader], metadata: [String: String] = ["format": "pt"]) throws {
        self.destination = destination
        let names = tensors.map(\.name)
        if Set(names).count != names.count {
            let duplicates = Dictionary(grouping: names, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            throw SafeTensorsError(path: destination, "duplicate tensor names: \(duplicates.prefix(3).joined(separator: ", "))")
        }
        let (headerBytes, order) = SafeTensorsWriter.header(tensors, metadata: metadata)
        self.order = order
        let directory = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        descriptor = open(directory, __O_TMPFILE | O_WRONLY | O_CLOEXEC, 0o644)
        if descriptor < 0 {
            let code = errno
            guard code == EOPNOTSUPP || code == EISDIR || code == EINVAL else {
                throw SafeTensorsError(path: destination, "cannot create the output file in \(directory): \(FileAccess.describe(errno: code))")
            }
            let temporary = PartialOutputs.partialPath(for: destination)
            let token = PartialOutputs.register(temporary)
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                let code = errno
                PartialOutputs.unregister(token)
                throw SafeTensorsError(path: destination, "cannot create \(temporary): \(FileAccess.describe(errno: code))")
            }
            namedTemporary = (temporary, token)
        }
        do { try headerBytes.withUnsafeBytes { try writeAll($0) } } catch {
            abandon()
            throw error
        }
    }

    deinit { abandon() }

    /// Appends tensor `name`'s bytes; tensors must come in `order`, each whole.
    public func append(_ name: String, bytes: UnsafeRawBufferPointer) throws {
        guard !finished, next < order.count, order[next].name == name else {
            fatalError("SafeTensorsFileWriter: '\(name)' appended out of order (expected \(next < order.count ? order[next].name : "no more"))")
        }
        guard bytes.count == order[next].byteCount else {
            fatalError("SafeTensorsFileWriter: '\(name)' has \(bytes.count) bytes, its header says \(order[next].byteCount)")
        }
        try writeAll(bytes)
        next += 1
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if count < 0 {
                if errno == EINTR { continue }
                throw SafeTensorsError(path: destination, "write failed: \(FileAccess.describe(errno: errno))")
            }
            done += count
        }
    }

    /// Flushes the file to disk and gives it its final name.
    /// - Parameter replace: whether a regular file already at the destination may be replaced.
    /// - Throws: `SafeTensorsError` if a tensor is missing, the destination exists (without
    ///   `replace`) or is not a regular file, or the file system refuses.
    public func commit(replace: Bool) throws {
        guard !finished else { fatalError("SafeTensorsFileWriter: committed twice") }
        guard next == order.count else {
            fatalError("SafeTensorsFileWriter: committed after \(next) of \(order.count) tensors")
        }
        defer { abandon() }
        guard fsync(descriptor) == 0 else { throw SafeTensorsError(path: destination, "cannot flush to disk: \(FileAccess.describe(errno: errno))") }
        var status = stat()
        if lstat(destination, &status) == 0 {
            guard replace else { throw SafeTensorsError(path: destination, "already exists") }
            guard status.st_mode & S_IFMT == S_IFREG else {
                throw SafeTensorsError(path: destination, "exists and is not a regular file; refusing to replace it")
            }
        }
        if let (temporary, _) = namedTemporary {
            if replace {
                guard rename(temporary, destination) == 0 else {
                    throw SafeTensorsError(path: destination, "cannot rename \(temporary) into place: \(FileAccess.describe(errno: errno))")
                }
            } else {
                guard link(temporary, destination) == 0 else {
                    throw SafeTensorsError(path: destination, "cannot create: \(FileAccess.describe(errno: errno))")
                }
            }
            return
        }
        let procPath = "/proc/self/fd/\(descriptor)"
        if !replace {
            guard linkat(AT_FDCWD, procPath, AT_FDCWD, destination, AT_SYMLINK_FOLLOW) == 0 else {
                throw SafeTensorsError(path: destination, "cannot create: \(FileAccess.describe(errno: errno))")
            }
            return
        }
        let temporary = PartialOutputs.partialPath(for: destination)
        let token = PartialOutputs.register(temporary)
        defer { PartialOutputs.unregister(token) }
        unlink(temporary)
        guard linkat(AT_FDCWD, procPath, AT_FDCWD, temporary, AT_SYMLINK_FOLLOW) == 0 else {
            throw SafeTensorsError(path: destination, "cannot name the new file \(temporary): \(FileAccess.describe(errno: errno))")
        }
        guard rename(temporary, destination) == 0 else {
            let code = errno
            unlink(temporary)
            throw SafeTensorsError(path: destination, "cannot rename \(temporary) into place: \(FileAccess.describe(errno: code))")
        }
    }

    /// Discards the file (nothing remains under any name). Idempotent.
    public func abandon() {
        if finished { return }
        finished = true
        close(descriptor)
        if let (temporary, token) = namedTemporary {
            unlink(temporary)
            PartialOutputs.unregister(token)
        }
    }
}
