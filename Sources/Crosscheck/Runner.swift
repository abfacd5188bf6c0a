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
            // Verify every variant first, then time the ones that passed sample by sample in turn
            // (`timeInterleaved`), so that a slow drift of the machine reaches all of them alike.
            var caseRows = plan.map { variant, threads in verifyVariant(testCase, prepared, variant, threads) }
            let timed = caseRows.indices.filter { caseRows[$0].status == .pass || caseRows[$0].status == .xpass }
            if !timed.isEmpty {
                let results = timeInterleaved(timed.map { index in
                    { calls in try prepared.time(plan[index].variant, plan[index].threads, calls) }
                })
                for (index, result) in zip(timed, results) { finishTiming(&caseRows[index], dtype: testCase.dtype, result) }
            }
            let referenceMedian = zip(plan, caseRows).first { testCase.variants[$0.0.variant].name == testCase.reference && $0.1.timing != nil }?.1.timing?.median
            for var row in caseRows {
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

    /// Verifies one variant. A row that passes comes back with status `pass` (`xpass` when it
    /// was expected to fail) and no timing yet: `finishTiming` completes it.
    private func verifyVariant(_ c: Case, _ prepared: ErasedCase, _ index: Int, _ threads: Int) -> ResultRow {
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
        row.status = expectedFailure == nil ? .pass : .xpass
        if let expectedFailure { row.note = "expected to fail (\(expectedFailure)) but passed on this input" }
        return row
    }

    /// Completes a verified row with its timing: the summary, flags and `pct_peak`; or `fail`
    /// when a timed call threw.
    private func finishTiming(_ row: inout ResultRow, dtype: ElementType, _ result: Result<Timing, Error>) {
        let timing: Timing
        switch result {
        case let .success(value): timing = value
        case let .failure(error):
            row.status = .fail
            row.note = "verified, then failed while being timed: \(error)"
            return
        }
        row.timing = timing.summary
        row.iterations = timing.iterations
        if timing.summary.cv > options.noisyCV { row.flags.append("noisy") }
        if let report = timing.report {
            row.counters = report.counters
            if let work = report.workload { row.workload = work }
        }
        if let peak = options.peak {
            if row.workload.isMemoryBound, let gbps = row.gbps, let bandwidth = peak.bandwidth(threads: row.threads) {
                row.pctPeak = 100 * gbps / bandwidth
            } else if let gflops = row.gflops, let flopsPeak = peak.gflops(dtype: dtype.rawValue, threads: row.threads) {
                row.pctPeak = 100 * gflops / flopsPeak
            }
            // Faster than the machine allows: the variant did less work than the case declares (or
            // skipped it), or a fast algorithm counts the flops of the direct one, or the peak on
            // record is stale. Worth a look either way.
            if let pct = row.pctPeak, pct > 100 { row.flags.append("above-peak") }
        }
    }

    /// One timed row's samples (ns per call), iterations per sample, and the mean per call of
    /// what its calls reported (nil when they report nothing).
    struct Timing {
        var summary: SampleSummary
        var iterations: Int
        var report: CallReport?
    }

    /// Times several variants of one case, taking their samples in turn — a sample of each, then
    /// the next round — so that a change of the machine's state during the case (another
    /// tenant's load, memory bandwidth taken by a neighbour, a clock change) reaches every
    /// variant alike and their ratio stays honest. Each variant first gets two warm-up calls, the
    /// second of which calibrates its iterations per sample so that a sample lasts at least
    /// `minSampleTime`. Before each sample the process is let go quiet (`waitForQuietProcess`):
    /// a library whose threads spin after a call (OpenBLAS's do, for ~0.1 s) would otherwise
    /// take a core from the variant timed after it. Then (unless one call lasts over 0.1 s) one
    /// untimed call of the variant puts back the state its own previous call left — its library's thread count (BLIS's first
    /// call after a change of count took ~5 ms at 256³, against 0.4 ms), its caches, its
    /// workers awake — so a sample measures back-to-back calls, as a run of that variant alone
    /// would. A variant leaves the rotation once it has spent `maxTimePerVariant` seconds
    /// (samples and their lead-in calls) and has `minimumSamples`, or when a call throws.
    ///
    /// `calls[v](n)` makes n calls of variant v and returns what they reported in sum.
    func timeInterleaved(_ calls: [(Int) throws -> CallReport]) -> [Result<Timing, Error>] {
        var results = [Result<Timing, Error>?](repeating: nil, count: calls.count)
        var iterations = [Int](repeating: 1, count: calls.count)
        /// Whether a variant's samples start with a lead-in call: not when one call lasts over
        /// `longCall` seconds, where a library's re-setup is lost in the call and a lead-in would
        /// double the variant's time.
        var leadIns = [Bool](repeating: true, count: calls.count)
        let longCall = 0.1
        for v in calls.indices {
            // Warm-up (verification has run the variant once already): caches, page faults,
            // lazily created thread pools, the library's thread count; the second call, back to
            // back with the first, calibrates.
            waitForQuietProcess()
            let oneCall: Double
            do {
                _ = try calls[v](1)
                let start = monotonicNanoseconds()
                _ = try calls[v](1)
                oneCall = Double(max(monotonicNanoseconds() - start, 1))
            } catch { results[v] = .failure(error); continue }
            iterations[v] = max(1, Int((options.minSampleTime * 1e9 / oneCall).rounded(.up)))
            leadIns[v] = oneCall <= longCall * 1e9
        }
        var samples = [[Double]](repeating: [], count: calls.count)
        var totals = [CallReport](repeating: CallReport(), count: calls.count)
        var spent = [Double](repeating: 0, count: calls.count)
        var active = calls.indices.filter { results[$0] == nil }
        for _ in 0..<max(1, options.samples) where !active.isEmpty {
            for v in active {
                waitForQuietProcess()
                let leadIn = monotonicNanoseconds()
                let t0: UInt64, t1: UInt64, report: CallReport
                do {
                    if leadIns[v] { _ = try calls[v](1) }
                    t0 = monotonicNanoseconds()
                    report = try calls[v](iterations[v])
                    t1 = monotonicNanoseconds()
                } catch { results[v] = .failure(error); continue }
                totals[v].add(report)
                samples[v].append(Double(t1 - t0) / Double(iterations[v]))
                spent[v] += Double(t1 - leadIn) / 1e9
            }
            active.removeAll { v in
                results[v] != nil || (spent[v] > options.maxTimePerVariant && samples[v].count >= options.minimumSamples)
            }
        }
        return calls.indices.map { v in
            if let failed = results[v] { return failed }
            let total = totals[v]
            let report = total.counters.isEmpty && total.workload == nil ? nil : total.perCall(samples[v].count * iterations[v])
            return .success(Timing(summary: SampleSummary(samples[v]), iterations: iterations[v], report: report))
        }
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
