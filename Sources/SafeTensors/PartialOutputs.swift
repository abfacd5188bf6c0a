import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Outputs under construction: the temporary names a process writes before renaming into place,
/// removed when the process is interrupted (SIGINT, SIGTERM) and, after a SIGKILL that nothing
/// can catch, by the next run.
///
/// Every temporary name is `.<final name>.crosscheck-partial-<pid>` in the final name's directory:
/// hidden, tied to one output and one process, and unlike any name a user would choose, so that
/// removing one can never touch a user's file.
public enum PartialOutputs {
    /// The temporary name for `destination` owned by this process.
    public static func partialPath(for destination: String) -> String {
        partialPath(for: destination, pid: getpid())
    }

    static func partialPath(for destination: String, pid: Int32) -> String {
        let url = URL(fileURLWithPath: destination)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent)\(marker)\(pid)").path
    }

    static let marker = ".crosscheck-partial-"

    /// Removes what interrupted runs left for `destination`: files named
    /// `.<name>.crosscheck-partial-<pid>` whose process no longer exists, and directories of that
    /// name that hold only files named in `allowedContents` (a directory holding anything else is
    /// left alone and reported).
    /// - Returns: the paths removed, and the ones left because they hold other files.
    @discardableResult
    public static func removeStale(for destination: String, allowedContents: Set<String> = []) -> (removed: [String], kept: [String]) {
        let url = URL(fileURLWithPath: destination)
        let directory = url.deletingLastPathComponent().path
        let prefix = ".\(url.lastPathComponent)\(marker)"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return ([], []) }
        var removed: [String] = [], kept: [String] = []
        for entry in entries where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno != ESRCH { continue }  // still running (or not ours to judge)
            let path = directory + "/" + entry
            var status = stat()
            guard lstat(path, &status) == 0 else { continue }
            switch status.st_mode & S_IFMT {
            case S_IFREG:
                if unlink(path) == 0 { removed.append(path) }
            case S_IFDIR:
                let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                guard Set(contents).isSubset(of: allowedContents) else { kept.append(path); continue }
                for name in contents { unlink(path + "/" + name) }
                if rmdir(path) == 0 { removed.append(path) }
            default:
                kept.append(path)
            }
        }
        return (removed, kept)
    }

    // MARK: removal on SIGINT and SIGTERM

    /// Registers `path` (a file, or a directory whose files are registered before it) to be
    /// removed if the process receives SIGINT or SIGTERM before `unregister`. Installs the
    /// handlers on first use. Files are removed before directories.
    /// - Returns: a token for `unregister`.
    public static func register(_ path: String, isDirectory: Bool = false) -> Int {
        installHandlers
        let bytes = Array(path.utf8)
        if bytes.count >= pathCapacity || bytes.contains(0) { fatalError("PartialOutputs: path too long or with a NUL byte: \(path)") }
        return registry.withLock { used in
            guard let index = (0..<capacity).first(where: { !used[$0] }) else {
                fatalError("PartialOutputs: more than \(capacity) temporary paths registered at once")
            }
            used[index] = true
            let slot = paths + index * pathCapacity
            bytes.withUnsafeBufferPointer { source in
                UnsafeMutableRawPointer(slot).copyMemory(from: source.baseAddress!, byteCount: source.count)
            }
            slot[bytes.count] = 0
            // Published last: the handler reads only slots whose kind is set.
            kinds[index] = isDirectory ? 2 : 1
            return index
        }
    }

    /// Forgets a registration (the path was renamed into place or removed).
    public static func unregister(_ token: Int) {
        registry.withLock { used in
            kinds[token] = 0
            used[token] = false
        }
    }

    private static let capacity = 64
    private static let pathCapacity = Int(PATH_MAX)
    private static let registry = Locked<[Bool]>([Bool](repeating: false, count: 64))
    /// What the signal handler reads (it cannot take a lock or allocate): one fixed buffer of
    /// `capacity` NUL-terminated paths, allocated once for the life of the process, and each
    /// slot's kind (0 free, 1 file, 2 directory), stored after its path.
    nonisolated(unsafe) private static let paths: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: 64 * Int(PATH_MAX))
        buffer.initialize(repeating: 0, count: 64 * Int(PATH_MAX))
        return buffer
    }()
    nonisolated(unsafe) private static let kinds: UnsafeMutablePointer<Int> = {
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        slots.initialize(repeating: 0, count: 64)
        return slots
    }()

    private static let installHandlers: Void = {
        _ = (paths, kinds)
        for signalNumber in [SIGINT, SIGTERM] {
            // A process started with the signal ignored (nohup, a background job) keeps ignoring it.
            let previous = signal(signalNumber, SIG_IGN)
            if unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            signal(signalNumber) { received in
                // Only async-signal-safe calls: unlink, rmdir, signal, raise.
                for pass in 1...2 {
                    for index in 0..<64 where PartialOutputs.kinds[index] == pass {
                        let path = PartialOutputs.paths + index * Int(PATH_MAX)
                        if pass == 1 { unlink(path) } else { rmdir(path) }
                    }
                }
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }()
}
