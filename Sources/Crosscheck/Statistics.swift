/// Robust summary of a set of timing samples (nanoseconds per kernel call).
///
/// The median and the median absolute deviation (MAD) resist the outliers a shared, noisy
/// machine produces; `cv` (standard deviation ÷ mean) is reported so that a reader can see how
/// noisy the samples were.
public struct SampleSummary: Sendable, Equatable {
    public let count: Int
    public let min: Double
    public let median: Double
    public let p90: Double
    /// Median absolute deviation from the median (unscaled).
    public let mad: Double
    /// Coefficient of variation: standard deviation divided by the mean.
    public let cv: Double

    /// Summarizes `samples`, which must not be empty. O(n log n).
    public init(_ samples: [Double]) {
        precondition(!samples.isEmpty, "SampleSummary needs at least one sample")
        let sorted = samples.sorted()
        count = sorted.count
        min = sorted[0]
        let median = Self.quantile(sorted, 0.5)
        self.median = median
        p90 = Self.quantile(sorted, 0.9)
        let deviations = sorted.map { abs($0 - median) }.sorted()
        mad = Self.quantile(deviations, 0.5)
        let mean = sorted.reduce(0, +) / Double(count)
        let variance = count > 1
            ? sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count - 1) : 0
        cv = mean > 0 ? variance.squareRoot() / mean : 0
    }

    /// Linear-interpolation quantile (NumPy's default, "linear") of sorted data.
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}
