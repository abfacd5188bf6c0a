import Foundation

/// How many singular triplets to keep for one module.
public enum RankChoice: Sendable, Equatable, CustomStringConvertible {
    /// Exactly this rank (capped by the matrix's smaller dimension).
    case fixed(Int)
    /// The smallest rank whose factors keep at least this fraction of ‖ΔW‖²_F (the exact norm).
    case energy(Double)

    public var description: String {
        switch self {
        case .fixed(let r): return "rank \(r)"
        case .energy(let f): return "energy \(f)"
        }
    }

    /// Parses `16` (a rank) or `0.9` / `90%` (an energy fraction).
    public static func parse(_ text: String) -> RankChoice? {
        if let r = Int(text), r >= 1 { return .fixed(r) }
        let trimmed = text.hasSuffix("%") ? String(text.dropLast()) : text
        guard let value = Double(trimmed) else { return nil }
        let fraction = text.hasSuffix("%") ? value / 100 : value
        return fraction > 0 && fraction <= 1 ? .energy(fraction) : nil
    }
}

/// The rank rule of a whole extraction: a default choice, a cap, and per-module overrides
/// (the first regular expression that matches the module name wins).
public struct RankPolicy: @unchecked Sendable {
    public var defaultChoice: RankChoice
    public var maxRank: Int?
    public var overrides: [(pattern: NSRegularExpression, choice: RankChoice)]

    public init(defaultChoice: RankChoice, maxRank: Int? = nil, overrides: [(pattern: NSRegularExpression, choice: RankChoice)] = []) {
        self.defaultChoice = defaultChoice
        self.maxRank = maxRank
        self.overrides = overrides
    }

    public func choice(for module: String) -> RankChoice {
        let range = NSRange(module.startIndex..., in: module)
        for (pattern, choice) in overrides where pattern.firstMatch(in: module, range: range) != nil { return choice }
        return defaultChoice
    }
}
