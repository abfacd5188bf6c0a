import Foundation
import SafeTensors
#if canImport(Glibc)
import Glibc
#endif

/// Where a command's output goes, checked before any work: it must not be, contain or lie inside
/// an input (after resolving symbolic links), an existing output is replaced only with `force`
/// and only if it is something this tool wrote, and its directory must be writable.
///
/// An adapter directory written by this tool carries the marker file `.crosscheck-lora` listing
/// the files written; `--force` replaces such a directory only if it holds nothing else, so a
/// directory of the user's (a model directory, one holding notes) is never removed.
public struct OutputLocation: Sendable {
    public enum Kind: Sendable { case adapterDirectory, file }

    /// The path as given.
    public let path: String
    public let kind: Kind
    /// Whether something is there now (and will be replaced).
    public let exists: Bool

    /// The marker file of an adapter directory written by this tool.
    public static let markerFile = ".crosscheck-lora"

    /// Every file an adapter directory written by this tool may hold.
    public static let adapterFiles: Set<String> = [PEFTAdapter.weightsFile, PEFTAdapter.configFile, ExtractionReport.fileName, ResizeReport.fileName, markerFile]

    /// Checks `path` as the output for `inputs` (files or directories the command reads).
    /// Creates missing parent directories once every other check has passed.
    /// - Throws: `AdapterError.outputOverlapsInput`, `.outputExists`, `.outputNotReplaceable` or
    ///   `.outputUnwritable`.
    public static func check(_ path: String, kind: Kind, inputs: [String], force: Bool) throws -> OutputLocation {
        guard !path.isEmpty else { throw AdapterError.outputUnwritable(path, reason: "the path is empty") }
        let resolvedOutput = try resolve(path)
        for input in inputs {
            let resolvedInput: String
            do { resolvedInput = try resolve(input) } catch { continue }  // unreadable inputs fail later, by name
            if resolvedOutput == resolvedInput {
                throw AdapterError.outputOverlapsInput(output: path, input: input, relation: .same)
            }
            if resolvedInput.hasPrefix(resolvedOutput == "/" ? "/" : resolvedOutput + "/") {
                throw AdapterError.outputOverlapsInput(output: path, input: input, relation: .outputContainsInput)
            }
            if resolvedOutput.hasPrefix(resolvedInput == "/" ? "/" : resolvedInput + "/") {
                throw AdapterError.outputOverlapsInput(output: path, input: input, relation: .outputInsideInput)
            }
        }
        var status = stat()
        let exists = lstat(path, &status) == 0
        if exists {
            guard force else { throw AdapterError.outputExists(path) }
            switch (kind, status.st_mode & S_IFMT) {
            case (_, S_IFLNK):
                throw AdapterError.outputNotReplaceable(path, reason: "is a symbolic link")
            case (.file, S_IFREG):
                break
            case (.file, _):
                throw AdapterError.outputNotReplaceable(path, reason: "is not a regular file")
            case (.adapterDirectory, S_IFDIR):
                try checkOwnAdapterDirectory(path)
            case (.adapterDirectory, _):
                throw AdapterError.outputNotReplaceable(path, reason: "is not a directory")
            }
        } else if errno != ENOENT {
            throw AdapterError.outputUnwritable(path, reason: FileAccess.describe(errno: errno))
        }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw AdapterError.outputUnwritable(path, reason: "cannot create its directory \(parent): \(describe(error))")
        }
        guard access(parent, W_OK | X_OK) == 0 else {
            throw AdapterError.outputUnwritable(path, reason: "its directory \(parent): \(FileAccess.describe(errno: errno))")
        }
        return OutputLocation(path: path, kind: kind, exists: exists)
    }

    /// An existing adapter directory may be replaced only if this tool wrote it (the marker is
    /// there) and it holds nothing but the files this tool writes.
    static func checkOwnAdapterDirectory(_ path: String) throws {
        let contents: [String]
        do { contents = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw AdapterError.outputNotReplaceable(path, reason: "cannot list it (\(describe(error)))")
        }
        guard contents.contains(markerFile) else {
            throw AdapterError.outputNotReplaceable(path, reason: "is not an adapter directory written by lora (it has no \(markerFile) marker)")
        }
        let foreign = contents.filter { !adapterFiles.contains($0) }.sorted()
        guard foreign.isEmpty else {
            throw AdapterError.outputNotReplaceable(path, reason: "holds files lora did not write (\(foreign.prefix(5).joined(separator: ", "))\(foreign.count > 5 ? ", …" : ""))")
        }
    }

    /// The absolute path with every symbolic link resolved: `realpath` of the longest existing
    /// prefix, then the remaining components as written.
    static func resolve(_ path: String) throws -> String {
        let absolute = URL(fileURLWithPath: path).standardized.path
        var existing = absolute, rest: [String] = []
        while true {
            if let resolved = realpath(existing, nil) {
                defer { free(resolved) }
                let base = String(cString: resolved)
                return rest.isEmpty ? base : (base == "/" ? "" : base) + "/" + rest.reversed().joined(separator: "/")
            }
            let code = errno
            if code != ENOENT { throw AdapterError.outputUnwritable(path, reason: FileAccess.describe(errno: code)) }
            let url = URL(fileURLWithPath: existing)
            rest.append(url.lastPathComponent)
            existing = url.deletingLastPathComponent().path
        }
    }

    private static func describe(_ error: Error) -> String {
        if let posix = error as? CocoaError, let underlying = posix.userInfo[NSUnderlyingErrorKey] as? NSError {
            return FileAccess.describe(errno: Int32(underlying.code))
        }
        return error.localizedDescription
    }
}

/// A directory being written beside its final location, under a temporary name that is removed
/// on SIGINT or SIGTERM (and by the next run after a SIGKILL), then renamed into place.
///
/// Created before the work starts, so that an unwritable output fails at once.
public final class PendingDirectory {
    public let location: OutputLocation
    /// Where the files go until `commit`.
    public let temporary: URL
    private var tokens: [Int] = []
    private var committed = false

    /// Creates the temporary directory, registering `files` (the names to be written inside it)
    /// for removal on interruption. Stale temporaries of earlier interrupted runs are removed.
    public init(_ location: OutputLocation, files: Set<String>) throws {
        self.location = location
        PartialOutputs.removeStale(for: location.path, allowedContents: files)
        PendingDirectory.restoreReplaced(location.path)
        temporary = URL(fileURLWithPath: PartialOutputs.partialPath(for: location.path))
        if mkdir(temporary.path, 0o755) != 0 {
            throw AdapterError.outputUnwritable(location.path, reason: "cannot create \(temporary.path): \(FileAccess.describe(errno: errno))")
        }
        for name in files.sorted() { tokens.append(PartialOutputs.register(temporary.appendingPathComponent(name).path)) }
        tokens.append(PartialOutputs.register(temporary.path, isDirectory: true))
        let marker = "This directory was written by `lora` (Crosscheck). `--force` replaces it only while it holds nothing but: \(OutputLocation.adapterFiles.sorted().joined(separator: ", ")).\n"
        do { try Data(marker.utf8).write(to: temporary.appendingPathComponent(OutputLocation.markerFile)) } catch {
            discard()
            throw AdapterError.outputUnwritable(location.path, reason: "cannot write in \(temporary.path): \(error.localizedDescription)")
        }
    }

    deinit { if !committed { discard() } }

    /// Removes the temporary directory and everything in it.
    public func discard() {
        try? FileManager.default.removeItem(at: temporary)
        tokens.forEach(PartialOutputs.unregister)
        tokens = []
    }

    /// Renames the temporary directory to the output. An existing output (checked to be this
    /// tool's) is first renamed aside to `.<name>.crosscheck-replaced-<pid>`, then removed; if the
    /// process dies between the two renames, the next run puts it back.
    public func commit() throws {
        let output = location.path
        let aside = Self.replacedPath(for: output, pid: getpid())
        var status = stat()
        let replacing = lstat(output, &status) == 0
        if replacing {
            try OutputLocation.checkOwnAdapterDirectory(output)
            guard rename(output, aside) == 0 else {
                throw AdapterError.outputUnwritable(output, reason: "cannot move the previous adapter aside: \(FileAccess.describe(errno: errno))")
            }
        }
        guard rename(temporary.path, output) == 0 else {
            let code = errno
            if replacing { rename(aside, output) }
            throw AdapterError.outputUnwritable(output, reason: "cannot rename \(temporary.path) into place: \(FileAccess.describe(errno: code))")
        }
        committed = true
        tokens.forEach(PartialOutputs.unregister)
        tokens = []
        if replacing { try? FileManager.default.removeItem(atPath: aside) }
    }

    static func replacedPath(for output: String, pid: Int32) -> String {
        let url = URL(fileURLWithPath: output)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).crosscheck-replaced-\(pid)").path
    }

    /// After a run died between moving the old adapter aside and renaming the new one in: put the
    /// old one back if the output is missing, else remove it.
    static func restoreReplaced(_ output: String) {
        let url = URL(fileURLWithPath: output)
        let prefix = ".\(url.lastPathComponent).crosscheck-replaced-"
        let directory = url.deletingLastPathComponent().path
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let aside = directory + "/" + entry
            guard (try? OutputLocation.checkOwnAdapterDirectory(aside)) != nil else { continue }
            var status = stat()
            if lstat(output, &status) != 0 { rename(aside, output) } else { try? FileManager.default.removeItem(atPath: aside) }
        }
    }
}
