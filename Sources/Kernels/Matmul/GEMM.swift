import Dispatch

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
/// β' is β for the first rank-kc update and 1 afterwards. Threads share the packed panel of B;
/// each packs its own blocks of A. They split the rows of C when there are enough MR-row strips
/// for every thread, and otherwise the NR-column micro-panels, so that short-wide and tall-skinny
/// products (LoRA's m × 16 × n) also use every thread. The split never changes the order in which
/// an element's k products are summed, so the result is the same whatever the thread count.
///
/// - Complexity: 2·m·n·k flops; packing moves O(m·k·⌈n/nc⌉ + k·n) elements.
/// - Error: each element is computed as a sum of k products with fused multiply-adds, then
///   scaled, so |Ĉ − C| ≤ γ_{k+2}·(|α||op(A)||op(B)| + |β||C|) elementwise (Higham §3.5).
public func gemm<T: GEMMScalar>(
    m: Int, n: Int, k: Int,
    alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int,
    threads: Int = 1, blocking: GEMMBlocking = T.defaultBlocking
) {
    precondition(threads >= 1, "gemm: threads must be at least 1")
    let problem = GEMMProblem(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, ldc: ldc)
    T.engineGEMM(problem, into: c, threads: threads, blocking: blocking)
}

/// `gemm` for one concrete type (see `GEMMScalar.engineGEMM`).
func runEngine<T: GEMMScalar>(_ p: GEMMProblem<T>, into c: UnsafeMutablePointer<T>, threads: Int, blocking: GEMMBlocking) {
    if p.m == 0 || p.n == 0 { return }
    if p.k == 0 || p.alpha == 0 {
        scale(rows: p.m, columns: p.n, by: p.beta, c: c, ldc: p.ldc)
        return
    }
    let engine = GEMMEngine<T>(m: p.m, n: p.n, k: p.k, blocking: blocking, threads: threads)
    defer { engine.deallocate() }
    engine.multiply(alpha: p.alpha, a: p.a, b: p.b, beta: p.beta, c: c, ldc: p.ldc)
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

    static var mr: Int { T.microTileRows }
    static var nr: Int { T.microTileColumns }

    init(m: Int, n: Int, k: Int, blocking: GEMMBlocking, threads: Int) {
        self.m = m
        self.n = n
        self.k = k
        let mr = Self.mr, nr = Self.nr
        // Round the blocking to whole micro-tiles.
        let mc = roundUp(blocking.mc, mr), nc = roundUp(blocking.nc, nr)
        self.blocking = GEMMBlocking(mc: mc, kc: blocking.kc, nc: nc)
        self.threads = threads
        let kcMax = min(k, blocking.kc)
        let panelColumns = roundUp(min(n, nc), nr)
        blockAStride = roundUp(min(roundUp(m, mr), mc), mr) * kcMax
        packedPanelB = allocateAligned(T.self, count: kcMax * panelColumns)
        packedBlocksA = allocateAligned(T.self, count: blockAStride * threads)
        scratchTiles = allocateAligned(T.self, count: mr * nr * threads)
    }

    func deallocate() {
        packedPanelB.deallocate()
        packedBlocksA.deallocate()
        scratchTiles.deallocate()
    }

    func multiply(alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>, beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
        let mr = Self.mr, nr = Self.nr
        let rowStrips = (m + mr - 1) / mr
        // Split rows when every thread gets at least two strips of MR rows; else split columns.
        let splitRows = rowStrips >= 2 * threads
        for jc in stride(from: 0, to: n, by: blocking.nc) {
            let nc = min(blocking.nc, n - jc)
            let columnStrips = (nc + nr - 1) / nr
            for pc in stride(from: 0, to: k, by: blocking.kc) {
                let kc = min(blocking.kc, k - pc)
                let betaBlock = pc == 0 ? beta : 1
                let panelB = b.offset(row: pc, column: jc)
                parallel(threads) { t in
                    let (first, last) = share(of: columnStrips, part: t, parts: threads)
                    packPanelB(panelB, depth: kc, columns: nc, strips: first..<last, into: packedPanelB)
                }
                parallel(threads) { t in
                    let rows: Range<Int>, strips: Range<Int>
                    if splitRows {
                        let (first, last) = share(of: rowStrips, part: t, parts: threads)
                        rows = min(m, first * mr)..<min(m, last * mr)
                        strips = 0..<columnStrips
                    } else {
                        let (first, last) = share(of: columnStrips, part: t, parts: threads)
                        rows = 0..<m
                        strips = first..<last
                    }
                    if rows.isEmpty || strips.isEmpty { return }
                    macroKernel(
                        rows: rows, strips: strips, columns: nc, depth: kc,
                        a: a.offset(row: 0, column: pc), alpha: alpha, beta: betaBlock,
                        c: c + jc, ldc: ldc,
                        packedBlockA: packedBlocksA + t * blockAStride,
                        scratch: scratchTiles + t * mr * nr)
                }
            }
        }
    }

    /// Loops 3, 2 and 1 for one thread: its rows of C against its micro-panels of packed B.
    func macroKernel(
        rows: Range<Int>, strips: Range<Int>, columns: Int, depth kc: Int,
        a: MatrixOperand<T>, alpha: T, beta: T, c: UnsafeMutablePointer<T>, ldc: Int,
        packedBlockA: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>
    ) {
        let mr = Self.mr, nr = Self.nr
        for ic in stride(from: rows.lowerBound, to: rows.upperBound, by: blocking.mc) {
            let mc = min(blocking.mc, rows.upperBound - ic)
            packBlockA(a.offset(row: ic, column: 0), rows: mc, depth: kc, into: packedBlockA)
            for strip in strips {
                let jr = strip * nr
                let panelB = UnsafePointer(packedPanelB + strip * nr * kc)
                let tileColumns = min(nr, columns - jr)
                for ir in stride(from: 0, to: mc, by: mr) {
                    microKernel(
                        depth: kc, a: UnsafePointer(packedBlockA + ir * kc), b: panelB,
                        alpha: alpha, beta: beta, c: c + (ic + ir) * ldc + jr, ldc: ldc,
                        rows: min(mr, mc - ir), columns: tileColumns, scratch: scratch)
                }
            }
        }
    }
}

/// Runs `body(0..<parts)`, on Dispatch's thread pool when there is more than one part.
@inline(__always)
func parallel(_ parts: Int, _ body: (Int) -> Void) {
    if parts == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: body) }
}

/// The `part`-th of `parts` nearly equal contiguous shares of `count` items.
@inline(__always)
func share(of count: Int, part: Int, parts: Int) -> (Int, Int) {
    let base = count / parts, extra = count % parts
    let first = part * base + min(part, extra)
    return (first, first + base + (part < extra ? 1 : 0))
}

@inline(__always)
func roundUp(_ x: Int, _ multiple: Int) -> Int { (x + multiple - 1) / multiple * multiple }

/// Memory aligned to a cache line (64 bytes), so packed micro-panels start on one.
func allocateAligned<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: 64)
        .bindMemory(to: T.self, capacity: max(1, count))
}
