import Crosscheck
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The files a run writes, checked before the first case runs, and written so that nothing is
/// lost and nothing else is touched:
///
/// - `NAME.csv.partial` receives the header and then each row as soon as it is final (one
///   `write(2)` per row), so a crash or Ctrl-C keeps every row already measured;
/// - at the end it is renamed to `NAME.csv` (atomically replacing an earlier report there, and
///   only a regular file);
/// - the machine context goes to `NAME.context.json.partial` when the run starts and to
///   `NAME.context.json` when it ends (with the samples), a name no report can have, since a CSV
///   path ending in `.json` is refused; so an earlier report and its context stay a matching pair
///   until the new run has finished;
/// - partial files left by an interrupted run are never overwritten: the run refuses to start
///   until they are moved away.
///
/// Paths that are directories, symbolic links, FIFOs, devices or sockets are refused, whichever
/// of the three files they are, and so are files that are inputs of the run (`refuseReplacing`).
public struct ReportFiles {
    /// The report as the user named it.
    public let csv: URL
    public let partial: URL
    public let context: URL
    public let contextPartial: URL

    /// Checks `path` (nil: `results/bench-<UTC time>.csv`) and the two side files' paths.
    public init(path: String?, defaultStem: String = "bench") throws {
        let text = path ?? "results/\(defaultStem)-\(Self.timestamp()).csv"
        if text.isEmpty { throw UsageError("--csv is empty; name a file") }
        if text.hasSuffix("/") { throw UsageError("--csv must name a file, got the directory '\(text)'") }
        let url = URL(fileURLWithPath: text)
        if url.pathExtension.lowercased() == "json" {
            throw UsageError("--csv '\(text)' ends in .json: that name is for the context file; name the CSV NAME.csv")
        }
        let stem = url.pathExtension.lowercased() == "csv" ? url.deletingPathExtension() : url
        // Only the default location is created; a directory the user named must exist (a typo
        // there should not create a tree of directories).
        if path != nil {
            let directory = url.deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
                throw UsageError("--csv '\(text)': the directory '\(directory)' does not exist; create it first")
            }
        }
        csv = url
        partial = URL(fileURLWithPath: url.path + ".partial")
        context = URL(fileURLWithPath: stem.path + ".context.json")
        contextPartial = URL(fileURLWithPath: context.path + ".partial")
        for (file, role) in [(csv, "--csv"), (partial, "the partial report"), (context, "the context file"), (contextPartial, "the partial context")] {
            if let problem = Self.problem(at: file.path) {
                throw UsageError("\(role) '\(file.path)' \(problem); nothing was run")
            }
        }
        for leftover in [partial, contextPartial] where FileManager.default.fileExists(atPath: leftover.path) {
            throw UsageError("'\(leftover.path)' is left from an interrupted run and holds what it measured; move it away (or delete it) first; nothing was run")
        }
    }

    /// Refuses a run whose report files would replace one of its inputs (`--baseline`, a
    /// `--blas`/`--lapack` library): the same file, by device and inode (hard and symbolic links
    /// included), or the same path.
    public func refuseReplacing(_ inputs: [(argument: String, path: String)]) throws {
        for (argument, path) in inputs {
            for file in [csv, partial, context, contextPartial] where Self.sameFile(file.path, path) {
                let role = file == csv ? "--csv '\(file.path)'" : "the run's file '\(file.path)'"
                throw UsageError("\(role) would replace \(argument) '\(path)', an input of this run; write the report elsewhere with --csv; nothing was run")
            }
        }
    }

    static func sameFile(_ a: String, _ b: String) -> Bool {
        if URL(fileURLWithPath: a).standardizedFileURL == URL(fileURLWithPath: b).standardizedFileURL { return true }
        var x = stat(), y = stat()
        return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }

    /// Why a file cannot be (re)placed at `path`, or nil: it must be absent or a regular file.
    static func problem(at path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return errno == ENOENT ? nil : "cannot be examined: \(String(cString: strerror(errno)))" }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "is a directory"
        case S_IFLNK: return "is a symbolic link (reports replace only regular files)"
        case S_IFIFO: return "is a FIFO"
        case S_IFCHR, S_IFBLK: return "is a device"
        case S_IFSOCK: return "is a socket"
        default: return "is not a regular file"
        }
    }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: Date())
    }

    /// Creates the directory and the partial file and writes the header: done before any case
    /// runs, so that an unwritable location fails at once.
    public func open(header: String) throws -> StreamingReport {
        let directory = csv.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportWriteError(path: csv.path, reason: "its directory '\(directory.path)' cannot be created: \(Self.reason(error))")
        }
        let descriptor = Glibc.open(partial.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if descriptor < 0 { throw ReportWriteError(path: partial.path, reason: String(cString: strerror(errno))) }
        let report = StreamingReport(descriptor: descriptor, files: self)
        try report.append(header)
        return report
    }

    /// Writes `data` to `url` through a temporary file in the same directory and a rename.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        if let problem = problem(at: url.path) { throw ReportWriteError(path: url.path, reason: problem) }
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                let reason = String(cString: strerror(errno))
                unlink(temporary.path)
                throw ReportWriteError(path: url.path, reason: reason)
            }
        } catch let error as ReportWriteError {
            throw error
        } catch {
            unlink(temporary.path)
            throw ReportWriteError(path: url.path, reason: reason(error))
        }
    }

    /// A Foundation error in words: its underlying POSIX reason when there is one.
    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let message = strerror(Int32(underlying.code)) {
            return String(cString: message)
        }
        if nsError.domain == NSPOSIXErrorDomain, let message = strerror(Int32(nsError.code)) { return String(cString: message) }
        return nsError.localizedDescription
    }
}

/// A failure to write a report file, naming the path and the reason in words. `bench` exits
/// with status 74 (EX_IOERR).
public struct ReportWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "could not write '\(path)': \(reason)" }
}

/// The partial report, open for appending rows.
public final class StreamingReport {
    let descriptor: Int32
    let files: ReportFiles
    private var closed = false

    init(descriptor: Int32, files: ReportFiles) {
        self.descriptor = descriptor
        self.files = files
    }

    deinit { if !closed { close(descriptor) } }

    /// Appends `text` with one `write(2)`, so that it reaches the file before the next row runs.
    public func append(_ text: String) throws {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw ReportWriteError(path: files.partial.path, reason: String(cString: strerror(errno)))
            }
            offset += written
        }
        bytes.removeAll()
    }

    /// Flushes the partial report to disk and renames it to the report's name.
    public func finish() throws {
        if fsync(descriptor) != 0 { throw ReportWriteError(path: files.partial.path, reason: String(cString: strerror(errno))) }
        close(descriptor)
        closed = true
        if let problem = ReportFiles.problem(at: files.csv.path) {
            throw ReportWriteError(path: files.csv.path, reason: "\(problem) now; the rows are in '\(files.partial.path)'")
        }
        if rename(files.partial.path, files.csv.path) != 0 {
            throw ReportWriteError(path: files.csv.path, reason: "\(String(cString: strerror(errno))); the rows are in '\(files.partial.path)'")
        }
    }
}
