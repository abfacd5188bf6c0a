import COpenBLAS

/// Cache blocking of the GEMM engine (BLIS's names): the engine packs a `kc × nc` panel of B
/// and an `mc × kc` block of A, and the micro-kernel walks them in `MR × NR` tiles.
///
/// - `kc`: depth of one rank-kc update; a `kc × NR` micro-panel of B should stay in L1.
/// - `mc`: rows of A packed at once; the `mc × kc` block should stay in L2. A multiple of MR.
/// - `nc`: columns of B packed at once; the `kc × nc` panel lives in L3. A multiple of NR.
/// - `privatePanelBytes`: on several threads, panels of B up to this size are packed by each
///   thread for itself (one parallel region per product), larger ones once and shared (see
///   `GEMMPlan.privatePanels`); 4 MB by default.
public struct GEMMBlocking: Sendable, Equatable, CustomStringConvertible {
    public var mc: Int
    public var kc: Int
    public var nc: Int
    public var privatePanelBytes: Int

    public init(mc: Int, kc: Int, nc: Int, privatePanelBytes: Int = 4 << 20) {
        if mc <= 0 || kc <= 0 || nc <= 0 { fatalError("GEMMBlocking: sizes must be positive, got mc=\(mc) kc=\(kc) nc=\(nc)") }
        if privatePanelBytes < 0 { fatalError("GEMMBlocking: privatePanelBytes must not be negative, got \(privatePanelBytes)") }
        self.mc = mc
        self.kc = kc
        self.nc = nc
        self.privatePanelBytes = privatePanelBytes
    }

    public var description: String { "mc=\(mc),kc=\(kc),nc=\(nc)" + (privatePanelBytes == 4 << 20 ? "" : ",private≤\(privatePanelBytes)B") }
}

/// A floating-point type the GEMM engine serves. The per-dtype pieces are the vector type of the
/// micro-kernel, the blocking, and the BLAS routine used as a peer; everything else (packing,
/// blocking loops, threading) is written once, generically.
public protocol GEMMScalar: BinaryFloatingPoint, SIMDScalar, Sendable {
    /// The register vector of the micro-kernel: 512 bits (16 Float or 8 Double) on AVX-512,
    /// 256 bits (8 Float or 4 Double) when built for an AVX2 CPU (`CROSSCHECK_AVX2`).
    associatedtype Vector: SIMD where Vector.Scalar == Self
    /// The register tile of the micro-kernel (MR × NR), its shape chosen per type and
    /// instruction set: the one place MR and NR are written.
    associatedtype MicroTile: GEMMMicroTile where MicroTile.Vector == Vector

    /// Default cache blocking, chosen by measurement (see `Benchmarks/baselines/README.md`):
    /// Float mc 72, kc 512; Double mc 48, kc 512; nc 4096 (mc is rounded up to whole tiles).
    static var defaultBlocking: GEMMBlocking { get }

    // Entry points compiled for this type. The public generic functions (`gemm`, `gemmSIMD`,
    // `gemmReference`) forward here, so that callers in other modules, and generic callers,
    // run code specialized for the type: a debug build does not specialize generic code across
    // modules, and a generic call of an unspecialized engine is hundreds of times slower.

    static func engineGEMM(_ problem: GEMMProblem<Self>, into c: UnsafeMutablePointer<Self>, threads: Int, blocking: GEMMBlocking)
    static func simdGEMM(_ problem: GEMMProblem<Self>, into c: UnsafeMutablePointer<Self>)
    static func referenceGEMM(_ problem: GEMMProblem<Self>, into c: UnsafeMutablePointer<Self>)
    static func referenceGEMM(_ problem: GEMMProblem<Self>, into c: UnsafeMutablePointer<Double>)

    /// OpenBLAS's `cblas_?gemm` for this type, row-major.
    static func blasGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension GEMMScalar {
    /// Rows of the register tile (MR).
    @inline(__always) public static var microTileRows: Int { MicroTile.rows }
    /// Columns of the register tile (NR), a whole number of vectors.
    @inline(__always) public static var microTileColumns: Int { MicroTile.columns }
}

/// The operands of C ← α·op(A)·op(B) + β·C, apart from C itself: op(A) is m × k, op(B) is k × n,
/// C is m × n with leading dimension `ldc`.
public struct GEMMProblem<T>: @unchecked Sendable {
    public var m: Int, n: Int, k: Int
    public var alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>
    public var beta: T
    public var ldc: Int

    @inlinable
    public init(m: Int, n: Int, k: Int, alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>, beta: T, ldc: Int) {
        // Checked with fatalError, not precondition: Kernels is built with -Ounchecked.
        if m < 0 || n < 0 || k < 0 { fatalError("gemm: negative dimension m=\(m) n=\(n) k=\(k)") }
        if m > 0 && ldc < n { fatalError("gemm: ldc=\(ldc) is smaller than n=\(n)") }
        self.m = m
        self.n = n
        self.k = k
        self.alpha = alpha
        self.a = a
        self.b = b
        self.beta = beta
        self.ldc = ldc
    }
}

extension Float: GEMMScalar {
    #if CROSSCHECK_AVX2
    /// AVX2: 6 × 16, twelve accumulators of AVX2's sixteen registers (two B vectors and one
    /// broadcast take the rest).
    public typealias Vector = SIMD8<Float>
    public typealias MicroTile = RegisterTile<SIMD8<Float>, 6, 2>
    #else
    /// AVX-512: 8 × 32, sixteen accumulators of 32 registers: eight broadcasts and two loads per
    /// sixteen FMAs. Against 6 × 32 (thread CPU time, one thread, OpenBLAS's time ÷ ours): 32³
    /// 0.95 → 0.99 (32 rows are four whole strips of 8, against five and a third of 6), 1024³
    /// unchanged at 1.00–1.02.
    public typealias Vector = SIMD16<Float>
    public typealias MicroTile = RegisterTile<SIMD16<Float>, 8, 2>
    #endif
    public static var defaultBlocking: GEMMBlocking { GEMMBlocking(mc: 72, kc: 512, nc: 4096) }

    public static func engineGEMM(_ problem: GEMMProblem<Float>, into c: UnsafeMutablePointer<Float>, threads: Int, blocking: GEMMBlocking) {
        runEngine(problem, into: c, threads: threads, blocking: blocking)
    }
    public static func simdGEMM(_ problem: GEMMProblem<Float>, into c: UnsafeMutablePointer<Float>) { runSIMD(problem, into: c) }
    public static func referenceGEMM(_ problem: GEMMProblem<Float>, into c: UnsafeMutablePointer<Float>) { runReference(problem, into: c) }
    public static func referenceGEMM(_ problem: GEMMProblem<Float>, into c: UnsafeMutablePointer<Double>) { runReference(problem, into: c) }

    public static func blasGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}

extension Double: GEMMScalar {
    #if CROSSCHECK_AVX2
    public typealias Vector = SIMD4<Double>
    public typealias MicroTile = RegisterTile<SIMD4<Double>, 6, 2>
    #else
    /// AVX-512: 8 × 16. Measured (thread CPU time, one thread, OpenBLAS's time ÷ ours, on a
    /// loaded machine) against the other shapes that fit 32 registers:
    ///
    ///     tile    32³    64³    96×64×80  128³   512³   1024³  16×4096×4096
    ///     6 × 16  0.89   0.95   0.98      1.01   1.04   1.01   0.55
    ///     8 × 16  0.95   0.98   0.99      1.03   1.03   1.01   0.78
    ///     8 × 24  0.99   0.99   1.00      0.94   1.02*  0.98*  0.65
    ///     6 × 24  0.89   0.93   0.96      0.38   0.40   0.40   0.63   (spilled accumulators)
    ///
    /// (* wall time.) 8 × 24 (24 accumulators) reads A in place with eight row offsets and
    /// spills one of them in the depth loop; 8 × 16 is as fast on small products and faster on
    /// the skinny one, whose 16 rows it covers in two whole strips.
    public typealias Vector = SIMD8<Double>
    public typealias MicroTile = RegisterTile<SIMD8<Double>, 8, 2>
    #endif
    public static var defaultBlocking: GEMMBlocking { GEMMBlocking(mc: 48, kc: 512, nc: 4096) }

    public static func engineGEMM(_ problem: GEMMProblem<Double>, into c: UnsafeMutablePointer<Double>, threads: Int, blocking: GEMMBlocking) {
        runEngine(problem, into: c, threads: threads, blocking: blocking)
    }
    public static func simdGEMM(_ problem: GEMMProblem<Double>, into c: UnsafeMutablePointer<Double>) { runSIMD(problem, into: c) }
    public static func referenceGEMM(_ problem: GEMMProblem<Double>, into c: UnsafeMutablePointer<Double>) { runReference(problem, into: c) }

    public static func blasGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}
