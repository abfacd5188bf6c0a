/// The element types of the safetensors format, with their sizes in bytes.
public enum DType: String, CaseIterable, Sendable, Codable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case i64 = "I64", u64 = "U64", f64 = "F64"

    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .i64, .u64, .f64: return 8
        }
    }

    /// Whether `SafeTensorsFile.floats`/`doubles` can convert this type.
    public var isFloatingPoint: Bool { self == .f16 || self == .bf16 || self == .f32 || self == .f64 }
}

/// bfloat16 ↔ Float: bfloat16 is the upper half of a Float's bits.
enum BFloat16 {
    @inline(__always)
    static func toFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// Rounds to nearest, ties to even; NaN stays a quiet NaN.
    @inline(__always)
    static func fromFloat(_ value: Float) -> UInt16 {
        if value.isNaN { return 0x7FC0 }
        let bits = value.bitPattern
        let rounding = ((bits >> 16) & 1) &+ 0x7FFF
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }
}

extension DType {
    /// Converts the little-endian values of this dtype in `raw` (`out.count` of them) to `T`:
    /// exact from F16 and BF16 (and from F32 to a wider T); from F64 to Float rounds to nearest.
    ///
    /// - Complexity: O(out.count).
    /// - Throws: `DTypeError.notFloatingPoint` for integer and 8-bit float types.
    @inlinable
    public func decode<T: BinaryFloatingPoint>(_ raw: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<T>) throws {
        if raw.count < out.count * size { fatalError("DType.decode: \(raw.count) bytes for \(out.count) values of \(rawValue)") }
        switch self {
        case .f32:
            for i in out.indices { out[i] = T(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))) }
        case .f16:
            for i in out.indices { out[i] = T(Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))) }
        case .bf16:
            for i in out.indices { out[i] = T(Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)) }
        case .f64:
            for i in out.indices { out[i] = T(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
        default:
            throw DTypeError.notFloatingPoint(self)
        }
    }
}

/// A dtype that a conversion does not handle.
public enum DTypeError: Error, CustomStringConvertible, Equatable {
    case notFloatingPoint(DType)

    public var description: String {
        switch self {
        case .notFloatingPoint(let dtype): return "dtype \(dtype.rawValue) is not a floating-point type (F16, BF16, F32 or F64)"
        }
    }
}
