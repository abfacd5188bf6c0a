/// Convolution as matrix products: the im2col matrix of each group holds, for every output
/// pixel, the input values its window reads, so that the layer is one GEMM per group.
///
///     NCHW, per image n and group g:  Y_g (C_out/G × P) = W_g (C_out/G × K) · X_g (K × P)
///     NHWC, per group g:              Y_g (N·P × C_out/G) = X_g (N·P × K) · W_gᵀ (K × C_out/G)
///
/// with P = H_out·W_out output pixels and K = (C_in/G)·kh·kw. Row (ci, ky, kx) of the NCHW
/// matrix X_g (column of the NHWC one, ordered (ky, kx, ci) to match OHWI weights) holds
/// x[n, g·C_in/G + ci, oy·s_h + ky·d_h − p_h, ox·s_w + kx·d_w − p_w] for every pixel (oy, ox),
/// zero where the window leaves the image. The weights are already W_g in both layouts (OIHW rows
/// and OHWI rows are K long), and Y_g is a block of the output with leading dimension P (NCHW) or
/// C_out (NHWC): no copy of weights or output.
///
/// Three ways to feed the product, same arithmetic:
/// - `im2colGEMM`: X_g materialized (one image at a time), then `gemm`;
/// - `implicitGEMM`: X_g never stored; the engine's packing callback gathers each micro-panel of
///   X_g straight from the image (`GEMMMicroPanelPacker`);
/// - `blas`: X_g materialized, then OpenBLAS.
/// A 1×1, stride-1, unpadded layer's input already is X_g: all three read it in place.
///
/// The bias is written into Y first and the product added to it (β = 1), so each output is a sum
/// of k products and the bias with FMA: |ŷ − y| ≤ γ_{k+1}·(Σ|w||x| + |b|).

/// How the im2col family computes one group's product.
enum Im2colRoute {
    case materialized, implicit, blas
}

/// The products one im2col call runs and the scratch memory it takes.
struct Im2colPlan {
    /// One GEMM of the call: per image for NCHW and for a materialized NHWC matrix, over the
    /// whole batch for NHWC otherwise.
    let m: Int, n: Int, k: Int
    /// A 1×1, stride-1, unpadded layer: the input is the im2col matrix.
    let readsInputInPlace: Bool
    /// Elements of the padded, phase-split input (NCHW, unless read in place), of the
    /// materialized matrix of one image and group, K·P (0 when not materialized), each rounded
    /// up to a cache line, then of the engine's buffers (0 for OpenBLAS).
    let paddedElements: Int, columnElements: Int, engineElements: Int
    var workspaceElements: Int { paddedElements + columnElements + engineElements }

    init<T: GEMMScalar>(_ g: Conv2DGeometry, route: Im2colRoute, _: T.Type, threads: Int) {
        let pixels = g.outputPixels
        k = g.reductionLength
        readsInputInPlace = g.kernelHeight == 1 && g.kernelWidth == 1 && g.stride == 1 && g.padding == 0
        let materialized = route != .implicit && !readsInputInPlace
        let rows = g.layout == .nchw || materialized ? pixels : g.batch * pixels
        (m, n) = g.layout == .nchw ? (g.outputChannelsPerGroup, pixels) : (rows, g.outputChannelsPerGroup)
        columnElements = materialized ? roundUp(k * pixels, 16) : 0
        paddedElements = g.layout == .nchw && !readsInputInPlace ? roundUp(PhaseSplitInput(g, outputColumnsRead: g.outputWidth).elements, 16) : 0
        engineElements = route == .blas ? 0 : engineWorkspaceElements(T.self, m: m, n: n, k: k, threads: threads)
    }
}

/// destination[0 ..< count] = source[0 ..< count], a vector at a time.
@inline(__always)
func copyElements<T: GEMMScalar>(from source: UnsafePointer<T>, to destination: UnsafeMutablePointer<T>, count: Int) {
    let width = T.Vector.scalarCount
    var t = 0
    while t + width <= count {
        UnsafeMutableRawPointer(destination + t).storeBytes(of: UnsafeRawPointer(source + t).loadUnaligned(as: T.Vector.self), as: T.Vector.self)
        t += width
    }
    while t < count { destination[t] = source[t]; t += 1 }
}

/// The output positions along one axis whose input position o·s + t·d − p, for kernel tap t,
/// lies in 0 ..< inputLength: one range per tap. O(kernel).
func validOutputRanges(kernel: Int, stride s: Int, padding p: Int, dilation d: Int, inputLength: Int, outputLength: Int) -> [Range<Int>] {
    (0..<kernel).map { t in
        let offset = t * d - p
        let first = max(0, floorDivide(-offset + s - 1, s))
        let end = min(outputLength, floorDivide(inputLength - 1 - offset, s) + 1)
        return first..<max(first, end)
    }
}

/// The im2col matrix of one group, read from the image on demand: the one home of the gather
/// that both the materialized matrix and the engine's packing callback use. NCHW rows are read
/// from the padded, phase-split copy of the input (`PhaseSplitInput`), where each run of a row
/// within one output row is a contiguous copy; NHWC rows from the input, taps outside the image
/// written as zeros.
struct Im2colMatrix<T: GEMMScalar>: @unchecked Sendable {
    let geometry: Conv2DGeometry
    let group: Int
    let input: UnsafePointer<T>
    /// NCHW: the padded, phase-split input and its layout.
    let padded: UnsafePointer<T>, paddedLayout: PhaseSplitInput
    /// NHWC: per kernel row ky, the output rows whose input row is inside the image; per kernel
    /// column kx, likewise for output columns.
    let validRows: [Range<Int>], validColumns: [Range<Int>]

    init(_ geometry: Conv2DGeometry, group: Int, input: UnsafePointer<T>, padded: UnsafePointer<T>) {
        let g = geometry
        self.geometry = g
        self.group = group
        self.input = input
        self.padded = padded
        paddedLayout = PhaseSplitInput(g, outputColumnsRead: g.outputWidth)
        validRows = validOutputRanges(
            kernel: g.kernelHeight, stride: g.stride.height, padding: g.padding.height, dilation: g.dilation.height,
            inputLength: g.inputHeight, outputLength: g.outputHeight)
        validColumns = validOutputRanges(
            kernel: g.kernelWidth, stride: g.stride.width, padding: g.padding.width, dilation: g.dilation.width,
            inputLength: g.inputWidth, outputLength: g.outputWidth)
    }

    /// A kernel tap (ci, ky, kx) within the group, stepped in the im2col order of the layout
    /// without divisions: (ci, ky, kx) for NCHW rows, (ky, kx, ci) for NHWC columns.
    struct Tap {
        var ci: Int, ky: Int, kx: Int
    }

    /// The tap of NCHW row `p` = (ci·kh + ky)·kw + kx.
    @inline(__always)
    func nchwTap(_ p: Int) -> Tap {
        let g = geometry, window = g.kernelHeight * g.kernelWidth
        let r = p % window
        return Tap(ci: p / window, ky: r / g.kernelWidth, kx: r % g.kernelWidth)
    }

    /// The next NCHW row's tap.
    @inline(__always)
    func advanceNCHW(_ tap: inout Tap) {
        tap.kx += 1
        if tap.kx == geometry.kernelWidth {
            tap.kx = 0
            tap.ky += 1
            if tap.ky == geometry.kernelHeight { tap.ky = 0; tap.ci += 1 }
        }
    }

    /// NCHW: writes row `tap` of image `n`'s matrix for `count` consecutive output pixels starting
    /// at (oy, ox) in row-major order into `destination[0 ..< count]`: one contiguous copy per
    /// output row the pixels span.
    @inline(__always)
    func gatherRow(image n: Int, tap: Tap, outputRow oy: Int, outputColumn ox: Int, count: Int, into destination: UnsafeMutablePointer<T>) {
        let g = geometry, layout = paddedLayout
        let source = padded + (n * g.inputChannels + group * g.inputChannelsPerGroup + tap.ci) * layout.planeStride
            + layout.tapOffset(tap.ky, tap.kx, g)
        var (y, x, written) = (oy, ox, 0)
        while written < count {
            let run = min(g.outputWidth - x, count - written)
            copyElements(from: source + layout.outputOffset(y, x, g), to: destination + written, count: run)
            written += run
            x = 0
            y += 1
        }
    }

    /// NHWC: writes `count` consecutive entries, from column `first`, of the row of output pixel
    /// `pixel` (over the whole batch: n = pixel / P) into `destination[0]`,
    /// `destination[stride]`, …. Columns are ordered (ky, kx, ci).
    @inline(__always)
    func gatherPixel(_ pixel: Int, firstColumn first: Int, count: Int, into destination: UnsafeMutablePointer<T>, stride: Int) {
        let g = geometry, channels = g.inputChannelsPerGroup
        let pixels = g.outputPixels
        let n = pixel / pixels, oy = (pixel % pixels) / g.outputWidth, ox = pixel % g.outputWidth
        var tap = first / channels, ci = first % channels
        var ky = tap / g.kernelWidth, kx = tap % g.kernelWidth
        var written = 0
        while written < count {
            let run = min(channels - ci, count - written)
            let out = destination + written * stride
            if validRows[ky].contains(oy) && validColumns[kx].contains(ox) {
                let iy = oy * g.stride.height + ky * g.dilation.height - g.padding.height
                let ix = ox * g.stride.width + kx * g.dilation.width - g.padding.width
                let source = input + g.inputIndex(n, group * channels + ci, iy, ix)
                if stride == 1 {
                    for t in 0..<run { out[t] = source[t] }
                } else {
                    for t in 0..<run { out[t * stride] = source[t] }
                }
            } else {
                for t in 0..<run { out[t * stride] = 0 }
            }
            written += run
            ci = 0
            tap += 1
            kx += 1
            if kx == g.kernelWidth { kx = 0; ky += 1 }
        }
    }

    /// The engine's packing callback for this matrix as op(B) (NCHW, image `n`): micro-panel
    /// rows are taps, columns output pixels.
    func packerB(image n: Int) -> GEMMMicroPanelPacker<T> where T: GEMMScalar {
        let nr = T.microTileColumns, width = geometry.outputWidth
        return GEMMMicroPanelPacker { firstRow, firstColumn, rows, columns, destination in
            var tap = nchwTap(firstRow)
            let (oy, ox) = (firstColumn / width, firstColumn % width)
            for p in 0..<rows {
                let out = destination + p * nr
                gatherRow(image: n, tap: tap, outputRow: oy, outputColumn: ox, count: columns, into: out)
                for j in columns..<nr { out[j] = 0 }
                advanceNCHW(&tap)
            }
        }
    }

    /// The engine's packing callback for this matrix as op(A) (NHWC, rows are the output pixels
    /// of the whole batch).
    func packerA() -> GEMMMicroPanelPacker<T> where T: GEMMScalar {
        let mr = T.microTileRows
        return GEMMMicroPanelPacker { firstRow, firstColumn, rows, columns, destination in
            for i in 0..<rows {
                gatherPixel(firstRow + i, firstColumn: firstColumn, count: columns, into: destination + i, stride: mr)
            }
            for i in rows..<mr {
                for p in 0..<columns { destination[p * mr + i] = 0 }
            }
        }
    }

    /// Writes image `n`'s whole matrix (K × P for NCHW, P × K for NHWC) into `columns`, rows
    /// shared among `threads` threads.
    func materialize(image n: Int, into columns: UnsafeMutablePointer<T>, threads: Int) {
        let g = geometry, k = g.reductionLength, pixels = g.outputPixels
        let (rows, rowLength) = g.layout == .nchw ? (k, pixels) : (pixels, k)
        // A part gets at least 64 K elements to copy: less does not pay for a thread's wake-up.
        let parts = max(1, min(threads, rows * rowLength / 65536))
        parallelFor(parts) { part in
            let (first, end) = share(of: rows, part: part, parts: parts)
            if g.layout == .nchw {
                var tap = nchwTap(first)
                for p in first..<end {
                    gatherRow(image: n, tap: tap, outputRow: 0, outputColumn: 0, count: pixels, into: columns + p * pixels)
                    advanceNCHW(&tap)
                }
            } else {
                for pixel in first..<end {
                    gatherPixel(n * pixels + pixel, firstColumn: 0, count: k, into: columns + pixel * k, stride: 1)
                }
            }
        }
    }
}

/// Writes the bias of group `group` into its block of the output (C_out/G × P for NCHW image
/// `n`, or `pixels` rows × C_out/G for NHWC starting at `c`), so the product is added to it.
func writeBias<T: BinaryFloatingPoint>(_ bias: UnsafePointer<T>, group: Int, geometry g: Conv2DGeometry, pixels: Int, c: UnsafeMutablePointer<T>, ldc: Int) {
    let channels = g.outputChannelsPerGroup, groupBias = bias + group * channels
    if g.layout == .nchw {
        for r in 0..<channels { (c + r * ldc).update(repeating: groupBias[r], count: pixels) }
    } else {
        for pixel in 0..<pixels { (c + pixel * ldc).update(from: groupBias, count: channels) }
    }
}

/// `conv2D` by im2col: the three routes above.
func runIm2colConvolution<T: GEMMScalar>(_ route: Im2colRoute, _ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int) {
    let plan = Im2colPlan(problem.geometry, route: route, T.self, threads: threads)
    ScratchMemory.withElements(T.self, count: plan.workspaceElements) { workspace in
        runIm2colConvolution(route, problem, plan: plan, into: output, threads: threads, workspace: workspace)
    }
}

func runIm2colConvolution<T: GEMMScalar>(
    _ route: Im2colRoute, _ problem: Conv2DProblem<T>, plan: Im2colPlan, into output: UnsafeMutablePointer<T>, threads: Int,
    workspace: UnsafeMutablePointer<T>
) {
    let g = problem.geometry
    let (k, pixels) = (g.reductionLength, g.outputPixels)
    let (inChannels, outChannels) = (g.inputChannelsPerGroup, g.outputChannelsPerGroup)
    let beta: T = problem.bias == nil ? 0 : 1
    let padded = workspace, columns = plan.columnElements > 0 ? workspace + plan.paddedElements : nil
    let engineWorkspace = workspace + plan.paddedElements + plan.columnElements
    if plan.paddedElements > 0 {
        PhaseSplitInput(g, outputColumnsRead: g.outputWidth).fill(from: problem.input, geometry: g, into: padded, threads: threads)
    }

    /// One group's product into `c`: the engine, or OpenBLAS for the peer.
    func product(m: Int, n: Int, a: GEMMOperandSource<T>, b: GEMMOperandSource<T>, c: UnsafeMutablePointer<T>, ldc: Int) {
        if route == .blas, let a = a.inPlace, let b = b.inPlace {
            gemmBLAS(m: m, n: n, k: k, alpha: 1, a: a, b: b, beta: beta, c: c, ldc: ldc, threads: threads)
        } else {
            engineProduct(m: m, n: n, k: k, alpha: 1, a: a, b: b, beta: beta, c: c, ldc: ldc, threads: threads, workspace: engineWorkspace)
        }
    }

    for group in 0..<g.groups {
        let matrix = Im2colMatrix(g, group: group, input: problem.input, padded: padded)
        let groupWeight = problem.weight + group * outChannels * k
        if g.layout == .nchw {
            let a = MatrixOperand(groupWeight, ld: k)
            for n in 0..<g.batch {
                let c = output + g.outputIndex(n, group * outChannels, 0, 0)
                if let bias = problem.bias { writeBias(bias, group: group, geometry: g, pixels: pixels, c: c, ldc: pixels) }
                let b: GEMMOperandSource<T>
                if plan.readsInputInPlace {
                    b = .matrix(MatrixOperand(problem.input + g.inputIndex(n, group * inChannels, 0, 0), ld: pixels))
                } else if let columns {
                    matrix.materialize(image: n, into: columns, threads: threads)
                    b = .matrix(MatrixOperand(UnsafePointer(columns), ld: pixels))
                } else {
                    b = .packer(matrix.packerB(image: n))
                }
                product(m: outChannels, n: pixels, a: .matrix(a), b: b, c: c, ldc: pixels)
            }
        } else {
            let b = MatrixOperand(groupWeight, ld: k, transposed: true)
            let c = output + group * outChannels
            if let bias = problem.bias { writeBias(bias, group: group, geometry: g, pixels: g.batch * pixels, c: c, ldc: g.outputChannels) }
            if plan.readsInputInPlace {
                let a = MatrixOperand(problem.input + group * inChannels, ld: g.inputChannels)
                product(m: g.batch * pixels, n: outChannels, a: .matrix(a), b: .matrix(b), c: c, ldc: g.outputChannels)
            } else if let columns {
                for n in 0..<g.batch {
                    matrix.materialize(image: n, into: columns, threads: threads)
                    product(m: pixels, n: outChannels, a: .matrix(MatrixOperand(UnsafePointer(columns), ld: k)), b: .matrix(b),
                            c: c + n * pixels * g.outputChannels, ldc: g.outputChannels)
                }
            } else {
                product(m: g.batch * pixels, n: outChannels, a: .packer(matrix.packerA()), b: .matrix(b), c: c, ldc: g.outputChannels)
            }
        }
    }
}
