/// The shapes of a pixel shuffle (`torch.nn.functional.pixel_shuffle`) or its inverse
/// (`pixel_unshuffle`) with factor r, validated once and shared by every variant.
///
/// Shuffle moves channel blocks into space, N × C·r² × H × W → N × C × H·r × W·r:
///
///     out[n, c, h·r + i, w·r + j] = in[n, c·r² + i·r + j, h, w]      (0 ≤ i, j < r)
///
/// and unshuffle is its inverse, N × C × H·r × W·r → N × C·r² × H × W. Both are permutations:
/// exact, bit for bit. The layout is that of both tensors (PyTorch keeps channels_last).
public struct PixelShuffleGeometry: Sendable {
    public enum Direction: String, Sendable, CaseIterable {
        case shuffle, unshuffle
    }

    public let input: ImageShape
    public let output: ImageShape
    public let layout: ImageLayout
    public let factor: Int
    public let direction: Direction

    /// The tensor with r² times the channels (the shuffle's input, the unshuffle's output) and the
    /// one with r times the height and width.
    var channelBlocks: ImageShape { direction == .shuffle ? input : output }
    var spatial: ImageShape { direction == .shuffle ? output : input }

    /// Validates the arguments: r ≥ 1; batch ≥ 0; for a shuffle C ≥ 1 divisible by r², for an
    /// unshuffle H and W divisible by r; H, W ≥ 0 (PyTorch accepts empty images here).
    ///
    /// - Throws: `UpsampleError` naming `upscale_factor`/`downscale_factor`, the channels, height
    ///   or width at fault.
    public init(input: ImageShape, layout: ImageLayout, factor: Int, direction: Direction) throws {
        let factorName = direction == .shuffle ? "upscale_factor" : "downscale_factor"
        if factor < 1 { throw UpsampleError.invalidSize(argument: factorName, value: factor, minimum: 1) }
        self.input = try input.validated("input", minimumSpatialSize: 0)
        self.layout = layout
        self.factor = factor
        self.direction = direction
        let (squared, overflow) = factor.multipliedReportingOverflow(by: factor)
        if overflow { throw UpsampleError.tooLarge(argument: factorName, shape: "\(factor)²") }
        var output = input
        switch direction {
        case .shuffle:
            if input.channels % squared != 0 {
                throw UpsampleError.notDivisible(argument: "input channels", value: input.channels, divisor: squared)
            }
            output.channels = input.channels / squared
            let (height, heightOverflow) = input.height.multipliedReportingOverflow(by: factor)
            let (width, widthOverflow) = input.width.multipliedReportingOverflow(by: factor)
            if heightOverflow || widthOverflow { throw UpsampleError.tooLarge(argument: "output", shape: "\(input) × \(factor)") }
            (output.height, output.width) = (height, width)
        case .unshuffle:
            if input.height % factor != 0 {
                throw UpsampleError.notDivisible(argument: "input height", value: input.height, divisor: factor)
            }
            if input.width % factor != 0 {
                throw UpsampleError.notDivisible(argument: "input width", value: input.width, divisor: factor)
            }
            let (channels, overflow) = input.channels.multipliedReportingOverflow(by: squared)
            if overflow { throw UpsampleError.tooLarge(argument: "output", shape: "\(input) × \(factor)²") }
            (output.channels, output.height, output.width) = (channels, input.height / factor, input.width / factor)
        }
        self.output = try output.validated("output", minimumSpatialSize: 0)
    }

    /// Stops with a message unless the buffers hold `input.count` and `output.count` elements.
    func checkBuffers(input inputCount: Int, output outputCount: Int) {
        if inputCount != input.count {
            fatalError("pixel \(direction): input buffer holds \(inputCount) elements, shape \(input) needs \(input.count)")
        }
        if outputCount != output.count {
            fatalError("pixel \(direction): output buffer holds \(outputCount) elements, shape \(output) needs \(output.count)")
        }
    }
}

/// The reference pixel shuffle or unshuffle: the defining index map of `PixelShuffleGeometry`
/// in six plain loops over (n, c, h, w, i, j), copying each element once.
///
/// - Complexity: N·C·H·W·r² copies.
/// - Error: exact.
public func pixelShuffleReference<T>(
    _ input: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<T>, geometry g: PixelShuffleGeometry
) {
    g.checkBuffers(input: input.count, output: output.count)
    let r = g.factor, blocks = g.channelBlocks, spatial = g.spatial
    for n in 0..<spatial.batch {
        for c in 0..<spatial.channels {
            for h in 0..<blocks.height {
                for w in 0..<blocks.width {
                    for i in 0..<r {
                        for j in 0..<r {
                            let blockOffset = blocks.offset(n: n, c: c * r * r + i * r + j, h: h, w: w, layout: g.layout)
                            let spatialOffset = spatial.offset(n: n, c: c, h: h * r + i, w: w * r + j, layout: g.layout)
                            if g.direction == .shuffle {
                                output[spatialOffset] = input[blockOffset]
                            } else {
                                output[blockOffset] = input[spatialOffset]
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Pixel shuffle or unshuffle of Float images, vectorized and optionally threaded.
///
/// The work is split into output rows (contiguous shares per thread, at least 2¹⁷ elements
/// each). In NCHW a shuffled output row (n, c, h·r + i) interleaves the r input rows
/// (n, c·r² + i·r + j, h), j < r: with vector permutes for r = 2 and r = 3 (16 elements of each
/// source per step), a strided copy otherwise. An unshuffled output row (n, c·r² + i·r + j, h)
/// takes every r-th element of input row (n, c, h·r + i) from offset j (even/odd halves of
/// vectors for r = 2). In NHWC each output pixel gathers C elements at stride r² (shuffle) or
/// scatters them back (unshuffle) with scalar loops.
///
/// - Complexity: N·C·H·W·r² copies; reads and writes each element once.
/// - Error: exact (a permutation).
public func pixelShuffle(
    _ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
    geometry g: PixelShuffleGeometry, threads: Int = 1
) {
    if threads < 1 { fatalError("pixelShuffle: threads must be at least 1, got \(threads)") }
    g.checkBuffers(input: input.count, output: output.count)
    if output.isEmpty { return }
    let rowsPerImage = g.layout == .nchw ? g.output.channels * g.output.height : g.output.height
    let units = g.output.batch * rowsPerImage
    let parts = max(1, min(threads, output.count >> 17, units))
    let source = input.baseAddress!, destination = output.baseAddress!
    parallelFor(parts) { part in
        let (first, end) = share(of: units, part: part, parts: parts)
        for unit in first..<end {
            let n = unit / rowsPerImage, row = unit % rowsPerImage
            switch (g.layout, g.direction) {
            case (.nchw, .shuffle): shuffleRowNCHW(g, n: n, channel: row / g.output.height, row: row % g.output.height, source, destination)
            case (.nchw, .unshuffle): unshuffleRowNCHW(g, n: n, channel: row / g.output.height, row: row % g.output.height, source, destination)
            case (.nhwc, _): permuteRowNHWC(g, n: n, row: row, source, destination)
            }
        }
    }
}

/// Output row (n, c, h·r + i) of an NCHW shuffle: out[w·r + j] = in[n, c·r² + i·r + j, h, w].
@inline(__always)
private func shuffleRowNCHW(_ g: PixelShuffleGeometry, n: Int, channel c: Int, row: Int,
                            _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>) {
    let r = g.factor, h = row / r, i = row % r, width = g.input.width
    let out = output + g.output.offset(n: n, c: c, h: row, w: 0, layout: .nchw)
    func sourceRow(_ j: Int) -> UnsafePointer<Float> {
        input + g.input.offset(n: n, c: c * r * r + i * r + j, h: h, w: 0, layout: .nchw)
    }
    var w = 0
    let step = FloatVector.scalarCount
    if r == 2 {
        let a = sourceRow(0), b = sourceRow(1)
        while w + step <= width {
            storeInterleaved((a + w).loadVector(), (b + w).loadVector(), to: out + 2 * w)
            w += step
        }
    } else if r == 3 {
        let a = sourceRow(0), b = sourceRow(1), c = sourceRow(2)
        while w + step <= width {
            storeInterleaved((a + w).loadVector(), (b + w).loadVector(), (c + w).loadVector(), to: out + 3 * w)
            w += step
        }
    }
    for j in 0..<r {
        let source = sourceRow(j)
        for tail in w..<width { out[tail * r + j] = source[tail] }
    }
}

/// Output row (n, c·r² + i·r + j, h) of an NCHW unshuffle: out[w] = in[n, c, h·r + i, w·r + j].
@inline(__always)
private func unshuffleRowNCHW(_ g: PixelShuffleGeometry, n: Int, channel: Int, row h: Int,
                              _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>) {
    let r = g.factor, c = channel / (r * r), i = (channel / r) % r, j = channel % r, width = g.output.width
    let out = output + g.output.offset(n: n, c: channel, h: h, w: 0, layout: .nchw)
    let source = input + g.input.offset(n: n, c: c, h: h * r + i, w: j, layout: .nchw)
    var w = 0
    if r == 2 {
        let step = FloatVector.scalarCount
        while 2 * (w + step) + j <= 2 * width {
            let low = (source + 2 * w).loadVector(), high = (source + 2 * w + step).loadVector()
            // Elements 0, 2, 4, … of the 32 starting at offset j.
            (out + w).storeVector(FloatVector(lowHalf: low.evenHalf, highHalf: high.evenHalf))
            w += step
        }
    }
    for tail in w..<width { out[tail] = source[tail * r] }
}

/// Output row `row` of an NHWC shuffle or unshuffle, pixel by pixel: each output pixel's C
/// elements come from one input pixel at stride r² (shuffle) or each input pixel block is
/// spread over r² output channels (unshuffle, read at stride 1, written at stride r²).
@inline(__always)
private func permuteRowNHWC(_ g: PixelShuffleGeometry, n: Int, row: Int,
                            _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>) {
    let r = g.factor
    switch g.direction {
    case .shuffle:
        let h = row / r, i = row % r, channels = g.output.channels
        for ow in 0..<g.output.width {
            let w = ow / r, j = ow % r
            let out = output + g.output.offset(n: n, c: 0, h: row, w: ow, layout: .nhwc)
            let source = input + g.input.offset(n: n, c: i * r + j, h: h, w: w, layout: .nhwc)
            for c in 0..<channels { out[c] = source[c * r * r] }
        }
    case .unshuffle:
        let channels = g.input.channels
        for w in 0..<g.output.width {
            let out = output + g.output.offset(n: n, c: 0, h: row, w: w, layout: .nhwc)
            for i in 0..<r {
                for j in 0..<r {
                    let source = input + g.input.offset(n: n, c: 0, h: row * r + i, w: w * r + j, layout: .nhwc)
                    for c in 0..<channels { out[c * r * r + i * r + j] = source[c] }
                }
            }
        }
    }
}
