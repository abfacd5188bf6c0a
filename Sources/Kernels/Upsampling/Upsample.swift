/// Upsamples (or downsamples) a batch of Float images as `torch.nn.functional.interpolate` does
/// on the CPU: y[n, c, i, j] = Σ_{r,t} w_r(i)·w_t(j)·x[n, c, index_r(i), index_t(j)] with the
/// indices and weights of `geometry` (nearest: one tap per axis, bilinear two, bicubic four).
///
/// The vectorized, optionally threaded kernel. Every output is the same sum in the same order:
/// per row tap, the column taps blended (the first product, then fused multiply-adds in tap
/// order), then the row taps blended the same way, with the weights rounded once to Float. Only
/// the data movement differs by layout, so the result does not depend on the path or the thread
/// count:
///
/// - NCHW: each input row is interpolated along W once into a small cache of `taps` rows, and
///   each output row blends its cached rows with contiguous SIMD loads and stores:
///
///       input row r ──columns(index_t, w_t)──▶ cached row r ─┐
///       input row r+1 ──────────────────────▶ cached row r+1 ─┴─rows(w_r)──▶ output row i
///
///   The column pass is a gather (16 at a time), except over the columns where the sampling has
///   period 2 (every ×2 scale without align_corners): there each block of 32 outputs loads the
///   inputs it reads as two vectors and forms, per tap, the interleaved even/odd vector with one
///   constant permute. Interpolating columns first makes the gathers a per-input-row cost
///   (×2 align_corners measured 2× faster than blending rows first).
/// - NHWC: each output pixel blends its tap pixels straight from the input rows, SIMD along the
///   C contiguous channels (a cache of out_w·C elements per row would not stay in L1).
///
/// Nearest modes read the input row itself, and copy an output row that repeats the previous
/// one of its plane.
///
/// NCHW outputs too large to stay cached (`UpsamplePlan.streamingThreshold`) are written with
/// non-temporal stores (`writeRow`), which do not read each output line before writing it: the
/// memory traffic drops from input + 2·output to input + output. Nearest ×2 then writes every
/// output vector straight from its input row (a permute of 8 or 9 inputs, `nearestVector`);
/// other nearest sizes make each row in a cached row and stream it to the output rows that
/// repeat it, since a streamed row cannot be copied back from the cache. Measured, ×2 nearest
/// of 8×3×512×512, one thread, `bench --filter '^upsample/(simd|parallel)' --sizes
/// upsample=8x3x512x512-nearest-x2`: 5.5 ms through a cached row, 3.8 ms straight (the
/// stores to the cached row waited behind the streamed ones).
///
/// `threads` split the N·C·out_h (NCHW) or N·out_h (NHWC) output rows into contiguous shares,
/// each thread taking at least 2¹⁷ output elements.
///
/// - Complexity: for the interpolating modes, at most N·C·(min(in_h·taps, out_h·taps) + out_h)·
///   out_w·(2·taps − 1) flops in NCHW (each input row interpolated once per thread, then one
///   row blend per output row) and N·C·out_h·out_w·(taps + 1)·(2·taps − 1) in NHWC;
///   memory-bound either way: it reads the input once from memory and writes the output once,
///   4·(N·C·H·W + N·C·out_h·out_w) bytes.
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
            case 1: plan.run(rows: first..<end, taps: OneTap.self, tables: tables, input: source, output: destination)
            case 2: plan.run(rows: first..<end, taps: TwoTaps.self, tables: tables, input: source, output: destination)
            default: plan.run(rows: first..<end, taps: FourTaps.self, tables: tables, input: source, output: destination)
            }
        }
    }
}

/// The number of taps per axis as a type, so that `UpsamplePlan.run` is specialized for each
/// count and its tap loops are unrolled with constant trip counts. An `Int` argument left them
/// rolled: `run` was compiled once, not inlined into its three call sites, and the period-2
/// column blocks then built their permutes through the stack.
protocol TapCount { static var taps: Int { get } }
enum OneTap: TapCount { static var taps: Int { 1 } }
enum TwoTaps: TapCount { static var taps: Int { 2 } }
enum FourTaps: TapCount { static var taps: Int { 4 } }

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
    /// `columns.indices` as 32-bit integers, which the compiler gathers 16 at a time
    /// (`UpsampleGeometry` keeps sizes below 2³¹).
    let columnIndices: [Int32]
    /// Whether output rows are written with non-temporal stores: NCHW, when the input and the
    /// output together exceed `streamingThreshold`.
    let streaming: Bool
    /// For streamed output made in cached rows, per input row, the last output row of its plane
    /// that reads it.
    let lastReader: [Int32]
    /// For streamed output made in cached rows, the offset modulo 4096 bytes at which a row
    /// read by k output rows is made, from the first of them (entry k − 1, the last entry for
    /// more): `rowPlacement`.
    let placements: [Int]
    /// Whether streamed nearest rows are written straight from the input row, each vector of
    /// outputs a permute of 8 or 9 inputs (`PeriodTwoColumns.nearestVector`), with no cached
    /// row: when the columns have period 2 across the whole row with one base (nearest and
    /// nearest-exact ×2).
    let streamsNearestDirectly: Bool

    /// The input + output bytes above which the output is streamed. Measured on this machine
    /// (32 MB L3) with a ×2 nearest kernel in C, ordinary against streaming stores: 12 MB of
    /// output (15 MB in all) took 0.36 against 0.44 ms, 14 MB (17.5 MB in all) 0.73 against
    /// 0.52 ms, 64 MB 7.2 against 2.7 ms; below that an output stays cached for its next reader.
    static let streamingThreshold = 16 << 20

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
        columnIndices = g.columns.indices.map { Int32($0) }
        streaming = pixel == 1 && (g.input.count + g.output.count) * MemoryLayout<Float>.stride > Self.streamingThreshold
        streamsNearestDirectly = streaming && taps == 1 && pairs.map { $0.start == 0 && $0.end == g.output.width && $0.oddBase == $0.evenBase } == true
        // Per input row, the last output row reading it, and the most output rows any input row
        // has (its readers are consecutive output rows).
        let placesRows = streaming && !streamsNearestDirectly
        var lastReader = [Int32](repeating: -1, count: placesRows ? g.input.height : 0)
        var readers = [Int32](repeating: 0, count: lastReader.count), mostReaders = 1
        if placesRows {
            for i in 0..<g.rows.outputSize {
                for t in 0..<taps {
                    let r = g.rows.index(i, t)
                    if lastReader[r] == Int32(i) { continue }   // a clamped tap repeating a row
                    lastReader[r] = Int32(i)
                    readers[r] += 1
                    mostReaders = max(mostReaders, Int(readers[r]))
                }
            }
        }
        self.lastReader = lastReader
        let rowBytes = outputRowLength * MemoryLayout<Float>.stride
        placements = placesRows ? (1...min(mostReaders, Self.placedReaders)).map { Self.rowPlacement(rowBytes: rowBytes, readers: $0) } : []
    }

    /// Placements are computed for up to this many readers of a row; a row with more is placed
    /// for the first ones.
    static let placedReaders = 16

    /// The offset modulo 4096 bytes, a multiple of 64, of a cached row from the first of the
    /// `readers` consecutive output rows (`rowBytes` apart) that read it, farthest from all of
    /// them.
    ///
    /// A load whose address agrees with an older store's in its low 12 bits waits for that
    /// store (4K aliasing), and streamed stores wait for memory: a cached row at the same offset
    /// modulo 4096 as the output row being written from it stalls every load. Measured with a C
    /// loop, ×2 nearest of 1×64×256×256: 2.4 ms with the made row 1 KB from both output rows,
    /// 4.0 ms at the same offset. The heap had put this kernel's rows there in some processes:
    /// 4.2–4.4 ms run after run, 2.4–2.6 ms since.
    static func rowPlacement(rowBytes: Int, readers: Int) -> Int {
        var best = 0, bestClearance = -1
        for candidate in stride(from: 0, to: 4096, by: 64) {
            var clearance = 4096
            for reader in 0..<readers {
                let d = (candidate - reader * rowBytes) & 4095
                clearance = min(clearance, d, 4096 - d)
            }
            if clearance > bestClearance { (best, bestClearance) = (candidate, clearance) }
        }
        return best
    }

    /// Raw pointers to the sampling tables, valid inside `withTables`.
    struct Tables {
        let rowIndices: UnsafePointer<Int>, rowWeights: UnsafePointer<Float>
        let columnIndices: UnsafePointer<Int32>, columnWeights: UnsafePointer<Float>
        /// `pairs?.weightVectors`, or a placeholder when there are no pairs.
        let pairWeights: UnsafePointer<FloatVector>
    }

    func withTables<R>(_ body: (Tables) -> R) -> R {
        rows.indices.withUnsafeBufferPointer { rowIndices in
            rows.floatWeights.withUnsafeBufferPointer { rowWeights in
                columnIndices.withUnsafeBufferPointer { columnIndices in
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
    ///
    /// In NCHW the horizontally interpolated input rows live in a direct-mapped cache of `taps`
    /// rows (input row r in slot r mod taps: the row taps of one output row are consecutive
    /// rows, clamped, so they never evict each other), so each input row is interpolated once
    /// per thread and plane however many output rows read it. Nearest modes that stream their
    /// output write ×2 rows straight from the input row (`streamsNearestDirectly`) and make
    /// other rows in a one-row cache, then stream it to the output rows that repeat it.
    @inline(__always)
    func run<Taps: TapCount>(rows units: Range<Int>, taps _: Taps.Type, tables: Tables, input: UnsafePointer<Float>,
                             output: UnsafeMutablePointer<Float>) {
        let taps = Taps.taps
        let cachedRowCount = pixel > 1 || streamsNearestDirectly ? 0 : taps > 1 ? taps : streaming ? 1 : 0
        // Streamed, each cached row has 4096 bytes of room to be placed (`rowPlacement`).
        let slotLength = outputRowLength + (streaming ? 4096 / MemoryLayout<Float>.stride : 0)
        // Heap, not withUnsafeTemporaryAllocation: its closure was compiled apart from `taps`'s
        // constant value, leaving the tap loops rolled (bicubic measured 2.5× slower).
        let cache = UnsafeMutablePointer<Float>.allocate(capacity: cachedRowCount * slotLength)
        defer { cache.deallocate() }
        defer { if streaming { streamingStoresFence() } }
        /// Where to make input row `inputRow` in `slot` for output row `row` onward.
        @inline(__always) func placeRow(_ inputRow: Int, slot: Int, row: Int, outputRow: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
            let base = cache + slot * slotLength
            if !streaming { return base }
            let readers = Int(lastReader[inputRow]) - row + 1
            let offset = placements[min(max(readers, 1), placements.count) - 1]
            return base + ((Int(bitPattern: outputRow) + offset - Int(bitPattern: base)) & 4095) / MemoryLayout<Float>.stride
        }
        var cachedRows = SIMD4<Int>(repeating: -1)
        /// Where each slot's row starts in `cache`.
        var slotStarts = SIMD4<Int>(repeating: 0)
        var plane = -1
        /// The source row of the last nearest row made in this plane, and where to copy it from.
        var previousNearest: (sourceRow: Int, row: UnsafePointer<Float>)?
        for unit in units {
            let row = unit % outputHeight
            if unit / outputHeight != plane {
                plane = unit / outputHeight
                cachedRows = SIMD4(repeating: -1)
                previousNearest = nil
            }
            let inputPlane = input + plane * inputPlaneStride
            let outputRow = output + plane * outputPlaneStride + row * outputRowLength
            let rowIndices = tables.rowIndices + row * taps, rowWeights = tables.rowWeights + row * taps
            if streamsNearestDirectly, let pairs {
                let source = inputPlane + rowIndices[0] * inputRowLength + pairs.evenBase
                writeRow(count: outputRowLength, to: outputRow, streaming: true, streamPartialLines: false,
                         vector: { pairs.nearestVector(from: source, at: $0) }, scalar: { source[$0 >> 1] })
                continue
            }
            if taps == 1, let previousNearest, previousNearest.sourceRow == rowIndices[0] {
                copyVectors(from: previousNearest.row, to: outputRow, count: outputRowLength, streaming: streaming)
                continue
            }
            if pixel > 1 {
                let rows = WeightedTaps(taps: taps, weights: rowWeights) { inputPlane + rowIndices[$0] * inputRowLength }
                interpolatePixels(taps: taps, rows: rows, tables: tables, into: outputRow)
                if taps == 1 { previousNearest = (rowIndices[0], UnsafePointer(outputRow)) }
            } else if taps == 1 {
                let madeRow = streaming ? placeRow(rowIndices[0], slot: 0, row: row, outputRow: outputRow) : outputRow
                interpolateColumns(taps: taps, tables: tables, from: inputPlane + rowIndices[0] * inputRowLength, into: madeRow)
                if streaming { copyVectors(from: madeRow, to: outputRow, count: outputRowLength, streaming: true) }
                previousNearest = (rowIndices[0], UnsafePointer(madeRow))
            } else {
                for t in 0..<taps {
                    let inputRow = rowIndices[t], slot = inputRow % taps
                    if cachedRows[slot] != inputRow {
                        let slotRow = placeRow(inputRow, slot: slot, row: row, outputRow: outputRow)
                        interpolateColumns(taps: taps, tables: tables, from: inputPlane + inputRow * inputRowLength, into: slotRow)
                        cachedRows[slot] = inputRow
                        slotStarts[slot] = slotRow - cache
                    }
                }
                let rows = WeightedTaps(taps: taps, weights: rowWeights) { UnsafePointer(cache + slotStarts[rowIndices[$0] % taps]) }
                rows.blend(count: outputRowLength, into: outputRow, streaming: streaming)
            }
        }
    }

    /// NCHW, one row: output[j] = Σ_t w_t(j)·source[index_t(j)] (the first product, then fused
    /// multiply-adds in tap order), vectorized over the period-2 columns.
    @inline(__always)
    func interpolateColumns(taps: Int, tables: Tables, from source: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        guard let pairs else {
            gatherColumns(0..<outputWidth, taps: taps, tables: tables, from: source, into: output)
            return
        }
        gatherColumns(0..<pairs.start, taps: taps, tables: tables, from: source, into: output)
        pairs.gather(taps: taps, weights: tables.pairWeights, from: source, into: output)
        gatherColumns(pairs.end..<outputWidth, taps: taps, tables: tables, from: source, into: output)
    }

    @inline(__always)
    func gatherColumns(_ columns: Range<Int>, taps: Int, tables: Tables, from source: UnsafePointer<Float>,
                       into output: UnsafeMutablePointer<Float>) {
        let indices = tables.columnIndices, weights = tables.columnWeights
        for j in columns {
            let tap = j * taps
            if taps == 1 {
                output[j] = source[Int(indices[tap])]
                continue
            }
            var sum = source[Int(indices[tap])] * weights[tap]
            for t in 1..<taps { sum = sum.addingProduct(source[Int(indices[tap + t])], weights[tap + t]) }
            output[j] = sum
        }
    }

    /// NHWC: output pixel j = Σ_r w_r·(Σ_t w_t(j)·(pixel index_t(j) of input row r)), SIMD along
    /// the C contiguous channels, straight from the input rows (a cache of interpolated rows of
    /// out_w·C elements would not stay in L1). The products and sums are those of the NCHW
    /// path, in the same order.
    @inline(__always)
    func interpolatePixels(taps: Int, rows: WeightedTaps<UnsafePointer<Float>>, tables: Tables, into output: UnsafeMutablePointer<Float>) {
        let indices = tables.columnIndices, weights = tables.columnWeights
        let width = FloatVector.scalarCount
        for j in 0..<outputWidth {
            let tap = j * taps, out = output + j * pixel
            if taps == 1 {
                out.update(from: rows.tap0 + Int(indices[tap]) * pixel, count: pixel)
                continue
            }
            let columns = WeightedTaps(taps: taps, weights: weights + tap) { Int(indices[tap + $0]) * pixel }
            var c = 0
            while c + width <= pixel {
                (out + c).storeVector(rows.blend { row in columns.blend { (row + $0 + c).loadVector() } })
                c += width
            }
            while c < pixel {
                out[c] = rows.blend { row in columns.blend { row[$0 + c] } }
                c += 1
            }
        }
    }
}

/// A Float or a vector of Floats, which the blends scale by Float weights and accumulate with
/// fused multiply-adds, so that one blend serves the vector loops and their scalar tails.
protocol WeightedSum {
    static func * (lhs: Self, rhs: Float) -> Self
    func addingProduct(_ lhs: Self, _ rhs: Float) -> Self
}

extension Float: WeightedSum {}
extension SIMD16: WeightedSum where Scalar == Float {}

/// The taps (1 to 4) of one output along one axis — input rows, or the offsets of tap pixels
/// in a row — and their weights, read once: `blend` gives Σ_t w_t·value(tap t), the first
/// product followed by fused multiply-adds in tap order.
struct WeightedTaps<Tap> {
    let taps: Int
    let tap0: Tap, tap1: Tap, tap2: Tap, tap3: Tap
    let weight0: Float, weight1: Float, weight2: Float, weight3: Float

    @inline(__always)
    init(taps: Int, weights: UnsafePointer<Float>, tap: (Int) -> Tap) {
        self.taps = taps
        let last = taps - 1
        (tap0, tap1, tap2, tap3) = (tap(0), tap(min(1, last)), tap(min(2, last)), tap(min(3, last)))
        (weight0, weight1, weight2, weight3) = (weights[0], weights[min(1, last)], weights[min(2, last)], weights[min(3, last)])
    }

    /// Σ_t w_t·value(tap t), for a Float or a vector of them.
    @inline(__always)
    func blend<Value: WeightedSum>(_ value: (Tap) -> Value) -> Value {
        var sum = value(tap0) * weight0
        sum = sum.addingProduct(value(tap1), weight1)
        if taps == 4 {
            sum = sum.addingProduct(value(tap2), weight2)
            sum = sum.addingProduct(value(tap3), weight3)
        }
        return sum
    }
}

extension WeightedTaps where Tap == UnsafePointer<Float> {
    /// destination[e] = Σ_t w_t·(row t)[e] for e < count, vectorized; with non-temporal stores
    /// when `streaming` (see `writeRow`).
    @inline(__always)
    func blend(count: Int, into destination: UnsafeMutablePointer<Float>, streaming: Bool) {
        writeRow(count: count, to: destination, streaming: streaming, streamPartialLines: true,
                 vector: { e in blend { ($0 + e).loadVector() } }, scalar: { e in blend { $0[e] } })
    }
}

/// destination[0..<count] = source[0..<count] with vector loads and stores, non-temporal ones
/// when `streaming` (see `writeRow`). glibc's memmove (`rep movsb` at these sizes) copied a 2 KB
/// output row at a third of this speed here.
@inline(__always)
func copyVectors(from source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int, streaming: Bool) {
    writeRow(count: count, to: destination, streaming: streaming, streamPartialLines: false,
             vector: { (source + $0).loadVector() }, scalar: { source[$0] })
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

extension PeriodTwoColumns {
    /// For nearest sampling across the whole row with one base (`evenBase == oddBase`), the 16
    /// outputs from column e on, from `source` = the input row + `evenBase`: lane i is
    /// source[(e + i) >> 1]. It reads only the 8 (e even) or 9 (e odd) inputs it uses, as two
    /// 8-Float loads, so it never reads past the row.
    @inline(__always)
    func nearestVector(from source: UnsafePointer<Float>, at e: Int) -> FloatVector {
        let first = source + (e >> 1)
        let a = UnsafeRawPointer(first).loadUnaligned(as: SIMD8<Float>.self)
        if e & 1 == 0 {
            return FloatVector(a[0], a[0], a[1], a[1], a[2], a[2], a[3], a[3], a[4], a[4], a[5], a[5], a[6], a[6], a[7], a[7])
        }
        let b = UnsafeRawPointer(first + 1).loadUnaligned(as: SIMD8<Float>.self)
        return FloatVector(a[0], b[0], b[0], b[1], b[1], b[2], b[2], b[3], b[3], b[4], b[4], b[5], b[5], b[6], b[6], b[7])
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
