import Foundation
import Synchronization
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
        return registry.withLock { slots in
            guard let index = (0..<capacity).first(where: { slots[$0] == 0 }) else {
                fatalError("PartialOutputs: more than \(capacity) temporary paths registered at once")
            }
            // Allocated once and never freed: the handler may be reading it at any moment.
            let text = strdup(path)!
            slots[index] = Int(bitPattern: text) | (isDirectory ? 1 << 62 : 0)
            publishedSlots[index] = slots[index]
            return index
        }
    }

    /// Forgets a registration (the path was renamed into place or removed).
    public static func unregister(_ token: Int) {
        registry.withLock { slots in
            slots[token] = 0
            publishedSlots[token] = 0
        }
    }

    private static let capacity = 64
    private static let registry = Mutex<[Int]>([Int](repeating: 0, count: 64))
    /// What the signal handler reads (it cannot take a lock): word-sized, aligned stores, each a
    /// pointer to a never-freed C string with bit 62 marking a directory, or 0.
    nonisolated(unsafe) private static let publishedSlots: UnsafeMutablePointer<Int> = {
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        slots.initialize(repeating: 0, count: 64)
        return slots
    }()

    private static let installHandlers: Void = {
        _ = publishedSlots
        for signalNumber in [SIGINT, SIGTERM] {
            // A process started with the signal ignored (nohup, a background job) keeps ignoring it.
            let previous = signal(signalNumber, SIG_IGN)
            if unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            signal(signalNumber) { received in
                // Only async-signal-safe calls: unlink, rmdir, signal, raise.
                for pass in 0..<2 {
                    for index in 0..<64 {
                        let word = PartialOutputs.publishedSlots[index]
                        if word == 0 { continue }
                        let isDirectory = word & (1 << 62) != 0
                        guard let text = UnsafePointer<CChar>(bitPattern: word & ~(1 << 62)) else { continue }
                        if pass == 0 && !isDirectory { unlink(text) }
                        if pass == 1 && isDirectory { rmdir(text) }
                    }
                }
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }()
}
