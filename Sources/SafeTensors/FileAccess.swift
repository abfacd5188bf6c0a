import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a path names, after following symbolic links, as `stat` sees it.
public enum PathKind: Equatable, Sendable {
    case regularFile(size: Int)
    case directory
    /// Nothing there (`ENOENT`).
    case missing
    /// Something else (a FIFO, a device, a socket), described in words.
    case special(String)
}

/// Files opened for reading the way a command-line tool must: a FIFO or a device named by mistake
/// is refused at once instead of blocking or reading forever, and a failure is described in words
/// (a symbolic link loop is not "no such file").
public enum FileAccess {
    /// What `path` is (symbolic links followed).
    /// - Throws: `SafeTensorsError` when `stat` fails for any reason but a missing file (a loop of
    ///   symbolic links, permission denied, a path component that is not a directory).
    public static func kind(of path: String) throws -> PathKind {
        var status = stat()
        if stat(path, &status) != 0 {
            let code = errno
            if code == ENOENT { return .missing }
            throw SafeTensorsError(path: path, describe(errno: code))
        }
        return kind(of: status)
    }

    static func kind(of status: stat) -> PathKind {
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .regularFile(size: Int(status.st_size))
        case S_IFDIR: return .directory
        case S_IFIFO: return .special("a FIFO (named pipe), not a regular file")
        case S_IFCHR: return .special("a character device, not a regular file")
        case S_IFBLK: return .special("a block device, not a regular file")
        case S_IFSOCK: return .special("a socket, not a regular file")
        default: return .special("not a regular file")
        }
    }

    /// Opens `path` read-only, refusing anything but a regular file.
    ///
    /// `stat` first (a FIFO is refused before any `open`, which would block until a writer came),
    /// then `open` with `O_NONBLOCK` and `fstat` on the descriptor, so that a file replaced by a
    /// FIFO between the two is refused too.
    /// - Returns: the descriptor (close it) and the file's size.
    public static func openRegularFile(_ path: String) throws -> (descriptor: Int32, size: Int) {
        switch try kind(of: path) {
        case .regularFile: break
        case .missing: throw SafeTensorsError(path: path, "no such file or directory")
        case .directory: throw SafeTensorsError(path: path, "is a directory, not a file")
        case .special(let what): throw SafeTensorsError(path: path, "is \(what)")
        }
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw SafeTensorsError(path: path, "cannot open: \(describe(errno: errno))") }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw SafeTensorsError(path: path, "cannot stat: \(describe(errno: code))")
        }
        guard case .regularFile(let size) = kind(of: status) else {
            close(descriptor)
            throw SafeTensorsError(path: path, "is not a regular file")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return (descriptor, size)
    }

    /// The whole contents of a small regular file (a JSON config or index), at most `limit` bytes.
    public static func readRegularFile(_ path: String, limit: Int = 100_000_000) throws -> [UInt8] {
        let (descriptor, size) = try openRegularFile(path)
        defer { close(descriptor) }
        guard size <= limit else { throw SafeTensorsError(path: path, "is \(size) bytes, more than the \(limit) accepted for this file") }
        var bytes = [UInt8](repeating: 0, count: size)
        try bytes.withUnsafeMutableBytes { try readFully(descriptor, into: $0, at: 0, path: path) }
        return bytes
    }

    /// Fills `buffer` from `descriptor` at `offset` with `pread`, retrying short reads.
    /// - Throws: `SafeTensorsError` if the file ends early or the read fails.
    public static func readFully(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, path: String) throws {
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw SafeTensorsError(path: path, "read failed at byte \(offset + done): \(describe(errno: errno))")
            }
            if got == 0 { throw SafeTensorsError(path: path, "file ended at byte \(offset + done), \(buffer.count - done) bytes early (changed while being read?)") }
            done += got
        }
    }

    /// `errno` in words a user can act on.
    public static func describe(errno code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file or directory"
        case ELOOP: return "a loop of symbolic links (too many levels of symbolic links)"
        case EACCES, EPERM: return "permission denied"
        case ENOTDIR: return "a component of the path is not a directory"
        case EROFS: return "on a read-only file system"
        case ENOSPC: return "no space left on the device"
        case EDQUOT: return "disk quota exceeded"
        case ENAMETOOLONG: return "the path is too long"
        case EEXIST: return "already exists"
        case EISDIR: return "is a directory"
        case EXDEV: return "on another file system"
        default: return String(cString: strerror(code))
        }
    }
}
