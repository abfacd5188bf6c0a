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

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A `.safetensors` file, memory-mapped and validated when opened.
///
/// The format: an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name
/// to `{"dtype", "shape", "data_offsets": [begin, end]}` (plus an optional `__metadata__` of
/// strings), then the data section. Opening checks everything the Python package checks: the
/// header fits the file and parses, every dtype is known, every byte span matches dtype × shape,
/// and the spans tile the data section exactly (in order, no gap, no overlap). A bad file throws a
/// `SafeTensorsError` naming the file and the fault; it never crashes.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    public let metadata: [String: String]
    /// Tensors in the order of their data.
    public let tensors: [TensorInfo]
    private let byName: [String: TensorInfo]
    private let mapping: UnsafeRawPointer?
    /// Kept open for `pread`, which copies a whole tensor faster than faulting in its mapped pages.
    private let descriptor: Int32
    private let mappedLength: Int
    private let dataStart: Int

    /// Largest header accepted, as in the Python package (100 MB).
    static let maximumHeaderLength = 100_000_000

    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw SafeTensorsError(path: path, "cannot open: \(String(cString: strerror(errno)))") }
        var keepOpen = false
        defer { if !keepOpen { close(descriptor) } }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw SafeTensorsError(path: path, "cannot stat: \(String(cString: strerror(errno)))") }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw SafeTensorsError(path: path, "not a regular file") }
        let length = Int(status.st_size)
        guard length >= 8 else { throw SafeTensorsError(path: path, "file is \(length) bytes, shorter than the 8-byte header length") }
        guard let base = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), base != MAP_FAILED else {
            throw SafeTensorsError(path: path, "cannot memory-map: \(String(cString: strerror(errno)))")
        }
        let mapping = UnsafeRawPointer(base)
        do {
            let headerLength = UInt64(littleEndian: mapping.loadUnaligned(as: UInt64.self))
            guard headerLength <= UInt64(Self.maximumHeaderLength) else {
                throw SafeTensorsError(path: path, "header length \(headerLength) exceeds the 100 MB limit")
            }
            guard headerLength <= UInt64(length - 8) else {
                throw SafeTensorsError(path: path, "header length \(headerLength) runs past the end of the file (\(length) bytes): truncated or not a safetensors file")
            }
            let headerBytes = Data(bytes: mapping + 8, count: Int(headerLength))
            let parsed = try Self.parseHeader(headerBytes, dataLength: length - 8 - Int(headerLength), path: path)
            self.metadata = parsed.metadata
            self.tensors = parsed.tensors
            self.byName = Dictionary(uniqueKeysWithValues: parsed.tensors.map { ($0.name, $0) })
            self.mapping = mapping
            self.mappedLength = length
            self.dataStart = 8 + Int(headerLength)
            self.descriptor = descriptor
            keepOpen = true
        } catch {
            munmap(base, length)
            throw error
        }
    }

    deinit {
        if let mapping { munmap(UnsafeMutableRawPointer(mutating: mapping), mappedLength) }
        close(descriptor)
    }

    public func info(_ name: String) -> TensorInfo? { byName[name] }

    /// The raw little-endian bytes of tensor `name` (valid while this file is alive).
    public func bytes(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let info = byName[name] else { throw SafeTensorsError(path: path, "no tensor named '\(name)'") }
        return UnsafeRawBufferPointer(start: mapping! + dataStart + info.dataOffsets.lowerBound, count: info.dataOffsets.count)
    }

    /// Tensor `name` converted to Float (exact from F16 and BF16; F64 rounds).
    public func floats(_ name: String) throws -> [Float] {
        try convert(name) { $0 } fromDouble: { Float($0) }
    }

    /// Elements `range` of tensor `name` (flattened), converted to Float, written to `out`.
    /// Lets a caller stream a large tensor through a small reused buffer.
    public func readFloats(_ name: String, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard let info = byName[name] else { throw SafeTensorsError(path: path, "no tensor named '\(name)'") }
        guard range.lowerBound >= 0, range.upperBound <= info.elementCount, out.count >= range.count else {
            throw SafeTensorsError(path: path, "tensor '\(name)': elements \(range) out of its \(info.elementCount)")
        }
        let raw = try bytes(name)
        switch info.dtype {
        case .f32:
            if UInt32(1).littleEndian == 1 {
                var done = 0
                let bytes = 4 * range.count, offset = dataStart + info.dataOffsets.lowerBound + 4 * range.lowerBound
                while done < bytes {
                    let got = pread(descriptor, UnsafeMutableRawPointer(out.baseAddress!) + done, bytes - done, off_t(offset + done))
                    if got <= 0 { break }
                    done += got
                }
                if done == bytes { return }
            }
            for (k, i) in range.enumerated() { out[k] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            for (k, i) in range.enumerated() { out[k] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
        case .bf16:
            for (k, i) in range.enumerated() { out[k] = BFloat16.toFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .f64:
            for (k, i) in range.enumerated() { out[k] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
        default:
            throw SafeTensorsError(path: path, "tensor '\(name)' has dtype \(info.dtype.rawValue), not a floating-point type")
        }
    }

    /// Tensor `name` converted to Double (exact from every floating-point dtype).
    public func doubles(_ name: String) throws -> [Double] {
        try convert(name) { Double($0) } fromDouble: { $0 }
    }

    private func convert<T>(_ name: String, fromFloat: (Float) -> T, fromDouble: (Double) -> T) throws -> [T] {
        let raw = try bytes(name)
        let info = byName[name]!
        let count = info.elementCount
        switch info.dtype {
        case .f32:
            if T.self == Float.self, UInt32(1).littleEndian == 1 {
                // Little-endian host: the bytes are the values. One pread copies them from the
                // page cache (measured: 47 MB in ~10 ms, against 62–69 ms copying through the
                // mapping, which faults its pages in one by one).
                var failed = false
                let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    var done = 0
                    let bytes = 4 * count, offset = dataStart + info.dataOffsets.lowerBound
                    while done < bytes {
                        let got = pread(descriptor, UnsafeMutableRawPointer(buffer.baseAddress!) + done, bytes - done, off_t(offset + done))
                        if got <= 0 { failed = true; break }
                        done += got
                    }
                    initialized = failed ? 0 : count
                }
                if !failed { return values as! [T] }
            }
            return (0..<count).map { fromFloat(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))) }
        case .f16: return (0..<count).map { fromFloat(Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))))) }
        case .bf16: return (0..<count).map { fromFloat(BFloat16.toFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
        case .f64: return (0..<count).map { fromDouble(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
        default: throw SafeTensorsError(path: path, "tensor '\(name)' has dtype \(info.dtype.rawValue), not a floating-point type")
        }
    }

    /// Parses and validates a header. `dataLength` is the size of the data section.
    static func parseHeader(_ header: Data, dataLength: Int, path: String) throws -> (metadata: [String: String], tensors: [TensorInfo]) {
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: header) } catch {
            throw SafeTensorsError(path: path, "header is not valid JSON (\(error.localizedDescription))")
        }
        guard let object = json as? [String: Any] else { throw SafeTensorsError(path: path, "header is not a JSON object") }
        var metadata: [String: String] = [:]
        var tensors: [TensorInfo] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let entries = value as? [String: Any] else { throw SafeTensorsError(path: path, "__metadata__ is not an object") }
                for (key, entry) in entries {
                    guard let text = entry as? String else { throw SafeTensorsError(path: path, "__metadata__ entry '\(key)' is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let fields = value as? [String: Any] else { throw SafeTensorsError(path: path, "tensor '\(name)': entry is not an object") }
            guard let dtypeName = fields["dtype"] as? String else { throw SafeTensorsError(path: path, "tensor '\(name)': missing dtype") }
            guard let dtype = DType(rawValue: dtypeName) else { throw SafeTensorsError(path: path, "tensor '\(name)': unknown dtype '\(dtypeName)'") }
            guard let shapeValues = fields["shape"] as? [Any], let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError(path: path, "tensor '\(name)': shape is not a list of non-negative integers")
            }
            guard let offsetValues = fields["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2 else {
                throw SafeTensorsError(path: path, "tensor '\(name)': data_offsets is not a pair of integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end else { throw SafeTensorsError(path: path, "tensor '\(name)': data_offsets [\(begin), \(end)] are not an ordered pair of non-negative offsets") }
            guard end <= dataLength else {
                throw SafeTensorsError(path: path, "tensor '\(name)': data_offsets [\(begin), \(end)] run past the end of the data (\(dataLength) bytes): truncated file?")
            }
            let (elements, overflow) = shape.reduce((1, false)) { partial, dim in
                let (product, o) = partial.0.multipliedReportingOverflow(by: dim)
                return (product, partial.1 || o)
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
        return (metadata, tensors)
    }

    /// JSON numbers that are all integers, as Ints.
    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            guard let number = value as? NSNumber else { return nil }
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 9e15 else { return nil }
            result.append(number.intValue)
        }
        return result
    }
}
