import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Output that loses nothing and touches nothing else (DESIGN.md): the path is checked before the
// work starts; only a regular file, or a new path in an existing directory, is accepted; a
// symbolic link to a regular file is followed (the file it points to is replaced, the link
// kept); the text goes to a temporary file created exclusively beside the target and is renamed
// over it once complete.

/// The file that `path` names once symbolic links are followed, if it is a regular file or does
/// not exist yet (in an existing directory).
///
/// - Throws: `RFError` naming the path for a directory, FIFO, device or socket, a symbolic link to
///   one (or to nothing), or a missing directory.
func checkedOutputPath(_ path: String) throws -> URL {
    var info = stat()
    guard lstat(path, &info) == 0 else {
        guard errno == ENOENT else { throw RFError("--csv \(path): \(String(cString: strerror(errno)))") }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RFError("--csv \(path): the directory \(directory) does not exist")
        }
        return URL(fileURLWithPath: path)
    }
    var target = path
    if info.st_mode & S_IFMT == S_IFLNK {
        guard let resolved = realpath(path, nil) else { throw RFError("--csv \(path): a symbolic link to a missing file") }
        target = String(cString: resolved)
        free(resolved)
        guard stat(target, &info) == 0 else { throw RFError("--csv \(path): \(String(cString: strerror(errno)))") }
    }
    let kind: String
    switch info.st_mode & S_IFMT {
    case S_IFREG: return URL(fileURLWithPath: target)
    case S_IFDIR: kind = "a directory"
    case S_IFIFO: kind = "a FIFO"
    case S_IFCHR, S_IFBLK: kind = "a device"
    case S_IFSOCK: kind = "a socket"
    default: kind = "not a regular file"
    }
    throw RFError("--csv \(path): \(target == path ? "is" : "links to") \(kind); give a new path or a regular file")
}

/// Writes `text` to `target` (from `checkedOutputPath`) through a temporary file created
/// exclusively in the same directory and renamed over it; an existing file keeps its permissions.
/// The temporary file is removed if anything fails; `given` is the path as the user wrote it.
///
/// - Throws: `RFError` naming `given` and the reason.
func writeReplacing(_ target: URL, as given: String, text: String) throws {
    let temporary = target.deletingLastPathComponent()
        .appendingPathComponent(".\(target.lastPathComponent).rf-\(getpid()).partial").path
    var existing = stat()
    let mode = stat(target.path, &existing) == 0 ? existing.st_mode & 0o7777 : 0o644
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode)
    guard descriptor >= 0 else { throw RFError("cannot write --csv \(given): \(String(cString: strerror(errno)))") }
    let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
    do {
        _ = fchmod(descriptor, mode)   // open() applies the umask; keep the replaced file's mode
        try handle.write(contentsOf: Data(text.utf8))
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, target.path) == 0 else { throw RFError(String(cString: strerror(errno))) }
    } catch {
        try? handle.close()
        unlink(temporary)
        throw RFError("cannot write --csv \(given): \(error)")
    }
}
