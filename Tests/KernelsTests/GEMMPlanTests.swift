import Testing
@testable import Kernels

/// The plan decides every choice of the engine and sizes every buffer: products on each side of
/// every threshold (the in-place limit, few rows, few columns, private panels, kc and nc blocks,
/// cut-off tiles and narrow column tails), with matrices and with packing routines as operands,
/// on 1 to 3 threads, each run in a workspace of exactly the plan's size (so that AddressSanitizer
/// sees any access past it) and checked against the reference under γ_{k+2}. The engine runs
/// unspecialized here (called from a debug-built test, a hundred times slower), so the shapes
/// stay small and reach the 4 MB private-panel limit through `GEMMBlocking.privatePanelBytes`.
@Suite("GEMM plan")
struct GEMMPlanTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        let m: Int, n: Int, k: Int
        var transA = false, transB = false
        var blocking: GEMMBlocking? = nil
        var testDescription: String { "\(m)x\(n)x\(k)\(transA ? "-tA" : "")\(transB ? "-tB" : "")\(blocking.map { " \($0)" } ?? "")" }
    }

    static let small = GEMMBlocking(mc: 16, kc: 32, nc: 64)
    static let smallShared = GEMMBlocking(mc: 16, kc: 32, nc: 64, privatePanelBytes: 0)
    static let shapes: [Shape] = [
        // In place: whole tiles, cut-off strips, and column tails of every narrower width.
        Shape(m: 1, n: 1, k: 1), Shape(m: 8, n: 8, k: 8), Shape(m: 9, n: 31, k: 5), Shape(m: 17, n: 47, k: 13),
        Shape(m: 7, n: 3, k: 40, transA: true),
        // The in-place limit (128 KB of operands): 64 × 64 × 256 Float is in place, one more
        // column is not.
        Shape(m: 64, n: 64, k: 256), Shape(m: 64, n: 65, k: 256),
        // Few rows (B read in place up to 48 rows) and few columns (A read in place up to 2·NR).
        Shape(m: 48, n: 300, k: 200), Shape(m: 49, n: 300, k: 200), Shape(m: 47, n: 301, k: 200, transA: true),
        Shape(m: 150, n: 32, k: 300), Shape(m: 150, n: 33, k: 300), Shape(m: 150, n: 64, k: 300), Shape(m: 150, n: 65, k: 300),
        // A last micro-panel one vector covers (one-vector tile), whole and cut off: Float's
        // vector is 16 wide, Double's 8.
        Shape(m: 150, n: 16, k: 300), Shape(m: 150, n: 5, k: 300), Shape(m: 150, n: 40, k: 300), Shape(m: 150, n: 8, k: 300),
        // B streamed in place with prefetching: kc cut to `streamingDepth`, three rank-kc updates.
        Shape(m: 20, n: 300, k: 300), Shape(m: 9, n: 257, k: 129),
        // Shallow (k ≤ `shallowDepth`), packed: C's tiles prefetched ahead, across a strip's
        // end, cut-off tiles at the bottom and right edges, several mc blocks.
        Shape(m: 150, n: 301, k: 16), Shape(m: 61, n: 97, k: 64, blocking: small),
        // Transposed B is packed even when skinny.
        Shape(m: 40, n: 200, k: 300, transB: true),
        // Several kc and nc blocks with a small blocking: private panels, and shared ones (the
        // 4 MB limit lowered to 0), β' = 1 after the first rank-kc update.
        Shape(m: 70, n: 150, k: 100, blocking: small), Shape(m: 70, n: 150, k: 100, blocking: smallShared),
        Shape(m: 20, n: 150, k: 100, blocking: smallShared),
        Shape(m: 70, n: 20, k: 100, transA: true, transB: true, blocking: smallShared),
    ]

    @Test(arguments: shapes)
    func float(_ shape: Shape) { check(Float.self, shape) }

    @Test(arguments: shapes)
    func double(_ shape: Shape) { check(Double.self, shape) }

    func check<T: GEMMScalar>(_: T.Type, _ shape: Shape) {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let blocking = shape.blocking ?? T.defaultBlocking
        var state: UInt64 = 0x9E3779B97F4A7C15 &* UInt64(m * 10007 + n * 101 + k)
        func next() -> T {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return T(Double(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000)
        }
        // Exactly sized buffers, so that AddressSanitizer reports any read or write past them.
        let (lda, ldb) = (shape.transA ? m : k, shape.transB ? k : n)
        let a = UnsafeMutablePointer<T>.allocate(capacity: m * k), b = UnsafeMutablePointer<T>.allocate(capacity: k * n)
        defer { a.deallocate(); b.deallocate() }
        for i in 0..<(m * k) { a[i] = next() }
        for i in 0..<(k * n) { b[i] = next() }
        let opA = MatrixOperand(UnsafePointer(a), ld: lda, transposed: shape.transA)
        let opB = MatrixOperand(UnsafePointer(b), ld: ldb, transposed: shape.transB)
        let product = ReferenceProduct(m: m, n: n, k: k, a: opA, b: opB)

        let sources: [(String, GEMMOperandSource<T>, GEMMOperandSource<T>)] = [
            ("matrices", .matrix(opA), .matrix(opB)),
            ("packers", .packer(packer(forA: opA)), .packer(packer(forB: opB))),
            ("A packer", .packer(packer(forA: opA)), .matrix(opB)),
            ("B packer", .matrix(opA), .packer(packer(forB: opB))),
        ]
        // Thread counts the plan does not reduce to one already run (small products use one).
        let threadCounts = [1, 2, 3].filter {
            $0 == 1 || GEMMPlan(T.self, m: m, n: n, k: k, operands: GEMMOperandKinds(aInPlace: true, bRowsInPlace: true), threads: $0, blocking: blocking).threads > 1
        }
        for threads in threadCounts {
            for (name, sourceA, sourceB) in sources {
                let plan = GEMMPlan(T.self, m: m, n: n, k: k, operands: GEMMOperandKinds(a: sourceA, b: sourceB), threads: threads, blocking: blocking)
                let bound = engineWorkspaceElements(T.self, m: m, n: n, k: k, threads: threads, blocking: blocking)
                #expect(plan.workspaceElements <= bound, "\(name), \(threads) threads: plan needs \(plan.workspaceElements) > \(bound)")
                #expect(plan.scratchOffset(thread: plan.threads - 1) + plan.scratchElements == plan.workspaceElements)
                #expect(plan.blockAOffset(thread: 0) >= plan.panelOffset(thread: plan.panelCount - 1) + plan.panelElements)
                let workspace = UnsafeMutablePointer<T>.allocate(capacity: max(1, plan.workspaceElements))
                let c = UnsafeMutablePointer<T>.allocate(capacity: m * n)
                defer { workspace.deallocate(); c.deallocate() }
                c.initialize(repeating: .nan, count: m * n)  // β = 0: C must not be read
                engineProduct(m: m, n: n, k: k, alpha: 1, a: sourceA, b: sourceB, beta: 0, c: c, ldc: n,
                              threads: threads, blocking: blocking, workspace: plan.workspaceElements > 0 ? workspace : nil)
                let worst = product.worstError(c)
                #expect(worst <= 1, "\(name), \(threads) threads: error \(worst) × γ_{k+2}|A||B|")
            }
        }
    }

    /// op(A) as a packing routine writing the engine's packed order (`GEMMMicroPanelPacker`).
    func packer<T: GEMMScalar>(forA a: MatrixOperand<T>) -> GEMMMicroPanelPacker<T> {
        let mr = T.microTileRows
        return GEMMMicroPanelPacker { firstRow, firstColumn, rows, columns, destination in
            for p in 0..<columns {
                for i in 0..<mr { destination[p * mr + i] = i < rows ? a[firstRow + i, firstColumn + p] : 0 }
            }
        }
    }

    /// op(B) as a packing routine.
    func packer<T: GEMMScalar>(forB b: MatrixOperand<T>) -> GEMMMicroPanelPacker<T> {
        let nr = T.microTileColumns
        return GEMMMicroPanelPacker { firstRow, firstColumn, rows, columns, destination in
            for p in 0..<rows {
                for j in 0..<nr { destination[p * nr + j] = j < columns ? b[firstRow + p, firstColumn + j] : 0 }
            }
        }
    }

    /// The choices the thresholds make, on each side of them (Float: MR × NR = 8 × 32).
    @Test func thresholdsChooseAsDocumented() {
        func plan(_ m: Int, _ n: Int, _ k: Int, threads: Int = 1, a: Bool = true, b: Bool = true) -> GEMMPlan {
            GEMMPlan(Float.self, m: m, n: n, k: k, operands: GEMMOperandKinds(aInPlace: a, bRowsInPlace: b), threads: threads, blocking: Float.defaultBlocking)
        }
        let (mr, nr) = (Float.microTileRows, Float.microTileColumns)
        #expect(plan(128, 128, 128).inPlace && plan(128, 128, 128).workspaceElements == 0)
        #expect(plan(64, 64, 256).inPlace && !plan(64, 65, 256).inPlace)
        #expect(!plan(129, 129, 129).inPlace && plan(129, 129, 129).packA && plan(129, 129, 129).packB)
        #expect(!plan(128, 128, 128, b: false).inPlace)
        #expect(!plan(6 * mr, 600, 300).packB && plan(6 * mr + 1, 600, 300).packB)
        // B streamed in place (few rows, operands beyond the in-place limit): prefetched, and
        // kc cut; packed or in cache: neither.
        let streamed = plan(16, 4096, 4096), packedB = plan(6 * mr + 1, 4096, 4096), cached = plan(16, 64, 64)
        #expect(streamed.prefetchBBytes == GEMMPlan.prefetchStrips * nr * 4 && streamed.blocking.kc == GEMMPlan.streamingDepth)
        #expect(packedB.prefetchBBytes == 0 && packedB.blocking.kc == Float.defaultBlocking.kc)
        #expect(cached.inPlace && cached.prefetchBBytes == 0 && cached.blocking.kc == 64)
        // Shallow products prefetch C's tiles ahead for writing; deeper or in-cache ones do not.
        #expect(plan(4096, 4096, GEMMPlan.shallowDepth).prefetchCTiles == GEMMPlan.prefetchCDistance)
        #expect(plan(4096, 4096, GEMMPlan.shallowDepth + 1).prefetchCTiles == 0 && plan(64, 64, 16).prefetchCTiles == 0)
        #expect(!plan(300, 2 * nr, 700).packA && plan(300, 2 * nr + 1, 700).packA)
        #expect(plan(64, 64, 64, threads: 2).threads == 1 && plan(128, 128, 128, threads: 2).threads == 2)
        #expect(plan(512, 512, 512, threads: 2).threads == 2 && plan(512, 512, 512, threads: 2).privatePanels)
        #expect(!plan(100, 2081, 600, threads: 2).privatePanels && plan(100, 2048, 600, threads: 2).privatePanels)
    }

    /// A workspace of at least `GEMMPlan.keptWorkspaceBytes` comes from `ScratchMemory`, kept
    /// between calls, so the block a call takes may hold what an earlier call left there. Here
    /// a block of the plan's size is filled with NaNs and returned to the pool just before (in
    /// a parallel test run another test may take it first): a panel read before it is packed,
    /// or two callers sharing a block, would put NaNs or wrong sums into C. (NaNs left in a
    /// cut-off panel's padding only reach tile columns that are never written, so this does
    /// not check that padding is zeroed.) Two kc blocks and a cut-off panel, on 1 and 2 threads
    /// and from two callers at once, against the reference under γ_{k+2}.
    @Test func keptWorkspaceHoldsNoStaleValuesThatMatter() {
        let (m, n, k) = (2 * Float.microTileRows * 4 + 3, 530, 520)
        let a: [Float] = (0..<(m * k)).map { Float(($0 * 7919) % 2001 - 1000) / 1000 }
        let b: [Float] = (0..<(k * n)).map { Float(($0 * 104729) % 2001 - 1000) / 1000 }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                let opA = MatrixOperand(a.baseAddress!, ld: k, transposed: false), opB = MatrixOperand(b.baseAddress!, ld: n, transposed: false)
                let reference = ReferenceProduct(m: m, n: n, k: k, a: opA, b: opB)
                // Two outputs, so that two callers can run at once.
                let c = UnsafeMutablePointer<Float>.allocate(capacity: 2 * m * n)
                defer { c.deallocate() }
                func product(into output: UnsafeMutablePointer<Float>, threads: Int) {
                    output.initialize(repeating: .nan, count: m * n)
                    engineProduct(m: m, n: n, k: k, alpha: 1, a: .matrix(opA), b: .matrix(opB), beta: 0, c: output, ldc: n, threads: threads)
                }
                for threads in [1, 2] {
                    let plan = GEMMPlan(Float.self, m: m, n: n, k: k, operands: GEMMOperandKinds(aInPlace: true, bRowsInPlace: true),
                                        threads: threads, blocking: Float.defaultBlocking)
                    #expect(plan.packB && plan.workspaceElements * 4 >= GEMMPlan.keptWorkspaceBytes, "\(threads) threads: not pooled")
                    ScratchMemory.withElements(Float.self, count: plan.workspaceElements) { $0.initialize(repeating: .nan, count: plan.workspaceElements) }
                    product(into: c, threads: threads)
                    let worst = reference.worstError(c)
                    #expect(worst <= 1, "\(threads) threads: error \(worst) × γ_{k+2}|A||B|")
                }
                parallelFor(2) { caller in product(into: c + caller * m * n, threads: 1) }
                for caller in 0..<2 {
                    let worst = reference.worstError(c + caller * m * n)
                    #expect(worst <= 1, "concurrent caller \(caller): error \(worst) × γ_{k+2}|A||B|")
                }
            }
        }
    }
}

/// op(A)·op(B) computed in Double, and the bound γ_{k+2}·|op(A)||op(B)| each element of a computed
/// product is held to (k + 2 terms: the k products, α and β).
struct ReferenceProduct {
    let count: Int
    let reference: [Double], magnitude: [Double]
    let gamma: Double

    init<T: GEMMScalar>(m: Int, n: Int, k: Int, a: MatrixOperand<T>, b: MatrixOperand<T>) {
        count = m * n
        var reference = [Double](repeating: 0, count: m * n), magnitude = [Double](repeating: 0, count: m * n)
        gemmReferenceInDouble(m: m, n: n, k: k, alpha: 1, a: a, b: b, beta: 0, c: &reference, ldc: n)
        // |op(A)| and |op(B)|, stored densely (m × k and k × n, not transposed).
        let absA = (0..<(m * k)).map { abs(a[$0 / k, $0 % k]) }, absB = (0..<(k * n)).map { abs(b[$0 / n, $0 % n]) }
        absA.withUnsafeBufferPointer { absA in
            absB.withUnsafeBufferPointer { absB in
                gemmReferenceInDouble(m: m, n: n, k: k, alpha: 1, a: MatrixOperand(absA.baseAddress!, ld: k),
                                      b: MatrixOperand(absB.baseAddress!, ld: n), beta: 0, c: &magnitude, ldc: n)
            }
        }
        self.reference = reference
        self.magnitude = magnitude
        let u = Double(T.ulpOfOne) / 2
        gamma = Double(k + 2) * u / (1 - Double(k + 2) * u)
    }

    /// The largest |c − reference| over the bound, element by element (c dense, m × n); infinity
    /// where c is NaN.
    func worstError<T: GEMMScalar>(_ c: UnsafePointer<T>) -> Double {
        var worst = 0.0
        for e in 0..<count {
            let ratio = abs(Double(c[e]) - reference[e]) / max(gamma * magnitude[e], .leastNormalMagnitude)
            worst = max(worst, ratio.isNaN ? .infinity : ratio)
        }
        return worst
    }
}
