import Foundation

/// How a kernel's cost grows with its size parameter n, as google/benchmark's complexity reports
/// name the classes. A family declares each variant's class (`Variant(complexity:)`) and each
/// case's n (`Case(sizeN:)`); the runner fits every variant measured at three or more sizes.
public enum Complexity: String, CaseIterable, Sendable, Codable {
    case constant = "O(1)"
    case logarithmic = "O(log n)"
    case linear = "O(n)"
    case nLogN = "O(n log n)"
    case quadratic = "O(n^2)"
    case quadraticLogN = "O(n^2 log n)"
    case cubic = "O(n^3)"

    /// The class's growth function at n (n ≥ 1).
    public func growth(_ n: Double) -> Double {
        switch self {
        case .constant: return 1
        case .logarithmic: return log2(max(n, 2))
        case .linear: return n
        case .nLogN: return n * log2(max(n, 2))
        case .quadratic: return n * n
        case .quadraticLogN: return n * n * log2(max(n, 2))
        case .cubic: return n * n * n
        }
    }
}

/// The least-squares fit of measured times to one complexity class, t(n) ≈ c·f(n).
public struct ComplexityFit: Sendable, Equatable {
    public let complexity: Complexity
    /// The coefficient c, in nanoseconds per unit of f(n).
    public let coefficient: Double
    /// The root-mean-square residual relative to the mean time: google/benchmark's "RMS" figure.
    public let relativeRMS: Double

    /// The best class for `points` (n, time) by relative RMS, and every class's fit, best first.
    /// Needs points at three or more distinct sizes; O(points · classes).
    ///
    /// Times are weighted by 1/t² (a relative least-squares fit), so that the small sizes, whose
    /// times are orders of magnitude below the largest, still decide between classes instead of
    /// only the largest size counting.
    public static func fits(_ points: [(n: Double, time: Double)]) -> [ComplexityFit]? {
        let usable = points.filter { $0.n >= 1 && $0.time > 0 && $0.time.isFinite }
        guard Set(usable.map(\.n)).count >= 3 else { return nil }
        return Complexity.allCases.map { complexity in
            // minimise Σ ((t − c·f)/t)² ⇒ c = Σ (f/t) / Σ (f/t)².
            let ratios = usable.map { complexity.growth($0.n) / $0.time }
            let coefficient = ratios.reduce(0, +) / ratios.reduce(0) { $0 + $1 * $1 }
            let squared = zip(usable, ratios).reduce(0.0) { sum, pair in
                let residual = 1 - coefficient * pair.1
                return sum + residual * residual
            }
            return ComplexityFit(complexity: complexity, coefficient: coefficient, relativeRMS: (squared / Double(usable.count)).squareRoot())
        }.sorted { $0.relativeRMS < $1.relativeRMS }
    }
}

/// One variant's measured scaling: its rows at several sizes fitted to every class.
public struct ScalingReport: Sendable {
    public let kernel: String, variant: String, dtype: String, threads: Int
    public let sizes: Int
    public let best: ComplexityFit
    public let declared: Complexity?
    /// The declared class's fit, when there is one.
    public let declaredFit: ComplexityFit?

    /// Whether the best fit is not the declared class (a variant that scales worse, or better,
    /// than its family says).
    public var disagrees: Bool { declared != nil && declared != best.complexity }

    /// Every variant (with thread count) timed at three or more sizes, fitted; rows that were not
    /// timed or have no size parameter are left out.
    public static func analyze(_ rows: [RecordedRow]) -> [ScalingReport] {
        var groups: [String: [RecordedRow]] = [:]
        var order: [String] = []
        for row in rows where row.median != nil && row.sizeN != nil && ["pass", "xpass"].contains(row.status) {
            let key = "\(row.kernel)/\(row.variant)/\(row.dtype)/\(row.threads)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(row)
        }
        return order.compactMap { key in
            let group = groups[key]!
            guard let fits = ComplexityFit.fits(group.map { ($0.sizeN!, $0.median!) }) else { return nil }
            let first = group[0]
            return ScalingReport(
                kernel: first.kernel, variant: first.variant, dtype: first.dtype, threads: first.threads,
                sizes: Set(group.map { $0.sizeN! }).count, best: fits[0], declared: first.complexity,
                declaredFit: fits.first { $0.complexity == first.complexity })
        }
    }
}
