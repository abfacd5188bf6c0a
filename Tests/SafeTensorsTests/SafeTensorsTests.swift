import Foundation
import Testing
@testable import SafeTensors

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
}
