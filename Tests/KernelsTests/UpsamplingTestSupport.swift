@testable import Kernels

/// Shared pieces of the upsampling tests: mode names, layout conversion, and the error ratio.
enum UpsamplingTestSupport {
    static let u = 0x1p-24

    /// The mode a golden file names (`UpsampleMode.description`).
    static func mode(named name: String) -> UpsampleMode {
        let modes: [UpsampleMode] = [.nearest, .nearestExact, .bilinear(alignCorners: false), .bilinear(alignCorners: true),
                                     .bicubic(alignCorners: false), .bicubic(alignCorners: true)]
        guard let mode = modes.first(where: { $0.description == name }) else { fatalError("unknown mode \(name)") }
        return mode
    }

    /// `values` (logical NCHW order) stored in `layout`.
    static func fromNCHW<T>(_ values: [T], shape: ImageShape, layout: ImageLayout) -> [T] {
        var out = values
        forEachElement(shape) { n, c, h, w, index in
            out[shape.offset(n: n, c: c, h: h, w: w, layout: layout)] = values[index]
        }
        return out
    }

    /// `values` stored in `layout`, in logical NCHW order.
    static func toNCHW<T>(_ values: [T], shape: ImageShape, layout: ImageLayout) -> [T] {
        var out = values
        forEachElement(shape) { n, c, h, w, index in
            out[index] = values[shape.offset(n: n, c: c, h: h, w: w, layout: layout)]
        }
        return out
    }

    static func forEachElement(_ shape: ImageShape, _ body: (Int, Int, Int, Int, Int) -> Void) {
        var index = 0
        for n in 0..<shape.batch {
            for c in 0..<shape.channels {
                for h in 0..<shape.height {
                    for w in 0..<shape.width {
                        body(n, c, h, w, index)
                        index += 1
                    }
                }
            }
        }
    }

    /// The reference output and the magnitude Σ|w||x| of each output, in the geometry's layout.
    static func reference(_ input: [Float], _ g: UpsampleGeometry) -> (values: [Double], magnitude: [Double]) {
        var values = [Double](repeating: .nan, count: g.output.count), magnitude = values
        input.withUnsafeBufferPointer { x in
            values.withUnsafeMutableBufferPointer { upsampleReference(x, into: $0, geometry: g) }
            magnitude.withUnsafeMutableBufferPointer { upsampleMagnitude(x, into: $0, geometry: g) }
        }
        return (values, magnitude)
    }

    /// The vectorized kernel's output on `threads` threads, the output buffer first filled with NaN.
    static func upsampled(_ input: [Float], _ g: UpsampleGeometry, threads: Int) -> [Float] {
        var output = [Float](repeating: .nan, count: g.output.count)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { upsample(x, into: $0, geometry: g, threads: threads) }
        }
        return output
    }

    /// The largest |ŷ − y| / (u·magnitude) (0/0 counts as 0; any NaN as infinity) and where.
    static func worstRatio(_ actual: [Double], _ expected: [Double], magnitude: [Double]) -> (ratio: Double, index: Int) {
        var worst = (ratio: 0.0, index: -1)
        for i in expected.indices {
            let error = abs(actual[i] - expected[i])
            let ratio = error.isNaN ? .infinity : (error == 0 ? 0 : error / (u * magnitude[i]))
            if ratio > worst.ratio { worst = (ratio, i) }
        }
        return worst
    }

    /// γ_k / u = k/(1 − k·u).
    static func gammaOverU(_ k: Int) -> Double { Double(k) / (1 - Double(k) * u) }
}
