import Foundation
import Kernels
import SafeTensors
import Testing
@testable import LowRank

@Suite("lora resize")
struct ResizeTests {
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("reference/lora_resize/golden.json")

    struct Golden: Decodable {
        struct Case: Decodable { let spectrum: String; let method: String; let param: Double; let cap: Int; let rank: Int }
        let spectra: [String: [Double]]
        let cases: [Case]
    }

    /// kohya-ss's own functions (copied into reference/lora_resize/make_golden.py) give the same
    /// ranks as `ResizeRule` on every spectrum, parameter and cap.
    @Test func kohyaRulesMatchKohya() throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Self.reference))
        #expect(golden.cases.count > 100)
        for c in golden.cases {
            let rule: ResizeRule = c.method == "sv_ratio" ? .svRatio(c.param) : c.method == "sv_fro" ? .svFro(c.param) : .svCumulative(c.param)
            let rank = rule.newRank(golden.spectra[c.spectrum]!, cap: c.cap)
            #expect(rank == c.rank, "\(c.spectrum) \(c.method) \(c.param) cap \(c.cap): \(rank), kohya \(c.rank)")
        }
    }

    @Test func energyAndRankRules() {
        let sigma: [Double] = [8, 4, 2, 1, 0.5, 0, 0]
        #expect(ResizeRule.rank(3).newRank(sigma, cap: 5) == 3)
        #expect(ResizeRule.rank(9).newRank(sigma, cap: 5) == 5)
        // Σσ² = 85.25: 64 / 85.25 = 0.751, 80 / 85.25 = 0.938, 84 / 85.25 = 0.985.
        #expect(ResizeRule.energy(0.75).newRank(sigma, cap: 5) == 1)
        #expect(ResizeRule.energy(0.76).newRank(sigma, cap: 5) == 2)
        #expect(ResizeRule.energy(0.9).newRank(sigma, cap: 5) == 2)
        #expect(ResizeRule.energy(0.95).newRank(sigma, cap: 5) == 3)
        #expect(ResizeRule.energy(1).newRank(sigma, cap: 5) == 5)
        #expect(ResizeRule.energy(1).newRank(sigma, cap: 3) == 3)
    }

    /// `productSVD` through the thin QRs agrees with the SVD of the dense product, for both
    /// layouts, a scale, and a rank larger than a dimension (the dense fallback).
    @Test(arguments: [(40, 30, 6, false), (30, 40, 5, true), (3, 50, 5, false)])
    func productSVDMatchesTheDenseSVD(m: Int, n: Int, r: Int, transposed: Bool) throws {
        let b = KnownDelta(m: m, n: r, rank: r, noise: 0, seed: 5).values, a = KnownDelta(m: r, n: n, rank: r, noise: 0, seed: 6).values
        let pair = StoredPair(a: a, b: b, rank: r, rows: m, columns: n, scale: 0.75, transposed: transposed)
        let (sigma, u, vt) = try productSVD(pair)
        let dense = StoredPair(a: a, b: b, rank: r, rows: m, columns: n, scale: 0.75, transposed: false).delta().map(Double.init)
        let reference = try dense.withUnsafeBufferPointer { try lapackSVD($0.baseAddress!, m: m, n: n) }.singularValues
        for (i, s) in sigma.enumerated() { #expect(abs(s - reference[i]) <= 1e-5 * reference[0], "σ\(i + 1): \(s) vs \(reference[i])") }
        // U·Σ·Vᵀ reproduces P.
        let k = sigma.count
        var reconstructed = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for l in 0..<k { reconstructed[i * n + j] += Double(u[i * k + l]) * sigma[l] * Double(vt[l * n + j]) } } }
        let error = zip(reconstructed, dense).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        #expect(error <= 1e-5 * dense.reduce(0.0) { $0 + $1 * $1 }.squareRoot())
    }

    /// Resizing an extracted adapter: each module's new factors reach the Eckart–Young optimum of
    /// the old product at the new rank, measured on the stored result, and PEFT's layout
    /// (embedding, scale, patterns) survives the round trip through `LoadedAdapter`.
    @Test func resizedAdapterIsOptimalAtItsRank() throws {
        let directory = try scratchDirectory("resize")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory)
        let original = directory.appendingPathComponent("r4")
        _ = try extractAdapter(ExtractOptions(base: base.path, tuned: tuned.path, out: original.path, policy: RankPolicy(defaultChoice: .fixed(4)),
                                              method: .exact, saveVectors: true, alpha: 8), log: { _ in })
        let resized = directory.appendingPathComponent("r2")
        let rows = try resizeAdapter(ResizeOptions(adapter: original.path, out: resized.path, rule: .rank(2)), log: { _ in })
        #expect(rows.count == 3 && rows.allSatisfy { $0.oldRank == 4 && $0.newRank == 2 })
        let before = try LoadedAdapter(directory: original.path), after = try LoadedAdapter(directory: resized.path)
        #expect(after.wholeNames == before.wholeNames && after.moduleNames == before.moduleNames)
        for row in rows {
            let old = try before.pair(row.module), new = try after.pair(row.module)
            #expect(new.rank == 2 && new.transposed == old.transposed && new.deltaShape == old.deltaShape)
            let target = old.delta()
            let error = target.withUnsafeBufferPointer { new.relativeError(against: $0) }
            #expect(abs(error - row.relativeError) <= 1e-6 * error)
            #expect(error <= 1.0001 * row.optimalRelativeError + 1e-6, "\(row.module): \(error) vs optimum \(row.optimalRelativeError)")
            // The dense SVD of the old product gives the same optimum.
            let dense = old.delta().map(Double.init)
            let sigma = try dense.withUnsafeBufferPointer { try lapackSVD($0.baseAddress!, m: old.deltaShape[0], n: old.deltaShape[1]) }.singularValues
            let optimum = (sigma.dropFirst(2).reduce(0) { $0 + $1 * $1 } / sigma.reduce(0) { $0 + $1 * $1 }).squareRoot()
            #expect(abs(optimum - row.optimalRelativeError) <= 1e-4 * optimum)
        }
        let csv = try String(contentsOf: resized.appendingPathComponent(ResizeReport.fileName), encoding: .utf8)
        #expect(csv.hasPrefix(ResizeReport.columns.header + "\n") && csv.split(separator: "\n").count == 4)
    }

    /// PEFT allows a rank above a module's smaller side (r = 5 on a 3 × 50 module); its product
    /// has only 3 singular triplets, and resizing must read U with 3 columns and cap the new rank
    /// at 3 (it read U with stride 5 and indexed σ past its end).
    @Test(arguments: [ResizeRule.rank(5), .rank(2), .energy(0.999)])
    func resizeOfARankAboveTheModulesSide(rule: ResizeRule) throws {
        let directory = try scratchDirectory("resize-wide")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (m, n, r) = (3, 50, 5)
        let b = KnownDelta(m: m, n: r, rank: r, noise: 0, seed: 5).values, a = KnownDelta(m: r, n: n, rank: r, noise: 0, seed: 6).values
        let factors = LowRankFactors(m: m, n: n, rank: r, b: b, a: a, retainedEnergy: 1, optimalRelativeError: 0, sigma1: 0, sigmaNext: nil,
                                     method: .exact, note: "")
        let original = directory.appendingPathComponent("r5")
        try FileManager.default.createDirectory(at: original, withIntermediateDirectories: true)
        try PEFTAdapter(modules: [.pair("layers.0.proj", factors: factors, alpha: Double(r), embedding: false, dtype: .f32)], baseModelName: "test")
            .write(to: original)
        let resized = directory.appendingPathComponent("out")
        let rows = try resizeAdapter(ResizeOptions(adapter: original.path, out: resized.path, rule: rule), log: { _ in })
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row.newRank <= 3)
        let old = try LoadedAdapter(directory: original.path).pair(row.module), new = try LoadedAdapter(directory: resized.path).pair(row.module)
        let error = old.delta().withUnsafeBufferPointer { new.relativeError(against: $0) }
        #expect(error <= 1.0001 * row.optimalRelativeError + 1e-5, "\(rule): \(error) vs optimum \(row.optimalRelativeError)")
        if case .rank(5) = rule { #expect(row.newRank == 3 && error <= 1e-5) }
    }

    @Test func resizeRefusesItsInputAsOutput() throws {
        let directory = try scratchDirectory("resize")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory)
        let original = directory.appendingPathComponent("r4")
        _ = try extractAdapter(ExtractOptions(base: base.path, tuned: tuned.path, out: original.path, policy: RankPolicy(defaultChoice: .fixed(4))), log: { _ in })
        #expect(throws: AdapterError.self) { try resizeAdapter(ResizeOptions(adapter: original.path, out: original.path, rule: .rank(2), force: true), log: { _ in }) }
        #expect(FileManager.default.fileExists(atPath: original.appendingPathComponent(PEFTAdapter.weightsFile).path))
    }
}
