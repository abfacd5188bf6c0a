/// 2-D transposed convolution (PyTorch's `conv_transpose2d`), the learned upsampling layer: the
/// adjoint of `conv2D` with the same arguments, on the layer described by a
/// `ConvTranspose2DGeometry`.
///
/// Kernel contract:
///
///     input   x: N × C_in × H × W              (NCHW)   or N × H × W × C_in              (NHWC)
///     weight  w: C_in × C_out/G × kh × kw      (NCHW)   or C_in × kh × kw × C_out/G      (NHWC)
///     bias    b: C_out, optional
///     output  y: N × C_out × H_out × W_out, H_out = (H − 1)·s_h − 2p_h + d_h·(kh − 1) + output_padding_h + 1
///
///     y[n, g·C_out/G + co, iy·s_h − p_h + ky·d_h, ix·s_w − p_w + kx·d_w] += w[g·C_in/G + ci, co, ky, kx] · x[n, g·C_in/G + ci, iy, ix]
///
/// over all (ci, iy, ix, ky, kx), positions outside the output dropped, on top of b[co]. The
/// output is written, never read.

/// An algorithm for `convTranspose2D`.
public enum ConvTranspose2DAlgorithm: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The scatter in plain loops, accumulating in Double.
    case reference
    /// One engine GEMM per group (per image) into a column buffer, then col2im: each column
    /// entry added to the output pixel it lands on.
    case gemm

    public var description: String { rawValue }

    /// Scratch memory, in bytes, of one call: for `gemm`, one image's column buffer of one group,
    /// (C_out/G)·kh·kw × H·W, plus the engine's panels; for `reference`, the output in Double
    /// unless the output is Double. O(1).
    public func workspaceBytes<T: GEMMScalar>(_ g: ConvTranspose2DGeometry, _: T.Type, threads: Int) -> Int {
        switch self {
        case .reference:
            return T.self == Double.self ? 0 : g.outputCount * MemoryLayout<Double>.stride
        case .gemm:
            return TransposedGEMMPlan(g, T.self, threads: threads).workspaceElements * MemoryLayout<T>.stride
        }
    }
}

extension ConvTranspose2DGeometry {
    /// n in the bound |ŷ − y| ≤ γ_n·(Σ|w||x| + |b|) of the `gemm` route: each column entry is a
    /// sum of C_in/G products (one rounding each, FMA), and an output adds at most kh·kw column
    /// entries to its bias (one rounding each): n = C_in/G + kh·kw.
    public var errorTermCount: Int { inputChannelsPerGroup + kernelHeight * kernelWidth }
}

/// Transposed convolution of a batch (the contract above) by `algorithm` on `threads` threads.
///
/// - Complexity: 2·N·C_in·H·W·(C_out/G)·kh·kw flops (products landing outside the output
///   included), plus O(N·C_out·H_out·W_out) for the bias and col2im.
/// - Error: |ŷ − y| ≤ γ_n·(Σ|w||x| + |b|), n = `errorTermCount`; the magnitude is
///   `convTranspose2DErrorMagnitude`'s. The reference: γ_n(u_Double) before one final rounding.
/// - Throws: `ConvolutionError` when a buffer is smaller than the layer needs or threads < 1.
public func convTranspose2D<T: ConvolutionScalar>(
    _ algorithm: ConvTranspose2DAlgorithm, geometry: ConvTranspose2DGeometry,
    input: UnsafeBufferPointer<T>, weight: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
    output: UnsafeMutableBufferPointer<T>, threads: Int = 1
) throws {
    if threads < 1 { throw ConvolutionError.notPositive(argument: "threads", value: threads) }
    guard let problem = try ConvTranspose2DProblem(geometry, input: input, weight: weight, bias: bias, outputCount: output.count) else { return }
    T.convTranspose2DEntry(algorithm, problem, into: output.baseAddress!, threads: threads)
}

/// The reference transposed convolution, its result kept in Double (unrounded).
///
/// - Complexity: as `convTranspose2D`, in Double.
/// - Throws: `ConvolutionError` when a buffer is smaller than the layer needs.
public func convTranspose2DReferenceInDouble<T: ConvolutionScalar>(
    geometry: ConvTranspose2DGeometry, input: UnsafeBufferPointer<T>, weight: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
    output: UnsafeMutableBufferPointer<Double>
) throws {
    guard let problem = try ConvTranspose2DProblem(geometry, input: input, weight: weight, bias: bias, outputCount: output.count) else { return }
    T.convTranspose2DReferenceEntry(problem, into: output.baseAddress!)
}

/// The reference: the scatter in the contract's order (n, ci, iy, ix, co, ky, kx), every
/// product and sum in Double, the output rounded once at the end.
func runConvTranspose2DReference<T: BinaryFloatingPoint, Output: BinaryFloatingPoint>(
    _ problem: ConvTranspose2DProblem<T>, into output: UnsafeMutablePointer<Output>
) {
    let g = problem.geometry
    let (inChannels, outChannels) = (g.inputChannelsPerGroup, g.outputChannelsPerGroup)
    var sums = [Double](repeating: 0, count: g.outputCount)
    for n in 0..<g.batch {
        for co in 0..<g.outputChannels {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth { sums[g.outputIndex(n, co, oy, ox)] = problem.bias.map { Double($0[co]) } ?? 0 }
            }
        }
        for ci in 0..<g.inputChannels {
            let group = ci / inChannels
            for iy in 0..<g.inputHeight {
                for ix in 0..<g.inputWidth {
                    let x = Double(problem.input[g.inputIndex(n, ci, iy, ix)])
                    for co in 0..<outChannels {
                        for ky in 0..<g.kernelHeight {
                            let oy = iy * g.stride.height - g.padding.height + ky * g.dilation.height
                            if oy < 0 || oy >= g.outputHeight { continue }
                            for kx in 0..<g.kernelWidth {
                                let ox = ix * g.stride.width - g.padding.width + kx * g.dilation.width
                                if ox < 0 || ox >= g.outputWidth { continue }
                                sums[g.outputIndex(n, group * outChannels + co, oy, ox)] += Double(problem.weight[g.weightIndex(ci, co, ky, kx)]) * x
                            }
                        }
                    }
                }
            }
        }
    }
    for i in 0..<g.outputCount { output[i] = Output(sums[i]) }
}

/// The `gemm` route: per image and group, the column buffer
///
///     NCHW: col ((C_out/G)·kh·kw × H·W) = W_gᵀ · X_g (C_in/G × H·W)      rows (co, ky, kx)
///     NHWC: col (H·W × kh·kw·(C_out/G)) = X_g (H·W × C_in/G) · W_g       columns (ky, kx, co)
///
/// (W_g is the group's C_in/G rows of the weights in both layouts), then col2im adds each entry
/// to its output pixel, on top of the bias. Output channels are shared among the threads in
/// col2im, so each output's additions run in the same order whatever the thread count.
func runConvTranspose2DGEMM<T: GEMMScalar>(_ problem: ConvTranspose2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int) {
    let plan = TransposedGEMMPlan(problem.geometry, T.self, threads: threads)
    ScratchMemory.withElements(T.self, count: plan.workspaceElements) { workspace in
        runConvTranspose2DGEMM(problem, plan: plan, into: output, threads: threads, workspace: workspace)
    }
}

/// The product of one image and group of the `gemm` route, and its scratch memory: the column
/// buffer, (C_out/G)·kh·kw × H·W, then the engine's buffers.
struct TransposedGEMMPlan {
    let rows: Int, pixels: Int
    let columnElements: Int, engineElements: Int
    var workspaceElements: Int { columnElements + engineElements }

    init<T: GEMMScalar>(_ g: ConvTranspose2DGeometry, _: T.Type, threads: Int) {
        rows = g.outputChannelsPerGroup * g.kernelHeight * g.kernelWidth
        pixels = g.inputHeight * g.inputWidth
        let (m, n) = g.layout == .nchw ? (rows, pixels) : (pixels, rows)
        columnElements = roundUp(rows * pixels, 16)
        engineElements = engineWorkspaceElements(T.self, m: m, n: n, k: g.inputChannelsPerGroup, threads: threads)
    }
}

func runConvTranspose2DGEMM<T: GEMMScalar>(
    _ problem: ConvTranspose2DProblem<T>, plan: TransposedGEMMPlan, into output: UnsafeMutablePointer<T>, threads: Int,
    workspace columns: UnsafeMutablePointer<T>
) {
    let g = problem.geometry
    let (inChannels, outChannels, kh, kw) = (g.inputChannelsPerGroup, g.outputChannelsPerGroup, g.kernelHeight, g.kernelWidth)
    let (rows, pixels) = (plan.rows, plan.pixels)
    let engineWorkspace = columns + plan.columnElements
    // Per kernel tap, the input rows (columns) whose output row (column) is inside the output.
    let validRows = validOutputRanges(kernel: kh, stride: g.stride.height, padding: g.padding.height, dilation: g.dilation.height,
                                      inputLength: g.outputHeight, outputLength: g.inputHeight)
    let validColumns = validOutputRanges(kernel: kw, stride: g.stride.width, padding: g.padding.width, dilation: g.dilation.width,
                                         inputLength: g.outputWidth, outputLength: g.inputWidth)
    for n in 0..<g.batch {
        for co in 0..<g.outputChannels {
            let value = problem.bias?[co] ?? 0
            for oy in 0..<g.outputHeight { for ox in 0..<g.outputWidth { output[g.outputIndex(n, co, oy, ox)] = value } }
        }
        for group in 0..<g.groups {
            let groupWeight = problem.weight + group * inChannels * rows
            let groupInput = problem.input + g.inputIndex(n, group * inChannels, 0, 0)
            if g.layout == .nchw {
                engineProduct(m: rows, n: pixels, k: inChannels, alpha: 1,
                              a: .matrix(MatrixOperand(groupWeight, ld: rows, transposed: true)),
                              b: .matrix(MatrixOperand(groupInput, ld: pixels)), beta: 0, c: columns, ldc: pixels, threads: threads,
                              workspace: engineWorkspace)
            } else {
                engineProduct(m: pixels, n: rows, k: inChannels, alpha: 1,
                              a: .matrix(MatrixOperand(groupInput, ld: g.inputChannels)),
                              b: .matrix(MatrixOperand(groupWeight, ld: rows)), beta: 0, c: columns, ldc: rows, threads: threads,
                              workspace: engineWorkspace)
            }
            // col2im, output channels shared among threads.
            let parts = max(1, min(threads, outChannels, rows * pixels / 65536))
            parallelFor(parts) { part in
                let (first, end) = share(of: outChannels, part: part, parts: parts)
                if g.layout == .nchw {
                    for co in first..<end {
                        let plane = output + g.outputIndex(n, group * outChannels + co, 0, 0)
                        for ky in 0..<kh {
                            for iy in validRows[ky] {
                                let outRow = plane + (iy * g.stride.height - g.padding.height + ky * g.dilation.height) * g.outputWidth
                                for kx in 0..<kw {
                                    let entries = columns + ((co * kh + ky) * kw + kx) * pixels + iy * g.inputWidth
                                    let out = outRow - g.padding.width + kx * g.dilation.width
                                    for ix in validColumns[kx] { out[ix * g.stride.width] += entries[ix] }
                                }
                            }
                        }
                    }
                } else {
                    for ky in 0..<kh {
                        for iy in validRows[ky] {
                            let oy = iy * g.stride.height - g.padding.height + ky * g.dilation.height
                            for kx in 0..<kw {
                                for ix in validColumns[kx] {
                                    let ox = ix * g.stride.width - g.padding.width + kx * g.dilation.width
                                    let out = output + g.outputIndex(n, group * outChannels, oy, ox)
                                    let entry = columns + (iy * g.inputWidth + ix) * rows + (ky * kw + kx) * outChannels
                                    for co in first..<end { out[co] += entry[co] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
