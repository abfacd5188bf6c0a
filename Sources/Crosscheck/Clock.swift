import Synchronization
import Dispatch

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
