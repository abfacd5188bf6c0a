import CMemoryHints

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
/// Products whose operands fit in cache (at most 128 KB) take a path without packing or
/// buffers (`GEMMPlan.inPlace`): the micro-kernel reads A and B where they lie, and narrower
/// register tiles take the columns that do not fill a whole one (see `multiplyInPlace`).
/// `gemm` is inlinable so that callers in other modules call it specialized: generic, each call
/// looked up `GEMMProblem`'s metadata, a quarter of an 8³ product's time.
///
/// - Complexity: 2·m·n·k flops; packing moves O(m·k·⌈n/nc⌉ + t·k·n) elements, where t is the
///   number of threads that pack B privately (1 for a shared panel).
/// - Error: each element is computed as a sum of k products with fused multiply-adds, then
///   scaled, so |Ĉ − C| ≤ γ_{k+2}·(|α||op(A)||op(B)| + |β||C|) elementwise (Higham §3.5).
@inlinable
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
/// Module-internal: convolution calls it from code specialized for its element type. Inlined, so
/// that the plan's choices fold where the operands' kinds are known (small products pay for
/// every instruction of the call).
@inline(__always)
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
    let plan = GEMMPlan(T.self, m: m, n: n, k: k, operands: GEMMOperandKinds(a: a, b: b), threads: threads, blocking: blocking)
    if plan.inPlace, let a = a.inPlace, let b = b.inPlace {
        parallelFor(plan.threads) { t in
            let (first, last) = share(of: plan.rowStrips, part: t, parts: plan.threads)
            multiplyInPlace(plan: plan, rows: first * plan.mr..<min(m, last * plan.mr), alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc)
        }
        return
    }
    if let workspace {
        GEMMEngine(plan: plan, workspace: workspace).multiply(alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc)
        return
    }
    let bytes = plan.workspaceElements * MemoryLayout<T>.stride
    // Large workspaces are kept between calls (`ScratchMemory`): a fresh mapping each call cost
    // its page faults and new physical pages every time. Measured, Double 2048³ on one thread
    // (`bench --filter 'matmul/(parallel|blas-openblas)$' --sizes matmul=2048 --dtype f64
    // --threads 1 --samples 8`, three runs each): OpenBLAS ÷ ours 0.92–0.95 with the 8 MB
    // workspace mapped per call (samples' CV 2.4–3.4%), 0.94–0.97 kept (CV 0.9–1.9%).
    if bytes >= GEMMPlan.keptWorkspaceBytes {
        ScratchMemory.withElements(T.self, count: plan.workspaceElements) { base in
            GEMMEngine(plan: plan, workspace: base).multiply(alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc)
        }
        return
    }
    // Smaller buffers from the stack when they fit, from the heap when they do not (small
    // products spent a large share of their time in malloc). Aligned to a cache line by hand:
    // asked for 64-byte alignment, `withUnsafeTemporaryAllocation` always takes the heap (75 ns
    // a call here, against 1.5 ns for up to 1 KB at 16 bytes and 35 ns above).
    withUnsafeTemporaryAllocation(byteCount: bytes + 64, alignment: 16) { raw in
        let aligned = raw.baseAddress!.alignedUp(toMultipleOf: 64)
        let base = aligned.bindMemory(to: T.self, capacity: plan.workspaceElements)
        GEMMEngine(plan: plan, workspace: base).multiply(alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc)
    }
}

/// The memory `gemm` takes for its packed panels and blocks, in elements of T, for a product
/// of this shape on `threads` threads, whatever its operands are (matrices read in place or
/// packing routines): what a caller provides as the engine's workspace. O(1).
func engineWorkspaceElements<T: GEMMScalar>(_: T.Type, m: Int, n: Int, k: Int, threads: Int, blocking: GEMMBlocking = T.defaultBlocking) -> Int {
    if m == 0 || n == 0 || k == 0 { return 0 }
    return GEMMOperandKinds.all.map {
        GEMMPlan(T.self, m: m, n: n, k: k, operands: $0, threads: threads, blocking: blocking).workspaceElements
    }.max()!
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

/// What the plan needs to know of the operands: whether A is a matrix (it can be read in place)
/// and whether B is a matrix with contiguous rows (its micro-panels can be read in place).
struct GEMMOperandKinds: Equatable {
    var aInPlace: Bool
    var bRowsInPlace: Bool

    init(aInPlace: Bool, bRowsInPlace: Bool) {
        self.aInPlace = aInPlace
        self.bRowsInPlace = bRowsInPlace
    }

    init<T>(a: GEMMOperandSource<T>, b: GEMMOperandSource<T>) {
        self.init(aInPlace: a.inPlace != nil, bRowsInPlace: b.inPlace?.columnStride == 1)
    }

    static let all = [true, false].flatMap { a in [true, false].map { b in GEMMOperandKinds(aInPlace: a, bRowsInPlace: b) } }
}

/// Every choice the engine makes for one product — threads, which operands are packed, private
/// or shared panels of B, how the work is split — and the size and place of every buffer it
/// uses, decided once per call from the shape, the operands' kinds, the thread count, the
/// blocking and the register tile. The engine reads its choices and its buffers only from here,
/// so that retuning a threshold cannot make it use a buffer the plan did not size.
struct GEMMPlan: Equatable {
    let m: Int, n: Int, k: Int
    /// The register tile, MR × NR (`GEMMScalar.MicroTile`).
    let mr: Int, nr: Int
    /// The cache blocking, mc and nc rounded up to whole tiles, kc at most k.
    let blocking: GEMMBlocking
    /// The threads the product runs on, of those it was given.
    let threads: Int
    /// Whether op(A) is packed into MR-row micro-panels. Otherwise (A a matrix) its strips of
    /// rows are read in place, a cut-off last strip too (`StridedMicroPanelA`).
    let packA: Bool
    /// Whether op(B) is packed into NR-column micro-panels. Otherwise (B a matrix with
    /// contiguous rows) micro-panels are read in place and only a cut-off last one is packed.
    let packB: Bool
    /// Whether each thread packs the panel of B it reads itself (one parallel region for the
    /// whole product) rather than all threads packing one shared panel per rank-kc update.
    let privatePanels: Bool
    /// The product fits in cache and both operands are read in place, whole (no blocking, no
    /// packing, no workspace): `GEMMEngine.multiplyInPlace`.
    let inPlace: Bool
    /// MR-row strips of C.
    let rowStrips: Int
    /// When B's micro-panels are read in place from a large B: how far ahead of each row of a
    /// micro-panel the kernel prefetches, in bytes (0: no prefetch).
    let prefetchBBytes: Int
    /// How many tiles ahead the macro-kernel prefetches C's lines for writing (0: none): in
    /// shallow products, where a tile's few rank-1 updates cannot hide the wait for its lines.
    let prefetchCTiles: Int

    // The workspace, in elements of T, each buffer a whole number of cache lines.
    /// One packed panel of B: the whole kc × nc panel when B is packed, else one cut-off
    /// micro-panel (kc × NR), or none.
    let panelElements: Int
    /// Panels of B: one per thread when private, else one.
    let panelCount: Int
    /// One thread's packed block of A (mc × kc when A is packed, else none).
    let blockAElements: Int
    /// One thread's scratch tile for right-edge tiles (MR × NR).
    let scratchElements: Int

    /// Products under this many flops per thread run on fewer threads: each extra thread costs
    /// a wake-up (half a microsecond on the pool when its workers spin, up to tens when they
    /// have parked or the machine is loaded) and a share of the packing. Measured with the pool
    /// (see `Benchmarks/baselines/README.md`): with a free core, 96³ Float took 8.7 µs on two
    /// threads against 16.1 µs on one, 64³ 3.5 against 5.7 µs; on a loaded machine two threads
    /// cost up to 4% over one. With Dispatch the limit was 8·10⁶.
    static let minimumFlopsPerThread = 1e6
    /// Products whose operands take at most this many bytes are read in place whole (no packing
    /// but of cut-off edges): they stay in L1/L2, and packing would cost as much as it saves.
    static let inPlaceOperandBytes = 128 << 10
    /// B read in place from memory: micro-panels prefetched ahead, and the depth of a rank-kc
    /// update (see `init`).
    static let prefetchStrips = 4
    static let streamingDepth = 128
    /// Products at most this deep prefetch C `prefetchCDistance` tiles ahead (see `init`).
    static let shallowDepth = 64
    static let prefetchCDistance = 4
    /// Workspaces of at least this many bytes come from `ScratchMemory`, kept between calls;
    /// smaller ones from the stack or the heap (their products take microseconds, and the
    /// pool's lock and search would cost a share of them).
    static let keptWorkspaceBytes = 1 << 20

    @inline(__always)
    init<T: GEMMScalar>(_: T.Type, m: Int, n: Int, k: Int, operands: GEMMOperandKinds, threads requested: Int, blocking requestedBlocking: GEMMBlocking) {
        let mr = T.microTileRows, nr = T.microTileColumns, elementSize = MemoryLayout<T>.stride
        self.m = m
        self.n = n
        self.k = k
        self.mr = mr
        self.nr = nr
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        threads = max(1, min(requested, Int(flops / Self.minimumFlopsPerThread)))
        rowStrips = (m + mr - 1) / mr
        let operandBytes = (Double(m) * Double(k) + Double(k) * Double(n)) * Double(elementSize)
        let small = operandBytes <= Double(Self.inPlaceOperandBytes)
        // Skinny products (BLIS's "sup" case): packing pays for itself only when the packed
        // operand is reused. With at most two micro-panels of B, a packed block of A would be
        // read at most twice, so A is read in place; with at most 48 rows (six strips), B is
        // read in place when its rows are contiguous. Measured on the randomized SVD's m×32×k
        // and 32×n×k products and LoRA's shapes: see Benchmarks/baselines/README.md.
        let fewColumns = n <= 2 * nr, fewRows = m <= 6 * mr
        packA = !operands.aInPlace || !(small || fewColumns)
        packB = !operands.bRowsInPlace || !(small || fewRows)
        inPlace = small && !packA && !packB
        // B read in place from memory (a few rows of C against a large B): a micro-panel is kc
        // rows of NR elements, each row in another page, which the hardware prefetchers do not
        // follow. The kernel prefetches each row's line `prefetchStrips` micro-panels ahead, and
        // kc is cut to `streamingDepth` so that those lines are still in cache when read.
        // Measured (thread CPU time, one thread, on a loaded machine), 16 × 4096 × 4096: Double
        // 27–34 ms before, 17.2–18.0 ms so (OpenBLAS 20.2 ms), Float 14.3 → 7.7–8.2 ms
        // (OpenBLAS 12.1 ms); kc 64 or 256 and 8 micro-panels ahead were within noise of these.
        let streaming = !packB && !inPlace
        prefetchBBytes = streaming ? Self.prefetchStrips * nr * elementSize : 0
        blocking = GEMMBlocking(mc: roundUp(requestedBlocking.mc, mr),
                                kc: max(1, min(requestedBlocking.kc, streaming ? Self.streamingDepth : k, k)),
                                nc: roundUp(requestedBlocking.nc, nr), privatePanelBytes: requestedBlocking.privatePanelBytes)
        // Shallow products (4096 × 4096 × 16: 16 rank-1 updates, ~130 cycles a tile) are bound
        // by writing C: a tile's stores wait for its lines from memory, and the loads of the next
        // tiles' panels wait behind them. The macro-kernel fetches C's lines for writing
        // `prefetchCDistance` tiles ahead.
        prefetchCTiles = k <= Self.shallowDepth && !inPlace ? Self.prefetchCDistance : 0
        let panelBytes = blocking.kc * min(roundUp(n, nr), blocking.nc) * elementSize
        // A shared panel costs two thread wake-ups per rank-kc update, which small and mid-size
        // products cannot hide (measured, Float on 2 threads: 512³ took 1.91 ms shared and
        // 1.34 ms private, OpenBLAS 1.33 ms; 256³ 0.37 against 0.25 ms). Private copies cost
        // duplicate packing and cache: up to 4 MB per thread (`GEMMBlocking.privatePanelBytes`) they win; the Double 2048³ product
        // (8 MB per copy) was 9% slower private, so large panels stay shared. Skinny products
        // split the side that is not skinny, so their threads pack disjoint micro-panels.
        privatePanels = threads == 1 || inPlace || !packB || fewColumns || fewRows || panelBytes <= blocking.privatePanelBytes

        let line = max(1, 64 / elementSize)
        let kc = blocking.kc
        if inPlace {
            panelElements = 0
        } else if packB {
            panelElements = roundUp(kc * min(roundUp(n, nr), blocking.nc), line)
        } else {
            panelElements = n % nr == 0 ? 0 : roundUp(kc * nr, line)
        }
        panelCount = privatePanels ? threads : 1
        blockAElements = packA ? roundUp(min(roundUp(m, mr), blocking.mc) * kc, line) : 0
        scratchElements = inPlace || n % nr == 0 ? 0 : roundUp(mr * nr, line)
    }

    /// Elements of the whole workspace.
    var workspaceElements: Int { panelElements * panelCount + (blockAElements + scratchElements) * threads }

    /// Where thread `t`'s (or the shared) panel of B, block of A and scratch tile start.
    func panelOffset(thread t: Int) -> Int { privatePanels ? t * panelElements : 0 }
    func blockAOffset(thread t: Int) -> Int { panelElements * panelCount + t * blockAElements }
    func scratchOffset(thread t: Int) -> Int { panelElements * panelCount + threads * blockAElements + t * scratchElements }

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

/// The loop nest of one `gemm` call, on the buffers its plan laid out in `workspace`.
struct GEMMEngine<T: GEMMScalar> {
    let plan: GEMMPlan
    let workspace: UnsafeMutablePointer<T>

    static var mr: Int { T.microTileRows }
    static var nr: Int { T.microTileColumns }

    func multiply(alpha: T, a: GEMMOperandSource<T>, b: GEMMOperandSource<T>, beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
        let plan = plan, threads = plan.threads, nr = Self.nr
        if plan.privatePanels {
            // Each thread packs what it reads itself: one parallel region for the whole product
            // instead of two synchronizations per rank-kc update. Measured on 2 threads, Float
            // 1024 × 32 × 1024 (the randomized SVD's product): 0.57 ms with the shared panel,
            // 0.36 ms this way (OpenBLAS: 0.48 ms).
            parallelFor(threads) { t in
                let panel = workspace + plan.panelOffset(thread: t)
                forEachBlock { jc, nc, pc, kc in
                    let work = plan.work(part: t, columns: nc)
                    if work.rows.isEmpty || work.strips.isEmpty { return }
                    let packed = plan.packedStrips(work.strips, columns: nc)
                    // The panel holds the packed micro-panels from the first one packed.
                    packPanelB(b, row: pc, column: jc, depth: kc, columns: nc, strips: packed, firstInPanel: packed.lowerBound, into: panel)
                    macroKernel(
                        rows: work.rows, strips: work.strips, columns: nc, depth: kc,
                        a: a, depthOffset: pc, b: b.inPlace?.offset(row: pc, column: jc), packedB: packed, packedPanelB: panel,
                        alpha: alpha, beta: pc == 0 ? beta : 1, c: c + jc, ldc: ldc, thread: t)
                }
            }
            return
        }
        let panel = workspace + plan.panelOffset(thread: 0)
        forEachBlock { jc, nc, pc, kc in
            let columnStrips = (nc + nr - 1) / nr
            // The shared panel of B, packed by all threads together.
            parallelFor(threads) { t in
                let (first, last) = share(of: columnStrips, part: t, parts: threads)
                packPanelB(b, row: pc, column: jc, depth: kc, columns: nc, strips: first..<last, firstInPanel: 0, into: panel)
            }
            parallelFor(threads) { t in
                let work = plan.work(part: t, columns: nc)
                if work.rows.isEmpty || work.strips.isEmpty { return }
                macroKernel(
                    rows: work.rows, strips: work.strips, columns: nc, depth: kc,
                    a: a, depthOffset: pc, b: nil, packedB: 0..<columnStrips, packedPanelB: panel,
                    alpha: alpha, beta: pc == 0 ? beta : 1, c: c + jc, ldc: ldc, thread: t)
            }
        }
    }

    /// Loops 5 and 4: `body(jc, nc, pc, kc)` for each nc-wide column block and kc-deep update.
    @inline(__always)
    func forEachBlock(_ body: (Int, Int, Int, Int) -> Void) {
        let blocking = plan.blocking
        for jc in stride(from: 0, to: plan.n, by: blocking.nc) {
            for pc in stride(from: 0, to: plan.k, by: blocking.kc) {
                body(jc, min(blocking.nc, plan.n - jc), pc, min(blocking.kc, plan.k - pc))
            }
        }
    }

    /// Loops 3, 2 and 1 for thread `thread`: its rows of C against its micro-panels of B, at
    /// depth `depthOffset ..< depthOffset + kc` of the product. Micro-panels in `packedB` come
    /// from `packedPanelB` (the first of them at its start); the others are read in place from
    /// `b` (the panel's matrix, present when B is read in place). Without `plan.packA`, the
    /// strips of A (a matrix then) are read in place.
    func macroKernel(
        rows: Range<Int>, strips: Range<Int>, columns: Int, depth kc: Int,
        a: GEMMOperandSource<T>, depthOffset pc: Int, b: MatrixOperand<T>?, packedB: Range<Int>, packedPanelB: UnsafeMutablePointer<T>,
        alpha: T, beta: T, c: UnsafeMutablePointer<T>, ldc: Int, thread: Int
    ) {
        let mr = Self.mr, nr = Self.nr, mcBlock = plan.blocking.mc
        let packedBlockA = workspace + plan.blockAOffset(thread: thread), scratch = workspace + plan.scratchOffset(thread: thread)
        let aInPlace = plan.packA ? nil : a.inPlace?.offset(row: 0, column: pc)
        for ic in stride(from: rows.lowerBound, to: rows.upperBound, by: mcBlock) {
            let mc = min(mcBlock, rows.upperBound - ic)
            if plan.packA { packBlockA(a, row: ic, column: pc, rows: mc, depth: kc, into: packedBlockA) }
            for strip in strips {
                let jr = strip * nr
                let (panelB, bDepthStride) = packedB.contains(strip)
                    ? (UnsafePointer(packedPanelB + (strip - packedB.lowerBound) * nr * kc), nr)
                    : (b!.offset(row: 0, column: jr).base, b!.rowStride)
                let tileColumns = min(nr, columns - jr)
                for ir in stride(from: 0, to: mc, by: mr) {
                    let tileRows = min(mr, mc - ir)
                    if plan.prefetchCTiles > 0 {
                        prefetchTileOfC(ahead: plan.prefetchCTiles, row: ir, rows: mc, column: jr,
                                        columns: min(columns, strips.upperBound * nr), c: c + ic * ldc, ldc: ldc)
                    }
                    var panelA = UnsafePointer(packedBlockA + ir * kc), aRowStride = 1, aDepthStride = mr
                    if let aInPlace {
                        let strip = aInPlace.offset(row: ic + ir, column: 0)
                        (panelA, aRowStride, aDepthStride) = (strip.base, strip.rowStride, strip.columnStride)
                    }
                    let tileA = StridedMicroPanelA(panelA, rowStride: aRowStride, depthStride: aDepthStride, rows: tileRows)
                    if tileColumns <= T.Vector.scalarCount && T.Vector.scalarCount < nr {
                        // A last micro-panel one vector covers: MR × one vector, not the whole
                        // tile's FMAs on zeros. Measured, Float 4096 × 16 × 4096 on one thread
                        // (medians, one run, loaded machine): 11.7 → 7.7 ms, BLIS 9.0 ms.
                        T.MicroTile.multiplyNarrow(
                            T.Vector.self, depth: kc, a: tileA, b: panelB, bDepthStride: bDepthStride,
                            alpha: alpha, beta: beta, c: c + (ic + ir) * ldc + jr, ldc: ldc,
                            rows: tileRows, columns: tileColumns, scratch: scratch)
                    } else {
                        microKernel(
                            depth: kc, a: tileA, b: panelB, bDepthStride: bDepthStride,
                            alpha: alpha, beta: beta, c: c + (ic + ir) * ldc + jr, ldc: ldc,
                            rows: tileRows, columns: tileColumns, scratch: scratch,
                            prefetchB: ir == 0 && !packedB.contains(strip) ? plan.prefetchBBytes : 0)
                    }
                }
            }
        }
    }
}

extension GEMMEngine {
    /// Prefetches for writing the lines of C of the tile `ahead` tiles after the one at (`row`,
    /// `column`) in the macro-kernel's order — down the block's `rows`, then the next strip —
    /// when there is one before `columns` (the end of this thread's strips: another thread's
    /// lines are not taken from it).
    @inline(__always)
    func prefetchTileOfC(ahead: Int, row: Int, rows: Int, column: Int, columns: Int, c: UnsafeMutablePointer<T>, ldc: Int) {
        let mr = Self.mr, nr = Self.nr
        // Walked rather than divided: this runs once per tile of a product whose tiles take
        // ~130 cycles, and `tilesPerStrip` is no constant (an integer division is 10–20).
        let tilesPerStrip = (rows + mr - 1) / mr
        var tile = row / mr + ahead, targetColumn = column
        while tile >= tilesPerStrip {
            tile -= tilesPerStrip
            targetColumn += nr
        }
        let targetRow = tile * mr
        if targetColumn >= columns { return }
        let width = min(nr, columns - targetColumn) * MemoryLayout<T>.stride
        for r in targetRow..<min(targetRow + mr, rows) {
            let start = UnsafeRawPointer(c + r * ldc + targetColumn)
            for offset in stride(from: 0, to: width, by: 64) { crosscheck_prefetch_for_write(start + offset) }
            crosscheck_prefetch_for_write(start + (width - 1))
        }
    }
}

/// The in-place path (`GEMMPlan.inPlace`), for one thread's `rows` of C: the whole depth in one
/// pass, A's strips and B's rows read where they lie (B's rows contiguous). Columns are taken by
/// whole register tiles, then by tiles of MR rows and one narrower vector — the native width,
/// then halves down to two lanes — and a last odd column by a plain loop, so that no tile reads
/// past the end of a row of B or writes past one of C. No buffer.
@inline(__always)
func multiplyInPlace<T: GEMMScalar>(plan: GEMMPlan, rows: Range<Int>, alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>, beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
    let mr = plan.mr, nr = plan.nr, n = plan.n, k = plan.k, ldb = b.rowStride
    for i in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
        let tileRows = min(mr, rows.upperBound - i)
        let strip = a.offset(row: i, column: 0)
        let panelA = StridedMicroPanelA(strip.base, rowStride: strip.rowStride, depthStride: strip.columnStride, rows: tileRows)
        let cRow = c + i * ldc
        var j = 0
        while j + nr <= n {
            T.MicroTile.multiply(depth: k, a: panelA, b: b.base + j, bDepthStride: ldb, alpha: alpha, beta: beta,
                                 c: cRow + j, ldc: ldc, rows: tileRows, columns: nr, scratch: nil, prefetchB: 0)
            j += nr
        }
        @inline(__always) func narrow<Narrow: SIMD>(_ vector: Narrow.Type) where Narrow.Scalar == T {
            if Narrow.scalarCount < nr && n - j >= Narrow.scalarCount {
                T.MicroTile.multiplyNarrow(vector, depth: k, a: panelA, b: b.base + j, bDepthStride: ldb,
                                           alpha: alpha, beta: beta, c: cRow + j, ldc: ldc, rows: tileRows,
                                           columns: Narrow.scalarCount, scratch: nil)
                j += Narrow.scalarCount
            }
        }
        narrow(T.Vector.self)
        narrow(SIMD8<T>.self)
        narrow(SIMD4<T>.self)
        narrow(SIMD2<T>.self)
        if j < n {
            for r in 0..<tileRows {
                var sum: T = 0
                for p in 0..<k { sum = sum.addingProduct(strip[r, p], b.base[p * ldb + j]) }
                let out = cRow + r * ldc + j
                out.pointee = beta == 0 ? alpha * sum : alpha * sum + beta * out.pointee
            }
        }
    }
}

@inline(__always)
func roundUp(_ x: Int, _ multiple: Int) -> Int { (x + multiple - 1) / multiple * multiple }

/// Memory aligned to a cache line (64 bytes), so packed micro-panels start on one.
func allocateAligned<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: 64)
        .bindMemory(to: T.self, capacity: max(1, count))
}
