import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where one tensor's bytes are in a safetensors file, and what they are.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range within the data section (after the header).
    public let dataOffsets: Range<Int>

    /// The product of the shape (checked against overflow when the header was parsed).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A `.safetensors` file, validated when opened, its tensors read on demand.
///
/// The format: an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name
/// to `{"dtype", "shape", "data_offsets": [begin, end]}` (plus an optional `__metadata__` of
/// strings), then the data section. Opening checks everything the Python package checks, and
/// more: the header fits the file and is strict JSON without duplicate keys, every dtype is
/// known, shapes and offsets are integers, every byte span matches dtype × shape, and the spans
/// tile the data section exactly (in order, no gap, no overlap). A bad file throws a
/// `SafeTensorsError` naming the file and the fault; it never crashes.
///
/// Tensors are read with `pread` into the caller's memory (never through a mapping), so that a
/// process streaming through a large model holds only what it has read: resident memory is what
/// the caller allocates, not the pages of the files it has looked at.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    public let metadata: [String: String]
    /// Tensors in the order of their data.
    public let tensors: [TensorInfo]
    private let byName: [String: TensorInfo]
    private let storage: Storage
    /// Offset of the data section: 8 + header length.
    private let dataStart: Int

    private enum Storage {
        /// An open descriptor, closed with the file.
        case descriptor(Int32)
        /// The whole file in memory (parsed from bytes).
        case memory([UInt8])
    }

    /// Largest header accepted, as in the Python package (100 MB).
    public static let maximumHeaderLength = 100_000_000

    /// Opens and validates the file at `path` (a regular file; a FIFO or device is refused).
    public init(path: String) throws {
        let (descriptor, length) = try FileAccess.openRegularFile(path)
        do {
            var prefix = [UInt8](repeating: 0, count: min(8, length))
            try prefix.withUnsafeMutableBytes { try FileAccess.readFully(descriptor, into: $0, at: 0, path: path) }
            let headerLength = try Self.headerLength(prefix, fileLength: length, path: path)
            var header = [UInt8](repeating: 0, count: headerLength)
            try header.withUnsafeMutableBytes { try FileAccess.readFully(descriptor, into: $0, at: 8, path: path) }
            let parsed = try header.withUnsafeBytes { try Self.parseHeader($0, dataLength: length - 8 - headerLength, path: path) }
            (self.metadata, self.tensors, self.byName) = parsed
            self.path = path
            self.dataStart = 8 + headerLength
            self.storage = .descriptor(descriptor)
        } catch {
            close(descriptor)
            throw error
        }
    }

    /// Parses and validates a whole file held in memory: the entry point the fuzz target drives,
    /// with the same checks as `init(path:)`; `path` only names it in errors.
    public init(bytes: [UInt8], path: String = "<memory>") throws {
        let headerLength = try Self.headerLength(Array(bytes.prefix(8)), fileLength: bytes.count, path: path)
        let parsed = try bytes.withUnsafeBytes {
            try Self.parseHeader(UnsafeRawBufferPointer(rebasing: $0[8..<(8 + headerLength)]), dataLength: bytes.count - 8 - headerLength, path: path)
        }
        (self.metadata, self.tensors, self.byName) = parsed
        self.path = path
        self.dataStart = 8 + headerLength
        self.storage = .memory(bytes)
    }

    deinit {
        if case .descriptor(let descriptor) = storage { close(descriptor) }
    }

    /// The header length from the first 8 bytes, checked against the 100 MB limit and the file.
    static func headerLength(_ prefix: [UInt8], fileLength: Int, path: String) throws -> Int {
        guard prefix.count == 8, fileLength >= 8 else {
            throw SafeTensorsError(path: path, "file is \(fileLength) bytes, shorter than the 8-byte header length")
        }
        let headerLength = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(maximumHeaderLength) else {
            throw SafeTensorsError(path: path, "header length \(headerLength) exceeds the 100 MB limit")
        }
        guard headerLength <= UInt64(fileLength - 8) else {
            throw SafeTensorsError(path: path, "header length \(headerLength) runs past the end of the file (\(fileLength) bytes): truncated or not a safetensors file")
        }
        return Int(headerLength)
    }

    public func info(_ name: String) -> TensorInfo? { byName[name] }

    private func tensor(_ name: String) throws -> TensorInfo {
        guard let info = byName[name] else { throw SafeTensorsError(path: path, "no tensor named '\(name)'") }
        return info
    }

    /// Copies bytes `range` of tensor `name`'s data (offsets within the tensor) into `out`.
    public func readBytes(_ name: String, range: Range<Int>, into out: UnsafeMutableRawBufferPointer) throws {
        let info = try tensor(name)
        guard range.lowerBound >= 0, range.upperBound <= info.dataOffsets.count, out.count >= range.count else {
            throw SafeTensorsError(path: path, "tensor '\(name)': bytes \(range) out of its \(info.dataOffsets.count)")
        }
        let offset = dataStart + info.dataOffsets.lowerBound + range.lowerBound
        switch storage {
        case .descriptor(let descriptor):
            try FileAccess.readFully(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: out[0..<range.count]), at: offset, path: path)
        case .memory(let bytes):
            bytes.withUnsafeBytes { source in
                out.baseAddress?.copyMemory(from: source.baseAddress! + offset, byteCount: range.count)
            }
        }
    }

    /// All of tensor `name`'s bytes, little-endian as stored.
    public func bytes(_ name: String) throws -> [UInt8] {
        let info = try tensor(name)
        var result = [UInt8](repeating: 0, count: info.dataOffsets.count)
        try result.withUnsafeMutableBytes { try readBytes(name, range: 0..<info.dataOffsets.count, into: $0) }
        return result
    }

    /// Elements `range` of tensor `name` (flattened), converted to `T`, written to `out`: lets a
    /// caller stream a large tensor through a small reused buffer. F32 into Float is one read
    /// straight into `out` on a little-endian host; other types go through a 256 KB staging
    /// buffer.
    /// - Throws: `SafeTensorsError` for an unknown name, a range outside the tensor, a dtype that
    ///   is not floating-point, or a failed read.
    public func readValues<T: BinaryFloatingPoint>(_ name: String, range: Range<Int>, into out: UnsafeMutableBufferPointer<T>) throws {
        let info = try tensor(name)
        guard range.lowerBound >= 0, range.upperBound <= info.elementCount, out.count >= range.count else {
            throw SafeTensorsError(path: path, "tensor '\(name)': elements \(range) out of its \(info.elementCount)")
        }
        guard info.dtype.isFloatingPoint else {
            throw SafeTensorsError(path: path, "tensor '\(name)' has dtype \(info.dtype.rawValue), not a floating-point type")
        }
        let size = info.dtype.size
        if info.dtype == .f32, T.self == Float.self, UInt32(1).littleEndian == 1 {
            try readBytes(name, range: (size * range.lowerBound)..<(size * range.upperBound), into: UnsafeMutableRawBufferPointer(out))
            return
        }
        let chunk = (256 << 10) / size
        try withUnsafeTemporaryAllocation(byteCount: chunk * size, alignment: 16) { staging in
            for start in stride(from: range.lowerBound, to: range.upperBound, by: chunk) {
                let count = min(chunk, range.upperBound - start)
                try readBytes(name, range: (size * start)..<(size * (start + count)), into: staging)
                let done = start - range.lowerBound
                try info.dtype.decode(UnsafeRawBufferPointer(staging), into: UnsafeMutableBufferPointer(rebasing: out[done..<(done + count)]))
            }
        }
    }

    /// Elements `range` of tensor `name` as Float (see `readValues`).
    public func readFloats(_ name: String, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws {
        try readValues(name, range: range, into: out)
    }

    /// Tensor `name` converted to Float (exact from F16 and BF16; F64 rounds).
    public func floats(_ name: String) throws -> [Float] { try values(name) }

    /// Tensor `name` converted to Double (exact from every floating-point dtype).
    public func doubles(_ name: String) throws -> [Double] { try values(name) }

    private func values<T: BinaryFloatingPoint>(_ name: String) throws -> [T] {
        let count = try tensor(name).elementCount
        // `Array(unsafeUninitializedCapacity: 0)` stores its count into the one empty-array
        // storage every thread shares: ThreadSanitizer reports that write as a data race.
        if count == 0 { return [] }
        var failure: Error?
        let result = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            do {
                try readValues(name, range: 0..<count, into: buffer)
                initialized = count
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return result
    }

    /// Parses and validates a header. `dataLength` is the size of the data section.
    static func parseHeader(_ header: UnsafeRawBufferPointer, dataLength: Int, path: String) throws
        -> (metadata: [String: String], tensors: [TensorInfo], byName: [String: TensorInfo]) {
        let json: JSONValue
        do { json = try JSONValue.parse(header) } catch let error as JSONParseError {
            throw SafeTensorsError(path: path, error.problem.hasPrefix("duplicate key")
                ? "header has a \(error.problem) at byte \(8 + error.offset): the file is ambiguous"
                : "header is not valid JSON: \(error.problem) at byte \(8 + error.offset)")
        }
        guard let members = json.members else { throw SafeTensorsError(path: path, "header is not a JSON object") }
        var metadata: [String: String] = [:]
        var tensors: [TensorInfo] = []
        for member in members {
            let name = member.key
            if name == "__metadata__" {
                guard let entries = member.value.members else { throw SafeTensorsError(path: path, "__metadata__ is not an object") }
                for entry in entries {
                    guard let text = entry.value.string else { throw SafeTensorsError(path: path, "__metadata__ entry '\(entry.key)' is not a string") }
                    metadata[entry.key] = text
                }
                continue
            }
            let fields = member.value
            guard fields.members != nil else { throw SafeTensorsError(path: path, "tensor '\(name)': entry is not an object") }
            guard let dtypeName = fields["dtype"]?.string else { throw SafeTensorsError(path: path, "tensor '\(name)': missing dtype") }
            guard let dtype = DType(rawValue: dtypeName) else { throw SafeTensorsError(path: path, "tensor '\(name)': unknown dtype '\(dtypeName)'") }
            guard let shapeValues = fields["shape"]?.elements, let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError(path: path, "tensor '\(name)': shape is not a list of non-negative integers")
            }
            guard let offsetValues = fields["data_offsets"]?.elements, let offsets = integers(offsetValues), offsets.count == 2 else {
                throw SafeTensorsError(path: path, "tensor '\(name)': data_offsets is not a pair of integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end else { throw SafeTensorsError(path: path, "tensor '\(name)': data_offsets [\(begin), \(end)] are not an ordered pair of non-negative offsets") }
            guard end <= dataLength else {
                throw SafeTensorsError(path: path, "tensor '\(name)': data_offsets [\(begin), \(end)] run past the end of the data (\(dataLength) bytes): truncated file?")
            }
            var elements = 1, overflow = false
            for dimension in shape {
                let (product, o) = elements.multipliedReportingOverflow(by: dimension)
                elements = product
                overflow = overflow || o
            }
            let (expected, overflow2) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, !overflow2, expected == end - begin else {
                throw SafeTensorsError(path: path, "tensor '\(name)': \(end - begin) bytes for shape \(shape) of \(dtype.rawValue), which needs \(overflow || overflow2 ? "more than the address space" : String(expected))")
            }
            tensors.append(TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end))
        }
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name) }
        var position = 0
        for tensor in tensors {
            if tensor.dataOffsets.lowerBound < position {
                throw SafeTensorsError(path: path, "tensor '\(tensor.name)': data_offsets \(tensor.dataOffsets.lowerBound)..<\(tensor.dataOffsets.upperBound) overlap the previous tensor's bytes")
            }
            if tensor.dataOffsets.lowerBound > position {
                throw SafeTensorsError(path: path, "tensor '\(tensor.name)': a gap of \(tensor.dataOffsets.lowerBound - position) bytes before its data_offsets")
            }
            position = tensor.dataOffsets.upperBound
        }
        if position != dataLength {
            throw SafeTensorsError(path: path, "the data section has \(dataLength) bytes but the tensors cover \(position)")
        }
        // Unique: the parser refused duplicate keys.
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return (metadata, tensors, byName)
    }

    /// JSON integers (no fraction, no exponent, within Int), or nil.
    private static func integers(_ values: [JSONValue]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            guard let integer = value.integer else { return nil }
            result.append(integer)
        }
        return result
    }
}
