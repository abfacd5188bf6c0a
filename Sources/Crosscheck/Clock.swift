import Foundation
import Dispatch

/// Monotonic time in nanoseconds, from Dispatch's clock (`CLOCK_MONOTONIC` on Linux).
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    DispatchTime.now().uptimeNanoseconds
}

/// A sink the optimizer cannot see through: passing a kernel's output here keeps the work that
/// produced it from being removed as dead.
public enum BlackHole {
    nonisolated(unsafe) private static var sink: UInt64 = 0
    private static let lock = NSLock()

    @inline(never)
    public static func consume<T: BinaryFloatingPoint>(_ value: T) {
        lock.lock()
        sink &+= Double(value).bitPattern
        lock.unlock()
    }

    @inline(never)
    public static func consume<T: BinaryFloatingPoint>(_ buffer: UnsafeBufferPointer<T>) {
        guard let first = buffer.first, let last = buffer.last else { return }
        consume(first + last)
    }
}
