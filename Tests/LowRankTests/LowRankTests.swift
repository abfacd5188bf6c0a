import Foundation
import Kernels
import SafeTensors
import Testing
@testable import LowRank

/// A delta that is a known rank-`rank` matrix plus small noise, and its exact singular values.
struct KnownDelta {
    let m: Int, n: Int
    let values: [Float]

    init(m: Int, n: Int, rank: Int, noise: Float, seed: UInt64) {
        self.m = m
        self.n = n
        var state = seed
        func gaussian() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u1 = (Double(state >> 11) + 0.5) * 0x1p-53
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u2 = Double(state >> 11) * 0x1p-53
            return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
        }
        let left = (0..<(m * rank)).map { _ in gaussian() }, right = (0..<(rank * n)).map { _ in gaussian() }
        var product = [Float](repeating: 0, count: m * n)
        left.withUnsafeBufferPointer { l in
            right.withUnsafeBufferPointer { r in
                gemm(m: m, n: n, k: rank, alpha: 1, a: MatrixOperand(l.baseAddress!, ld: rank), b: MatrixOperand(r.baseAddress!, ld: n),
                     beta: 0, c: &product, ldc: n)
            }
        }
        values = product.map { $0 + noise * gaussian() }
    }
}

@Suite("Delta compression")
struct DeltaCompressionTests {
    @Test(arguments: [SVDMethod.exact, .randomized, .auto])
    func lowRankPlusNoiseReachesTheOptimum(method: SVDMethod) throws {
        let delta = KnownDelta(m: 120, n: 90, rank: 6, noise: 0.01, seed: 3)
        let exact = try compressDelta(delta.values, m: 120, n: 90, choice: .fixed(6), maxRank: nil, method: .exact, threads: 2)
        let optimal = try #require(exact.optimalRelativeError)
        #expect(abs(exact.relativeError(against: delta.values) - optimal) <= 1e-4 * max(optimal, 1e-3))
        let factors = try compressDelta(delta.values, m: 120, n: 90, choice: .fixed(6), maxRank: nil, method: method, threads: 2)
        #expect(factors.rank == 6)
        let error = factors.relativeError(against: delta.values)
        #expect(error <= 1.01 * optimal, "\(method): \(error) vs optimal \(optimal)")
        #expect(error < 0.05)  // the noise is ~1% of the signal
    }

    /// `auto` takes the randomized route on a large delta when its certificate bounds the
    /// Eckart–Young ratio by 1.02 (a rank-2 signal over Gaussian noise: the bound is about
    /// √(1 + 1.21·r·(1/√m + 1/√n)²) = 1.009), and reaches the optimum; where it cannot (rank 20
    /// in the noise floor of a 600 × 520 matrix, bound ≈ 1.10) it falls back to exact.
    @Test func autoUsesRandomizedOnlyWhenCertified() throws {
        let gap = KnownDelta(m: 600, n: 520, rank: 2, noise: 0.001, seed: 21)
        let fast = try compressDelta(gap.values, m: 600, n: 520, choice: .fixed(2), maxRank: nil, method: .auto, threads: 2)
        #expect(fast.method == .randomized && fast.note.contains("certified"), "\(fast.note)")
        let exact = try compressDelta(gap.values, m: 600, n: 520, choice: .fixed(2), maxRank: nil, method: .exact, threads: 2)
        #expect(fast.relativeError(against: gap.values) <= 1.01 * exact.optimalRelativeError!)
        let noise = KnownDelta(m: 600, n: 520, rank: 1, noise: 1, seed: 22)
        let flat = try compressDelta(noise.values, m: 600, n: 520, choice: .fixed(20), maxRank: nil, method: .auto, threads: 2)
        #expect(flat.method == .exact)
        // Asked for explicitly, randomized is used anyway, without a certificate.
        let forced = try compressDelta(noise.values, m: 600, n: 520, choice: .fixed(20), maxRank: nil, method: .randomized, threads: 2)
        #expect(forced.method == .randomized && forced.note.contains("not certified"))
    }

    /// An energy choice on the randomized route grows its sketch until it holds the energy.
    @Test func randomizedEnergyGrowsItsSketch() throws {
        let delta = KnownDelta(m: 700, n: 600, rank: 48, noise: 0.0001, seed: 23)
        let f = try compressDelta(delta.values, m: 700, n: 600, choice: .energy(0.999), maxRank: nil, method: .randomized, threads: 2)
        #expect(f.retainedEnergy >= 0.999 && f.rank > 32 && f.rank <= 48, "rank \(f.rank), energy \(f.retainedEnergy)")
    }

    @Test func energyPicksTheSmallestSufficientRank() throws {
        let delta = KnownDelta(m: 80, n: 60, rank: 5, noise: 0.001, seed: 5)
        let f = try compressDelta(delta.values, m: 80, n: 60, choice: .energy(0.999), maxRank: nil, method: .exact, threads: 1)
        #expect(f.rank <= 5 && f.rank >= 3)
        #expect(f.retainedEnergy >= 0.999)
        let capped = try compressDelta(delta.values, m: 80, n: 60, choice: .energy(0.999), maxRank: 2, method: .exact, threads: 1)
        #expect(capped.rank == 2)
    }

    @Test func rankLargerThanTheMatrixIsAnError() {
        #expect(throws: CompressionError.self) {
            try compressDelta([Float](repeating: 1, count: 12), m: 3, n: 4, choice: .fixed(4), maxRank: nil, method: .exact, threads: 1)
        }
    }

    @Test func nonFiniteDeltaIsAnError() {
        var values = [Float](repeating: 1, count: 12)
        values[3] = .infinity
        #expect(throws: CompressionError.self) {
            try compressDelta(values, m: 3, n: 4, choice: .fixed(1), maxRank: nil, method: .exact, threads: 1)
        }
    }

    @Test(arguments: [0, 1, 15, 16, 17, 1000])
    func sumOfSquaresMatchesTheScalarSum(count: Int) {
        let values = KnownDelta(m: 1, n: count, rank: 1, noise: 1, seed: UInt64(count)).values
        let scalar = values.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(sumOfSquares(values) - scalar) <= 1e-12 * scalar)
    }

    @Test func rankChoiceParses() {
        #expect(RankChoice.parse("16") == .fixed(16))
        #expect(RankChoice.parse("0.9") == .energy(0.9))
        #expect(RankChoice.parse("95%") == .energy(0.95))
        #expect(RankChoice.parse("0") == nil)
        #expect(RankChoice.parse("1.5") == nil)
    }
}

@Suite("Extract and merge")
struct ExtractMergeTests {
    /// A small model pair: two linear weights with low-rank-plus-noise deltas, an embedding, a
    /// changed bias and an unchanged norm.
    static func makePair(in directory: URL) throws -> (base: URL, tuned: URL, deltas: [String: KnownDelta]) {
        let deltas = [
            "layer.0.attention.query.weight": KnownDelta(m: 48, n: 32, rank: 4, noise: 0.001, seed: 11),
            "layer.0.output.dense.weight": KnownDelta(m: 32, n: 64, rank: 4, noise: 0.001, seed: 12),
            "embeddings.word_embeddings.weight": KnownDelta(m: 100, n: 32, rank: 4, noise: 0.001, seed: 13),
        ]
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var base: [TensorData] = [], tuned: [TensorData] = []
        for (name, delta) in deltas {
            let w = KnownDelta(m: delta.m, n: delta.n, rank: 10, noise: 0.1, seed: 99).values
            base.append(TensorData(name: name, shape: [delta.m, delta.n], values: w, as: .f32))
            tuned.append(TensorData(name: name, shape: [delta.m, delta.n], values: zip(w, delta.values).map { $0 + $1 }, as: .f32))
        }
        base.append(TensorData(name: "layer.0.output.dense.bias", shape: [32], values: [Float](repeating: 0.5, count: 32), as: .f32))
        tuned.append(TensorData(name: "layer.0.output.dense.bias", shape: [32], values: [Float](repeating: 0.75, count: 32), as: .f32))
        let norm = TensorData(name: "layer.0.output.LayerNorm.weight", shape: [32], values: [Float](repeating: 1, count: 32), as: .f32)
        base.append(norm)
        tuned.append(norm)
        let baseURL = directory.appendingPathComponent("base.safetensors"), tunedURL = directory.appendingPathComponent("tuned.safetensors")
        try SafeTensorsWriter.write(base, to: baseURL)
        try SafeTensorsWriter.write(tuned, to: tunedURL)
        return (baseURL, tunedURL, deltas)
    }

    @Test func extractThenMergeReproducesTheTunedModel() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-lora-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try Self.makePair(in: directory)
        let out = directory.appendingPathComponent("adapter")
        var log: [String] = []
        let options = ExtractOptions(base: base.path, tuned: tuned.path, out: out.path, policy: RankPolicy(defaultChoice: .fixed(4)),
                                     method: .exact, saveVectors: true)
        let summary = try extractAdapter(options, log: { log.append($0) })
        #expect(summary.modules == 4)  // two linear, one embedding, one bias
        #expect(log.contains { $0.contains("LayerNorm") && $0.contains("unchanged") })

        // The adapter's layout.
        let adapter = try SafeTensorsFile(path: out.appendingPathComponent("adapter_model.safetensors").path)
        #expect(adapter.info("base_model.model.layer.0.attention.query.lora_A.weight")?.shape == [4, 32])
        #expect(adapter.info("base_model.model.layer.0.attention.query.lora_B.weight")?.shape == [48, 4])
        #expect(adapter.info("base_model.model.embeddings.word_embeddings.lora_embedding_A")?.shape == [4, 100])
        #expect(adapter.info("base_model.model.embeddings.word_embeddings.lora_embedding_B")?.shape == [32, 4])
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        #expect(config["peft_type"] as? String == "LORA" && config["r"] as? Int == 4)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("lora_report.csv").path))

        // Refuses to overwrite without force.
        #expect(throws: AdapterError.self) { try extractAdapter(options, log: { _ in }) }

        // Merge: base + B·A is the tuned model up to the noise the rank-4 truncation drops.
        let loaded = try LoadedAdapter(directory: out.path)
        let baseFile = try SafeTensorsFile(path: base.path), tunedFile = try SafeTensorsFile(path: tuned.path)
        for name in ["layer.0.attention.query.weight", "layer.0.output.dense.weight", "embeddings.word_embeddings.weight"] {
            let module = String(name.dropLast(".weight".count))
            let pair = try loaded.pair(module)
            #expect(pair.deltaShape == baseFile.info(name)!.shape)
            let delta = pair.delta()
            let merged = zip(try baseFile.floats(name), delta).map { $0 + $1 }
            let target = try tunedFile.floats(name)
            let trueDelta = zip(target, try baseFile.floats(name)).map { Double($0 - $1) }
            let error = zip(merged, target).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            let norm = trueDelta.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            #expect(error / norm < 0.01, "\(name): relative error \(error / norm)")
        }
        #expect(try loaded.whole("layer.0.output.dense.bias") == [Float](repeating: 0.75, count: 32))
    }

    @Test func nothingChangedIsAnError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-lora-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, _, _) = try Self.makePair(in: directory)
        let options = ExtractOptions(base: base.path, tuned: base.path, out: directory.appendingPathComponent("a").path,
                                     policy: RankPolicy(defaultChoice: .fixed(2)))
        #expect(throws: AdapterError.self) { try extractAdapter(options, log: { _ in }) }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("a").path))
    }
}

@Suite("Schedule")
struct ScheduleTests {
    /// Large pairs run first, one at a time with every thread; the others on `jobs` workers with
    /// threads / jobs threads each; every pair exactly once.
    @Test func everyPairRunsOnceLargeOnesFirst() throws {
        let counts = [5, 100, 7, 200, 1, 2, 3, 4, 6]
        let schedule = PairSchedule(elementCounts: counts, threads: 4, jobs: 2, largeElements: 100)
        let log = Locked<[(index: Int, threads: Int)]>([])
        try schedule.run { index, threads in log.withLock { $0.append((index, threads)) } }
        let runs = log.withLock { $0 }
        #expect(runs.count == counts.count && Set(runs.map(\.index)) == Set(counts.indices))
        #expect(runs.prefix(2).map(\.index) == [1, 3] && runs.prefix(2).allSatisfy { $0.threads == 4 })
        #expect(runs.dropFirst(2).allSatisfy { $0.threads == 2 })
    }

    @Test func theFirstErrorStopsNewWorkAndIsRethrown() {
        let schedule = PairSchedule(elementCounts: [Int](repeating: 1, count: 50), threads: 2, jobs: 2)
        let started = Locked(0)
        #expect(throws: CompressionError.nonFinite) {
            try schedule.run { index, _ in
                started.withLock { $0 += 1 }
                if index == 3 { throw CompressionError.nonFinite }
                usleep(2000)
            }
        }
        #expect(started.withLock { $0 } < 50)
    }

    /// Two jobs on two threads (the path ThreadSanitizer must see) give the modules and errors of
    /// one job on one thread.
    @Test func threadedExtractionMatchesSequential() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-threads-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory)
        func run(_ threads: Int, _ jobs: Int) throws -> [ExtractionReport.Row] {
            try extractAdapter(ExtractOptions(base: base.path, tuned: tuned.path, out: directory.appendingPathComponent("a\(threads)\(jobs)").path,
                                              policy: RankPolicy(defaultChoice: .fixed(4)), method: .exact, saveVectors: true,
                                              threads: threads, jobs: jobs), log: { _ in }).rows
        }
        let one = try run(1, 1), two = try run(2, 2)
        #expect(one.map(\.module) == two.map(\.module) && one.count == 4)
        for (a, b) in zip(one, two) where a.relativeError != nil {
            #expect(abs(a.relativeError! - b.relativeError!) <= 1e-5 * a.relativeError!, "\(a.module)")
        }
    }
}
