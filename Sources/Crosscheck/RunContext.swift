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
    /// /proc/loadavg's 1, 5 and 15-minute load averages when the run started and ended: other
    /// work on the machine makes every figure of the run less trustworthy.
    public var loadAverageAtStart: [Double]?
    public var loadAverageAtEnd: [Double]?
    /// Each CPU's clock in MHz when the run started, where /proc/cpuinfo tells it.
    public var cpuMHz: [Double]?
    /// The environment variables that change what the kernels or the libraries do
    /// (`CROSSCHECK_*`, `OPENBLAS_*`, `BLIS_*`, `OMP_*`), as the run saw them.
    public var environment: [String: String]?
    /// Every timed row's samples (ns per call), by `kernel/variant/dtype/shape/threads`: what
    /// `compare` tests and bootstraps from. Written when the run ends.
    public var samples: [String: [Double]]?

    /// Gathers what can be read off this process and machine. `libraries` and `options` come
    /// from the caller.
    public static func current(options: [String: String], libraries: [String: String], peak: MachinePeak?,
                               buildFlags: String = "not stated") -> RunContext {
        #if DEBUG
        let configuration = "debug (the harness; see the build flags for the kernels)"
        #else
        let configuration = "release"
        #endif
        let commit = shell("git", "rev-parse", "HEAD")
        let dirty = commit == nil ? nil : !(shell("git", "status", "--porcelain", "--untracked-files=no") ?? "").isEmpty
        return RunContext(
            cpuModel: cpuModelName(),
            logicalCores: ProcessInfo.processInfo.activeProcessorCount,
            swiftVersion: shell("swift", "--version")?.split(separator: "\n").first.map(String.init) ?? "unknown",
            buildConfiguration: configuration,
            buildFlags: buildFlags,
            gitCommit: commit, gitDirty: dirty,
            timestamp: ISO8601DateFormatter().string(from: Date()),
            command: CommandLine.arguments, options: options, libraries: libraries, peak: peak,
            loadAverageAtStart: loadAverage(), loadAverageAtEnd: nil, cpuMHz: cpuClocks(),
            environment: relevantEnvironment(), samples: nil)
    }

    /// The variables of this process's environment that `environment` keeps.
    static func relevantEnvironment() -> [String: String] {
        ProcessInfo.processInfo.environment.filter { name, _ in
            ["CROSSCHECK_", "OPENBLAS_", "BLIS_", "OMP_"].contains { name.hasPrefix($0) }
        }
    }

    /// The context as pretty JSON with sorted keys.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The 1, 5 and 15-minute load averages, if /proc/loadavg can be read.
    public static func loadAverage() -> [Double]? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        let values = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        return values.count == 3 ? values : nil
    }

    static func cpuClocks() -> [Double]? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        let clocks = text.split(separator: "\n").filter { $0.hasPrefix("cpu MHz") }.compactMap { line in
            line.split(separator: ":").last.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }
        return clocks.isEmpty ? nil : clocks
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
