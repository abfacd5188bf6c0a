/// The element type a case computes in, as the `dtype` column spells it.
///
/// Each family declares the types it has; `--dtype` is intersected with that list, so that an
/// integer family and a floating-point family can run in one invocation.
public enum ElementType: String, CaseIterable, Sendable, Codable, Comparable {
    case f16, bf16, f32, f64, i32, i64
    /// For families with no element type (a table of receptive fields, say).
    case none

    /// The unit roundoff u = ε/2 of a floating-point type; nil for integers and `none`.
    public var unitRoundoff: Double? {
        switch self {
        case .f16: return 0x1p-11
        case .bf16: return 0x1p-8
        case .f32: return 0x1p-24
        case .f64: return 0x1p-53
        case .i32, .i64, .none: return nil
        }
    }

    /// The element type of a Swift type, for families that are generic over it.
    public static func of<T>(_: T.Type) -> ElementType {
        switch T.self {
        case is Float.Type: return .f32
        case is Double.Type: return .f64
        case is Int32.Type: return .i32
        case is Int64.Type, is Int.Type: return .i64
        #if arch(arm64) || arch(x86_64)
        case is Float16.Type: return .f16
        #endif
        default: fatalError("ElementType.of: no element type for \(T.self)")
        }
    }

    public static func < (a: ElementType, b: ElementType) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
