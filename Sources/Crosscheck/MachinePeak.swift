import Dispatch
import Foundation

/// The machine's measured peak: fused-multiply-add throughput and memory bandwidth, per thread
/// count. `pct_peak` in the report is a row's GFLOP/s (or GB/s for memory-bound kernels) over
/// the figure here for the row's dtype and thread count.
public struct MachinePeak: Codable, Sendable, Equatable {
    /// GFLOP/s by dtype (`f32`, `f64`), then by thread count (as a string, for JSON).
    public var gflops: [String: [String: Double]]
    /// STREAM triad GB/s by thread count (24 bytes per element: two reads, one write).
    public var triadGBps: [String: Double]
    public var measuredAt: String

    /// The FMA peak of `dtype` on `threads` threads. More threads than cores cannot add flops, so
    /// beyond the largest thread count measured (the core count) it is that count's figure.
    public func gflops(dtype: String, threads: Int) -> Double? { gflops[dtype]?[String(measuredThreads(threads))] }
    /// Triad bandwidth on `threads` threads, capped like `gflops(dtype:threads:)`.
    public func bandwidth(threads: Int) -> Double? { triadGBps[String(measuredThreads(threads))] }

    /// The largest thread count measured, if `threads` is beyond it; otherwise `threads`.
    func measuredThreads(_ threads: Int) -> Int {
        let largest = triadGBps.keys.compactMap(Int.init).max() ?? threads
        return threads > largest && largest >= ProcessInfo.processInfo.activeProcessorCount ? largest : threads
    }

    /// Measures FMA throughput (best of `repeats`) and triad bandwidth for 1...`maxThreads`
    /// threads. Takes about a second per thread count.
    public static func measure(maxThreads: Int, repeats: Int = 5) -> MachinePeak {
        var gflops: [String: [String: Double]] = ["f32": [:], "f64": [:]]
        var triad: [String: Double] = [:]
        for threads in 1...max(1, maxThreads) {
            gflops["f32"]![String(threads)] = bestOf(repeats) { fmaThroughput(SIMD16<Float>.self, threads: threads) }
            gflops["f64"]![String(threads)] = bestOf(repeats) { fmaThroughput(SIMD8<Double>.self, threads: threads) }
            triad[String(threads)] = triadBandwidth(threads: threads, repeats: repeats)
        }
        return MachinePeak(gflops: gflops, triadGBps: triad, measuredAt: ISO8601DateFormatter().string(from: Date()))
    }

    private static func bestOf(_ n: Int, _ body: () -> Double) -> Double {
        (0..<n).map { _ in body() }.max()!
    }

    /// GFLOP/s of a loop of independent FMAs on `threads` threads. Twelve accumulators cover the
    /// FMA latency (4 cycles) times the number of FMA pipes (2) with room to spare. The operands
    /// are loaded from memory and each accumulator feeds its own FMA (a ← a + a·0): written with
    /// loop-invariant broadcast operands instead, the compiler scalarized the loop and measured a
    /// tenth of the real peak.
    static func fmaThroughput<V: SIMD>(_: V.Type, threads: Int) -> Double where V.Scalar: BinaryFloatingPoint {
        let iterations = 2_000_000
        let start = monotonicNanoseconds()
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let operands = UnsafeMutablePointer<V>.allocate(capacity: 2)
            defer { operands.deallocate() }
            operands[0] = V(repeating: 1)
            operands[1] = V(repeating: 0)
            BlackHole.consume(fmaLoop(iterations, operands))
        }
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        return Double(threads * iterations * 12 * V.scalarCount * 2) / seconds / 1e9
    }

    @inline(never)
    static func fmaLoop<V: SIMD>(_ iterations: Int, _ operands: UnsafePointer<V>) -> V.Scalar where V.Scalar: BinaryFloatingPoint {
        let x = operands[0], y = operands[1]
        var a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x
        for _ in 0..<iterations {
            a0 = a0.addingProduct(a0, y); a1 = a1.addingProduct(a1, y); a2 = a2.addingProduct(a2, y)
            a3 = a3.addingProduct(a3, y); a4 = a4.addingProduct(a4, y); a5 = a5.addingProduct(a5, y)
            a6 = a6.addingProduct(a6, y); a7 = a7.addingProduct(a7, y); a8 = a8.addingProduct(a8, y)
            a9 = a9.addingProduct(a9, y); a10 = a10.addingProduct(a10, y); a11 = a11.addingProduct(a11, y)
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
    }

    /// STREAM-style triad a[i] = b[i] + s·c[i] over arrays far larger than the caches, split
    /// across `threads` threads; best of `repeats`, counting 24 bytes per element.
    static func triadBandwidth(threads: Int, repeats: Int) -> Double {
        let count = 1 << 24
        let a = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
        let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
        let c = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        // First touch on the threads that will use the memory.
        let chunk = (count + threads - 1) / threads
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in (t * chunk)..<min(count, (t + 1) * chunk) { a[i] = 0; b[i] = 1; c[i] = 2 }
        }
        var best = 0.0
        for _ in 0..<repeats {
            let start = monotonicNanoseconds()
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let s = 3.0
                for i in (t * chunk)..<min(count, (t + 1) * chunk) { a[i] = b[i] + s * c[i] }
            }
            let seconds = Double(monotonicNanoseconds() - start) / 1e9
            best = max(best, Double(24 * count) / seconds / 1e9)
        }
        BlackHole.consume(UnsafeBufferPointer(a))
        return best
    }

    /// Reads a peak file written by `save(to:)`.
    public static func load(from url: URL) throws -> MachinePeak {
        try JSONDecoder().decode(MachinePeak.self, from: Data(contentsOf: url))
    }

    /// Writes the peak as JSON, atomically.
    public func save(to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}
