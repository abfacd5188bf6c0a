import Foundation

/// The machine and build a report was made on, written as JSON beside the CSV.
public struct RunContext: Codable, Sendable {
    public var cpuModel: String
    public var logicalCores: Int
    public var swiftVersion: String
    public var buildConfiguration: String
    public var buildFlags: String
    public var gitCommit: String?
    public var gitDirty: Bool?
    public var timestamp: String
    public var command: [String]
    public var options: [String: String]
    /// Facts the run's families add, for example OpenBLAS's core name and configuration.
    public var libraries: [String: String]
    public var peak: MachinePeak?

    /// Gathers what can be read off this process and machine. `libraries` and `options` come
    /// from the caller.
    public static func current(options: [String: String], libraries: [String: String], peak: MachinePeak?) -> RunContext {
        #if DEBUG
        let configuration = "debug (kernels still built with the optimization flags below)"
        #else
        let configuration = "release"
        #endif
        let cpu = ProcessInfo.processInfo.environment["CROSSCHECK_CPU"] ?? "native"
        let commit = shell("git", "rev-parse", "HEAD")
        let dirty = commit == nil ? nil : !(shell("git", "status", "--porcelain", "--untracked-files=no") ?? "").isEmpty
        return RunContext(
            cpuModel: cpuModelName(),
            logicalCores: ProcessInfo.processInfo.activeProcessorCount,
            swiftVersion: shell("swift", "--version")?.split(separator: "\n").first.map(String.init) ?? "unknown",
            buildConfiguration: configuration,
            buildFlags: "kernels: -Ounchecked -wmo -target-cpu \(cpu); harness, suites, parsers: -O -wmo -target-cpu \(cpu)",
            gitCommit: commit, gitDirty: dirty,
            timestamp: ISO8601DateFormatter().string(from: Date()),
            command: CommandLine.arguments, options: options, libraries: libraries, peak: peak)
    }

    /// The context as pretty JSON with sorted keys.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    static func cpuModelName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    /// Runs a command found on PATH; its trimmed standard output, or nil if it failed.
    static func shell(_ arguments: String...) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
