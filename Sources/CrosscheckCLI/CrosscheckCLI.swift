import ArgumentParser
@_exported import Crosscheck
import Foundation

/// The command line every Crosscheck executable shares: `bench` is this entry point called with
/// the project's own families, and a user's package gets the same commands, options, reports and
/// checks for its families with an executable of a few lines:
///
///     // main.swift (CrosscheckCLI re-exports Crosscheck)
///     import CrosscheckCLI
///
///     CrosscheckCLI.main(families: [mySoftmax, myStencil],
///                        buildFlags: "softmax: -Ounchecked -target-cpu native")
///
/// Exit status: 0 when every row passed (or was verified, skipped, or failed as expected);
/// 1 when a variant failed verification (or, comparing, a row's verification regressed); 2 when
/// a comparison found a speed regression; 64 for a usage error (nothing was run); 74 when a
/// report file could not be written.
public enum CrosscheckCLI {
    nonisolated(unsafe) static var families: [Family] = []
    nonisolated(unsafe) static var commandName = "bench"
    nonisolated(unsafe) static var buildFlags = "not stated"

    /// Parses the process's arguments and runs the command on `families`; does not return.
    ///
    /// - Parameters:
    ///   - commandName: the name in help and usage text, and the stem of default report names
    ///     (default: the executable's file name).
    ///   - buildFlags: how the kernels were compiled, for the context file (the harness cannot
    ///     read another module's flags). Time kernels built with optimization: `swift run -c
    ///     release`, or `swiftSettings: [.unsafeFlags(["-Ounchecked", "-wmo", "-target-cpu",
    ///     "native"])]` on the kernels' target so that debug builds are optimized too.
    public static func main(commandName: String? = nil, families: [Family], buildFlags: String? = nil) -> Never {
        var names = Set<String>()
        for family in families where !names.insert(family.name).inserted {
            fatalError("two families are named \(family.name)")
        }
        Self.families = families
        Self.commandName = commandName ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "bench").lastPathComponent
        Self.buildFlags = buildFlags ?? "not stated by \(Self.commandName)"
        Root.main()
        exit(0)
    }

    /// Exit statuses, distinct so that a CI script can tell them apart.
    public enum Status {
        public static let verificationFailed: Int32 = 1
        /// `compare` (or `run --baseline`): a row got slower beyond the threshold, significantly.
        public static let regression: Int32 = 2
        public static let usage: Int32 = 64
        public static let writeFailed: Int32 = 74
    }
}

struct Root: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: CrosscheckCLI.commandName,
            abstract: "Verify every kernel variant against its reference, then time it; write a CSV report.",
            discussion: """
                Each case computes its reference once, checks every variant against it under the \
                family's error model, and times only the variants that pass. A failing variant is \
                reported with status=fail and the run exits 1 at the end; a usage error exits 64 \
                before anything runs; a report that cannot be written exits 74; a comparison that \
                finds a speed regression exits 2. The default command is 'run': its options \
                (--filter, --sizes, --threads, --dtype, --csv, ...) are listed by '\(CrosscheckCLI.commandName) run --help'.
                """,
            subcommands: [RunCommand.self, ListCommand.self, PeakCommand.self, CompareCommand.self, ReportCommand.self],
            defaultSubcommand: RunCommand.self)
    }
}

/// Prints to standard error: progress and warnings (the table goes to standard output).
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
