import Foundation
import Kernels
import SafeTensors
import Testing
@testable import LowRank

/// Issue 16: every number the report prints is computed from what was written.
@Suite("lora_report.csv measures the adapter as stored")
struct ReportTests {
    /// The report's relative error of every module equals the error recomputed from the adapter
    /// reloaded from disk, for each stored dtype; bf16 storage shows in it.
    @Test(arguments: [DType.f32, .bf16])
    func reportedErrorsAreThoseOfTheReloadedAdapter(dtype: DType) throws {
        let directory = try scratchDirectory("report")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory)
        let out = directory.appendingPathComponent("adapter")
        let summary = try extractAdapter(ExtractOptions(base: base.path, tuned: tuned.path, out: out.path, policy: RankPolicy(defaultChoice: .fixed(4)),
                                                        method: .exact, dtype: dtype), log: { _ in })
        let loaded = try LoadedAdapter(directory: out.path)
        let baseModel = try SafeTensorsModel(path: base.path), tunedModel = try SafeTensorsModel(path: tuned.path)
        let csv = try String(contentsOf: out.appendingPathComponent(ExtractionReport.fileName), encoding: .utf8)
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines[0] == ExtractionReport.columns.header)
        let errorColumn = try #require(ExtractionReport.columns.columns.firstIndex { $0.name == "relative_error" })
        var checked = 0
        for row in summary.rows where row.kind != "whole" {
            let (delta, _, _) = try readDelta(row.module + ".weight", base: baseModel, tuned: tunedModel, wide: false)
            let reloaded = try delta.withUnsafeBufferPointer { try loaded.pair(row.module).relativeError(against: $0) }
            let reported = try #require(row.relativeError)
            #expect(abs(reported - reloaded) <= 1e-6 * reloaded, "\(row.module): reported \(reported), reloaded \(reloaded)")
            let line = try #require(lines.first { $0.hasPrefix(row.module + ",") })
            #expect(abs(Double(line.split(separator: ",")[errorColumn])! - reloaded) <= 1e-6 * reloaded)
            if dtype == .bf16 {
                // bf16 rounding of the factors (u = 2⁻⁸) is visible above the optimum.
                #expect(reported > row.optimalRelativeError! * 1.001)
            }
            checked += 1
        }
        #expect(checked == 3)
    }

    /// A broken embedding adapter (factors of ΔW stored where PEFT expects those of ΔWᵀ) is
    /// caught by the measurement the report uses: on a square embedding the shapes agree and
    /// only the values are wrong. Before, the report measured the factors before their
    /// transposition and said about 0.001.
    @Test func brokenEmbeddingLayoutIsCaught() throws {
        let delta = KnownDelta(m: 40, n: 40, rank: 3, noise: 0.001, seed: 77)
        let right = try compressDelta(delta.values, m: 40, n: 40, choice: .fixed(3), maxRank: nil, method: .exact, threads: 1, ofTranspose: true)
        let wrong = try compressDelta(delta.values, m: 40, n: 40, choice: .fixed(3), maxRank: nil, method: .exact, threads: 1, ofTranspose: false)
        let good = AdapterModule.pair("embed", factors: right, alpha: 3, embedding: true, dtype: .f32)
        let broken = AdapterModule.pair("embed", factors: wrong, alpha: 3, embedding: true, dtype: .f32)
        let goodError = try delta.values.withUnsafeBufferPointer { try good.storedPair().relativeError(against: $0) }
        let brokenError = try delta.values.withUnsafeBufferPointer { try broken.storedPair().relativeError(against: $0) }
        #expect(goodError <= 1.01 * right.optimalRelativeError!)
        #expect(brokenError > 0.5, "a transposed embedding measured \(brokenError)")
        // The factors themselves, before storage, look fine: that is what the old report measured.
        #expect(wrong.relativeError(against: delta.values) < 0.01)
    }

    @Test func columnsAreDefinedOnce() {
        let row = ExtractionReport.Row(module: "a,b", kind: "lora", shape: [3, 4], rank: 2, retainedEnergy: 0.5, relativeError: 0.25,
                                       optimalRelativeError: 0.125, sigma1: 2, sigmaNext: nil, seconds: 0.5, method: "exact", note: "x\"y")
        let columns = ExtractionReport.columns
        #expect(columns.header == "module,kind,shape,rank,retained_energy,relative_error,optimal_relative_error,sigma_1,sigma_r_plus_1,seconds,method,note")
        #expect(columns.line(row) == #""a,b",lora,3x4,2,0.5,0.25,0.125,2,,0.500,exact,"x""y""#)
    }
}

@Suite("lora extract --verify")
struct VerifyTests {
    @Test(arguments: [(DType.f32, SVDMethod.exact), (.bf16, .exact), (.f16, .randomized)])
    func aCorrectAdapterPasses(dtype: DType, method: SVDMethod) throws {
        let directory = try scratchDirectory("verify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory)
        let summary = try extractAdapter(ExtractOptions(base: base.path, tuned: tuned.path, out: directory.appendingPathComponent("a").path,
                                                        policy: RankPolicy(defaultChoice: .fixed(4)), method: method, saveVectors: true, dtype: dtype,
                                                        verifyFactor: 1.01), log: { _ in })
        let rows = try #require(summary.verification)
        #expect(rows.count == 4 && rows.allSatisfy(\.passed))
    }

    /// An adapter whose factors were damaged after writing fails, naming the module.
    @Test func aDamagedAdapterFails() throws {
        let directory = try scratchDirectory("verify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory)
        let out = directory.appendingPathComponent("a")
        let summary = try extractAdapter(ExtractOptions(base: base.path, tuned: tuned.path, out: out.path, policy: RankPolicy(defaultChoice: .fixed(4)),
                                                        method: .exact), log: { _ in })
        // Scale one module's B by 1.05 (a wrongly scaled pair).
        let file = try SafeTensorsFile(path: out.appendingPathComponent(PEFTAdapter.weightsFile).path)
        let damagedKey = PEFTAdapter.factorKeys(module: "layer.0.output.dense", embedding: false).b
        let tensors = try file.tensors.map { info -> TensorData in
            let values = try file.floats(info.name)
            return TensorData(name: info.name, shape: info.shape, values: info.name == damagedKey ? values.map { $0 * 1.05 } : values, as: .f32)
        }
        try SafeTensorsWriter.write(tensors, to: out.appendingPathComponent(PEFTAdapter.weightsFile))
        do {
            _ = try verifyAdapter(at: out.path, base: SafeTensorsModel(path: base.path), tuned: SafeTensorsModel(path: tuned.path),
                                  rows: summary.rows, factor: 1.01, threads: 1, log: { _ in })
            Issue.record("a damaged adapter verified")
        } catch AdapterError.verificationFailed(_, let modules) {
            #expect(modules.map(\.module) == ["layer.0.output.dense"])
        }
    }
}
