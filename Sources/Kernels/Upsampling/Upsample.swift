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
/// interleaves them (2 permutes per 32 outputs). The weights are the same everywhere, so the result does not depend on the
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
        /// `pairs?.weightVectors`, or a placeholder when there are no pairs.
        let pairWeights: UnsafePointer<FloatVector>
    }

    func withTables<R>(_ body: (Tables) -> R) -> R {
        rows.indices.withUnsafeBufferPointer { rowIndices in
            rows.floatWeights.withUnsafeBufferPointer { rowWeights in
                columns.indices.withUnsafeBufferPointer { columnIndices in
                    columns.floatWeights.withUnsafeBufferPointer { columnWeights in
                        (pairs?.weightVectors ?? [FloatVector()]).withUnsafeBufferPointer { pairWeights in
                            body(Tables(rowIndices: rowIndices.baseAddress!, rowWeights: rowWeights.baseAddress!,
                                        columnIndices: columnIndices.baseAddress!, columnWeights: columnWeights.baseAddress!,
                                        pairWeights: pairWeights.baseAddress!))
                        }
                    }
                }
            }
        }
    }

    /// Makes the output rows `units` (numbered plane-major: unit = plane·out_h + row).
    @inline(__always)
    func run(rows units: Range<Int>, taps: Int, tables: Tables, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let scratchLength = taps > 1 && pixel == 1 ? inputRowLength : 0
        withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchLength) { scratchBuffer in
            var previous: (plane: Int, sourceRow: Int, output: UnsafeMutablePointer<Float>)?
            for unit in units {
                let plane = unit / outputHeight, row = unit % outputHeight
                let inputPlane = input + plane * inputPlaneStride
                let outputRow = output + plane * outputPlaneStride + row * outputRowLength
                let rows = SourceRows(taps: taps, plane: inputPlane, rowLength: inputRowLength,
                                      indices: tables.rowIndices + row * taps, weights: tables.rowWeights + row * taps)
                if taps == 1 {
                    let sourceRow = tables.rowIndices[row]
                    if let previous, previous.plane == plane, previous.sourceRow == sourceRow {
                        outputRow.update(from: previous.output, count: outputRowLength)
                        continue
                    }
                    previous = (plane, sourceRow, outputRow)
                }
                if pixel > 1 {
                    interpolatePixels(taps: taps, rows: rows, tables: tables, into: outputRow)
                } else if taps == 1 {
                    gatherColumns(taps: taps, tables: tables, from: rows.row0, into: outputRow)
                } else {
                    let scratch = scratchBuffer.baseAddress!
                    rows.blend(0..<inputRowLength, into: scratch)
                    gatherColumns(taps: taps, tables: tables, from: scratch, into: outputRow)
                }
            }
        }
    }

    /// NCHW: output[j] = Σ_t w_t(j)·source[index_t(j)], vectorized over the period-2 columns.
    @inline(__always)
    func gatherColumns(taps: Int, tables: Tables, from source: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        guard let pairs else {
            gatherColumnsScalar(0..<outputWidth, taps: taps, tables: tables, from: source, into: output)
            return
        }
        gatherColumnsScalar(0..<pairs.start, taps: taps, tables: tables, from: source, into: output)
        pairs.gather(taps: taps, weights: tables.pairWeights, from: source, into: output)
        gatherColumnsScalar(pairs.end..<outputWidth, taps: taps, tables: tables, from: source, into: output)
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

    /// NHWC: output pixel j = Σ_t w_t(j)·(Σ_r w_r·input row r, pixel index_t(j)), SIMD along the
    /// channels, straight from the input rows: the row blend of each tap pixel is recomputed for
    /// every output pixel that reads it (×2 blends each input pixel about twice), which costs
    /// less than a scratch row of W·C elements that would not stay in L1. The products and sums
    /// are those of blending the rows first, in the same order.
    @inline(__always)
    func interpolatePixels(taps: Int, rows: SourceRows, tables: Tables, into output: UnsafeMutablePointer<Float>) {
        let indices = tables.columnIndices, weights = tables.columnWeights
        let width = FloatVector.scalarCount
        for j in 0..<outputWidth {
            let tap = j * taps, out = output + j * pixel
            if taps == 1 {
                out.update(from: rows.row0 + indices[tap] * pixel, count: pixel)
                continue
            }
            var c = 0
            while c + width <= pixel {
                var sum = rows.blendVector(at: indices[tap] * pixel + c) * weights[tap]
                for t in 1..<taps { sum = sum.addingProduct(rows.blendVector(at: indices[tap + t] * pixel + c), weights[tap + t]) }
                (out + c).storeVector(sum)
                c += width
            }
            while c < pixel {
                var sum = rows.blend(at: indices[tap] * pixel + c) * weights[tap]
                for t in 1..<taps { sum = sum.addingProduct(rows.blend(at: indices[tap + t] * pixel + c), weights[tap + t]) }
                out[c] = sum
                c += 1
            }
        }
    }
}

/// The input rows one output row reads (`taps` of them, 1 to 4) and their weights: the blend
/// Σ_r w_r·row_r[e] is the first product followed by fused multiply-adds in tap order.
struct SourceRows {
    let taps: Int
    let row0: UnsafePointer<Float>, row1: UnsafePointer<Float>, row2: UnsafePointer<Float>, row3: UnsafePointer<Float>
    let weight0: Float, weight1: Float, weight2: Float, weight3: Float

    @inline(__always)
    init(taps: Int, plane: UnsafePointer<Float>, rowLength: Int, indices: UnsafePointer<Int>, weights: UnsafePointer<Float>) {
        self.taps = taps
        row0 = plane + indices[0] * rowLength
        row1 = plane + indices[min(1, taps - 1)] * rowLength
        row2 = plane + indices[min(2, taps - 1)] * rowLength
        row3 = plane + indices[min(3, taps - 1)] * rowLength
        (weight0, weight1, weight2, weight3) = (weights[0], weights[min(1, taps - 1)], weights[min(2, taps - 1)], weights[min(3, taps - 1)])
    }

    @inline(__always)
    func blendVector(at e: Int) -> FloatVector {
        var sum = (row0 + e).loadVector() * weight0
        sum = sum.addingProduct((row1 + e).loadVector(), weight1)
        if taps == 4 {
            sum = sum.addingProduct((row2 + e).loadVector(), weight2)
            sum = sum.addingProduct((row3 + e).loadVector(), weight3)
        }
        return sum
    }

    @inline(__always)
    func blend(at e: Int) -> Float {
        var sum = row0[e] * weight0
        sum = sum.addingProduct(row1[e], weight1)
        if taps == 4 {
            sum = sum.addingProduct(row2[e], weight2)
            sum = sum.addingProduct(row3[e], weight3)
        }
        return sum
    }

    /// scratch[e] = the blend at e, for e in `elements`, vectorized.
    @inline(__always)
    func blend(_ elements: Range<Int>, into scratch: UnsafeMutablePointer<Float>) {
        var e = elements.lowerBound
        while e + FloatVector.scalarCount <= elements.upperBound {
            (scratch + e).storeVector(blendVector(at: e))
            e += FloatVector.scalarCount
        }
        while e < elements.upperBound {
            scratch[e] = blend(at: e)
            e += 1
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
    /// Per tap t < taps, the vector (even_t, odd_t, even_t, odd_t, …) of the weights of the even
    /// and the odd columns, interleaved as the outputs are.
    let weightVectors: [FloatVector]

    /// The widest run around the middle column, or nil when it is shorter than 64 columns or the
    /// odd columns do not start at or one after the even ones.
    init?(_ columns: AxisSampling) {
        let taps = columns.taps, size = columns.outputSize
        let middle = (size / 2) & ~1
        if middle + 1 >= size { return nil }
        let evenBase = columns.index(middle, 0) - middle / 2, oddBase = columns.index(middle + 1, 0) - middle / 2
        var weights = [Float](repeating: 0, count: 8)
        for t in 0..<taps {
            weights[t] = columns.floatWeights[middle * taps + t]
            weights[4 + t] = columns.floatWeights[(middle + 1) * taps + t]
        }
        func fits(_ j: Int) -> Bool {
            let (base, lane) = j & 1 == 0 ? (evenBase, 0) : (oddBase, 4)
            return (0..<taps).allSatisfy { t in
                columns.index(j, t) == j / 2 + base + t && columns.floatWeights[j * taps + t] == weights[lane + t]
            }
        }
        var start = middle, end = middle
        while start >= 2 && fits(start - 2) && fits(start - 1) { start -= 2 }
        while end + 1 < size && fits(end) && fits(end + 1) { end += 2 }
        if end - start < 64 || !(0...1).contains(oddBase - evenBase) { return nil }
        (self.start, self.end, self.evenBase, self.oddBase) = (start, end, evenBase, oddBase)
        weightVectors = (0..<4).map { t in
            FloatVector((0..<FloatVector.scalarCount).map { lane in weights[lane & 1 == 0 ? t : 4 + t] })
        }
    }

    /// Writes output columns start..<end, 32 at a time; the last block overlaps the one before
    /// it instead of leaving a remainder (it rewrites the same values). `weights` points to
    /// `weightVectors`.
    ///
    /// Each block loads the inputs it reads as two vectors and forms, per tap, the interleaved
    /// vector of the inputs its even and odd columns read with constant permutes, so that
    /// output lane 2i gets the same products and sums, in the same order, as
    /// `gatherColumnsScalar` gives column 2(k + i).
    @inline(__always)
    func gather(taps: Int, weights: UnsafePointer<FloatVector>, from source: UnsafePointer<Float>,
                into output: UnsafeMutablePointer<Float>) {
        if oddBase == evenBase {
            gatherBlocks(taps: taps, oddOffset: 0, weights: weights, from: source, into: output)
        } else {
            gatherBlocks(taps: taps, oddOffset: 1, weights: weights, from: source, into: output)
        }
    }

    @inline(__always)
    func gatherBlocks(taps: Int, oddOffset: Int, weights: UnsafePointer<FloatVector>, from source: UnsafePointer<Float>,
                      into output: UnsafeMutablePointer<Float>) {
        let width = FloatVector.scalarCount
        let lastBlock = end / 2 - width
        // A block reads inputs first ... first + lastRead: the second vector ends there, so no
        // load passes the end of the row.
        let lastRead = width - 1 + oddOffset + taps - 1, secondStart = lastRead - (width - 1)
        let weight0 = weights[0], weight1 = weights[1], weight2 = weights[2], weight3 = weights[3]
        var k = start / 2
        while true {
            let first = source + k + evenBase
            let low = first.loadVector(), high = (first + secondStart).loadVector()
            @inline(__always) func window(tap t: Int, half: Int) -> FloatVector {
                interleavedWindow(low, high, secondStart: secondStart, first: half + t, oddOffset: oddOffset)
            }
            var lowSum = window(tap: 0, half: 0), highSum = window(tap: 0, half: width / 2)
            if taps > 1 {
                lowSum = lowSum * weight0
                highSum = highSum * weight0
                lowSum = lowSum.addingProduct(window(tap: 1, half: 0), weight1)
                highSum = highSum.addingProduct(window(tap: 1, half: width / 2), weight1)
            }
            if taps == 4 {
                lowSum = lowSum.addingProduct(window(tap: 2, half: 0), weight2)
                highSum = highSum.addingProduct(window(tap: 2, half: width / 2), weight2)
                lowSum = lowSum.addingProduct(window(tap: 3, half: 0), weight3)
                highSum = highSum.addingProduct(window(tap: 3, half: width / 2), weight3)
            }
            (output + 2 * k).storeVector(lowSum)
            (output + 2 * k + width).storeVector(highSum)
            if k == lastBlock { return }
            k = min(k + width, lastBlock)
        }
    }
}

/// The vector whose lane 2i is element `first + i` and lane 2i + 1 element
/// `first + i + oddOffset` (i < 8) of the inputs a block reads, given as `low` (elements 0..<16)
/// and `high` (elements secondStart..<secondStart + 16). With constant arguments this is one
/// constant permute.
@inline(__always)
func interleavedWindow(_ low: FloatVector, _ high: FloatVector, secondStart: Int, first: Int, oddOffset: Int) -> FloatVector {
    @inline(__always) func element(_ i: Int) -> Float { i < FloatVector.scalarCount ? low[i] : high[i - secondStart] }
    let f = first, o = first + oddOffset
    return FloatVector(element(f), element(o), element(f + 1), element(o + 1), element(f + 2), element(o + 2),
                       element(f + 3), element(o + 3), element(f + 4), element(o + 4), element(f + 5), element(o + 5),
                       element(f + 6), element(o + 6), element(f + 7), element(o + 7))
}
