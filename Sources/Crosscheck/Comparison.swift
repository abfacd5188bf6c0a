/// Two runs compared row by row: verification changes first, then speed, each row with a median
/// ratio, a confidence interval from the raw samples, and a verdict from both a significance
/// test and a threshold (google/benchmark's compare.py does the first; a threshold keeps
/// differences too small to matter from being called changes on a noisy machine).
public struct RunComparison: Sendable {
    public enum Verdict: String, Sendable {
        case improved, regressed, unchanged
        /// Verified in the base, failing now (or xfail turned fail): reported first, exit 1.
        case verificationRegressed = "verification-regressed"
        /// Failing in the base, passing now.
        case verificationFixed = "verification-fixed"
        /// In one run only, or not timed in one of them.
        case added, removed, untimed
    }

    public struct Entry: Sendable {
        public let key: String
        public let base: RecordedRow?
        public let new: RecordedRow?
        /// new median / base median: above 1 is slower.
        public let ratio: Double?
        public let interval: (low: Double, high: Double)?
        public let pValue: Double?
        public let verdict: Verdict
        /// How the verdict was reached: the test and threshold, or why only the threshold.
        public let basis: String
    }

    public let entries: [Entry]
    public let threshold: Double
    public let alpha: Double
    /// Set when some rows had too few samples for the U test to reach `alpha`.
    public let fewSamples: Bool

    /// A row is `regressed` or `improved` only when the U test gives p < alpha, the ratio is
    /// beyond the threshold, and the bootstrap interval excludes 1 — or, with too few samples for
    /// the test, on the threshold alone (said in its basis).
    ///
    /// - Parameters:
    ///   - threshold: the smallest relative change called a change (0.05 for 5%).
    ///   - alpha: the significance level of the two-sided Mann–Whitney U test.
    public init(base: [RecordedRow], new: [RecordedRow], threshold: Double = 0.05, alpha: Double = 0.05) {
        self.threshold = threshold
        self.alpha = alpha
        var fewSamples = false
        let baseByKey = Dictionary(base.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let newKeys = Set(new.map(\.key))
        var entries: [Entry] = []
        for row in new {
            guard let old = baseByKey[row.key] else {
                entries.append(Entry(key: row.key, base: nil, new: row, ratio: nil, interval: nil, pValue: nil, verdict: .added, basis: "not in the base run"))
                continue
            }
            let wasGood = ["pass", "verified", "xpass", "xfail"].contains(old.status)
            let isGood = ["pass", "verified", "xpass", "xfail"].contains(row.status)
            if wasGood && row.status == "fail" {
                entries.append(Entry(key: row.key, base: old, new: row, ratio: nil, interval: nil, pValue: nil,
                                     verdict: .verificationRegressed, basis: "\(old.status) → fail: \(row.note)"))
                continue
            }
            if old.status == "fail" && isGood {
                entries.append(Entry(key: row.key, base: old, new: row, ratio: nil, interval: nil, pValue: nil,
                                     verdict: .verificationFixed, basis: "fail → \(row.status)"))
                continue
            }
            guard let oldMedian = old.median, let newMedian = row.median, oldMedian > 0 else {
                entries.append(Entry(key: row.key, base: old, new: row, ratio: nil, interval: nil, pValue: nil, verdict: .untimed,
                                     basis: "\(old.status) → \(row.status)"))
                continue
            }
            let ratio = newMedian / oldMedian
            let beyond = abs(ratio - 1) > threshold
            var verdict: Verdict = .unchanged
            var p: Double? = nil
            var interval: (Double, Double)? = nil
            let basis: String
            if let a = old.samples, let b = row.samples, !a.isEmpty, !b.isEmpty {
                interval = SampleComparison.medianRatioInterval(base: a, new: b)
                if SampleComparison.smallestMannWhitneyP(a.count, b.count) < alpha {
                    let pValue = SampleComparison.mannWhitneyP(a, b)
                    p = pValue
                    // All three must agree: significance, size, and an interval that excludes 1.
                    let excludesOne = interval.map { $0.0 > 1 || $0.1 < 1 } ?? false
                    if pValue < alpha && beyond && excludesOne { verdict = ratio > 1 ? .regressed : .improved }
                    basis = "U test p=\(Criterion.format(pValue)) \(pValue < alpha ? "<" : "≥") \(alpha), |ratio−1| \(beyond ? ">" : "≤") \(threshold), interval \(excludesOne ? "excludes" : "contains") 1"
                } else {
                    fewSamples = true
                    if beyond { verdict = ratio > 1 ? .regressed : .improved }
                    basis = "\(a.count) and \(b.count) samples cannot reach p < \(alpha); threshold \(threshold) only"
                }
            } else {
                fewSamples = true
                if beyond { verdict = ratio > 1 ? .regressed : .improved }
                basis = "no raw samples (context file missing); threshold \(threshold) only"
            }
            let noisy = [old, row].filter { $0.flags.contains("noisy") }.count
            entries.append(Entry(key: row.key, base: old, new: row, ratio: ratio, interval: interval, pValue: p, verdict: verdict,
                                 basis: basis + (noisy > 0 ? "; \(noisy == 2 ? "both runs" : "one run") flagged this row noisy" : "")))
        }
        for row in base where !newKeys.contains(row.key) {
            entries.append(Entry(key: row.key, base: row, new: nil, ratio: nil, interval: nil, pValue: nil, verdict: .removed, basis: "not in the new run"))
        }
        // Verification changes first, then regressions, improvements, the rest; stable otherwise.
        let order: [Verdict] = [.verificationRegressed, .verificationFixed, .regressed, .improved, .unchanged, .untimed, .added, .removed]
        self.entries = entries.enumerated().sorted {
            let (a, b) = (order.firstIndex(of: $0.element.verdict)!, order.firstIndex(of: $1.element.verdict)!)
            return a != b ? a < b : $0.offset < $1.offset
        }.map(\.element)
        self.fewSamples = fewSamples
    }

    public func count(_ verdict: Verdict) -> Int { entries.filter { $0.verdict == verdict }.count }
}
