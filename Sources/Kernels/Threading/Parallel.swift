import Dispatch

/// The one place where kernels start threads. Every family (GEMM, convolution, solvers,
/// upsampling, the algorithm kernels) splits its work with `parallelFor` and `share`, so that a
/// change of thread pool is made here once.
///
/// Today the parts run on Dispatch's global pool (`concurrentPerform`); waking a worker costs
/// tens of microseconds on this machine, which is why the callers give each thread a minimum
/// amount of work before they ask for a second one.

/// Runs `body(part)` for every `part` in `0..<parts`, concurrently when `parts > 1`, and returns
/// when all have finished. `parts == 1` runs on the calling thread with no synchronization.
///
/// - Complexity: the bodies' work, plus one wake-up per extra part.
@inline(__always)
public func parallelFor(_ parts: Int, _ body: (Int) -> Void) {
    if parts <= 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: body) }
}

/// The `part`-th of `parts` nearly equal contiguous shares of `count` items, as a half-open
/// range `(first, end)`: shares differ in size by at most one, larger shares first, and together
/// they cover `0..<count` exactly once. O(1).
@inline(__always)
public func share(of count: Int, part: Int, parts: Int) -> (Int, Int) {
    let base = count / parts, extra = count % parts
    let first = part * base + min(part, extra)
    return (first, first + base + (part < extra ? 1 : 0))
}
