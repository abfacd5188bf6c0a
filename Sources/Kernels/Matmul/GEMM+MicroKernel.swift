import CMemoryHints

/// The register micro-kernel: the only code of the engine that touches C, and the only part
/// whose shape depends on the machine.
///
/// Contract (BLIS's, with an MR × NR tile, NR a whole number NV of vectors, generalized to
/// strided operands so that skinny products can skip packing):
///
///              NR = NV vectors
///            ┌───────┬─────┬───────┐   b: micro-panel of op(B), depth rows × NR,
///            │  b0   │ ... │ b(NV-1)  row p at b + p·bDepthStride (NR when packed)
///            └───────┴─────┴───────┘
///     a: ┌─┐ ┌───────┬─────┬───────┐
///        │ │ │ c00   │ ... │       │   MR·NV vector accumulators, one MR × NR tile of C,
///     MR │ │ │  ...  │     │       │   each updated once per p: c_r· += a(r, p) · b_p·
///        │ │ │       │     │       │
///        └─┘ └───────┴─────┴───────┘
///     micro-panel of op(A), MR rows × depth: element (r, p) at a + r·aRowStride + p·aDepthStride
///     (packed: aRowStride = 1, aDepthStride = MR), or wherever a `MicroPanelA` finds it (direct
///     convolution reads each row of A through a pointer per kernel tap)
///
/// After `depth` rank-1 updates the tile is written back as C ← α·acc + β·C (C not read when β
/// is zero). A tile cut by the right edge of C (`columns < NR`) is computed whole into
/// `scratch` — the packed operands are zero-padded — and only its valid part is written; a tile
/// cut only by the bottom edge (`rows < MR`) writes its valid rows directly.
///
/// MR and NR are the register tile's (`GEMMScalar.MicroTile`, a `RegisterTile`): written once
/// there, per element type and instruction set, and read from there by everything else.
///
/// A strided panel of A (`StridedMicroPanelA`): rows of A from `rows` on are not read (the
/// kernel computes copies of the last valid row there and does not write them), so a cut-off
/// strip is read in place.
@inline(__always)
func microKernel<T: GEMMScalar, A: MicroPanelA>(
    depth: Int, a: A, b: UnsafePointer<T>, bDepthStride: Int,
    alpha: T, beta: T, c: UnsafeMutablePointer<T>, ldc: Int,
    rows: Int, columns: Int, scratch: UnsafeMutablePointer<T>?, prefetchB: Int = 0
) where A.Scalar == T {
    T.MicroTile.multiply(
        depth: depth, a: a, b: b, bDepthStride: bDepthStride, alpha: alpha, beta: beta, c: c, ldc: ldc,
        rows: rows, columns: columns, scratch: scratch, prefetchB: prefetchB)
}

/// Where the micro-kernel reads its panel of op(A): the MR elements of one depth step at a time.
/// Implementations are inlined into the micro-kernel, so `element` is called with constant rows.
public protocol MicroPanelA {
    associatedtype Scalar
    /// Element (r, p) for the current depth step p, r < MR.
    func element(_ r: Int) -> Scalar
    /// Moves to depth step p + 1.
    mutating func advance()
}

/// A panel of op(A) in memory: element (r, p) at base + r·rowStride + p·depthStride for the
/// `rows` valid rows; rows past them read the last valid row again (their results are not
/// written), so that a strip cut off by the bottom of A is read in place, never past its end.
struct StridedMicroPanelA<Scalar>: MicroPanelA {
    var pointer: UnsafePointer<Scalar>
    let rowStride: Int
    let depthStride: Int
    let lastRow: Int

    @inline(__always)
    init(_ base: UnsafePointer<Scalar>, rowStride: Int, depthStride: Int, rows: Int) {
        pointer = base
        self.rowStride = rowStride
        self.depthStride = depthStride
        lastRow = rows - 1
    }

    /// The offset is invariant in the depth loop, so the compiler computes it once per row.
    @inline(__always)
    func element(_ r: Int) -> Scalar { pointer[min(r, lastRow) &* rowStride] }

    @inline(__always)
    mutating func advance() { pointer += depthStride }
}

/// The shape of the register tile, and the micro-kernel written for it: what `GEMMScalar`
/// chooses per element type (`MicroTile`).
public protocol GEMMMicroTile {
    associatedtype Vector: SIMD where Vector.Scalar: GEMMScalar
    /// MR, rows of the tile.
    static var rows: Int { get }
    /// NR, columns of the tile: a whole number of vectors.
    static var columns: Int { get }
    /// C (`rows` × `columns` of the tile, leading dimension `ldc`) ← α·Ã·B̃ + β·C over `depth`
    /// rank-1 updates, as the contract above says: Ã read through `a`, B̃ the micro-panel at `b`
    /// (row p at b + p·bDepthStride, NR elements each, readable even past `columns`), `scratch`
    /// an MR × NR tile for right-edge tiles (needed only when `columns` < NR). C is not read
    /// when β is zero. O(MR·NR·depth) flops; each element is a k-term sum of fused
    /// multiply-adds, then scaled.
    ///
    /// `prefetchB`, when not zero, is a byte offset from each row of B̃ read: the line there is
    /// prefetched as the row is read (a later micro-panel of a B read in place).
    static func multiply<A: MicroPanelA>(
        depth: Int, a: A, b: UnsafePointer<Vector.Scalar>, bDepthStride: Int,
        alpha: Vector.Scalar, beta: Vector.Scalar, c: UnsafeMutablePointer<Vector.Scalar>, ldc: Int,
        rows: Int, columns: Int, scratch: UnsafeMutablePointer<Vector.Scalar>?, prefetchB: Int
    ) where A.Scalar == Vector.Scalar

    /// `multiply` on a tile of the same MR rows and one vector of `Narrow` (its `columns` at most
    /// `Narrow.scalarCount`, `scratch` an MR × NR tile needed only when they are fewer): the
    /// columns of a product in place that do not fill a whole tile, taken by narrower and
    /// narrower vectors so that nothing is read past B's rows or written past C's, and a last
    /// micro-panel of B that one vector covers (a product n ≤ 16 wide in Float would otherwise
    /// spend half its FMAs on zeros). Same error per element as `multiply`.
    static func multiplyNarrow<Narrow: SIMD, A: MicroPanelA>(
        _: Narrow.Type, depth: Int, a: A, b: UnsafePointer<Vector.Scalar>, bDepthStride: Int,
        alpha: Vector.Scalar, beta: Vector.Scalar, c: UnsafeMutablePointer<Vector.Scalar>, ldc: Int,
        rows: Int, columns: Int, scratch: UnsafeMutablePointer<Vector.Scalar>?
    ) where A.Scalar == Vector.Scalar, Narrow.Scalar == Vector.Scalar
}

/// An MR × (NV vectors) register tile: MR·NV vector accumulators, NV vector loads of B and MR
/// broadcasts of A per depth step. The loops over rows and vectors have constant bounds, so the
/// compiler unrolls them and keeps every accumulator in a register (checked with objdump: no
/// spills for 6 × 2 and 8 × 3 on AVX-512's 32 registers, nor 6 × 2 on AVX2's 16).
///
/// Measured decisions (Zen 4 issues one 512-bit FMA per cycle, latency 4, so four independent
/// accumulators cover it; the tile's size sets how many loads each FMA needs, and MR how many
/// rows a small product wastes): 8 × 2 vectors for both types on AVX-512, 16 accumulators (see
/// `Float.MicroTile`, `Double.MicroTile` for the shapes tried).
public struct RegisterTile<Vector: SIMD, let MR: Int, let NV: Int>: GEMMMicroTile where Vector.Scalar: GEMMScalar {
    public typealias T = Vector.Scalar
    @inline(__always) public static var rows: Int { MR }
    @inline(__always) public static var columns: Int { NV * Vector.scalarCount }

    @inline(__always)
    public static func multiply<A: MicroPanelA>(
        depth: Int, a: A, b: UnsafePointer<T>, bDepthStride: Int,
        alpha: T, beta: T, c: UnsafeMutablePointer<T>, ldc: Int,
        rows: Int, columns: Int, scratch: UnsafeMutablePointer<T>?, prefetchB: Int = 0
    ) where A.Scalar == T {
        typealias V = Vector
        let nr = Self.columns, vectorBytes = MemoryLayout<V>.stride
        var accumulators = InlineArray<MR, InlineArray<NV, V>>(repeating: InlineArray<NV, V>(repeating: V()))
        var pa = a, pb = UnsafeRawPointer(b)
        let bStepBytes = bDepthStride * MemoryLayout<T>.stride
        /// One rank-1 update; `prefetch` is a constant in each loop below, so that the loop
        /// without prefetching has no test in it (LLVM did not unswitch it: a test and two
        /// branches per step in the Double kernel).
        @inline(__always) func step(_ accumulators: inout InlineArray<MR, InlineArray<NV, V>>, prefetch: Bool) {
            var bRow = InlineArray<NV, V>(repeating: V())
            for v in 0..<NV { bRow[v] = pb.loadUnaligned(fromByteOffset: v * vectorBytes, as: V.self) }
            if prefetch { crosscheck_prefetch(pb + prefetchB) }
            for r in 0..<MR {
                let broadcast = V(repeating: pa.element(r))
                for v in 0..<NV { accumulators[r][v] = accumulators[r][v].addingProduct(broadcast, bRow[v]) }
            }
            pa.advance()
            pb += bStepBytes
        }
        if prefetchB != 0 {
            for _ in 0..<depth { step(&accumulators, prefetch: true) }
        } else {
            for _ in 0..<depth { step(&accumulators, prefetch: false) }
        }
        let alphaVector = V(repeating: alpha), betaVector = V(repeating: beta)
        if columns == nr {
            // A tile cut only by the bottom edge of C is written row by row like a whole one
            // (measured: through the scratch tile, the 16-row products of Winograd's transforms
            // spent a third of their time copying the 4-row tiles element by element).
            //
            // The tests of α, β and the rows are made once per tile, not once per vector: the
            // compiler kept them in the unrolled loop, two compares and four branches per vector,
            // a hundred instructions per tile. Measured (`bench --filter
            // 'matmul/(parallel|blas-openblas)$' --sizes matmul=96x64x80,48x48x48,64x64x64
            // --threads 1 --samples 30`, OpenBLAS's time ÷ ours): Float 0.99 / 1.02 / 0.99 →
            // 1.00 / 1.03–1.04 / 1.01–1.02, Double 0.99 / 0.98 / 0.99 → 1.00 / 1.02–1.04 / 1.00–1.03.
            @inline(__always) func write(rows: Int, scaled: Bool, accumulate: Bool) {
                for r in 0..<MR where r < rows {
                    let row = UnsafeMutableRawPointer(c + r * ldc)
                    for v in 0..<NV {
                        var out = scaled ? accumulators[r][v] * alphaVector : accumulators[r][v]
                        if accumulate { out = out.addingProduct(betaVector, row.loadUnaligned(fromByteOffset: v * vectorBytes, as: V.self)) }
                        row.storeBytes(of: out, toByteOffset: v * vectorBytes, as: V.self)
                    }
                }
            }
            @inline(__always) func write(rows: Int) {
                switch (alpha == 1, beta == 0) {
                case (true, true): write(rows: rows, scaled: false, accumulate: false)
                case (false, true): write(rows: rows, scaled: true, accumulate: false)
                case (true, false): write(rows: rows, scaled: false, accumulate: true)
                case (false, false): write(rows: rows, scaled: true, accumulate: true)
                }
            }
            if rows == MR { write(rows: MR) } else { write(rows: rows) }
            return
        }
        let tile = UnsafeMutableRawPointer(scratch!)
        for r in 0..<MR {
            for v in 0..<NV { tile.storeBytes(of: accumulators[r][v] * alphaVector, toByteOffset: (r * nr * MemoryLayout<T>.stride) + v * vectorBytes, as: V.self) }
        }
        for r in 0..<rows {
            let row = c + r * ldc, computed = scratch! + r * nr
            if beta == 0 {
                for j in 0..<columns { row[j] = computed[j] }
            } else {
                for j in 0..<columns { row[j] = computed[j] + beta * row[j] }
            }
        }
    }

    @inline(__always)
    public static func multiplyNarrow<Narrow: SIMD, A: MicroPanelA>(
        _: Narrow.Type, depth: Int, a: A, b: UnsafePointer<T>, bDepthStride: Int,
        alpha: T, beta: T, c: UnsafeMutablePointer<T>, ldc: Int, rows: Int, columns: Int, scratch: UnsafeMutablePointer<T>?
    ) where A.Scalar == T, Narrow.Scalar == T {
        // The narrow tile's scratch (MR × Narrow.scalarCount) fits in the wide one's.
        RegisterTile<Narrow, MR, 1>.multiply(
            depth: depth, a: a, b: b, bDepthStride: bDepthStride, alpha: alpha, beta: beta, c: c, ldc: ldc,
            rows: rows, columns: columns, scratch: scratch, prefetchB: 0)
    }
}
