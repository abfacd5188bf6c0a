/// C ← α·op(A)·op(B) + β·C for row-major matrices: the project's one GEMM engine, serving
/// matrix multiply, convolution (im2col) and the low-rank code.
///
/// op(A) is m × k, op(B) is k × n, C is m × n with leading dimension `ldc`. When β is zero, C is
/// not read (it may hold NaN); when α is zero or k is zero, A and B are not read.
///
/// The loop nest is BLIS's, written once for every dtype; only the register micro-kernel's
/// vector type differs (see `GEMMScalar`):
///
///     for jc in 0..<n step nc            // 5th loop: nc columns of B and C
///       for pc in 0..<k step kc          // 4th loop: rank-kc update
///         pack op(B)[pc.., jc..] → packedPanelB (kc × nc, in NR-wide micro-panels)
///         for ic in 0..<m step mc        // 3rd loop: one block of A per thread
///           pack op(A)[ic.., pc..] → packedBlockA (mc × kc, in MR-tall micro-panels)
///           for jr in 0..<nc step NR     // 2nd loop
///             for ir in 0..<mc step MR   // 1st loop
///               micro-kernel: C[ic+ir.., jc+jr..] (MR × NR) ← α·Ã·B̃ + β'·C
///
/// β' is β for the first rank-kc update and 1 afterwards. Each thread packs its own blocks of A.
/// Panels of B up to 4 MB are packed by each thread for itself, so that the whole product is one
/// parallel region; larger panels are packed once, by all threads together, and shared. They split the rows of C when there are enough MR-row strips
/// for every thread, and otherwise the NR-column micro-panels, so that short-wide and tall-skinny
/// products (LoRA's m × 16 × n) also use every thread. The split never changes the order in which
/// an element's k products are summed, so the result is the same whatever the thread count.
///
/// - Complexity: 2·m·n·k flops; packing moves O(m·k·⌈n/nc⌉ + t·k·n) elements, where t is the
///   number of threads that pack B privately (1 for a shared panel).
/// - Error: each element is computed as a sum of k products with fused multiply-adds, then
///   scaled, so |Ĉ − C| ≤ γ_{k+2}·(|α||op(A)||op(B)| + |β||C|) elementwise (Higham §3.5).
public func gemm<T: GEMMScalar>(
    m: Int, n: Int, k: Int,
    alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int,
    threads: Int = 1, blocking: GEMMBlocking = T.defaultBlocking
) {
    if threads < 1 { fatalError("gemm: threads must be at least 1, got \(threads)") }
    let problem = GEMMProblem(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, ldc: ldc)
    T.engineGEMM(problem, into: c, threads: threads, blocking: blocking)
}

/// `gemm` for one concrete type (see `GEMMScalar.engineGEMM`).
func runEngine<T: GEMMScalar>(_ p: GEMMProblem<T>, into c: UnsafeMutablePointer<T>, threads: Int, blocking: GEMMBlocking) {
    engineProduct(m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: .matrix(p.a), b: .matrix(p.b),
                  beta: p.beta, c: c, ldc: p.ldc, threads: threads, blocking: blocking)
}

/// The engine on operands that are matrices in memory or packing routines (`GEMMOperandSource`):
/// C ← α·op(A)·op(B) + β·C with `gemm`'s semantics, error bound and thread independence.
/// `workspace`, when given, holds at least `engineWorkspaceElements` elements for this product
/// and replaces the engine's own buffers (callers that run many products keep it between them).
/// Module-internal: convolution calls it from code specialized for its element type.
func engineProduct<T: GEMMScalar>(
    m: Int, n: Int, k: Int, alpha: T, a: GEMMOperandSource<T>, b: GEMMOperandSource<T>,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int, threads: Int, blocking: GEMMBlocking = T.defaultBlocking,
    workspace: UnsafeMutablePointer<T>? = nil
) {
    if m < 0 || n < 0 || k < 0 { fatalError("gemm: negative dimension m=\(m) n=\(n) k=\(k)") }
    if m > 0 && ldc < n { fatalError("gemm: ldc=\(ldc) is smaller than n=\(n)") }
    if threads < 1 { fatalError("gemm: threads must be at least 1, got \(threads)") }
    if m == 0 || n == 0 { return }
    if k == 0 || alpha == 0 {
        scale(rows: m, columns: n, by: beta, c: c, ldc: ldc)
        return
    }
    let usefulThreads = engineThreads(m: m, n: n, k: k, threads: threads)
    let sizes = GEMMEngine<T>.bufferSizes(m: m, n: n, k: k, blocking: blocking, threads: usefulThreads)
    if let workspace {
        GEMMEngine<T>(m: m, n: n, k: k, blocking: blocking, threads: usefulThreads, buffers: workspace, sizes: sizes)
            .multiply(alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc)
        return
    }
    // Buffers from the stack when they fit (small products spend a large share of their time in
    // malloc otherwise), from the heap when they do not.
    withUnsafeTemporaryAllocation(byteCount: sizes.total * MemoryLayout<T>.stride, alignment: 64) { raw in
        let base = raw.baseAddress!.bindMemory(to: T.self, capacity: sizes.total)
        let engine = GEMMEngine<T>(m: m, n: n, k: k, blocking: blocking, threads: usefulThreads, buffers: base, sizes: sizes)
        engine.multiply(alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc)
    }
}

/// The memory `gemm` takes for its packed panels and blocks, in elements of T, for a product
/// of this shape on `threads` threads: what a caller reports as the engine's workspace. O(1).
func engineWorkspaceElements<T: GEMMScalar>(_: T.Type, m: Int, n: Int, k: Int, threads: Int, blocking: GEMMBlocking = T.defaultBlocking) -> Int {
    if m == 0 || n == 0 || k == 0 { return 0 }
    let usefulThreads = engineThreads(m: m, n: n, k: k, threads: threads)
    return GEMMEngine<T>.bufferSizes(m: m, n: n, k: k, blocking: blocking, threads: usefulThreads).total
}

/// The threads the engine uses of the `threads` it is given. Small products do not pay for
/// waking a second thread: each thread should get at least 8·10⁶ flops. Measured with
/// `bench --preset shapes`, Float: 128³ (4·10⁶ flops) took 0.135 ms on two threads against
/// 0.047 ms on one; 256³ (3·10⁷) 0.24 ms against 0.33 ms.
func engineThreads(m: Int, n: Int, k: Int, threads: Int) -> Int {
    let flops = 2.0 * Double(m) * Double(n) * Double(k)
    return max(1, min(threads, Int(flops / 8e6)))
}

/// One operand of the engine as it is read: a matrix in memory, which the engine packs or reads
/// in place, or a routine that writes the operand's micro-panels itself — BLIS's packing
/// callback, through which convolution packs the panels of its im2col matrix straight from the
/// image without materializing it.
enum GEMMOperandSource<T> {
    case matrix(MatrixOperand<T>)
    case packer(GEMMMicroPanelPacker<T>)

    /// The matrix, when the operand is one and can be read in place.
    var inPlace: MatrixOperand<T>? {
        if case .matrix(let matrix) = self { return matrix }
        return nil
    }
}

/// Writes one micro-panel of an operand in the engine's packed order, from wherever the operand
/// lives. `pack(firstRow, firstColumn, rows, columns, destination)` is called concurrently from
/// several threads on disjoint destinations, so it must only read shared state.
///
/// As op(A) (m × k): `rows` ≤ MR rows from `firstRow` and `columns` (a depth kc) columns from
/// `firstColumn`, column after column, each padded with zeros to MR:
///
///     destination[p·MR + i] = op(A)(firstRow + i, firstColumn + p)   (0 for rows ≤ i < MR)
///
/// As op(B) (k × n): `rows` (a depth kc) rows from `firstRow` and `columns` ≤ NR columns from
/// `firstColumn`, row after row, each padded with zeros to NR:
///
///     destination[p·NR + j] = op(B)(firstRow + p, firstColumn + j)   (0 for columns ≤ j < NR)
///
/// MR and NR are `T.microTileRows` and `T.microTileColumns`.
struct GEMMMicroPanelPacker<T> {
    let pack: (_ firstRow: Int, _ firstColumn: Int, _ rows: Int, _ columns: Int, _ destination: UnsafeMutablePointer<T>) -> Void
}

/// C ← β·C, writing zeros without reading C when β is zero.
func scale<T: BinaryFloatingPoint>(rows: Int, columns: Int, by beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
    for i in 0..<rows {
        let row = c + i * ldc
        if beta == 0 {
            row.update(repeating: 0, count: columns)
        } else if beta != 1 {
            for j in 0..<columns { row[j] *= beta }
        }
    }
}

/// The buffers and loop nest of one `gemm` call.
struct GEMMEngine<T: GEMMScalar> {
    let m: Int, n: Int, k: Int
    let blocking: GEMMBlocking
    let threads: Int
    let packedPanelB: UnsafeMutablePointer<T>
    /// One packed block of A and one scratch tile per thread.
    let packedBlocksA: UnsafeMutablePointer<T>
    let scratchTiles: UnsafeMutablePointer<T>
    let blockAStride: Int
    /// Elements of one packed panel of B; there is one per thread when threads pack privately.
    let panelStride: Int

    static var mr: Int { T.microTileRows }
    static var nr: Int { T.microTileColumns }

    /// Elements of each buffer, each rounded up to whole cache lines.
    struct BufferSizes {
        let panelStride: Int, panels: Int, blockAStride: Int, scratch: Int
        var total: Int { panelStride * panels + blockAStride + scratch }
    }

    static func bufferSizes(m: Int, n: Int, k: Int, blocking: GEMMBlocking, threads: Int) -> BufferSizes {
        let mc = roundUp(blocking.mc, mr), nc = roundUp(blocking.nc, nr)
        let line = max(1, 64 / MemoryLayout<T>.stride)
        let kcMax = min(k, blocking.kc)
        let panelStride = roundUp(kcMax * roundUp(min(n, nc), nr), line)
        let blockA = roundUp(roundUp(min(roundUp(m, mr), mc), mr) * kcMax, line)
        let panels = GEMMPlan.privatePanels(m: m, n: n, k: k, threads: threads, mr: mr, nr: nr, blocking: blocking,
                                            elementSize: MemoryLayout<T>.stride) ? threads : 1
        return BufferSizes(panelStride: panelStride, panels: panels, blockAStride: blockA * threads, scratch: roundUp(mr * nr, line) * threads)
    }

    init(m: Int, n: Int, k: Int, blocking: GEMMBlocking, threads: Int, buffers: UnsafeMutablePointer<T>, sizes: BufferSizes) {
        self.m = m
        self.n = n
        self.k = k
        // Round the blocking to whole micro-tiles.
        self.blocking = GEMMBlocking(mc: roundUp(blocking.mc, Self.mr), kc: blocking.kc, nc: roundUp(blocking.nc, Self.nr))
        self.threads = threads
        panelStride = sizes.panelStride
        blockAStride = sizes.blockAStride / threads
        packedPanelB = buffers
        packedBlocksA = buffers + sizes.panelStride * sizes.panels
        scratchTiles = packedBlocksA + sizes.blockAStride
    }

    func multiply(alpha: T, a: GEMMOperandSource<T>, b: GEMMOperandSource<T>, beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
        let nr = Self.nr
        let plan = GEMMPlan(
            m: m, n: n, k: k, aInPlace: a.inPlace != nil, bRowsInPlace: b.inPlace?.columnStride == 1,
            threads: threads, mr: Self.mr, nr: nr, blocking: blocking, elementSize: MemoryLayout<T>.stride)
        if plan.privatePanels {
            // Each thread packs what it reads itself: one parallel region for the whole product
            // instead of two synchronizations per rank-kc update. Measured on 2 threads, Float
            // 1024 × 32 × 1024 (the randomized SVD's product): 0.57 ms with the shared panel,
            // 0.36 ms this way (OpenBLAS: 0.48 ms).
            parallelFor(threads) { t in
                forEachBlock { jc, nc, pc, kc in
                    let work = plan.work(part: t, columns: nc)
                    if work.rows.isEmpty || work.strips.isEmpty { return }
                    let panel = packedPanelB + t * panelStride
                    let packed = plan.packedStrips(work.strips, columns: nc)
                    packPanelB(b, row: pc, column: jc, depth: kc, columns: nc, strips: packed, into: panel)
                    macroKernel(
                        rows: work.rows, strips: work.strips, columns: nc, depth: kc,
                        a: a, depthOffset: pc, packA: plan.packA, b: b.inPlace?.offset(row: pc, column: jc), packedB: packed, packedPanelB: panel,
                        alpha: alpha, beta: pc == 0 ? beta : 1, c: c + jc, ldc: ldc,
                        packedBlockA: packedBlocksA + t * blockAStride, scratch: scratchTiles + t * Self.mr * nr)
                }
            }
            return
        }
        forEachBlock { jc, nc, pc, kc in
            let columnStrips = (nc + nr - 1) / nr
            // The shared panel of B, packed by all threads together.
            parallelFor(threads) { t in
                let (first, last) = share(of: columnStrips, part: t, parts: threads)
                packPanelB(b, row: pc, column: jc, depth: kc, columns: nc, strips: first..<last, into: packedPanelB)
            }
            parallelFor(threads) { t in
                let work = plan.work(part: t, columns: nc)
                if work.rows.isEmpty || work.strips.isEmpty { return }
                macroKernel(
                    rows: work.rows, strips: work.strips, columns: nc, depth: kc,
                    a: a, depthOffset: pc, packA: plan.packA, b: nil, packedB: 0..<columnStrips, packedPanelB: packedPanelB,
                    alpha: alpha, beta: pc == 0 ? beta : 1, c: c + jc, ldc: ldc,
                    packedBlockA: packedBlocksA + t * blockAStride, scratch: scratchTiles + t * Self.mr * nr)
            }
        }
    }

    /// Loops 5 and 4: `body(jc, nc, pc, kc)` for each nc-wide column block and kc-deep update.
    @inline(__always)
    func forEachBlock(_ body: (Int, Int, Int, Int) -> Void) {
        for jc in stride(from: 0, to: n, by: blocking.nc) {
            for pc in stride(from: 0, to: k, by: blocking.kc) {
                body(jc, min(blocking.nc, n - jc), pc, min(blocking.kc, k - pc))
            }
        }
    }

    /// Loops 3, 2 and 1 for one thread: its rows of C against its micro-panels of B, at depth
    /// `depthOffset ..< depthOffset + kc` of the product. Micro-panels in `packedB` come from
    /// `packedPanelB`; the others are read in place from `b` (the panel's matrix, present when B
    /// is read in place). Without `packA`, full strips of A (a matrix then) are read in place and
    /// only a cut-off last strip is packed.
    func macroKernel(
        rows: Range<Int>, strips: Range<Int>, columns: Int, depth kc: Int,
        a: GEMMOperandSource<T>, depthOffset pc: Int, packA: Bool, b: MatrixOperand<T>?, packedB: Range<Int>, packedPanelB: UnsafeMutablePointer<T>,
        alpha: T, beta: T, c: UnsafeMutablePointer<T>, ldc: Int,
        packedBlockA: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>
    ) {
        let mr = Self.mr, nr = Self.nr
        let aInPlace = packA ? nil : a.inPlace?.offset(row: 0, column: pc)
        for ic in stride(from: rows.lowerBound, to: rows.upperBound, by: blocking.mc) {
            let mc = min(blocking.mc, rows.upperBound - ic)
            if packA { packBlockA(a, row: ic, column: pc, rows: mc, depth: kc, into: packedBlockA) }
            for strip in strips {
                let jr = strip * nr
                let (panelB, bDepthStride) = packedB.contains(strip)
                    ? (UnsafePointer(packedPanelB + strip * nr * kc), nr)
                    : (b!.offset(row: 0, column: jr).base, b!.rowStride)
                let tileColumns = min(nr, columns - jr)
                for ir in stride(from: 0, to: mc, by: mr) {
                    let tileRows = min(mr, mc - ir)
                    var panelA = UnsafePointer(packedBlockA + ir * kc), aRowStride = 1, aDepthStride = mr
                    if let aInPlace {
                        if tileRows == mr {
                            let strip = aInPlace.offset(row: ic + ir, column: 0)
                            (panelA, aRowStride, aDepthStride) = (strip.base, strip.rowStride, strip.columnStride)
                        } else {
                            packBlockA(a, row: ic + ir, column: pc, rows: tileRows, depth: kc, into: packedBlockA)
                            panelA = UnsafePointer(packedBlockA)
                        }
                    }
                    microKernel(
                        depth: kc, a: panelA, aRowStride: aRowStride, aDepthStride: aDepthStride,
                        b: panelB, bDepthStride: bDepthStride,
                        alpha: alpha, beta: beta, c: c + (ic + ir) * ldc + jr, ldc: ldc,
                        rows: tileRows, columns: tileColumns, scratch: scratch)
                }
            }
        }
    }
}

/// How one product is split and which operands are packed, decided once per call.
struct GEMMPlan {
    let m: Int, n: Int, threads: Int, mr: Int, nr: Int
    /// Skinny products (BLIS's "sup" case): packing pays for itself only when the packed operand
    /// is reused. With at most two micro-panels of B, a packed block of A would be read at most
    /// twice, so A is read in place; with at most eight strips of rows (48), B is read in place
    /// when its rows are contiguous. Measured on the randomized SVD's m×32×k and 32×n×k products
    /// and LoRA's shapes: see Benchmarks/baselines/README.md.
    let packA: Bool
    let packB: Bool
    /// Whether each thread packs its own B (a cut-off micro-panel, or a panel of at most two
    /// micro-panels) so that threads never wait for each other.
    let privatePanels: Bool
    let rowStrips: Int

    /// `aInPlace`: A is a matrix (not a packing routine); `bRowsInPlace`: B is a matrix whose
    /// rows are contiguous. An operand given as a packing routine is always packed.
    init(m: Int, n: Int, k: Int, aInPlace: Bool, bRowsInPlace: Bool, threads: Int, mr: Int, nr: Int, blocking: GEMMBlocking, elementSize: Int) {
        self.m = m
        self.n = n
        self.threads = threads
        self.mr = mr
        self.nr = nr
        packA = n > 2 * nr || !aInPlace
        packB = !(m <= 8 * mr && bRowsInPlace)
        privatePanels = !packB || Self.privatePanels(m: m, n: n, k: k, threads: threads, mr: mr, nr: nr, blocking: blocking, elementSize: elementSize)
        rowStrips = (m + mr - 1) / mr
    }

    /// Whether each thread packs the panel of B it reads itself, so that the whole product is one
    /// parallel region. A shared panel costs two thread wake-ups per rank-kc update, which small
    /// and mid-size products cannot hide (measured, Float on 2 threads: 512³ took 1.91 ms shared
    /// and 1.34 ms private, OpenBLAS 1.33 ms; 256³ 0.37 against 0.25 ms). Private copies cost
    /// duplicate packing and cache: up to 4 MB per thread they win; the Double 2048³ product
    /// (8 MB per copy) was 9% slower private, so large panels stay shared.
    static func privatePanels(m: Int, n: Int, k: Int, threads: Int, mr: Int, nr: Int, blocking: GEMMBlocking, elementSize: Int) -> Bool {
        let panelBytes = min(k, blocking.kc) * min(roundUp(n, nr), blocking.nc) * elementSize
        return n <= 2 * nr || m <= 8 * mr || panelBytes <= 4 << 20
    }

    /// Thread `part`'s rows of C and micro-panels of the current column block: the longer side of
    /// C is split, if that gives every thread two strips.
    func work(part: Int, columns nc: Int) -> (rows: Range<Int>, strips: Range<Int>) {
        let columnStrips = (nc + nr - 1) / nr
        let splitRows = rowStrips >= 2 * threads && (m >= nc || columnStrips < 2 * threads)
        if splitRows {
            let (first, last) = share(of: rowStrips, part: part, parts: threads)
            return (min(m, first * mr)..<min(m, last * mr), 0..<columnStrips)
        }
        let (first, last) = share(of: columnStrips, part: part, parts: threads)
        return (0..<m, first..<last)
    }

    /// Of `strips`, those that must come from a packed panel: all of them when B is packed,
    /// else only a cut-off last micro-panel.
    func packedStrips(_ strips: Range<Int>, columns nc: Int) -> Range<Int> {
        if packB { return strips }
        let last = (nc + nr - 1) / nr - 1
        return nc % nr != 0 && strips.contains(last) ? last..<(last + 1) : last..<last
    }
}

@inline(__always)
func roundUp(_ x: Int, _ multiple: Int) -> Int { (x + multiple - 1) / multiple * multiple }

/// Memory aligned to a cache line (64 bytes), so packed micro-panels start on one.
func allocateAligned<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: 64)
        .bindMemory(to: T.self, capacity: max(1, count))
}
