/// The register micro-kernel: the only code of the engine that touches C, and the only part
/// whose shape depends on the machine.
///
/// Contract (BLIS's, with MR = 6 and NR = two vectors: 6 × 32 for Float, 6 × 16 for Double,
/// generalized to strided operands so that skinny products can skip packing):
///
///              NR = 2 vectors
///            ┌───────┬───────┐   b: micro-panel of op(B), depth rows × NR,
///            │  b0   │  b1   │      row p at b + p·bDepthStride (NR when packed)
///            └───────┴───────┘
///     a: ┌─┐ ┌───────┬───────┐
///        │ │ │ c00   │ c01   │   twelve vector accumulators, one MR × NR tile of C,
///     MR │ │ │  ...  │  ...  │   each updated once per p: c_r· += a[p·MR + r] · b_p·
///        │ │ │ c50   │ c51   │
///        └─┘ └───────┴───────┘
///     micro-panel of op(A), MR rows × depth: element (r, p) at a + r·aRowStride + p·aDepthStride
///     (packed: aRowStride = 1, aDepthStride = MR), or wherever a `MicroPanelA` finds it (direct
///     convolution reads each row of A through a pointer per kernel tap)
///
/// After `depth` rank-1 updates the tile is written back as C ← α·acc + β·C (C not read when β
/// is zero). A tile cut by the right edge of C (`columns < NR`) is computed whole into
/// `scratch` — the packed operands are zero-padded — and only its valid part is written; a tile
/// cut only by the bottom edge (`rows < MR`) writes its valid rows directly.
///
/// Measured decisions: twelve accumulators plus two B vectors and one broadcast fill 15 of the 32
/// AVX-512 registers and cover FMA latency × throughput (4 × 2) with room to spare.
@inline(__always)
func microKernel<T: GEMMScalar>(
    depth: Int, a: UnsafePointer<T>, aRowStride: Int, aDepthStride: Int,
    b: UnsafePointer<T>, bDepthStride: Int,
    alpha: T, beta: T, c: UnsafeMutablePointer<T>, ldc: Int,
    rows: Int, columns: Int, scratch: UnsafeMutablePointer<T>
) {
    microKernel(depth: depth, a: StridedMicroPanelA(a, rowStride: aRowStride, depthStride: aDepthStride),
                b: b, bDepthStride: bDepthStride, alpha: alpha, beta: beta, c: c, ldc: ldc, rows: rows, columns: columns, scratch: scratch)
}

/// Where the micro-kernel reads its panel of op(A): the MR elements of one depth step at a time.
/// Implementations are inlined into the micro-kernel, so `element` is called with constant rows.
protocol MicroPanelA {
    associatedtype Scalar
    /// Element (r, p) for the current depth step p, r < MR.
    func element(_ r: Int) -> Scalar
    /// Moves to depth step p + 1.
    mutating func advance()
}

/// A panel of op(A) in memory: element (r, p) at base + r·rowStride + p·depthStride.
struct StridedMicroPanelA<Scalar>: MicroPanelA {
    var pointer: UnsafePointer<Scalar>
    let r1: Int, r2: Int, r3: Int, r4: Int, r5: Int
    let depthStride: Int

    @inline(__always)
    init(_ base: UnsafePointer<Scalar>, rowStride: Int, depthStride: Int) {
        pointer = base
        (r1, r2, r3, r4, r5) = (rowStride, 2 * rowStride, 3 * rowStride, 4 * rowStride, 5 * rowStride)
        self.depthStride = depthStride
    }

    @inline(__always)
    func element(_ r: Int) -> Scalar {
        switch r {
        case 0: return pointer[0]
        case 1: return pointer[r1]
        case 2: return pointer[r2]
        case 3: return pointer[r3]
        case 4: return pointer[r4]
        default: return pointer[r5]
        }
    }

    @inline(__always)
    mutating func advance() { pointer += depthStride }
}

/// The micro-kernel on any `MicroPanelA` (see the contract above).
@inline(__always)
func microKernel<T: GEMMScalar, A: MicroPanelA>(
    depth: Int, a: A, b: UnsafePointer<T>, bDepthStride: Int,
    alpha: T, beta: T, c: UnsafeMutablePointer<T>, ldc: Int,
    rows: Int, columns: Int, scratch: UnsafeMutablePointer<T>
) where A.Scalar == T {
    typealias V = T.Vector
    let width = V.scalarCount, nr = 2 * V.scalarCount
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var pa = a, pb = UnsafeRawPointer(b)
    let vectorBytes = MemoryLayout<V>.stride, bStepBytes = bDepthStride * MemoryLayout<T>.stride
    for _ in 0..<depth {
        let b0 = pb.loadUnaligned(as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: vectorBytes, as: V.self)
        var broadcast = V(repeating: pa.element(0))
        c00 = c00.addingProduct(broadcast, b0); c01 = c01.addingProduct(broadcast, b1)
        broadcast = V(repeating: pa.element(1))
        c10 = c10.addingProduct(broadcast, b0); c11 = c11.addingProduct(broadcast, b1)
        broadcast = V(repeating: pa.element(2))
        c20 = c20.addingProduct(broadcast, b0); c21 = c21.addingProduct(broadcast, b1)
        broadcast = V(repeating: pa.element(3))
        c30 = c30.addingProduct(broadcast, b0); c31 = c31.addingProduct(broadcast, b1)
        broadcast = V(repeating: pa.element(4))
        c40 = c40.addingProduct(broadcast, b0); c41 = c41.addingProduct(broadcast, b1)
        broadcast = V(repeating: pa.element(5))
        c50 = c50.addingProduct(broadcast, b0); c51 = c51.addingProduct(broadcast, b1)
        pa.advance()
        pb += bStepBytes
    }
    let alphaVector = V(repeating: alpha), betaVector = V(repeating: beta)
    // A tile cut only by the bottom edge of C is written row by row like a whole one (measured:
    // through the scratch tile, the 16-row products of Winograd's transforms spent a third of
    // their time copying the 4-row tiles element by element).
    let fullWidth = columns == nr
    let tile = UnsafeMutableRawPointer(scratch)
    @inline(__always) func write(_ r: Int, _ left: V, _ right: V) {
        if fullWidth {
            if r >= rows { return }
            let row = UnsafeMutableRawPointer(c + r * ldc)
            var outLeft = left * alphaVector, outRight = right * alphaVector
            if beta != 0 {
                outLeft = outLeft.addingProduct(betaVector, row.loadUnaligned(as: V.self))
                outRight = outRight.addingProduct(betaVector, row.loadUnaligned(fromByteOffset: vectorBytes, as: V.self))
            }
            row.storeBytes(of: outLeft, as: V.self)
            row.storeBytes(of: outRight, toByteOffset: vectorBytes, as: V.self)
        } else {
            tile.storeBytes(of: left * alphaVector, toByteOffset: r * nr * MemoryLayout<T>.stride, as: V.self)
            tile.storeBytes(of: right * alphaVector, toByteOffset: (r * nr + width) * MemoryLayout<T>.stride, as: V.self)
        }
    }
    write(0, c00, c01); write(1, c10, c11); write(2, c20, c21)
    write(3, c30, c31); write(4, c40, c41); write(5, c50, c51)
    if fullWidth { return }
    for r in 0..<rows {
        let row = c + r * ldc, computed = scratch + r * nr
        if beta == 0 {
            for j in 0..<columns { row[j] = computed[j] }
        } else {
            for j in 0..<columns { row[j] = computed[j] + beta * row[j] }
        }
    }
}
