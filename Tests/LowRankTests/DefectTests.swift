import Foundation
import Kernels
import SafeTensors
import Testing
@testable import LowRank
#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under the temporary directory, removed by the caller.
func scratchDirectory(_ label: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// Writes an adapter directory: `config` (JSON text) and the tensors.
func writeAdapter(_ directory: URL, config: String, tensors: [TensorData]) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try Data(config.utf8).write(to: directory.appendingPathComponent(PEFTAdapter.configFile))
    try SafeTensorsWriter.write(tensors, to: directory.appendingPathComponent(PEFTAdapter.weightsFile))
}

/// The regression tests of issue 14's defects, one suite per defect.
@Suite("Defect 1: --force never deletes inputs")
struct OutputOverlapTests {
    static func options(_ base: URL, _ tuned: URL, out: String, force: Bool = true) -> ExtractOptions {
        ExtractOptions(base: base.path, tuned: tuned.path, out: out, policy: RankPolicy(defaultChoice: .fixed(2)), method: .exact, force: force)
    }

    /// The reported case: `--out d --force` with the inputs (and a user's notes) in d.
    @Test func outputContainingTheInputsIsRefused() throws {
        let directory = try scratchDirectory("overlap")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory)
        try Data("mine".utf8).write(to: directory.appendingPathComponent("notes.txt"))
        #expect(throws: AdapterError.outputOverlapsInput(output: directory.path, input: base.path, relation: .outputContainsInput)) {
            try extractAdapter(Self.options(base, tuned, out: directory.path), log: { _ in })
        }
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        #expect(left == ["base.safetensors", "tuned.safetensors", "notes.txt"])
        // Through a symbolic link to the directory, and through `..`.
        let link = directory.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: directory)
        #expect(throws: AdapterError.self) { try extractAdapter(Self.options(base, tuned, out: link.path + "/"), log: { _ in }) }
        #expect(throws: AdapterError.self) {
            try extractAdapter(Self.options(base, tuned, out: directory.appendingPathComponent("sub/..").path), log: { _ in })
        }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)) == left.union(["link"]))
    }

    @Test func outputThatIsOrLiesInsideAnInputIsRefused() throws {
        let directory = try scratchDirectory("overlap")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory)
        #expect(throws: AdapterError.outputOverlapsInput(output: tuned.path, input: tuned.path, relation: .same)) {
            try extractAdapter(Self.options(base, tuned, out: tuned.path), log: { _ in })
        }
        // A model given as a directory: nothing may be written inside it.
        let model = directory.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: false)
        try FileManager.default.copyItem(at: tuned, to: model.appendingPathComponent("model.safetensors"))
        #expect(throws: AdapterError.outputOverlapsInput(output: model.appendingPathComponent("adapter").path, input: model.path, relation: .outputInsideInput)) {
            try extractAdapter(ExtractOptions(base: base.path, tuned: model.path, out: model.appendingPathComponent("adapter").path,
                                              policy: RankPolicy(defaultChoice: .fixed(2))), log: { _ in })
        }
        // Merge: the output may not be the base or an adapter file.
        let adapter = directory.appendingPathComponent("adapter")
        _ = try extractAdapter(Self.options(base, tuned, out: adapter.path, force: false), log: { _ in })
        for out in [base.path, adapter.appendingPathComponent(PEFTAdapter.weightsFile).path, adapter.path] {
            #expect(throws: AdapterError.self) { try mergeAdapter(MergeOptions(base: base.path, adapter: adapter.path, out: out, force: true), log: { _ in }) }
        }
        #expect(try SafeTensorsFile(path: base.path).tensors.count == 5)
    }

    /// `--force` replaces an adapter directory this tool wrote, and nothing else.
    @Test func forceReplacesOnlyOwnAdapterDirectories() throws {
        let directory = try scratchDirectory("force")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory.appendingPathComponent("models"))
        let out = directory.appendingPathComponent("adapter")
        _ = try extractAdapter(Self.options(base, tuned, out: out.path, force: false), log: { _ in })
        #expect(throws: AdapterError.outputExists(out.path)) { try extractAdapter(Self.options(base, tuned, out: out.path, force: false), log: { _ in }) }
        _ = try extractAdapter(Self.options(base, tuned, out: out.path), log: { _ in })  // ours: replaced
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
            == [PEFTAdapter.weightsFile, PEFTAdapter.configFile, ExtractionReport.fileName, OutputLocation.markerFile])

        // A file of the user's inside it: refused, and everything stays.
        try Data("mine".utf8).write(to: out.appendingPathComponent("notes.txt"))
        #expect(throws: AdapterError.self) { try extractAdapter(Self.options(base, tuned, out: out.path), log: { _ in }) }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("notes.txt").path))

        // A directory without the marker (not written by this tool), a regular file, a link.
        let foreign = directory.appendingPathComponent("foreign")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: false)
        try Data("{}".utf8).write(to: foreign.appendingPathComponent(PEFTAdapter.configFile))
        let file = directory.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        let link = directory.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: out)
        for path in [foreign, file, link] {
            do {
                _ = try extractAdapter(Self.options(base, tuned, out: path.path), log: { _ in })
                Issue.record("\(path.lastPathComponent) was replaced")
            } catch AdapterError.outputNotReplaceable(let refused, _) {
                #expect(refused == path.path)
            }
        }
        #expect(FileManager.default.fileExists(atPath: foreign.appendingPathComponent(PEFTAdapter.configFile).path))
        #expect(try Data(contentsOf: file) == Data("x".utf8))
        // Nothing temporary is left beside the outputs.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }.isEmpty)
    }

    /// An interrupted replacement (the old adapter moved aside, the new one not yet renamed in)
    /// is repaired by the next run: the old adapter is put back.
    @Test func interruptedReplacementIsRestored() throws {
        let directory = try scratchDirectory("restore")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory.appendingPathComponent("models"))
        let out = directory.appendingPathComponent("adapter")
        _ = try extractAdapter(Self.options(base, tuned, out: out.path, force: false), log: { _ in })
        let aside = PendingDirectory.replacedPath(for: out.path, pid: Int32.max)
        try FileManager.default.moveItem(atPath: out.path, toPath: aside)
        PendingDirectory.restoreReplaced(out.path)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(PEFTAdapter.weightsFile).path))
        #expect(!FileManager.default.fileExists(atPath: aside))
    }
}

@Suite("Defect 2: a FIFO input is refused, not waited on")
struct FIFOInputTests {
    @Test func fifoModelIsRefused() throws {
        let directory = try scratchDirectory("fifo")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, _, _) = try ExtractMergeTests.makePair(in: directory)
        let fifo = directory.appendingPathComponent("fifo.safetensors").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let options = ExtractOptions(base: base.path, tuned: fifo, out: directory.appendingPathComponent("a").path, policy: RankPolicy(defaultChoice: .fixed(2)))
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Error?
        DispatchQueue.global().async {
            do { _ = try extractAdapter(options, log: { _ in }) } catch { outcome = error }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success, "extract blocked on a FIFO")
        #expect((outcome as? SafeTensorsError)?.problem.contains("FIFO") == true, "\(String(describing: outcome))")
    }
}

/// A base model of one 8 × 6 linear weight and a rank-2 pair for it, in `directory`.
struct TinyMergeCase {
    let base: URL
    let weight: [Float]
    let a: [Float], b: [Float]

    init(base: URL, weight: [Float], a: [Float], b: [Float]) {
        self.base = base
        self.weight = weight
        self.a = a
        self.b = b
    }

    init(in directory: URL) throws {
        let w = KnownDelta(m: 8, n: 6, rank: 6, noise: 0, seed: 41).values
        base = directory.appendingPathComponent("base.safetensors")
        try SafeTensorsWriter.write([TensorData(name: "layer.dense.weight", shape: [8, 6], values: w, as: .f32)], to: base)
        weight = w
        a = KnownDelta(m: 2, n: 6, rank: 2, noise: 0, seed: 42).values
        b = KnownDelta(m: 8, n: 2, rank: 2, noise: 0, seed: 43).values
    }

    func tensors(a: [Float]? = nil, b: [Float]? = nil, transposedShapes: Bool = false) -> [TensorData] {
        let keys = PEFTAdapter.factorKeys(module: "layer.dense", embedding: false)
        return [TensorData(name: keys.a, shape: transposedShapes ? [2, 8] : [2, 6], values: a ?? self.a, as: .f32),
                TensorData(name: keys.b, shape: transposedShapes ? [6, 2] : [8, 2], values: b ?? self.b, as: .f32)]
    }

    /// Writes the adapter with `settings` (JSON members) and merges it.
    func merge(in directory: URL, settings: String, tensors: [TensorData]? = nil, allowNonFinite: Bool = false) throws -> [Float] {
        let adapter = directory.appendingPathComponent("adapter-\(UUID().uuidString)")
        try writeAdapter(adapter, config: #"{"peft_type":"LORA","target_modules":["dense"]"# + (settings.isEmpty ? "" : "," + settings) + "}",
                         tensors: tensors ?? self.tensors())
        let out = directory.appendingPathComponent("merged-\(UUID().uuidString).safetensors")
        _ = try mergeAdapter(MergeOptions(base: base.path, adapter: adapter.path, out: out.path, allowNonFinite: allowNonFinite), log: { _ in })
        return try SafeTensorsFile(path: out.path).floats("layer.dense.weight")
    }

    /// W + scale·B·A (or its transpose, for the transposed pair), in Double.
    func expected(scale: Double, transposedPair: Bool = false) -> [Float] {
        var out = weight
        for i in 0..<8 {
            for j in 0..<6 {
                var sum = 0.0
                if transposedPair {
                    // B is 6 × 2, A is 2 × 8: ΔW = (B·A)ᵀ, ΔW[i][j] = Σ_k B[j][k]·A[k][i].
                    for k in 0..<2 { sum += Double(b[j * 2 + k]) * Double(a[k * 8 + i]) }
                } else {
                    for k in 0..<2 { sum += Double(b[i * 2 + k]) * Double(a[k * 6 + j]) }
                }
                out[i * 6 + j] = Float(Double(weight[i * 6 + j]) + scale * sum)
            }
        }
        return out
    }
}

func expectClose(_ got: [Float], _ want: [Float], _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    let error = zip(got, want).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    #expect(got.count == want.count && error < 1e-5, "\(comment.map { "\($0): " } ?? "")max error \(error)", sourceLocation: sourceLocation)
}

@Suite("Defect 3: merge refuses non-finite factors")
struct NonFiniteMergeTests {
    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteFactorIsRefusedByName(value: Float) throws {
        let directory = try scratchDirectory("nan")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tiny = try TinyMergeCase(in: directory)
        var a = tiny.a
        a[3] = value
        do {
            _ = try tiny.merge(in: directory, settings: #""r":2,"lora_alpha":2"#, tensors: tiny.tensors(a: a))
            Issue.record("merged a non-finite factor")
        } catch let AdapterError.nonFinite(file, tensor, count) {
            #expect(file.hasSuffix(PEFTAdapter.weightsFile) && tensor == "base_model.model.layer.dense.lora_A.weight" && count == 1)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("merged") }.isEmpty)
        // Allowed explicitly, the values go through.
        let merged = try tiny.merge(in: directory, settings: #""r":2,"lora_alpha":2"#, tensors: tiny.tensors(a: a), allowNonFinite: true)
        #expect(merged.contains { !$0.isFinite })
    }

    /// Finite factors whose product overflows Float: refused too, naming the merged tensor.
    @Test func overflowingProductIsRefused() throws {
        let directory = try scratchDirectory("overflow")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tiny = try TinyMergeCase(in: directory)
        #expect(throws: AdapterError.self) {
            _ = try tiny.merge(in: directory, settings: #""r":2,"lora_alpha":2"#, tensors: tiny.tensors(a: tiny.a.map { $0 * 1e30 }, b: tiny.b.map { $0 * 1e30 }))
        }
    }
}

@Suite("Defect 4: merge honours or refuses every LoRA setting")
struct AdapterSettingsTests {
    @Test func scaleFollowsAlphaRankAndRSLoRA() throws {
        let directory = try scratchDirectory("settings")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tiny = try TinyMergeCase(in: directory)
        expectClose(try tiny.merge(in: directory, settings: #""r":2,"lora_alpha":6"#), tiny.expected(scale: 3), "alpha/r")
        expectClose(try tiny.merge(in: directory, settings: #""r":2,"lora_alpha":6,"use_rslora":true"#), tiny.expected(scale: 6 / 2.0.squareRoot()), "rslora")
        expectClose(try tiny.merge(in: directory, settings: #""r":2"#), tiny.expected(scale: 4), "PEFT's default lora_alpha is 8")
        // Patterns: the first key K (in file order) that matches (.*\.)?(K)$ decides, as in PEFT.
        expectClose(try tiny.merge(in: directory, settings: #""r":4,"lora_alpha":1,"rank_pattern":{"dense":2},"alpha_pattern":{"nomatch":9,"layer\\.d.*":5,"dense":7}"#),
                    tiny.expected(scale: 2.5), "patterns")
    }

    @Test func fanInFanOutTransposesTheProduct() throws {
        let directory = try scratchDirectory("fanin")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tiny = try TinyMergeCase(in: directory)
        let a = KnownDelta(m: 2, n: 8, rank: 2, noise: 0, seed: 44).values, b = KnownDelta(m: 6, n: 2, rank: 2, noise: 0, seed: 45).values
        let transposedCase = TinyMergeCase(base: tiny.base, weight: tiny.weight, a: a, b: b)
        expectClose(try transposedCase.merge(in: directory, settings: #""r":2,"lora_alpha":2,"fan_in_fan_out":true"#,
                                             tensors: transposedCase.tensors(transposedShapes: true)),
                    transposedCase.expected(scale: 1, transposedPair: true), "fan_in_fan_out")
        // The same pair without the setting has the wrong shape: refused, not applied.
        #expect(throws: AdapterError.self) {
            try transposedCase.merge(in: directory, settings: #""r":2,"lora_alpha":2"#, tensors: transposedCase.tensors(transposedShapes: true))
        }
    }

    @Test(arguments: [
        (#""r":2,"use_dora":true"#, "use_dora"),
        (#""r":2,"lora_bias":true"#, "lora_bias"),
        (#""r":2,"layer_replication":[[0,1]]"#, "layer_replication"),
        (#""r":2,"init_lora_weights":"pissa_niter_4""#, "init_lora_weights"),
        (#""r":2,"use_qalora":true"#, "use_qalora"),
        (#""r":2,"some_future_setting":3"#, "some_future_setting"),
    ])
    func unsupportedSettingIsRefusedByName(settings: String, key: String) throws {
        let directory = try scratchDirectory("unsupported")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tiny = try TinyMergeCase(in: directory)
        do {
            _ = try tiny.merge(in: directory, settings: settings)
            Issue.record("\(settings): merged")
        } catch AdapterError.unsupportedSetting(_, let refused, _, _) {
            #expect(refused == key)
        }
    }

    @Test(arguments: [
        (#""r":2,"lora_alpha":"16""#, "lora_alpha"),
        (#""r":"2""#, "r"),
        (#""r":2.5"#, "r"),
        (#""r":2,"rank_pattern":{"dense":"x"}"#, #"rank_pattern["dense"]"#),
        (#""r":2,"rank_pattern":[1]"#, "rank_pattern"),
        (#""r":2,"alpha_pattern":{"dense":"4"}"#, #"alpha_pattern["dense"]"#),
        (#""r":2,"alpha_pattern":{"(":4}"#, #"alpha_pattern["("]"#),
        (#""r":2,"fan_in_fan_out":"yes""#, "fan_in_fan_out"),
        (#""r":2,"use_rslora":1"#, "use_rslora"),
    ])
    func invalidSettingIsRefusedByName(settings: String, key: String) throws {
        let directory = try scratchDirectory("invalid")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tiny = try TinyMergeCase(in: directory)
        do {
            _ = try tiny.merge(in: directory, settings: settings)
            Issue.record("\(settings): merged")
        } catch AdapterError.invalidSetting(_, let refused, _, _) {
            #expect(refused == key)
        }
    }

    @Test func zeroAlphaIsANoOpAndSaidSo() throws {
        let directory = try scratchDirectory("noop")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tiny = try TinyMergeCase(in: directory)
        do {
            _ = try tiny.merge(in: directory, settings: #""r":2,"lora_alpha":0"#)
            Issue.record("a no-op adapter merged")
        } catch AdapterError.noOpAdapter(_, let reason) {
            #expect(reason.contains("lora_alpha is 0"))
        }
    }

    @Test func rankDisagreeingWithTheConfigIsRefused() throws {
        let directory = try scratchDirectory("rank")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tiny = try TinyMergeCase(in: directory)
        #expect(throws: AdapterError.self) { try tiny.merge(in: directory, settings: #""r":4,"lora_alpha":4"#) }
        // Factors for a module that exclude_modules removes (PEFT would ignore them): refused.
        #expect(throws: AdapterError.self) { try tiny.merge(in: directory, settings: #""r":2,"exclude_modules":["dense"]"#) }
    }

    @Test func duplicateSettingIsRefused() throws {
        let directory = try scratchDirectory("dup")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tiny = try TinyMergeCase(in: directory)
        #expect(throws: AdapterError.self) { try tiny.merge(in: directory, settings: #""r":2,"lora_alpha":2,"lora_alpha":4"#) }
    }
}

@Suite("Defect 5: merge leaves no temporary files")
struct MergeTemporaryFileTests {
    @Test func successfulAndFailedMergesLeaveOnlyTheOutput() throws {
        let directory = try scratchDirectory("tmp")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tiny = try TinyMergeCase(in: directory)
        let adapter = directory.appendingPathComponent("adapter")
        try writeAdapter(adapter, config: #"{"peft_type":"LORA","r":2,"lora_alpha":2}"#, tensors: tiny.tensors())
        let outDirectory = directory.appendingPathComponent("out")
        let out = outDirectory.appendingPathComponent("merged.safetensors")
        let summary = try mergeAdapter(MergeOptions(base: tiny.base.path, adapter: adapter.path, out: out.path), log: { _ in })
        #expect(summary == MergeSummary(tensors: 1, changed: 1))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outDirectory.path) == ["merged.safetensors"])
        #expect(throws: AdapterError.outputExists(out.path)) {
            try mergeAdapter(MergeOptions(base: tiny.base.path, adapter: adapter.path, out: out.path), log: { _ in })
        }
        _ = try mergeAdapter(MergeOptions(base: tiny.base.path, adapter: adapter.path, out: out.path, force: true), log: { _ in })
        #expect(try FileManager.default.contentsOfDirectory(atPath: outDirectory.path) == ["merged.safetensors"])
    }
}

@Suite("Defect 7: messages that say what is wrong")
struct MessageTests {
    @Test func integerTensorsAreNotReportedAsUnchanged() throws {
        let directory = try scratchDirectory("ints")
        defer { try? FileManager.default.removeItem(at: directory) }
        func ids(_ values: [Int64]) -> TensorData {
            TensorData(name: "ids", dtype: .i64, shape: [values.count], bytes: values.map(\.littleEndian).withUnsafeBytes { Data($0) })
        }
        let mask = TensorData(name: "mask", dtype: .bool, shape: [2], bytes: Data([1, 0]))
        let base = directory.appendingPathComponent("b.safetensors"), tuned = directory.appendingPathComponent("t.safetensors")
        try SafeTensorsWriter.write([ids([1, 2, 3]), mask], to: base)
        try SafeTensorsWriter.write([ids([1, 2, 4]), mask], to: tuned)
        var log: [String] = []
        do {
            _ = try extractAdapter(ExtractOptions(base: base.path, tuned: tuned.path, out: directory.appendingPathComponent("a").path,
                                                  policy: RankPolicy(defaultChoice: .fixed(2))), log: { log.append($0) })
            Issue.record("wrote an adapter")
        } catch AdapterError.nothingToWrite(let counts) {
            #expect(counts.selected == 2 && counts.unchanged == 1 && counts.notFloatingPoint == ["I64": ["ids"]])
            #expect(AdapterError.nothingToWrite(counts).description.contains("not floating-point"))
        }
        #expect(log.contains { $0.contains("ids") && $0.contains("changed, but I64") })
        #expect(log.contains { $0.contains("mask") && $0.contains("unchanged") })
    }

    @Test func energyOneIsReachedWithoutAWarning() throws {
        let directory = try scratchDirectory("energy")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory)
        var log: [String] = []
        _ = try extractAdapter(ExtractOptions(base: base.path, tuned: tuned.path, out: directory.appendingPathComponent("a").path,
                                              policy: RankPolicy(defaultChoice: .energy(1)), method: .exact), log: { log.append($0) })
        #expect(!log.contains { $0.contains("not reached") }, "\(log)")
        // A cap below the rank the energy needs still warns, with the digits to see by how much.
        var capped: [String] = []
        _ = try extractAdapter(ExtractOptions(base: base.path, tuned: tuned.path, out: directory.appendingPathComponent("b").path,
                                              policy: RankPolicy(defaultChoice: .energy(1), maxRank: 2), method: .exact), log: { capped.append($0) })
        #expect(capped.contains { $0.contains("not reached") && $0.contains("retained 0.") })
    }

    /// The output location is checked before any tensor is read: an unwritable or existing
    /// output fails at once, in words.
    @Test func outputIsCheckedBeforeTheWork() throws {
        let directory = try scratchDirectory("early")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (base, tuned, _) = try ExtractMergeTests.makePair(in: directory)
        for out in ["/proc/crosscheck-adapter", "/proc/self/crosscheck/adapter", base.path + "/adapter"] {
            var log: [String] = []
            do {
                _ = try extractAdapter(ExtractOptions(base: base.path, tuned: tuned.path, out: out, policy: RankPolicy(defaultChoice: .fixed(2))),
                                       log: { log.append($0) })
                Issue.record("\(out): written")
            } catch let error as AdapterError {
                guard case .outputUnwritable(let path, let reason) = error else { Issue.record("\(out): \(error)"); continue }
                #expect(path == out && !reason.isEmpty)
            }
            #expect(log.isEmpty, "\(out): work started before the output was checked: \(log)")
        }
    }
}
