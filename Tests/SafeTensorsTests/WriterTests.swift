import Foundation
import Testing
@testable import SafeTensors
#if canImport(Glibc)
import Glibc
#endif

/// Defect 5: `merge` wrote through Foundation's atomic write, which left `.dat.nosync*` files
/// after SIGINT or SIGKILL. The writer now writes to a file with no name until it is complete.
@Suite("SafeTensors writer")
struct WriterTests {
    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static let tensors = [
        TensorData(name: "b", shape: [2, 2], values: [1, 2, 3, 4], as: .bf16),
        TensorData(name: "a", shape: [3], values: [0.5, -1, 2], as: .f32),
    ]

    /// While a file is being written, nothing appears in its directory under any name, so a
    /// SIGKILL at that moment leaves nothing behind; the file appears whole at commit.
    @Test func nothingIsNamedUntilCommit() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let destination = directory.appendingPathComponent("out.safetensors").path
        let writer = try SafeTensorsFileWriter(destination: destination, tensors: Self.tensors.map(\.header))
        #expect(writer.order.map(\.name) == ["a", "b"])
        try Self.tensors[1].bytes.withUnsafeBytes { try writer.append("a", bytes: $0) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        try Self.tensors[0].bytes.withUnsafeBytes { try writer.append("b", bytes: $0) }
        try writer.commit(replace: false)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.safetensors"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == SafeTensorsWriter.serialize(Self.tensors))
    }

    @Test func abandonedWriteLeavesNothing() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let writer = try SafeTensorsFileWriter(destination: directory.appendingPathComponent("out.safetensors").path, tensors: Self.tensors.map(\.header))
            try Self.tensors[1].bytes.withUnsafeBytes { try writer.append("a", bytes: $0) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func replacesOnlyARegularFileAndOnlyWhenAsked() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let destination = directory.appendingPathComponent("out.safetensors")
        try Data("old".utf8).write(to: destination)
        #expect(throws: SafeTensorsError.self) { try SafeTensorsWriter.write(Self.tensors, to: destination, replace: false) }
        #expect(try Data(contentsOf: destination) == Data("old".utf8))
        try SafeTensorsWriter.write(Self.tensors, to: destination, replace: true)
        #expect(try SafeTensorsFile(path: destination.path).tensors.count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.safetensors"])

        let link = directory.appendingPathComponent("link.safetensors")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: destination)
        #expect(throws: SafeTensorsError.self) { try SafeTensorsWriter.write(Self.tensors, to: link, replace: true) }
        let folder = directory.appendingPathComponent("folder.safetensors")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        #expect(throws: SafeTensorsError.self) { try SafeTensorsWriter.write(Self.tensors, to: folder, replace: true) }
    }

    @Test func duplicateNamesAreRefused() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: SafeTensorsError.self) {
            try SafeTensorsWriter.write(Self.tensors + [Self.tensors[0]], to: directory.appendingPathComponent("x.safetensors"))
        }
    }

    /// What a process killed with SIGKILL left under a temporary name is removed by the next run,
    /// and only that: a live process's temporary, other names and directories holding other
    /// files are left alone.
    @Test func staleTemporariesAreRemoved() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let destination = directory.appendingPathComponent("out.safetensors").path
        // A PID that is not running: one past the kernel's maximum.
        let deadPID = Int32((try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 4_194_304) + 1
        let stale = PartialOutputs.partialPath(for: destination, pid: deadPID)
        let live = PartialOutputs.partialPath(for: destination, pid: getppid())
        let staleDirectory = PartialOutputs.partialPath(for: directory.appendingPathComponent("adapter").path, pid: deadPID)
        try Data("x".utf8).write(to: URL(fileURLWithPath: stale))
        try Data("x".utf8).write(to: URL(fileURLWithPath: live))
        try Data("x".utf8).write(to: directory.appendingPathComponent("notes.txt"))
        try FileManager.default.createDirectory(atPath: staleDirectory, withIntermediateDirectories: false)
        try Data("x".utf8).write(to: URL(fileURLWithPath: staleDirectory).appendingPathComponent("mine.bin"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: staleDirectory).appendingPathComponent("theirs.txt"))
        let first = PartialOutputs.removeStale(for: destination)
        #expect(first.removed == [stale])
        #expect(FileManager.default.fileExists(atPath: live) && FileManager.default.fileExists(atPath: directory.appendingPathComponent("notes.txt").path))
        let second = PartialOutputs.removeStale(for: directory.appendingPathComponent("adapter").path, allowedContents: ["mine.bin"])
        #expect(second.removed.isEmpty && second.kept == [staleDirectory])
        try FileManager.default.removeItem(at: URL(fileURLWithPath: staleDirectory).appendingPathComponent("theirs.txt"))
        #expect(PartialOutputs.removeStale(for: directory.appendingPathComponent("adapter").path, allowedContents: ["mine.bin"]).removed == [staleDirectory])
    }
}
