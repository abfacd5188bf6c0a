import Foundation

/// How the runner verifies and times variants.
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
    /// Verify every variant but time none (what `swift test` and a dry run want). Rows that pass
    /// get `status = verified`.
    public var verifyOnly = false
    /// Rows whose `kernel/variant` does not match are not run.
    public var variantFilter: (@Sendable (String) -> Bool)? = nil
    /// The machine's measured peak, for `pct_peak`. Without it `pct_peak` is empty.
    public var peak: MachinePeak? = nil
    /// A timed row whose samples' coefficient of variation exceeds this is flagged `noisy`: on a
    /// shared machine its median deserves less trust. 5%: ten samples of a quiet run of this
    /// project's kernels stay below 2%.
    public var noisyCV = 0.05

    public init() {}
}

/// What the runner reports while it works, for progress output.
public enum RunEvent {
    case preparing(Case, index: Int, total: Int)
    case verifying(Case, variant: String, threads: Int)
    case finished(ResultRow)
}

/// Runs cases: for each, prepares its inputs and reference once, verifies every variant against
/// the case's error model, and only then times the variants that passed.
///
/// A variant that fails verification gets `status = .fail` and no timing; the run goes on. An
/// expected failure that fails gets `.xfail`; a verify-only case's rows get `.verified`.
public struct Runner {
    public let options: RunOptions
    public let onEvent: (RunEvent) -> Void

    public init(options: RunOptions, onEvent: @escaping (RunEvent) -> Void = { _ in }) {
        self.options = options
        self.onEvent = onEvent
    }

    /// The variants of `testCase` that the filter selects, by index, each with the thread counts
    /// to run (one entry, 1, for single-threaded variants).
    public func plan(_ testCase: Case) -> [(variant: Int, threads: Int)] {
        var plan: [(Int, Int)] = []
        for (index, variant) in testCase.variants.enumerated() {
            if let filter = options.variantFilter, !filter("\(testCase.kernel)/\(variant.name)") { continue }
            plan += variant.isThreaded ? options.threads.map { (index, $0) } : [(index, 1)]
        }
        return plan
    }

    /// Runs every case in order and returns their rows; `onRow` sees each row as soon as it is
    /// final, so that a caller can stream the report to disk.
    @discardableResult
    public func run(_ cases: [Case], onRow: (ResultRow) -> Void = { _ in }) -> [ResultRow] {
        var rows: [ResultRow] = []
        func emit(_ row: ResultRow) {
            rows.append(row)
            onEvent(.finished(row))
            onRow(row)
        }
        for (index, testCase) in cases.enumerated() {
            let plan = plan(testCase)
            if plan.isEmpty { continue }
            onEvent(.preparing(testCase, index: index, total: cases.count))
            let prepared: ErasedCase
            do {
                prepared = try testCase.prepare()
            } catch {
                for (variant, threads) in plan {
                    var row = makeRow(testCase, variant, threads)
                    (row.status, row.note) = error is Skip ? (.skipped, "\(error)") : (.fail, "preparing the case failed: \(error)")
                    emit(row)
                }
                continue
            }
            var referenceMedian: Double? = nil
            for (variant, threads) in plan {
                var row = runVariant(testCase, prepared, variant, threads)
                if testCase.variants[variant].name == testCase.reference, let median = row.timing?.median {
                    referenceMedian = median
                }
                if let reference = referenceMedian, let median = row.timing?.median, median > 0 {
                    row.speedupVsReference = reference / median
                }
                emit(row)
            }
        }
        return rows
    }

    private func makeRow(_ c: Case, _ variant: Int, _ threads: Int) -> ResultRow {
        ResultRow(
            kernel: c.kernel, variant: c.variants[variant].name, dtype: c.dtype, shape: c.shape,
            sizeN: c.sizeN, complexity: c.variants[variant].complexity, threads: threads,
            status: .fail, verification: nil, timing: nil, iterations: 0, workload: c.variants[variant].workload,
            counters: [:], pctPeak: nil, speedupVsReference: nil, note: "")
    }

    private func runVariant(_ c: Case, _ prepared: ErasedCase, _ index: Int, _ threads: Int) -> ResultRow {
        var row = makeRow(c, index, threads)
        let info = c.variants[index]
        onEvent(.verifying(c, variant: info.name, threads: threads))
        let expectedFailure = info.expectation.failureReason
        do {
            let (verification, report) = try prepared.verify(index, threads)
            row.verification = verification
            row.note = verification.note
            row.counters = report.counters
            if let work = report.workload { row.workload = work }
            if !verification.passed {
                if let expectedFailure {
                    row.status = .xfail
                    row.note = "expected failure (\(expectedFailure)): " + verification.note
                }
                return row
            }
        } catch let skip as Skip {
            row.status = .skipped
            row.note = skip.reason
            return row
        } catch {
            row.note = "\(error)"
            if let expectedFailure {
                row.status = .xfail
                row.note = "expected failure (\(expectedFailure)): \(error)"
            }
            return row
        }
        if c.isVerifyOnly || options.verifyOnly {
            row.status = .verified
            return row
        }
        do {
            let (summary, iterations, report) = try time { calls in try prepared.time(index, threads, calls) }
            row.status = expectedFailure == nil ? .pass : .xpass
            if expectedFailure != nil { row.note = "expected to fail (\(expectedFailure!)) but passed on this input" }
            row.timing = summary
            row.iterations = iterations
            if summary.cv > options.noisyCV { row.flags.append("noisy") }
            if let report {
                row.counters = report.counters
                if let work = report.workload { row.workload = work }
            }
        } catch {
            row.status = .fail
            row.note = "verified, then failed while being timed: \(error)"
            return row
        }
        if let peak = options.peak {
            if row.workload.isMemoryBound, let gbps = row.gbps, let bandwidth = peak.bandwidth(threads: threads) {
                row.pctPeak = 100 * gbps / bandwidth
            } else if let gflops = row.gflops, let flopsPeak = peak.gflops(dtype: c.dtype.rawValue, threads: threads) {
                row.pctPeak = 100 * gflops / flopsPeak
            }
            // Faster than the machine allows: the variant did less work than the case declares (or
            // skipped it), or a fast algorithm counts the flops of the direct one, or the peak on
            // record is stale. Worth a look either way.
            if let pct = row.pctPeak, pct > 100 { row.flags.append("above-peak") }
        }
        return row
    }

    /// Warm-up, calibration of iterations per sample, then samples of nanoseconds per call.
    /// `calls(n)` makes n calls and returns what they reported in sum; the result's report is the
    /// mean per call over every timed call, nil if the calls report nothing.
    func time(_ calls: (Int) throws -> CallReport) throws -> (SampleSummary, Int, CallReport?) {
        // Warm-up (verification has run the variant once already): caches, page faults, lazily
        // created thread pools. Its duration calibrates the iterations per sample.
        let start = monotonicNanoseconds()
        _ = try calls(1)
        let oneCall = Double(max(monotonicNanoseconds() - start, 1))
        let iterations = max(1, Int((options.minSampleTime * 1e9 / oneCall).rounded(.up)))
        var samples: [Double] = []
        samples.reserveCapacity(options.samples)
        var total = CallReport()
        let budgetStart = monotonicNanoseconds()
        for _ in 0..<max(1, options.samples) {
            let t0 = monotonicNanoseconds()
            let report = try calls(iterations)
            let t1 = monotonicNanoseconds()
            total.add(report)
            samples.append(Double(t1 - t0) / Double(iterations))
            let spent = Double(t1 - budgetStart) / 1e9
            if spent > options.maxTimePerVariant && samples.count >= options.minimumSamples { break }
        }
        let reported = total.counters.isEmpty && total.workload == nil ? nil : total.perCall(samples.count * iterations)
        return (SampleSummary(samples), iterations, reported)
    }
}

extension Case {
    /// Prepares the case and verifies every variant — threaded ones once per entry of `threads` —
    /// timing nothing. Rows that pass get `status = verified`. What `swift test` runs for every
    /// family, and what a user's own tests can call on theirs.
    public func verifyAll(threads: [Int] = [1, 2, 3]) -> [ResultRow] {
        var options = RunOptions()
        options.threads = threads
        options.verifyOnly = true
        return Runner(options: options).run([self])
    }
}

extension Family {
    /// The family's cases at `scale` in every element type it has.
    public func cases(at scale: RunScale) throws -> [Case] {
        try cases(CaseRequest(dtypes: elementTypes, scale: scale))
    }
}
