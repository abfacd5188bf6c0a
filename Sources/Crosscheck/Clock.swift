import Synchronization
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Monotonic time in nanoseconds, from Dispatch's clock (`CLOCK_MONOTONIC` on Linux).
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    DispatchTime.now().uptimeNanoseconds
}

/// A sink the optimizer cannot see through: passing a kernel's output here keeps the work that
/// produced it from being removed as dead.
public enum BlackHole {
    /// Atomic, so that threads may consume at once; relaxed, because timing loops call this once
    /// per kernel call and a lock there would add to every measured time.
    private static let sink = Atomic<UInt64>(0)

    @inline(never)
    public static func consume<T: BinaryFloatingPoint>(_ value: T) {
        sink.wrappingAdd(Double(value).bitPattern, ordering: .relaxed)
    }

    @inline(never)
    public static func consume<T: BinaryFloatingPoint>(_ buffer: UnsafeBufferPointer<T>) {
        guard let first = buffer.first, let last = buffer.last else { return }
        consume(first + last)
    }
}

extension BlackHole {
    /// Keeps any value alive past this call, so that the work that produced it counts as used.
    @inline(never) @_optimize(none)
    public static func keep<T>(_ value: T) {
        withExtendedLifetime(value) {}
    }
}

/// Waits until no other thread of the process is running or waiting to run, or `limit`
/// seconds have passed: what the runner does before each timing sample, so that threads still
/// spinning after the previous variant's call (OpenBLAS's workers spin for up to ~0.1 s before
/// they sleep) do not share the cores with the variant being timed. It reads each thread's
/// state in `/proc/self/task` (CPU-time clocks would not do: the kernel adds a running thread's
/// time on another core only at its scheduler ticks, 4 ms apart here).
func waitForQuietProcess(limit: Double = 0.25) {
    let deadline = monotonicNanoseconds() + UInt64(max(0, limit) * 1e9)
    while otherThreadsRunning() && monotonicNanoseconds() < deadline { usleep(500) }
}

/// Whether a thread of this process other than the caller is in state R (running or runnable).
func otherThreadsRunning() -> Bool {
    // "/proc/thread-self" links to "PID/task/TID".
    var link = [CChar](repeating: 0, count: 64)
    let length = readlink("/proc/thread-self", &link, link.count - 1)
    // Without it the caller could not be told from the others: report no other thread running
    // rather than wait every time to the limit.
    guard length > 0, let me = Int(String(cString: link).split(separator: "/").last ?? "") else { return false }
    guard let directory = opendir("/proc/self/task") else { return false }
    defer { closedir(directory) }
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let tid = Int(name), tid != me else { continue }
        let descriptor = open("/proc/self/task/\(tid)/stat", O_RDONLY)
        if descriptor < 0 { continue }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = read(descriptor, &buffer, buffer.count)
        close(descriptor)
        // "tid (name) S ...": the state follows the last ')'.
        guard count > 0, let nameEnd = buffer[..<count].lastIndex(of: UInt8(ascii: ")")), nameEnd + 2 < count else { continue }
        if buffer[nameEnd + 2] == UInt8(ascii: "R") { return true }
    }
    return false
}
