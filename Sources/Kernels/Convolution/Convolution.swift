/// 2-D convolution (PyTorch's `conv2d`): one entry point, several algorithms, all on the layer
/// described by a `Conv2DGeometry`, all products through the one GEMM engine (or OpenBLAS for
/// the `blas` peer).
///
/// Kernel contract (every algorithm):
///
///     input   x: N × C_in × H × W          (NCHW)   or N × H × W × C_in          (NHWC)
///     weight  w: C_out × C_in/G × kh × kw  (OIHW)   or C_out × kh × kw × C_in/G  (OHWI)
///     bias    b: C_out, optional
///     output  y: N × C_out × H_out × W_out (NCHW)   or N × H_out × W_out × C_out (NHWC)
///
///     y[n, co, oy, ox] = b[co] + Σ_{ci < C_in/G, ky < kh, kx < kw} w[co, ci, ky, kx] · x[n, g·C_in/G + ci, iy, ix]
///     iy = oy·s_h + ky·d_h − p_h,  ix = ox·s_w + kx·d_w − p_w,  x = 0 outside the image,  g = co / (C_out/G)
///
/// The output is written, never read (it may hold NaN). Input, weight and bias are only read.
/// Buffers must not overlap the output.

/// An algorithm for `conv2D`.
public enum Conv2DAlgorithm: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Direct loops in the layer's formula, accumulating in Double: the reference.
    case reference
    /// im2col into a buffer, then one engine GEMM per group (per image in NCHW).
    case im2colGEMM
    /// The engine packing its panels straight from the image: im2col without the buffer.
    case implicitGEMM
    /// Direct SIMD loops: vectorized over channels (NHWC) or output columns (NCHW); made for
    /// depthwise and small-channel layers.
    case direct
    /// Winograd's minimal filtering for 3×3, stride 1, dilation 1 layers, its elementwise
    /// stage as batched GEMMs on the engine.
    case winograd(WinogradTile)
    /// im2col, then OpenBLAS's `cblas_?gemm` per group: the peer.
    case blas

    public static var allCases: [Conv2DAlgorithm] {
        [.reference, .im2colGEMM, .implicitGEMM, .direct, .winograd(.f2x3), .winograd(.f4x3), .blas]
    }

    /// The variant's name in reports: `reference`, `im2col`, `implicit`, `direct`,
    /// `winograd-f2x3`, `winograd-f4x3`, `blas`.
    public var description: String {
        switch self {
        case .reference: return "reference"
        case .im2colGEMM: return "im2col"
        case .implicitGEMM: return "implicit"
        case .direct: return "direct"
        case .winograd(let tile): return "winograd-\(tile)"
        case .blas: return "blas"
        }
    }

    /// Whether the algorithm computes this layer (Winograd: only 3×3, stride 1, dilation 1).
    public func applies(to geometry: Conv2DGeometry) -> Bool {
        if case .winograd = self { return WinogradTile.applies(to: geometry) }
        return true
    }
}

/// A floating-point type the convolution kernels serve, with entry points compiled for the type
/// (see `GEMMScalar`: a generic call across modules would run unspecialized code).
public protocol ConvolutionScalar: GEMMScalar {
    static func conv2DEntry(_ algorithm: Conv2DAlgorithm, _ problem: Conv2DProblem<Self>, into output: UnsafeMutablePointer<Self>, threads: Int)
    static func conv2DReferenceEntry(_ problem: Conv2DProblem<Self>, into output: UnsafeMutablePointer<Double>)
    static func winogradMagnitudeEntry(_ tile: WinogradTile, _ problem: Conv2DProblem<Self>, into output: UnsafeMutablePointer<Double>)
    static func convTranspose2DEntry(_ algorithm: ConvTranspose2DAlgorithm, _ problem: ConvTranspose2DProblem<Self>, into output: UnsafeMutablePointer<Self>, threads: Int)
    static func convTranspose2DReferenceEntry(_ problem: ConvTranspose2DProblem<Self>, into output: UnsafeMutablePointer<Double>)
}

/// The read-only operands of one convolution call, their sizes checked against the geometry.
public struct ConvolutionOperands<Geometry: ConvolutionLayerGeometry, T>: @unchecked Sendable {
    public let geometry: Geometry
    let input: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>?

    /// Nil when the layer has no output elements (an empty batch), so there is nothing to do.
    /// - Throws: `ConvolutionError.bufferTooSmall` naming the buffer.
    init?(_ geometry: Geometry, input: UnsafeBufferPointer<T>, weight: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?, outputCount: Int) throws {
        try geometry.checkBuffers(input: input.count, weight: weight.count, bias: bias?.count, output: outputCount)
        if geometry.outputCount == 0 { return nil }
        self.geometry = geometry
        self.input = input.baseAddress!
        self.weight = weight.baseAddress!
        self.bias = bias?.baseAddress
    }
}

public typealias Conv2DProblem<T> = ConvolutionOperands<Conv2DGeometry, T>
public typealias ConvTranspose2DProblem<T> = ConvolutionOperands<ConvTranspose2DGeometry, T>

/// 2-D convolution of a batch (the contract above) by `algorithm` on `threads` threads.
///
/// - Complexity: 2·N·C_out·H_out·W_out·(C_in/G)·kh·kw flops for the direct algorithms (fewer
///   multiplications for Winograd); extra memory per `Conv2DAlgorithm.workspaceBytes`.
/// - Error: elementwise |ŷ − y| ≤ γ_{k+1}·(Σ|w||x| + |b|) with k = (C_in/G)·kh·kw (γ_k without
///   bias): every algorithm but Winograd sums each output's k products and its bias in some
///   order with one rounding per addition (FMA products), and padding contributes exact zeros.
///   `conv2DErrorMagnitude` computes Σ|w||x| + |b|; Winograd's bound is larger and its own
///   (`WinogradTile.errorTermCount`, `winogradErrorMagnitude`). The reference sums in Double and
///   rounds once: |ŷ − y| ≤ u·|y| + γ_{k+1}(u_Double)·(Σ|w||x| + |b|).
/// - Throws: `ConvolutionError` when a buffer is smaller than the layer needs, `threads` < 1,
///   or the algorithm does not apply (`Conv2DAlgorithm.applies(to:)`).
public func conv2D<T: ConvolutionScalar>(
    _ algorithm: Conv2DAlgorithm, geometry: Conv2DGeometry,
    input: UnsafeBufferPointer<T>, weight: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
    output: UnsafeMutableBufferPointer<T>, threads: Int = 1
) throws {
    if threads < 1 { throw ConvolutionError.notPositive(argument: "threads", value: threads) }
    if !algorithm.applies(to: geometry) {
        throw ConvolutionError.unsupported(algorithm: algorithm.description, reason: WinogradTile.requirement(geometry))
    }
    guard let problem = try Conv2DProblem(geometry, input: input, weight: weight, bias: bias, outputCount: output.count) else { return }
    T.conv2DEntry(algorithm, problem, into: output.baseAddress!, threads: threads)
}

/// The reference convolution (direct loops accumulating in Double), its result kept unrounded:
/// what the error models compare Float and Double results against.
///
/// - Complexity: N·C_out·H_out·W_out·(C_in/G)·kh·kw multiply-adds in Double, no extra memory.
/// - Error: |ŷ − y| ≤ γ_{k+1}(u_Double)·(Σ|w||x| + |b|).
/// - Throws: `ConvolutionError` when a buffer is smaller than the layer needs.
public func conv2DReferenceInDouble<T: ConvolutionScalar>(
    geometry: Conv2DGeometry, input: UnsafeBufferPointer<T>, weight: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
    output: UnsafeMutableBufferPointer<Double>
) throws {
    guard let problem = try Conv2DProblem(geometry, input: input, weight: weight, bias: bias, outputCount: output.count) else { return }
    T.conv2DReferenceEntry(problem, into: output.baseAddress!)
}

extension Conv2DAlgorithm {
    /// The scratch memory, in bytes, one call of this algorithm takes on this layer beyond its
    /// input, weight and output buffers (the engine's packed panels included), for element type
    /// `T` on `threads` threads. OpenBLAS's own buffers are not counted for `blas`. O(1).
    ///
    /// - reference: none; direct: a zero-padded plane and its sums per thread (NCHW depthwise),
    ///   the zero-padded, phase-split input (NCHW) or the repacked weights (NHWC).
    /// - im2col, blas: one group's im2col matrix of one image, (C_in/G)·kh·kw × H_out·W_out
    ///   (none for 1×1, stride 1, unpadded layers, whose input is the matrix), plus the engine's;
    ///   NCHW adds the padded, phase-split input the rows are gathered from.
    /// - implicit: the engine's panels, kc × nc of B and mc × kc of A per thread (NCHW: plus the
    ///   padded, phase-split input).
    /// - winograd: transformed weights, input tiles and their transforms, the products and the
    ///   output tiles (`WinogradTile.workspaceElements`).
    public func workspaceBytes<T: GEMMScalar>(_ geometry: Conv2DGeometry, _: T.Type, threads: Int) -> Int {
        let elements: Int
        switch self {
        case .reference:
            elements = 0
        case .direct:
            elements = DirectConvolution.workspaceElements(geometry, T.self, threads: threads)
        case .im2colGEMM:
            elements = Im2colPlan(geometry, route: .materialized, T.self, threads: threads).workspaceElements
        case .implicitGEMM:
            elements = Im2colPlan(geometry, route: .implicit, T.self, threads: threads).workspaceElements
        case .blas:
            elements = Im2colPlan(geometry, route: .blas, T.self, threads: threads).workspaceElements
        case .winograd(let tile):
            elements = tile.workspaceElements(geometry, T.self, threads: threads)
        }
        return elements * MemoryLayout<T>.stride
    }
}
