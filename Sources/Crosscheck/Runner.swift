import Foundation

/// How the runner times variants.
public struct RunOptions: Sendable {
    /// Thread counts for threaded variants. Single-threaded variants run once, as `threads = 1`.
    public var threads: [Int] = [1]
    /// Each sample repeats the call until at least this many seconds have passed.
    public var minSampleTime: Double = 0.02
    /// Samples per variant.
    public var samples: Int = 10
    /// Once a variant has spent this many seconds being timed, it stops after at least
    /// `minimumSamples` samples. Keeps a slow reference from dominating a run.
    public var maxTimePerVariant: Double = 3
    public var minimumSamples: Int = 3
    /// Rows whose `kernel/variant` does not match are not run.
    public var variantFilter: (@Sendable (String) -> Bool)? = nil
    /// The machine's measured peak, for `pct_peak`. Without it `pct_peak` is empty.
    public var peak: MachinePeak? = nil

    public init() {}
}

/// What the runner reports while it works, for progress output.
public enum RunEvent {
    case preparing(Case, index: Int, total: Int)
    case verifying(Case, Variant, threads: Int)
    case finished(ResultRow)
}

/// Runs cases: for each, computes the reference once, verifies every variant against it under
/// the case's error model, and only then times the variants that passed.
///
/// A variant that fails verification gets `status = .fail` and no timing; the run goes on.
public struct Runner {
    public let options: RunOptions
    public let onEvent: (RunEvent) -> Void

    public init(options: RunOptions, onEvent: @escaping (RunEvent) -> Void = { _ in }) {
        self.options = options
        self.onEvent = onEvent
    }

    /// The variants of `testCase` that the filter selects, paired with the thread counts to run.
    public func plan(_ testCase: Case) -> [(Variant, Int)] {
        var plan: [(Variant, Int)] = []
        for variant in testCase.variants {
            if let filter = options.variantFilter, !filter("\(testCase.kernel)/\(variant.name)") { continue }
            if variant.isThreaded {
                plan += options.threads.map { (variant, $0) }
            } else {
                plan.append((variant, 1))
            }
        }
        return plan
    }

    /// Runs every case in order and returns their rows. `onRow` is called after each row, so a
    /// caller can keep a report on disk up to date.
    public func run(_ cases: [Case], onRow: ([ResultRow]) -> Void = { _ in }) -> [ResultRow] {
        var rows: [ResultRow] = []
        for (index, testCase) in cases.enumerated() {
            let plan = plan(testCase)
            if plan.isEmpty { continue }
            onEvent(.preparing(testCase, index: index, total: cases.count))
            let prepared: any PreparedCase
            do {
                prepared = try testCase.prepare()
            } catch {
                for (variant, threads) in plan {
                    let row = makeRow(testCase, variant, threads, status: .fail, note: "preparing the case failed: \(error)")
                    rows.append(row)
                    onEvent(.finished(row))
                }
                onRow(rows)
                continue
            }
            var referenceMedian: Double? = nil
            for (variant, threads) in plan {
                var row = runVariant(testCase, prepared, variant, threads)
                if variant == testCase.reference, let median = row.timing?.median {
                    referenceMedian = median
                }
                if let reference = referenceMedian, let median = row.timing?.median, median > 0 {
                    row.speedupVsReference = reference / median
                }
                rows.append(row)
                onEvent(.finished(row))
                onRow(rows)
            }
        }
        return rows
    }

    private func makeRow(_ c: Case, _ v: Variant, _ threads: Int, status: Status, note: String = "") -> ResultRow {
        ResultRow(
            kernel: c.kernel, variant: v.name, dtype: c.dtype, shape: c.shape, threads: threads,
            status: status, verification: nil, timing: nil, iterations: 0, workload: c.workload(of: v),
            pctPeak: nil, speedupVsReference: nil, note: note)
    }

    private func runVariant(_ c: Case, _ prepared: any PreparedCase, _ variant: Variant, _ threads: Int) -> ResultRow {
        var row = makeRow(c, variant, threads, status: .fail)
        onEvent(.verifying(c, variant, threads: threads))
        do {
            let verification = try prepared.verify(variant, threads: threads)
            row.verification = verification
            row.note = verification.note
            guard verification.passed else { return row }
        } catch {
            row.note = "\(error)"
            return row
        }
        let timing: (SampleSummary, Int)
        do {
            timing = try time { try prepared.run(variant, threads: threads) }
        } catch {
            row.note = "verified, then failed while being timed: \(error)"
            return row
        }
        let (summary, iterations) = timing
        row.status = .pass
        row.timing = summary
        row.iterations = iterations
        if let peak = options.peak {
            if row.workload.isMemoryBound, let gbps = row.gbps, let bandwidth = peak.bandwidth(threads: threads) {
                row.pctPeak = 100 * gbps / bandwidth
            } else if let gflops = row.gflops, let flopsPeak = peak.gflops(dtype: c.dtype, threads: threads) {
                row.pctPeak = 100 * gflops / flopsPeak
            }
        }
        return row
    }

    /// Warm-up, calibration of iterations per sample, then samples of nanoseconds per call.
    func time(_ body: () throws -> Void) throws -> (SampleSummary, Int) {
        // Warm-up (verification has run the variant once already): caches, page faults, lazily
        // created thread pools. Its duration calibrates the iterations per sample.
        let start = monotonicNanoseconds()
        try body()
        let oneCall = Double(max(monotonicNanoseconds() - start, 1))
        let iterations = max(1, Int((options.minSampleTime * 1e9 / oneCall).rounded(.up)))
        var samples: [Double] = []
        samples.reserveCapacity(options.samples)
        let budgetStart = monotonicNanoseconds()
        for _ in 0..<max(1, options.samples) {
            let t0 = monotonicNanoseconds()
            for _ in 0..<iterations { try body() }
            let t1 = monotonicNanoseconds()
            samples.append(Double(t1 - t0) / Double(iterations))
            let spent = Double(t1 - budgetStart) / 1e9
            if spent > options.maxTimePerVariant && samples.count >= options.minimumSamples { break }
        }
        return (SampleSummary(samples), iterations)
    }
}
