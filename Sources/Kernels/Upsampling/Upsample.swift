/// Upsamples (or downsamples) a batch of Float images as `torch.nn.functional.interpolate` does
/// on the CPU: y[n, c, i, j] = Σ_{r,t} w_r(i)·w_t(j)·x[n, c, index_r(i), index_t(j)] with the
/// indices and weights of `geometry` (nearest: one tap per axis, bilinear two, bicubic four).
///
/// The vectorized, optionally threaded kernel. Each output row is made in two passes over rows
/// that stay in L1/L2: the row taps are blended once into a scratch row (SIMD along the whole
/// contiguous input row, `W` elements in NCHW, `W·C` in NHWC), then the columns are gathered from
/// it into the output row, so the loads are reused and the stores stream contiguously:
///
///     input rows index_r(i) ──blend(w_r)──▶ scratch row ──gather(index_t, w_t)──▶ output row i
///
/// Nearest modes skip the blend (the scratch row is the input row) and copy an output row that
/// repeats the previous one. The column pass is SIMD along channels in NHWC; in NCHW it is a
/// scalar gather, except over the columns where the sampling has period 2 (any ×2 scale without
/// align_corners): there it computes 16 even and 16 odd outputs as vectors of shifted loads and
/// interleaves them. The weights are the same everywhere, so the result does not depend on the
/// path or the thread count.
///
/// `threads` split the N·C·out_h (NCHW) or N·out_h (NHWC) output rows into contiguous shares,
/// each thread taking at least 2¹⁷ output elements.
///
/// - Complexity: N·C·out_h·(in_w·(2·taps − 1) + out_w·(2·taps − 1)) flops for the interpolating
///   modes; it reads the input once from memory and writes the output once.
/// - Error: nearest modes exact; otherwise |ŷ − y| ≤ γ_k·Σ|w||x| against `upsampleReference`,
///   k = `geometry.mode.roundingsInBound` (6 bilinear, 10 bicubic; derivation there).
public func upsample(
    _ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
    geometry: UpsampleGeometry, threads: Int = 1
) {
    if threads < 1 { fatalError("upsample: threads must be at least 1, got \(threads)") }
    geometry.checkBuffers(input: input.count, output: output.count)
    if output.isEmpty { return }
    let plan = UpsamplePlan(geometry)
    let units = plan.planes * plan.outputHeight
    let parts = max(1, min(threads, output.count >> 17, units))
    let source = input.baseAddress!, destination = output.baseAddress!
    plan.withTables { tables in
        parallelFor(parts) { part in
            let (first, end) = share(of: units, part: part, parts: parts)
            switch plan.taps {
            case 1: plan.run(rows: first..<end, taps: 1, tables: tables, input: source, output: destination)
            case 2: plan.run(rows: first..<end, taps: 2, tables: tables, input: source, output: destination)
            default: plan.run(rows: first..<end, taps: 4, tables: tables, input: source, output: destination)
            }
        }
    }
}

/// The layout-independent view of one `upsample` call: `planes` planes of `outputHeight` rows,
/// each output row made from input rows of `inputRowLength` contiguous elements, a pixel being
/// `pixel` contiguous elements (1 in NCHW, C in NHWC).
struct UpsamplePlan {
    let taps: Int
    let planes: Int
    let pixel: Int
    let outputHeight: Int
    let outputWidth: Int
    let inputRowLength: Int
    let outputRowLength: Int
    let inputPlaneStride: Int
    let outputPlaneStride: Int
    let rows: AxisSampling
    let columns: AxisSampling
    /// The columns where the sampling has period 2, when `pixel` is 1.
    let pairs: PeriodTwoColumns?

    init(_ g: UpsampleGeometry) {
        taps = g.mode.taps
        pixel = g.layout == .nchw ? 1 : g.input.channels
        planes = g.layout == .nchw ? g.input.batch * g.input.channels : g.input.batch
        outputHeight = g.output.height
        outputWidth = g.output.width
        inputRowLength = g.input.width * pixel
        outputRowLength = g.output.width * pixel
        inputPlaneStride = inputRowLength * g.input.height
        outputPlaneStride = outputRowLength * g.output.height
        rows = g.rows
        columns = g.columns
        pairs = pixel == 1 ? PeriodTwoColumns(g.columns) : nil
    }

    /// Raw pointers to the sampling tables, valid inside `withTables`.
    struct Tables {
        let rowIndices: UnsafePointer<Int>, rowWeights: UnsafePointer<Float>
        let columnIndices: UnsafePointer<Int>, columnWeights: UnsafePointer<Float>
    }

    func withTables<R>(_ body: (Tables) -> R) -> R {
        rows.indices.withUnsafeBufferPointer { rowIndices in
            rows.floatWeights.withUnsafeBufferPointer { rowWeights in
                columns.indices.withUnsafeBufferPointer { columnIndices in
                    columns.floatWeights.withUnsafeBufferPointer { columnWeights in
                        body(Tables(rowIndices: rowIndices.baseAddress!, rowWeights: rowWeights.baseAddress!,
                                    columnIndices: columnIndices.baseAddress!, columnWeights: columnWeights.baseAddress!))
                    }
                }
            }
        }
    }

    /// Makes the output rows `units` (numbered plane-major: unit = plane·out_h + row).
    @inline(__always)
    func run(rows units: Range<Int>, taps: Int, tables: Tables, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: taps == 1 ? 0 : inputRowLength) { scratchBuffer in
            var previous: (plane: Int, sourceRow: Int, output: UnsafeMutablePointer<Float>)?
            for unit in units {
                let plane = unit / outputHeight, row = unit % outputHeight
                let inputPlane = input + plane * inputPlaneStride
                let outputRow = output + plane * outputPlaneStride + row * outputRowLength
                let rowTaps = row * taps
                let source: UnsafePointer<Float>
                if taps == 1 {
                    let sourceRow = tables.rowIndices[rowTaps]
                    if let previous, previous.plane == plane, previous.sourceRow == sourceRow {
                        outputRow.update(from: previous.output, count: outputRowLength)
                        continue
                    }
                    previous = (plane, sourceRow, outputRow)
                    source = inputPlane + sourceRow * inputRowLength
                } else {
                    let scratch = scratchBuffer.baseAddress!
                    blendRows(taps: taps, plane: inputPlane, indices: tables.rowIndices + rowTaps,
                              weights: tables.rowWeights + rowTaps, into: scratch)
                    source = UnsafePointer(scratch)
                }
                if pixel == 1 {
                    gatherColumns(taps: taps, tables: tables, from: source, into: outputRow)
                } else {
                    gatherPixels(taps: taps, tables: tables, from: source, into: outputRow)
                }
            }
        }
    }

    /// scratch[e] = Σ_t w_t·plane[index_t·rowLength + e] for the whole input row: the first
    /// product, then fused multiply-adds in tap order.
    @inline(__always)
    func blendRows(taps: Int, plane: UnsafePointer<Float>, indices: UnsafePointer<Int>, weights: UnsafePointer<Float>,
                   into scratch: UnsafeMutablePointer<Float>) {
        let length = inputRowLength
        let row0 = plane + indices[0] * length
        let row1 = plane + indices[min(1, taps - 1)] * length
        let row2 = plane + indices[min(2, taps - 1)] * length
        let row3 = plane + indices[min(3, taps - 1)] * length
        let w0 = weights[0], w1 = weights[min(1, taps - 1)], w2 = weights[min(2, taps - 1)], w3 = weights[min(3, taps - 1)]
        var e = 0
        while e + FloatVector.scalarCount <= length {
            var sum = (row0 + e).loadVector() * w0
            sum = sum.addingProduct((row1 + e).loadVector(), w1)
            if taps == 4 {
                sum = sum.addingProduct((row2 + e).loadVector(), w2)
                sum = sum.addingProduct((row3 + e).loadVector(), w3)
            }
            (scratch + e).storeVector(sum)
            e += FloatVector.scalarCount
        }
        while e < length {
            var sum = row0[e] * w0
            sum = sum.addingProduct(row1[e], w1)
            if taps == 4 {
                sum = sum.addingProduct(row2[e], w2)
                sum = sum.addingProduct(row3[e], w3)
            }
            scratch[e] = sum
            e += 1
        }
    }

    /// NCHW: output[j] = Σ_t w_t(j)·source[index_t(j)], vectorized over the period-2 columns.
    @inline(__always)
    func gatherColumns(taps: Int, tables: Tables, from source: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        var done = 0
        if let pairs {
            gatherColumnsScalar(0..<pairs.start, taps: taps, tables: tables, from: source, into: output)
            done = pairs.gather(taps: taps, from: source, into: output)
        }
        gatherColumnsScalar(done..<outputWidth, taps: taps, tables: tables, from: source, into: output)
    }

    @inline(__always)
    func gatherColumnsScalar(_ columns: Range<Int>, taps: Int, tables: Tables, from source: UnsafePointer<Float>,
                             into output: UnsafeMutablePointer<Float>) {
        let indices = tables.columnIndices, weights = tables.columnWeights
        for j in columns {
            let tap = j * taps
            if taps == 1 {
                output[j] = source[indices[tap]]
                continue
            }
            var sum = source[indices[tap]] * weights[tap]
            for t in 1..<taps { sum = sum.addingProduct(source[indices[tap + t]], weights[tap + t]) }
            output[j] = sum
        }
    }

    /// NHWC: output pixel j = Σ_t w_t(j)·(source pixel index_t(j)), SIMD along the channels.
    @inline(__always)
    func gatherPixels(taps: Int, tables: Tables, from source: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        let indices = tables.columnIndices, weights = tables.columnWeights
        let width = FloatVector.scalarCount
        for j in 0..<outputWidth {
            let tap = j * taps, out = output + j * pixel
            let pixel0 = source + indices[tap] * pixel
            if taps == 1 {
                out.update(from: pixel0, count: pixel)
                continue
            }
            var c = 0
            while c + width <= pixel {
                var sum = (pixel0 + c).loadVector() * weights[tap]
                for t in 1..<taps {
                    sum = sum.addingProduct((source + indices[tap + t] * pixel + c).loadVector(), weights[tap + t])
                }
                (out + c).storeVector(sum)
                c += width
            }
            while c < pixel {
                var sum = pixel0[c] * weights[tap]
                for t in 1..<taps { sum = sum.addingProduct(source[indices[tap + t] * pixel + c], weights[tap + t]) }
                out[c] = sum
                c += 1
            }
        }
    }
}

/// A run of output columns `start..<end` (both even) where the column sampling has period 2:
/// column 2k + p (p = 0 even, 1 odd) reads the consecutive inputs k + base_p, k + base_p + 1, …
/// with weights that depend on p only. Every ×2 scale without align_corners has one covering all
/// but a column or two at each edge (bilinear: bases −1, 0, weights ¼ ¾ and ¾ ¼; nearest: bases
/// 0, 0), found from the tables rather than from the mode, so it shares their arithmetic.
struct PeriodTwoColumns {
    let start: Int
    let end: Int
    let evenBase: Int
    let oddBase: Int
    /// The `taps` weights of the even columns, then those of the odd columns.
    let weights: [Float]

    /// The widest run around the middle column, or nil when it is shorter than 64 columns.
    init?(_ columns: AxisSampling) {
        let taps = columns.taps, size = columns.outputSize
        let middle = (size / 2) & ~1
        if middle + 1 >= size { return nil }
        let evenBase = columns.index(middle, 0) - middle / 2, oddBase = columns.index(middle + 1, 0) - middle / 2
        let evenWeights = (0..<taps).map { columns.floatWeights[middle * taps + $0] }
        let oddWeights = (0..<taps).map { columns.floatWeights[(middle + 1) * taps + $0] }
        func fits(_ j: Int) -> Bool {
            let (base, weights) = j & 1 == 0 ? (evenBase, evenWeights) : (oddBase, oddWeights)
            return (0..<taps).allSatisfy { t in
                columns.index(j, t) == j / 2 + base + t && columns.floatWeights[j * taps + t] == weights[t]
            }
        }
        var start = middle, end = middle
        while start >= 2 && fits(start - 2) && fits(start - 1) { start -= 2 }
        while end + 1 < size && fits(end) && fits(end + 1) { end += 2 }
        if end - start < 64 { return nil }
        (self.start, self.end, self.evenBase, self.oddBase) = (start, end, evenBase, oddBase)
        weights = evenWeights + oddWeights
    }

    /// Writes output columns start..<done, 32 at a time (16 even, 16 odd, interleaved), and
    /// returns `done`; the caller gathers the rest.
    @inline(__always)
    func gather(taps: Int, from source: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) -> Int {
        let width = FloatVector.scalarCount
        var k = start / 2
        weights.withUnsafeBufferPointer { w in
            while 2 * k + 2 * width <= end {
                let even = source + k + evenBase, odd = source + k + oddBase
                if taps == 1 {
                    storeInterleaved(even.loadVector(), odd.loadVector(), to: output + 2 * k)
                } else {
                    var evenSum = even.loadVector() * w[0], oddSum = odd.loadVector() * w[taps]
                    for t in 1..<taps {
                        evenSum = evenSum.addingProduct((even + t).loadVector(), w[t])
                        oddSum = oddSum.addingProduct((odd + t).loadVector(), w[taps + t])
                    }
                    storeInterleaved(evenSum, oddSum, to: output + 2 * k)
                }
                k += width
            }
        }
        return 2 * k
    }
}
