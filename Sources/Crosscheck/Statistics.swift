import Foundation

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
    /// The samples themselves, in the order they were taken (kept for `compare`'s tests).
    public let samples: [Double]

    /// Summarizes `samples`, which must not be empty. O(n log n).
    public init(_ samples: [Double]) {
        precondition(!samples.isEmpty, "SampleSummary needs at least one sample")
        self.samples = samples
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

/// Two-sample tests and intervals for comparing timing runs.
public enum SampleComparison {
    /// The two-sided p-value of the Mann–Whitney U test that `a` and `b` come from the same
    /// distribution (google/benchmark's compare.py uses this test). Exact, from the distribution of
    /// U by counting, when there are no ties and n₁·n₂ ≤ 2500; otherwise the normal approximation
    /// with tie and continuity corrections. O(n₁·n₂·(n₁+n₂)) for the exact path.
    public static func mannWhitneyP(_ a: [Double], _ b: [Double]) -> Double {
        let n1 = a.count, n2 = b.count
        guard n1 > 0, n2 > 0 else { return 1 }
        // Ranks of the pooled sample, ties given their mean rank.
        let pooled = (a.map { ($0, 0) } + b.map { ($0, 1) }).sorted { $0.0 < $1.0 }
        var ranks = [Double](repeating: 0, count: pooled.count)
        var tieTerm = 0.0, hasTies = false
        var i = 0
        while i < pooled.count {
            var j = i
            while j + 1 < pooled.count && pooled[j + 1].0 == pooled[i].0 { j += 1 }
            let mean = Double(i + j) / 2 + 1
            for k in i...j { ranks[k] = mean }
            let t = Double(j - i + 1)
            if t > 1 { hasTies = true; tieTerm += t * t * t - t }
            i = j + 1
        }
        let rankSumA = zip(pooled, ranks).filter { $0.0.1 == 0 }.reduce(0.0) { $0 + $1.1 }
        let u = rankSumA - Double(n1 * (n1 + 1)) / 2
        let uSmall = min(u, Double(n1 * n2) - u)
        if !hasTies && n1 * n2 <= 2500 {
            // counts[k] = arrangements with U = k, by the recurrence on the largest element.
            let distribution = exactUDistribution(n1, n2)
            let total = distribution.reduce(0, +)
            let tail = distribution[0...Int(uSmall.rounded(.down))].reduce(0, +)
            return min(1, 2 * tail / total)
        }
        let n = Double(n1 + n2)
        let mean = Double(n1 * n2) / 2
        let variance = Double(n1 * n2) / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else { return 1 }
        let z = (abs(u - mean) - 0.5) / variance.squareRoot()
        return min(1, erfc(max(z, 0) / 2.0.squareRoot()))
    }

    /// Counts of the arrangements of n₁ and n₂ distinct values by U, as Doubles (they reach
    /// C(n₁+n₂, n₁)).
    static func exactUDistribution(_ n1: Int, _ n2: Int) -> [Double] {
        // f(i, j) over u: f(i, j, u) = f(i−1, j, u − j) + f(i, j−1, u).
        var table = [[Double]](repeating: [1], count: n2 + 1)   // i = 0: only U = 0
        for i in 1...n1 {
            var row = [[Double]](repeating: [], count: n2 + 1)
            row[0] = [1]
            for j in 1...max(n2, 1) where j <= n2 {
                var counts = [Double](repeating: 0, count: i * j + 1)
                for (u, c) in table[j].enumerated() where u + j < counts.count { counts[u + j] += c }
                for (u, c) in row[j - 1].enumerated() { counts[u] += c }
                row[j] = counts
            }
            table = row
        }
        return table[n2]
    }

    /// The smallest two-sided p-value the U test can give with these sample sizes (no ties):
    /// 2 / C(n₁+n₂, n₁). With 3 samples a side it is 0.1, so no difference can be significant
    /// at 0.05.
    public static func smallestMannWhitneyP(_ n1: Int, _ n2: Int) -> Double {
        var combinations = 1.0
        for k in 0..<min(n1, n2) { combinations = combinations * Double(n1 + n2 - k) / Double(k + 1) }
        return min(1, 2 / combinations)
    }

    /// A percentile-bootstrap confidence interval for median(new) / median(base), from `resamples`
    /// seeded resamples of each. O(resamples · n log n).
    public static func medianRatioInterval(
        base: [Double], new: [Double], confidence: Double = 0.95, resamples: Int = 2000, seed: UInt64 = 0xB007
    ) -> (low: Double, high: Double)? {
        guard !base.isEmpty, !new.isEmpty else { return nil }
        var generator = SeededGenerator(seed: seed)
        func resampledMedian(_ values: [Double]) -> Double {
            let drawn = (0..<values.count).map { _ in values[Int(generator.next() % UInt64(values.count))] }.sorted()
            return SampleSummary.quantile(drawn, 0.5)
        }
        var ratios: [Double] = []
        ratios.reserveCapacity(resamples)
        for _ in 0..<resamples {
            let b = resampledMedian(base)
            if b > 0 { ratios.append(resampledMedian(new) / b) }
        }
        guard !ratios.isEmpty else { return nil }
        ratios.sort()
        let tail = (1 - confidence) / 2
        return (SampleSummary.quantile(ratios, tail), SampleSummary.quantile(ratios, 1 - tail))
    }
}
