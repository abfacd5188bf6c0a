import Foundation
import Testing
@testable import SafeTensors
#if canImport(Glibc)
import Glibc
#endif

@Suite("SafeTensors")
struct SafeTensorsTests {
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("reference/safetensors")

    struct Described: Decodable { let dtype: String; let shape: [Int]; let values: [Double] }
    struct Examples: Decodable { let tensors: [String: Described] }

    static func examples() throws -> [String: Described] {
        try JSONDecoder().decode(Examples.self, from: Data(contentsOf: reference.appendingPathComponent("examples.json"))).tensors
    }

    /// Files written by the Python package read back with the values it wrote.
    @Test func readsFilesWrittenByPython() throws {
        let file = try SafeTensorsFile(path: Self.reference.appendingPathComponent("examples.safetensors").path)
        #expect(file.metadata == ["format": "pt"])
        let expected = try Self.examples()
        for name in ["encoder.linear.weight", "encoder.half", "encoder.brain", "head.double", "empty"] {
            let info = try #require(file.info(name))
            #expect(info.shape == expected[name]!.shape)
            #expect(try file.doubles(name) == expected[name]!.values, "\(name)")
        }
        #expect(file.info("encoder.half")?.dtype == .f16)
        #expect(file.info("encoder.brain")?.dtype == .bf16)
        #expect(file.info("ids")?.dtype == .i64)
        #expect(throws: SafeTensorsError.self) { try file.floats("ids") }
    }

    @Test func readsShardedModelAndDirectory() throws {
        let directory = Self.reference.appendingPathComponent("sharded")
        let expected = try Self.examples()
        for path in [directory.path, directory.appendingPathComponent("model.safetensors.index.json").path] {
            let model = try SafeTensorsModel(path: path)
            #expect(model.names == ["layer.0.bias", "layer.0.weight", "layer.1.weight"])
            for name in model.names {
                #expect(try model.file(for: name).doubles(name) == expected[name]!.values)
            }
        }
    }

    /// Swift writes what Swift (and, checked by hand with Python, the Python package) reads.
    @Test func writeThenRead() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let values: [Float] = [1, -2.5, 3.25, 0.1, 1e-3, 65504]
        try SafeTensorsWriter.write([
            TensorData(name: "w.f32", shape: [2, 3], values: values, as: .f32),
            TensorData(name: "w.f16", shape: [6], values: values, as: .f16),
            TensorData(name: "w.bf16", shape: [3, 2], values: values, as: .bf16),
        ], to: url)
        let data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
        let file = try SafeTensorsFile(path: url.path)
        #expect(file.metadata == ["format": "pt"])
        #expect(try file.floats("w.f32") == values)
        #expect(try file.floats("w.f16") == values.map { Float(Float16($0)) })
        let bf16 = try file.floats("w.bf16")
        for (got, want) in zip(bf16, values) { #expect(abs(got - want) <= abs(want) * 0x1p-8) }
    }

    // MARK: malformed files: an error that names the file and the fault, never a crash

    static func header(_ json: String, data: Int, declaredLength: UInt64? = nil) -> Data {
        var bytes = Data()
        let headerBytes = Data(json.utf8)
        withUnsafeBytes(of: (declaredLength ?? UInt64(headerBytes.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(headerBytes)
        bytes.append(Data(repeating: 0, count: data))
        return bytes
    }

    static let malformed: [(String, Data, String)] = [
        ("short", Data([1, 2, 3]), "shorter than the 8-byte header length"),
        ("header past end", header("{}", data: 0, declaredLength: 1000), "runs past the end"),
        ("huge header", header("{}", data: 0, declaredLength: 1 << 40), "100 MB"),
        ("bad JSON", header("{\"a\": ", data: 0), "not valid JSON"),
        ("not object", header("[1, 2]", data: 0), "not a JSON object"),
        ("unknown dtype", header(#"{"a":{"dtype":"F7","shape":[1],"data_offsets":[0,4]}}"#, data: 4), "unknown dtype 'F7'"),
        ("missing shape", header(#"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, data: 4), "shape"),
        ("negative shape", header(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4), "shape"),
        ("offsets out of range", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 4), "run past the end"),
        ("reversed offsets", header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: 4), "ordered pair"),
        ("span mismatch", header(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8), "needs 12"),
        ("overlap", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12), "overlap"),
        ("gap", header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8), "gap"),
        ("trailing bytes", header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 12), "cover 4"),
        ("overflowing shape", header(#"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, data: 8), "address space"),
        // Defect 6: duplicate keys were accepted (the last one won) or reported as a gap.
        ("duplicate tensor", header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8), "duplicate key \"a\""),
        ("duplicate tensor, same span", header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 8), "duplicate key"),
        ("duplicate escaped", header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\u0061":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8), "duplicate key"),
        ("duplicate field", header(#"{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}"#, data: 4), "duplicate key \"dtype\""),
        ("duplicate metadata", header(#"{"__metadata__":{"format":"pt","format":"np"}}"#, data: 0), "duplicate key \"format\""),
        ("fractional shape", header(#"{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#, data: 4), "shape"),
        ("exponent offset", header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}"#, data: 4), "data_offsets"),
        ("huge offset", header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999999]}}"#, data: 4), "data_offsets"),
        ("metadata not string", header(#"{"__metadata__":{"format":1}}"#, data: 0), "not a string"),
        ("deep nesting", header(String(repeating: "[", count: 100_000), data: 0), "nested deeper"),
        ("trailing garbage", header(#"{} x"#, data: 0), "after the JSON value"),
        ("NaN literal", header(#"{"a":NaN}"#, data: 0), "not valid JSON"),
        ("invalid UTF-8", Data([4, 0, 0, 0, 0, 0, 0, 0]) + Data([0x22, 0xFF, 0x22, 0x20]), "not valid JSON"),
    ]

    @Test(arguments: malformed.indices)
    func malformedFileIsAnError(index: Int) throws {
        let (label, bytes, fault) = Self.malformed[index]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(index)-\(UUID().uuidString).safetensors")
        try bytes.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try SafeTensorsFile(path: url.path)
            Issue.record("\(label): opened without an error")
        } catch let error as SafeTensorsError {
            #expect(error.path == url.path, "\(label)")
            #expect(error.problem.contains(fault), "\(label): '\(error.problem)' does not mention '\(fault)'")
        }
    }

    @Test func truncatedCopyOfARealFileIsAnError() throws {
        let data = try Data(contentsOf: Self.reference.appendingPathComponent("examples.safetensors"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(UUID().uuidString).safetensors")
        try data.prefix(data.count - 10).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: url.path) }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: SafeTensorsError.self) { try SafeTensorsModel(path: "/nonexistent/model.safetensors") }
    }

    /// The in-memory entry point (the one the fuzz target drives) accepts and rejects exactly
    /// what opening a file does.
    @Test func parsingFromMemoryMatchesTheFile() throws {
        let path = Self.reference.appendingPathComponent("examples.safetensors").path
        let file = try SafeTensorsFile(path: path)
        let memory = try SafeTensorsFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(memory.tensors == file.tensors && memory.metadata == file.metadata)
        for tensor in file.tensors where tensor.dtype.isFloatingPoint {
            #expect(try memory.doubles(tensor.name) == file.doubles(tensor.name))
        }
        for (label, bytes, fault) in Self.malformed {
            do {
                _ = try SafeTensorsFile(bytes: Array(bytes), path: "memory")
                Issue.record("\(label): parsed from memory without an error")
            } catch let error as SafeTensorsError {
                #expect(error.problem.contains(fault), "\(label): '\(error.problem)'")
            }
        }
    }

    /// A value read in pieces through `readFloats` equals the whole tensor, for every dtype.
    @Test func streamingReadsMatchWholeReads() throws {
        let file = try SafeTensorsFile(path: Self.reference.appendingPathComponent("examples.safetensors").path)
        for tensor in file.tensors where tensor.dtype.isFloatingPoint && tensor.elementCount > 1 {
            let whole = try file.floats(tensor.name)
            var pieces = [Float](repeating: .nan, count: whole.count)
            let middle = whole.count / 2
            try pieces.withUnsafeMutableBufferPointer { buffer in
                try file.readFloats(tensor.name, range: 0..<middle, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<middle]))
                try file.readFloats(tensor.name, range: middle..<whole.count, into: UnsafeMutableBufferPointer(rebasing: buffer[middle...]))
            }
            #expect(pieces == whole, "\(tensor.name)")
        }
    }

    // MARK: defect 2 and 7: what is not a regular file is refused at once, in words

    /// Runs `body` on another thread and fails the test instead of hanging if it takes longer
    /// than `seconds` (an open of a FIFO blocks until a writer comes).
    static func withinSeconds<T>(_ seconds: Double, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, Error>?
        DispatchQueue.global().async {
            result = Result { try body() }
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .success, let result else {
            throw SafeTensorsError(path: "test", "did not return within \(seconds) s (blocked?)")
        }
        return try result.get()
    }

    @Test func fifoIsRefusedWithoutBlocking() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-fifo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("model.safetensors").path
        #expect(mkfifo(fifo, 0o644) == 0)
        for open in [{ _ = try SafeTensorsFile(path: fifo) }, { _ = try SafeTensorsModel(path: fifo) },
                     { _ = try SafeTensorsModel(path: directory.path) }, { _ = try FileAccess.readRegularFile(fifo) }] as [@Sendable () throws -> Void] {
            do {
                try Self.withinSeconds(5) { try open() }
                Issue.record("a FIFO was opened")
            } catch let error as SafeTensorsError {
                #expect(error.problem.contains("FIFO"), "\(error)")
            }
        }
    }

    @Test func symbolicLinkLoopIsNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-loop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("a.safetensors").path, second = directory.appendingPathComponent("b.safetensors").path
        #expect(symlink(second, first) == 0 && symlink(first, second) == 0)
        do {
            _ = try SafeTensorsModel(path: first)
            Issue.record("a symbolic link loop was opened")
        } catch let error as SafeTensorsError {
            #expect(error.problem.contains("loop of symbolic links"), "\(error)")
            #expect(!error.problem.contains("no such file"), "\(error)")
        }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsModel(path: "/dev/null") }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsModel(path: "/dev/zero") }
    }

    // MARK: the sharded index

    @Test(arguments: [
        (#"{"weight_map":{"a":"s.safetensors","a":"t.safetensors"}}"#, "duplicate key"),
        (#"{"weight_map":{"a":"/etc/passwd"}}"#, "inside the model's directory"),
        (#"{"weight_map":{"a":"../x.safetensors"}}"#, "inside the model's directory"),
        (#"{"weight_map":{"a":7}}"#, "inside the model's directory"),
        (#"{"weight_map":{}}"#, "empty"),
        (#"{"weight_map":[]}"#, "no weight_map"),
        (#"[]"#, "not a JSON object"),
        (#"{"weight_map":"#, "not valid JSON"),
    ])
    func malformedIndexIsAnError(json: String, fault: String) {
        do {
            _ = try SafeTensorsModel.parseIndex(Array(json.utf8), indexPath: "/m/model.safetensors.index.json")
            Issue.record("\(json): parsed")
        } catch let error as SafeTensorsError {
            #expect(error.problem.contains(fault), "\(json): \(error.problem)")
        } catch {
            Issue.record("\(json): \(error)")
        }
    }

    @Test func indexMapsTensorsToShardsBesideIt() throws {
        let map = try SafeTensorsModel.parseIndex(Array(#"{"metadata":{},"weight_map":{"a":"s-1.safetensors","b":"sub/s-2.safetensors"}}"#.utf8),
                                                  indexPath: "/m/model.safetensors.index.json")
        #expect(map == ["a": "/m/s-1.safetensors", "b": "/m/sub/s-2.safetensors"])
    }
}
