import Foundation

/// A value behind a lock: `withLock` gives exclusive access to it.
///
/// A pthread mutex (Foundation's `NSLock`) rather than the standard library's
/// `Synchronization.Mutex`, measured on purpose: on Linux ThreadSanitizer sees neither the
/// futex-based `Mutex` nor its happens-before edges (a two-thread counter under `Mutex.withLock`
/// is reported as a data race with Swift 6.3), so code guarded by it cannot be checked with
/// `swift test --sanitize=thread`; a pthread mutex is intercepted and checked. The cost, one
/// uncontended lock per call, is immaterial where it is used (once per tensor or file).
public final class Locked<Value>: @unchecked Sendable {
    // The lock first: a zero-sized value (`Locked(())`) shares its address with the property
    // after it, and ThreadSanitizer then reports the unlocked read of `lock` as a race with the
    // locked write of `value`.
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    /// Runs `body` with the value, exclusively.
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
