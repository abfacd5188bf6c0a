import Testing
import SeededRandom
@testable import Kernels

/// The upsampling kernels on seeded inputs: every variant within its error bound of the
/// reference, independent of the thread count, and the argument checks.
@Suite("Upsampling")
struct UpsamplingTests {
    typealias Support = UpsamplingTestSupport

    struct Case: CustomStringConvertible, Sendable {
        let input: ImageShape
        let layout: ImageLayout
        let mode: UpsampleMode
        let scale: (Double, Double)?
        let size: (Int, Int)?
        var description: String { "\(mode) \(layout) \(input) \(scale.map { "×\($0)" } ?? "") \(size.map { "→\($0)" } ?? "")" }

        func geometry() throws -> UpsampleGeometry {
            try UpsampleGeometry(input: input, layout: layout, mode: mode,
                                 size: size.map { ($0.0, $0.1) }, scaleFactor: scale.map { ($0.0, $0.1) })
        }
    }

    static let modes: [UpsampleMode] = [.nearest, .nearestExact, .bilinear(alignCorners: false), .bilinear(alignCorners: true),
                                        .bicubic(alignCorners: false), .bicubic(alignCorners: true)]

    /// Shapes that reach every path: period-2 columns (×2, at least 64 output columns), the
    /// scalar gather, NHWC with channel vectors plus a tail (C = 19) and without (C = 3), odd
    /// sizes, downscaling, one-pixel inputs, and enough rows for three threads.
    static var cases: [Case] {
        var cases: [Case] = []
        for mode in modes {
            for layout in ImageLayout.allCases {
                cases.append(Case(input: ImageShape(batch: 2, channels: 3, height: 11, width: 37), layout: layout, mode: mode, scale: (2, 2), size: nil))
                cases.append(Case(input: ImageShape(batch: 1, channels: 19, height: 6, width: 9), layout: layout, mode: mode, scale: (2, 2), size: nil))
                cases.append(Case(input: ImageShape(batch: 1, channels: 2, height: 7, width: 45), layout: layout, mode: mode, scale: (1.5, 2.7), size: nil))
                cases.append(Case(input: ImageShape(batch: 1, channels: 2, height: 13, width: 50), layout: layout, mode: mode, scale: nil, size: (5, 17)))
                cases.append(Case(input: ImageShape(batch: 3, channels: 1, height: 1, width: 1), layout: layout, mode: mode, scale: nil, size: (3, 70)))
            }
        }
        return cases
    }

    /// Against the reference: exact for nearest modes, within γ_k·Σ|w||x| otherwise; the same
    /// bits on 1, 2 and 3 threads; every output written (the buffer starts as NaN).
    @Test(arguments: cases)
    func variantsAgreeWithReference(testCase: Case) throws {
        let geometry = try testCase.geometry()
        var generator = SeededGenerator(seed: 20261128)
        let x: [Float] = .uniform(count: geometry.input.count, using: &generator)
        let (reference, magnitude) = Support.reference(x, geometry)
        let single = Support.upsampled(x, geometry, threads: 1)
        #expect(single.allSatisfy { $0.isFinite }, "\(testCase): an output was not written")
        #expect(single.contains { $0 != 0 }, "\(testCase): all zeros")
        if geometry.mode.taps == 1 {
            #expect(single.map { Double($0) } == reference, "\(testCase)")
        } else {
            let worst = Support.worstRatio(single.map { Double($0) }, reference, magnitude: magnitude)
            #expect(worst.ratio <= Support.gammaOverU(geometry.mode.roundingsInBound),
                    "\(testCase): err_ratio \(worst.ratio) at \(worst.index)")
        }
        #expect(single == Self.scalarPipeline(x, geometry), "\(testCase): not the kernel's arithmetic")
        for threads in [2, 3] {
            #expect(Support.upsampled(x, geometry, threads: threads) == single, "\(testCase) threads=\(threads)")
        }
    }

    /// The kernel's arithmetic in scalar loops: per row tap, the column blend (the first product,
    /// then fused multiply-adds in tap order), then the row blend in the same way, with the
    /// Float weights. Every path of `upsample` (period-2 columns, gathers, cached rows, channel
    /// vectors) must give exactly these bits.
    static func scalarPipeline(_ x: [Float], _ g: UpsampleGeometry) -> [Float] {
        var y = [Float](repeating: .nan, count: g.output.count)
        let rows = g.rows, columns = g.columns
        Support.forEachElement(g.output) { n, c, h, w, _ in
            func value(_ r: Int, _ t: Int) -> Float {
                x[g.input.offset(n: n, c: c, h: rows.index(h, r), w: columns.index(w, t), layout: g.layout)]
            }
            func columnBlend(_ r: Int) -> Float {
                var sum = columns.taps == 1 ? value(r, 0) : value(r, 0) * columns.floatWeights[w * columns.taps]
                for t in 1..<columns.taps { sum = sum.addingProduct(value(r, t), columns.floatWeights[w * columns.taps + t]) }
                return sum
            }
            var sum = rows.taps == 1 ? columnBlend(0) : columnBlend(0) * rows.floatWeights[h * rows.taps]
            for r in 1..<rows.taps { sum = sum.addingProduct(columnBlend(r), rows.floatWeights[h * rows.taps + r]) }
            y[g.output.offset(n: n, c: c, h: h, w: w, layout: g.layout)] = sum
        }
        return y
    }

    /// The vectorized paths give the bits of `scalarPipeline`, including the period-2 columns
    /// (which every mode without align_corners takes at ×2).
    @Test(arguments: modes)
    func vectorPathsMatchScalarArithmetic(mode: UpsampleMode) throws {
        for (input, layout) in [(ImageShape(batch: 1, channels: 2, height: 5, width: 70), ImageLayout.nchw),
                                (ImageShape(batch: 1, channels: 21, height: 4, width: 6), .nhwc)] {
            let geometry = try UpsampleGeometry(input: input, layout: layout, mode: mode, scaleFactor: (2, 2))
            if layout == .nchw && !mode.alignCorners { #expect(UpsamplePlan(geometry).pairs != nil, "\(mode): no period-2 run") }
            var generator = SeededGenerator(seed: 5)
            let x: [Float] = .uniform(count: input.count, using: &generator)
            #expect(Support.upsampled(x, geometry, threads: 1) == Self.scalarPipeline(x, geometry), "\(mode) \(layout)")
        }
    }

    /// Outputs just above and below `UpsamplePlan.streamingThreshold`, with odd output rows
    /// (2·733 and 2·731 + 1 elements, so rows start at every alignment) written at 0, 1 and 3
    /// Floats past a 64-byte boundary: the streamed paths (nearest and nearest-exact ×2 straight
    /// from the input rows, other nearest sizes copied from a cached row, bilinear and bicubic
    /// blends) give
    /// the bits of `scalarPipeline` on 1 and 2 threads, every output written, nothing written
    /// outside the output (the guard Floats around it stay NaN). NHWC never streams.
    @Test(arguments: [UpsampleMode.nearest, .nearestExact, .bilinear(alignCorners: false), .bicubic(alignCorners: false)])
    func streamedOutputsMatchScalarArithmetic(mode: UpsampleMode) throws {
        let above = ImageShape(batch: 1, channels: 2, height: 731, width: 733)   // 21.4 MB in all
        let below = ImageShape(batch: 1, channels: 2, height: 599, width: 601)   // 14.4 MB in all
        for (input, layout, size) in [(above, ImageLayout.nchw, nil), (above, .nchw, (1462, 1463)), (below, .nchw, nil),
                                      (ImageShape(batch: 1, channels: 3, height: 731, width: 733), .nhwc, nil)] as [(ImageShape, ImageLayout, (Int, Int)?)] {
            let geometry = try UpsampleGeometry(input: input, layout: layout, mode: mode,
                                                size: size, scaleFactor: size == nil ? (2, 2) : nil)
            let bytes = (geometry.input.count + geometry.output.count) * MemoryLayout<Float>.stride
            let plan = UpsamplePlan(geometry)
            #expect(plan.streaming == (layout == .nchw && bytes > UpsamplePlan.streamingThreshold))
            // Nearest and nearest-exact ×2 stream straight from the input rows; the 1463-column
            // size has no period 2 and goes through a cached row.
            #expect(plan.streamsNearestDirectly == (plan.streaming && (mode == .nearest || mode == .nearestExact) && size == nil))
            var generator = SeededGenerator(seed: 12)
            let x: [Float] = .uniform(count: input.count, using: &generator)
            let expected = Self.scalarPipeline(x, geometry)
            let guardCount = 16, count = geometry.output.count
            let storage = UnsafeMutableRawPointer.allocate(byteCount: (count + 2 * guardCount) * 4, alignment: 64)
            defer { storage.deallocate() }
            let all = UnsafeMutableBufferPointer(start: storage.bindMemory(to: Float.self, capacity: count + 2 * guardCount),
                                                 count: count + 2 * guardCount)
            for offset in [0, 1, 3] {
                for threads in [1, 2] {
                    all.initialize(repeating: .nan)
                    let output = UnsafeMutableBufferPointer(rebasing: all[guardCount + offset ..< guardCount + offset + count])
                    x.withUnsafeBufferPointer { upsample($0, into: output, geometry: geometry, threads: threads) }
                    let context = "\(mode) \(layout) \(geometry.output) offset=\(offset) threads=\(threads)"
                    // The first difference, not the arrays: a failure message of millions of
                    // elements took swift-testing minutes to print.
                    let mismatch = output.indices.first { output[$0].bitPattern != expected[$0].bitPattern }
                    #expect(mismatch == nil, "\(context): output \(mismatch ?? 0) is \(output[mismatch ?? 0]), expected \(expected[mismatch ?? 0])")
                    #expect(all[..<(guardCount + offset)].allSatisfy(\.isNaN) && all[(guardCount + offset + count)...].allSatisfy(\.isNaN),
                            "\(context): wrote outside the output")
                }
            }
        }
    }

    /// A cached row that streamed output rows are written from is made at the offset modulo
    /// 4096 bytes farthest from every output row that reads it (a load 4K-aliasing a pending
    /// streamed store waits for it): 1 KB from two 2 KB rows, 2 KB from rows 4 KB apart, and
    /// for any row length and reader count at least half the largest gap between the readers'
    /// offsets, less the 64-byte grid.
    @Test func cachedRowsAreMadeAwayFromTheRowsTheyWrite() {
        #expect(UpsamplePlan.rowPlacement(rowBytes: 2048, readers: 2) == 1024)
        #expect(UpsamplePlan.rowPlacement(rowBytes: 4096, readers: 4) == 2048)
        #expect(UpsamplePlan.rowPlacement(rowBytes: 1024, readers: 4) == 512)
        for rowBytes in [4, 1028, 2052, 2932, 3 * 1024, 5864] {
            for readers in 1...16 {
                let placement = UpsamplePlan.rowPlacement(rowBytes: rowBytes, readers: readers)
                let offsets = (0..<readers).map { ($0 * rowBytes) & 4095 }.sorted()
                let gaps = zip(offsets, offsets.dropFirst() + [offsets[0] + 4096]).map { $1 - $0 }
                let clearance = offsets.map { let d = (placement - $0) & 4095; return min(d, 4096 - d) }.min()!
                #expect(placement % 64 == 0 && (0..<4096).contains(placement))
                #expect(clearance >= gaps.max()! / 2 - 32, "rowBytes \(rowBytes), readers \(readers): \(placement)")
            }
        }
    }

    /// Output sizes and the scale PyTorch maps by: ⌊in × f⌋; 1/f unless recompute_scale_factor.
    @Test func outputSizeAndMapping() throws {
        let input = ImageShape(batch: 1, channels: 1, height: 5, width: 7)
        let g = try UpsampleGeometry(input: input, layout: .nchw, mode: .nearest, scaleFactor: (1.5, 2.7))
        #expect(g.output == ImageShape(batch: 1, channels: 1, height: 7, width: 18))
        // Factor 2.1 on 5 rows gives 10 rows; channels-last's shortcut maps them by i/2, generic by ⌊i/2.1⌋.
        let factor = try UpsampleGeometry(input: input, layout: .nchw, mode: .nearest, scaleFactor: (2.1, 1), pytorchKernel: .generic)
        #expect(factor.rows.indices == (0..<10).map { Int((Float($0) * Float(1 / 2.1)).rounded(.down)) })
        #expect(factor.rows.indices != (0..<10).map { $0 / 2 })
        let shortcut = try UpsampleGeometry(input: input, layout: .nchw, mode: .nearest, scaleFactor: (2.1, 1), pytorchKernel: .channelsLast)
        #expect(shortcut.rows.indices == (0..<10).map { $0 / 2 })
        let recomputed = try UpsampleGeometry(input: input, layout: .nchw, mode: .nearest, scaleFactor: (2.1, 1),
                                              recomputeScaleFactor: true, pytorchKernel: .generic)
        #expect(recomputed.rows.indices == (0..<10).map { $0 / 2 })
    }

    @Test func pytorchKernelDispatch() {
        let image = ImageShape(batch: 1, channels: 3, height: 50, width: 50)
        func kernel(_ mode: UpsampleMode, _ layout: ImageLayout, channels: Int, output: Int, threads: Int = 1) -> PyTorchUpsampleKernel {
            var input = image
            input.channels = channels
            return .dispatched(mode: mode, layout: layout, input: input, outputHeight: output, outputWidth: output, threads: threads)
        }
        #expect(kernel(.nearest, .nchw, channels: 3, output: 64) == .channelsLast)
        #expect(kernel(.nearest, .nchw, channels: 3, output: 65) == .generic)
        #expect(kernel(.nearest, .nhwc, channels: 4, output: 100) == .channelsLast)
        #expect(kernel(.nearest, .nhwc, channels: 3, output: 100) == .generic)
        #expect(kernel(.bilinear(alignCorners: false), .nchw, channels: 3, output: 100) == .channelsLast)
        #expect(kernel(.bilinear(alignCorners: false), .nchw, channels: 3, output: 100, threads: 2) == .generic)
        #expect(kernel(.bicubic(alignCorners: false), .nhwc, channels: 8, output: 10) == .generic)
    }

    static let badArguments: [(String, () throws -> Void, UpsampleError)] = {
        let image = ImageShape(batch: 1, channels: 2, height: 3, width: 4)
        func geometry(input: ImageShape = image, size: (Int, Int)? = nil, scale: (Double, Double)? = nil, recompute: Bool? = nil) -> () throws -> Void {
            { _ = try UpsampleGeometry(input: input, layout: .nchw, mode: .bilinear(alignCorners: false),
                                       size: size.map { ($0.0, $0.1) }, scaleFactor: scale.map { ($0.0, $0.1) }, recomputeScaleFactor: recompute) }
        }
        func shuffle(_ input: ImageShape, factor: Int, _ direction: PixelShuffleGeometry.Direction) -> () throws -> Void {
            { _ = try PixelShuffleGeometry(input: input, layout: .nchw, factor: factor, direction: direction) }
        }
        return [
            ("size 0", geometry(size: (0, 5)), .invalidSize(argument: "size height", value: 0, minimum: 1)),
            ("size −3", geometry(size: (5, -3)), .invalidSize(argument: "size width", value: -3, minimum: 1)),
            ("factor 0", geometry(scale: (0, 2)), .invalidScaleFactor(argument: "scale_factor height", value: 0)),
            ("factor −1", geometry(scale: (2, -1)), .invalidScaleFactor(argument: "scale_factor width", value: -1)),
            ("factor ∞", geometry(scale: (.infinity, 2)), .invalidScaleFactor(argument: "scale_factor height", value: .infinity)),
            ("factor too small", geometry(scale: (0.2, 2)), .emptyOutput(argument: "scale_factor height", inputSize: 3, scaleFactor: 0.2)),
            ("factor too large", geometry(scale: (2, 1e300)), .tooLarge(argument: "scale_factor width", shape: "4 × 1e+300")),
            ("both", geometry(size: (5, 5), scale: (2, 2)), .sizeAndScaleFactor),
            ("neither", geometry(), .neitherSizeNorScaleFactor),
            ("recompute with size", geometry(size: (5, 5), recompute: true), .recomputeScaleFactorWithSize),
            ("no channels", geometry(input: ImageShape(batch: 1, channels: 0, height: 3, width: 4), scale: (2, 2)),
             .invalidSize(argument: "input channels", value: 0, minimum: 1)),
            ("empty height", geometry(input: ImageShape(batch: 1, channels: 2, height: 0, width: 4), scale: (2, 2)),
             .invalidSize(argument: "input height", value: 0, minimum: 1)),
            ("negative batch", geometry(input: ImageShape(batch: -1, channels: 2, height: 3, width: 4), scale: (2, 2)),
             .invalidSize(argument: "input batch", value: -1, minimum: 0)),
            ("too many elements", geometry(input: ImageShape(batch: 1 << 40, channels: 1 << 20, height: 3, width: 4), scale: (1, 1)),
             .tooLarge(argument: "input", shape: "\(1 << 40)x\(1 << 20)x3x4")),
            ("shuffle channels", shuffle(ImageShape(batch: 1, channels: 6, height: 2, width: 2), factor: 2, .shuffle),
             .notDivisible(argument: "input channels", value: 6, divisor: 4)),
            ("unshuffle height", shuffle(ImageShape(batch: 1, channels: 1, height: 5, width: 6), factor: 2, .unshuffle),
             .notDivisible(argument: "input height", value: 5, divisor: 2)),
            ("unshuffle width", shuffle(ImageShape(batch: 1, channels: 1, height: 6, width: 9), factor: 2, .unshuffle),
             .notDivisible(argument: "input width", value: 9, divisor: 2)),
            ("shuffle factor 0", shuffle(ImageShape(batch: 1, channels: 4, height: 2, width: 2), factor: 0, .shuffle),
             .invalidSize(argument: "upscale_factor", value: 0, minimum: 1)),
            ("unshuffle factor −2", shuffle(ImageShape(batch: 1, channels: 4, height: 2, width: 2), factor: -2, .unshuffle),
             .invalidSize(argument: "downscale_factor", value: -2, minimum: 1)),
        ]
    }()

    /// Each bad argument is a typed error whose message names it.
    @Test func badArgumentsAreTypedErrors() {
        for (name, call, expected) in Self.badArguments {
            do {
                try call()
                Issue.record("\(name): no error")
            } catch let error as UpsampleError {
                #expect(error == expected, "\(name): \(error)")
                #expect(!error.description.isEmpty)
            } catch {
                Issue.record("\(name): unexpected error \(error)")
            }
        }
        let nan = UpsampleError.invalidScaleFactor(argument: "scale_factor width", value: .nan)
        #expect(throws: UpsampleError.self) {
            _ = try UpsampleGeometry(input: ImageShape(batch: 1, channels: 1, height: 2, width: 2), layout: .nhwc, mode: .nearest,
                                     scaleFactor: (2, .nan))
        }
        #expect(nan.description.contains("scale_factor width"))
    }

    /// Pixel shuffle then unshuffle is the identity, both variants, both layouts, on shapes that
    /// reach the vector and the scalar paths.
    @Test(arguments: [(ImageShape(batch: 2, channels: 12, height: 3, width: 37), 2),
                      (ImageShape(batch: 1, channels: 18, height: 4, width: 35), 3),
                      (ImageShape(batch: 1, channels: 32, height: 2, width: 5), 4),
                      (ImageShape(batch: 1, channels: 5, height: 3, width: 4), 1)])
    func shuffleThenUnshuffleIsTheIdentity(input: ImageShape, factor: Int) throws {
        var generator = SeededGenerator(seed: 3)
        let x: [Float] = .uniform(count: input.count, using: &generator)
        for layout in ImageLayout.allCases {
            let forward = try PixelShuffleGeometry(input: input, layout: layout, factor: factor, direction: .shuffle)
            let backward = try PixelShuffleGeometry(input: forward.output, layout: layout, factor: factor, direction: .unshuffle)
            #expect(backward.output == input)
            for threads in [1, 3] {
                var shuffled = [Float](repeating: .nan, count: forward.output.count), restored = x.map { _ in Float.nan }
                x.withUnsafeBufferPointer { x in shuffled.withUnsafeMutableBufferPointer { pixelShuffle(x, into: $0, geometry: forward, threads: threads) } }
                var reference = shuffled.map { _ in Float.nan }
                x.withUnsafeBufferPointer { x in reference.withUnsafeMutableBufferPointer { pixelShuffleReference(x, into: $0, geometry: forward) } }
                #expect(shuffled == reference, "\(layout) threads=\(threads)")
                shuffled.withUnsafeBufferPointer { s in restored.withUnsafeMutableBufferPointer { pixelShuffle(s, into: $0, geometry: backward, threads: threads) } }
                #expect(restored == x, "\(layout) threads=\(threads)")
            }
        }
    }
}
