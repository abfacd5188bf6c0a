/// Direct convolution with SIMD: the layer's sum computed in place, no matrix product. Made for
/// the layers a GEMM serves badly: depthwise (one input channel per output, so K = kh·kw is tiny)
/// and layers with few input channels (a network's stem, 3 → 64). It computes every layer.
///
/// Four loop nests, by layout and kind:
/// - NCHW depthwise: vectors across each plane's flattened, zero-padded rows
///   (`DepthwisePlanes`), so that they are full whatever the width; planes shared among threads.
/// - NCHW otherwise: vectors across output columns. The input is first copied into a zero-padded,
///   stride-phase-split buffer: each padded row is stored as s_w rows of its columns
///   ≡ 0, 1, …, s_w − 1 (mod s_w), so that the input columns ox·s_w + kx·d_w of consecutive
///   outputs ox are consecutive in memory for every stride; each output row is then a sum of
///   contiguous vector loads times broadcast weights, four vectors at a time.
/// - NHWC depthwise (C_in/G = C_out/G = 1): vectors across channels; eight or four output pixels
///   share each weight vector, taps outside the image skipped. 3×3 at dilation 1 and stride 1 or 2
///   (MobileNet's layers) by `depthwise3x3`: nine weight vectors in registers, tap loops unrolled,
///   the pixels of a block sharing their input columns.
/// - NHWC otherwise: the GEMM engine's micro-kernel (six output pixels × two vectors of a
///   group's output channels) reading each pixel's input through a pointer per tap (a zero row
///   for taps outside the image: XNNPACK's indirect convolution), weights repacked per call to
///   [g][ky][kx][ci][co] with co padded to whole micro-panels.
///
/// Each output is its bias plus its k products, accumulated in order with FMA:
/// |ŷ − y| ≤ γ_{k+1}·(Σ|w||x| + |b|).
enum DirectConvolution {
    /// Elements of scratch memory one call takes: a padded plane and its sums per thread (NCHW
    /// depthwise), the padded, phase-split input (NCHW) or the
    /// repacked weights and a zero row (NHWC). O(1).
    static func workspaceElements<T: GEMMScalar>(_ g: Conv2DGeometry, _: T.Type, threads: Int) -> Int {
        let v = T.Vector.scalarCount
        if g.layout == .nchw && g.isDepthwise { return DepthwisePlanes(g, vectorLength: v, threads: threads).elements }
        if g.layout == .nchw { return PhaseSplitInput(g, outputColumnsRead: roundUp(g.outputWidth, 4 * v)).elements }
        if g.isDepthwise { return g.kernelHeight * g.kernelWidth * g.outputChannels }
        return g.groups * g.kernelHeight * g.kernelWidth * g.inputChannelsPerGroup * roundUp(g.outputChannelsPerGroup, 2 * v)
            + g.inputChannelsPerGroup
    }
}

/// `conv2D` by direct SIMD loops.
func runDirectConvolution<T: GEMMScalar>(_ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int) {
    let g = problem.geometry
    ScratchMemory.withElements(T.self, count: DirectConvolution.workspaceElements(g, T.self, threads: threads)) { scratch in
        if g.layout == .nchw && g.isDepthwise {
            directDepthwiseNCHW(problem, into: output, threads: threads, scratch: scratch)
        } else if g.layout == .nchw {
            directNCHW(problem, into: output, threads: threads, scratch: scratch)
        } else if g.isDepthwise {
            directDepthwiseNHWC(problem, into: output, threads: threads, scratch: scratch)
        } else {
            directIndirectNHWC(problem, into: output, threads: threads, scratch: scratch)
        }
    }
}

/// NCHW: for each output row (n, co, oy), vectors across ox; four vectors per pass.
func directNCHW<T: GEMMScalar>(_ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int, scratch padded: UnsafeMutablePointer<T>) {
    typealias V = T.Vector
    let g = problem.geometry, v = V.scalarCount
    let layout = PhaseSplitInput(g, outputColumnsRead: roundUp(g.outputWidth, 4 * v))
    layout.fill(from: problem.input, geometry: g, into: padded, threads: threads)
    let (kh, kw, channels) = (g.kernelHeight, g.kernelWidth, g.inputChannelsPerGroup)
    let rows = g.batch * g.outputChannels * g.outputHeight
    let parts = max(1, min(threads, Int(g.directFlops / 2e6)))
    parallelFor(parts) { part in
        let (first, end) = share(of: rows, part: part, parts: parts)
        for row in first..<end {
            let oy = row % g.outputHeight, co = (row / g.outputHeight) % g.outputChannels, n = row / (g.outputHeight * g.outputChannels)
            let group = co / g.outputChannelsPerGroup
            let weights = problem.weight + co * channels * kh * kw
            let bias = V(repeating: problem.bias?[co] ?? 0)
            let out = output + g.outputIndex(n, co, oy, 0)
            let planes = padded + (n * g.inputChannels + group * channels) * layout.planeStride + layout.outputOffset(oy, 0, g)
            /// The input of tap (ci, ky, kx) for output column ox: consecutive for consecutive ox.
            @inline(__always) func input(_ ci: Int, _ ky: Int, _ kx: Int, _ ox: Int) -> UnsafeRawPointer {
                UnsafeRawPointer(planes + ci * layout.planeStride + layout.tapOffset(ky, kx, g) + ox)
            }
            let step = MemoryLayout<V>.stride
            var ox = 0
            // Four vectors per pass while more than three remain, then one.
            while g.outputWidth - ox > 3 * v {
                var a0 = bias, a1 = bias, a2 = bias, a3 = bias
                for ci in 0..<channels {
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let w = V(repeating: weights[(ci * kh + ky) * kw + kx])
                            let x = input(ci, ky, kx, ox)
                            a0 = a0.addingProduct(w, x.loadUnaligned(as: V.self))
                            a1 = a1.addingProduct(w, x.loadUnaligned(fromByteOffset: step, as: V.self))
                            a2 = a2.addingProduct(w, x.loadUnaligned(fromByteOffset: 2 * step, as: V.self))
                            a3 = a3.addingProduct(w, x.loadUnaligned(fromByteOffset: 3 * step, as: V.self))
                        }
                    }
                }
                store(a0, to: out + ox, count: v)
                store(a1, to: out + ox + v, count: v)
                store(a2, to: out + ox + 2 * v, count: v)
                store(a3, to: out + ox + 3 * v, count: min(v, g.outputWidth - ox - 3 * v))
                ox += 4 * v
            }
            while ox < g.outputWidth {
                var a0 = bias
                for ci in 0..<channels {
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let w = V(repeating: weights[(ci * kh + ky) * kw + kx])
                            a0 = a0.addingProduct(w, input(ci, ky, kx, ox).loadUnaligned(as: V.self))
                        }
                    }
                }
                store(a0, to: out + ox, count: min(v, g.outputWidth - ox))
                ox += v
            }
        }
    }
}

/// Stores the first `count` lanes of `vector` at `destination`.
@inline(__always)
func store<V: SIMD>(_ vector: V, to destination: UnsafeMutablePointer<V.Scalar>, count: Int) {
    if count == V.scalarCount {
        UnsafeMutableRawPointer(destination).storeBytes(of: vector, as: V.self)
    } else {
        for lane in 0..<count { destination[lane] = vector[lane] }
    }
}

/// NHWC depthwise: for each output row (n, oy), vectors across channels; eight or four pixels
/// share each weight vector where their taps are inside the image. Pixels outer, channels inner:
/// measured on MobileNet-v2's 32-channel 112² layer, channels outer (each pass reading every
/// other cache line of the rows) was 20% slower. 3×3 at dilation 1, stride 1 or 2: every column by
/// `depthwise3x3` (measured on MobileNet-v2's 28² and 14² layers, batch 8: 1.6–1.8× the general
/// loop, whose tap loops over kh and kw stay rolled and whose border columns and rows take the
/// per-tap tests of `single`).
func directDepthwiseNHWC<T: GEMMScalar>(_ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int, scratch weights: UnsafeMutablePointer<T>) {
    typealias V = T.Vector
    let g = problem.geometry, v = V.scalarCount, channels = g.outputChannels
    let (kh, kw) = (g.kernelHeight, g.kernelWidth)
    // Weights as [ky][kx][c], so a tap's weights for consecutive channels are one vector.
    for c in 0..<channels { for tap in 0..<(kh * kw) { weights[tap * channels + c] = problem.weight[c * kh * kw + tap] } }
    let validRows = validOutputRanges(kernel: kh, stride: g.stride.height, padding: g.padding.height, dilation: g.dilation.height,
                                      inputLength: g.inputHeight, outputLength: g.outputHeight)
    let validColumns = validOutputRanges(kernel: kw, stride: g.stride.width, padding: g.padding.width, dilation: g.dilation.width,
                                         inputLength: g.inputWidth, outputLength: g.outputWidth)
    // Output columns whose every tap is inside the image.
    let interior = validColumns.reduce(0..<g.outputWidth) { $0.clamped(to: $1) }
    let vectorChannels = channels - channels % v
    let (sw, dw, pw) = (g.stride.width, g.dilation.width, g.padding.width)
    let pixelStep = sw * channels, tapStep = dw * channels
    // 3×3 at dilation 1 and stride 1 or 2 (MobileNet's layers): every row by `depthwise3x3`.
    let threeByThree = kh == 3 && kw == 3 && g.dilation.width == 1 && (sw == 1 || sw == 2)
    // Rows at most this wide go channels outer (`depthwise3x3Row`), so that each vector of
    // channels loads its weights once per row, not once per block of pixels (measured, batch 8:
    // the 7² layer 130 µs against 154; the 14² layers no faster, so they stay pixels outer).
    let narrowRow = 8
    let rows = g.batch * g.outputHeight
    let parts = max(1, min(threads, Int(g.directFlops / 2e6)))
    parallelFor(parts) { part in
        let (first, end) = share(of: rows, part: part, parts: parts)
        // Per kernel row, the input row it reads for the current output row (nil outside the image).
        let inputRows = UnsafeMutablePointer<UnsafePointer<T>?>.allocate(capacity: kh)
        defer { inputRows.deallocate() }
        for row in first..<end {
            let n = row / g.outputHeight, oy = row % g.outputHeight
            for ky in 0..<kh {
                let iy = oy * g.stride.height + ky * g.dilation.height - g.padding.height
                inputRows[ky] = validRows[ky].contains(oy) ? problem.input + ((n * g.inputHeight + iy) * g.inputWidth) * channels : nil
            }
            let out = output + g.outputIndex(n, 0, oy, 0)
            /// One output pixel ox, channels c ..< c + v, taps outside the image skipped.
            @inline(__always) func single(_ ox: Int, _ c: Int, _ bias: V) {
                var sum = bias
                for ky in 0..<kh {
                    guard let inputRow = inputRows[ky] else { continue }
                    for kx in 0..<kw where validColumns[kx].contains(ox) {
                        let w = UnsafeRawPointer(weights + (ky * kw + kx) * channels + c).load(as: V.self)
                        let x = UnsafeRawPointer(inputRow + (ox * sw + kx * dw - pw) * channels + c)
                        sum = sum.addingProduct(w, x.loadUnaligned(as: V.self))
                    }
                }
                UnsafeMutableRawPointer(out + ox * channels + c).storeBytes(of: sum, as: V.self)
            }
            /// The bias of channels c ..< c + v.
            @inline(__always) func bias(_ c: Int) -> V { problem.bias.map { UnsafeRawPointer($0 + c).loadUnaligned(as: V.self) } ?? V() }
            // Pixels outer, channels inner, so that consecutive vectors read consecutive memory.
            var ox = 0
            while !threeByThree && ox < min(interior.lowerBound, g.outputWidth) {
                for c in stride(from: 0, to: vectorChannels, by: v) { single(ox, c, bias(c)) }
                ox += 1
            }
            /// `pixels` (4 or 8) interior pixels from ox, every tap inside the image: plain pointer
            /// steps, one weight vector shared by all of them.
            @inline(__always) func interiorBlock(_ ox: Int, pixels: Int) {
                for c in stride(from: 0, to: vectorChannels, by: v) {
                    let b = bias(c)
                    var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
                    for ky in 0..<kh {
                        guard let inputRow = inputRows[ky] else { continue }
                        var x = UnsafeRawPointer(inputRow + (ox * sw - pw) * channels + c)
                        var w = UnsafeRawPointer(weights + ky * kw * channels + c)
                        let step = pixelStep * MemoryLayout<T>.stride
                        for _ in 0..<kw {
                            let weight = w.load(as: V.self)
                            a0 = a0.addingProduct(weight, x.loadUnaligned(as: V.self))
                            a1 = a1.addingProduct(weight, x.loadUnaligned(fromByteOffset: step, as: V.self))
                            a2 = a2.addingProduct(weight, x.loadUnaligned(fromByteOffset: 2 * step, as: V.self))
                            a3 = a3.addingProduct(weight, x.loadUnaligned(fromByteOffset: 3 * step, as: V.self))
                            if pixels == 8 {
                                a4 = a4.addingProduct(weight, x.loadUnaligned(fromByteOffset: 4 * step, as: V.self))
                                a5 = a5.addingProduct(weight, x.loadUnaligned(fromByteOffset: 5 * step, as: V.self))
                                a6 = a6.addingProduct(weight, x.loadUnaligned(fromByteOffset: 6 * step, as: V.self))
                                a7 = a7.addingProduct(weight, x.loadUnaligned(fromByteOffset: 7 * step, as: V.self))
                            }
                            x += tapStep * MemoryLayout<T>.stride
                            w += channels * MemoryLayout<T>.stride
                        }
                    }
                    let pixelOut = UnsafeMutableRawPointer(out + ox * channels + c), outStep = channels * MemoryLayout<T>.stride
                    pixelOut.storeBytes(of: a0, as: V.self)
                    pixelOut.storeBytes(of: a1, toByteOffset: outStep, as: V.self)
                    pixelOut.storeBytes(of: a2, toByteOffset: 2 * outStep, as: V.self)
                    pixelOut.storeBytes(of: a3, toByteOffset: 3 * outStep, as: V.self)
                    if pixels == 8 {
                        pixelOut.storeBytes(of: a4, toByteOffset: 4 * outStep, as: V.self)
                        pixelOut.storeBytes(of: a5, toByteOffset: 5 * outStep, as: V.self)
                        pixelOut.storeBytes(of: a6, toByteOffset: 6 * outStep, as: V.self)
                        pixelOut.storeBytes(of: a7, toByteOffset: 7 * outStep, as: V.self)
                    }
                }
            }
            if threeByThree {
                // 3×3, dilation 1: the border columns one at a time with their taps inside the
                // image, the interior eight, four, two, then one pixel at a time.
                let rows = (inputRows[0].map { $0 - pw * channels }, inputRows[1].map { $0 - pw * channels },
                            inputRows[2].map { $0 - pw * channels })
                let bias = problem.bias.map { UnsafePointer($0) }
                @inline(__always) func block<Stride: StaticCount, Pixels: StaticCount>(_: Stride.Type, _: Pixels.Type, taps: Range<Int> = 0..<3) {
                    depthwise3x3(rows, from: ox, Stride.self, Pixels.self, taps: taps, weights: UnsafePointer(weights), bias: bias,
                                 channels: channels, vectorChannels: vectorChannels, out: out)
                    ox += Pixels.value
                }
                /// The taps kx of column ox inside the image (consecutive at dilation 1).
                @inline(__always) func taps(_ ox: Int) -> Range<Int> {
                    var low = 0, high = 3
                    while low < high && !validColumns[low].contains(ox) { low += 1 }
                    while high > low && !validColumns[high - 1].contains(ox) { high -= 1 }
                    return low..<high
                }
                @inline(__always) func blocks<Stride: StaticCount>(_: Stride.Type) {
                    while ox < min(interior.lowerBound, g.outputWidth) { block(Stride.self, One.self, taps: taps(ox)) }
                    while ox + 8 <= interior.upperBound { block(Stride.self, Eight.self) }
                    if ox + 4 <= interior.upperBound { block(Stride.self, Four.self) }
                    if ox + 2 <= interior.upperBound { block(Stride.self, Two.self) }
                    if ox + 1 <= interior.upperBound { block(Stride.self, One.self) }
                    while ox < g.outputWidth { block(Stride.self, One.self, taps: taps(ox)) }
                }
                if g.outputWidth <= narrowRow {
                    if sw == 1 {
                        depthwise3x3Row(rows, One.self, width: g.outputWidth, interior: interior, taps: taps, weights: UnsafePointer(weights),
                                        bias: bias, channels: channels, vectorChannels: vectorChannels, out: out)
                    } else {
                        depthwise3x3Row(rows, Two.self, width: g.outputWidth, interior: interior, taps: taps, weights: UnsafePointer(weights),
                                        bias: bias, channels: channels, vectorChannels: vectorChannels, out: out)
                    }
                    ox = g.outputWidth
                } else if sw == 1 { blocks(One.self) } else { blocks(Two.self) }
            }
            // Interior pixels eight at a time, then four (measured: eight ran the 112² layer at
            // 40 GFLOP/s against 26 for four; narrow layers need the fours).
            while ox + 8 <= interior.upperBound { interiorBlock(ox, pixels: 8); ox += 8 }
            while ox + 4 <= interior.upperBound { interiorBlock(ox, pixels: 4); ox += 4 }
            while ox < g.outputWidth {
                for c in stride(from: 0, to: vectorChannels, by: v) { single(ox, c, bias(c)) }
                ox += 1
            }
            // Channels after the last whole vector, one at a time.
            for c in vectorChannels..<channels {
                for ox in 0..<g.outputWidth {
                    var sum = problem.bias?[c] ?? 0
                    for ky in 0..<kh {
                        guard let inputRow = inputRows[ky] else { continue }
                        for kx in 0..<kw where validColumns[kx].contains(ox) {
                            sum = sum.addingProduct(weights[(ky * kw + kx) * channels + c], inputRow[(ox * sw + kx * dw - pw) * channels + c])
                        }
                    }
                    out[ox * channels + c] = sum
                }
            }
        }
    }
}

/// NHWC, any groups: the GEMM engine's micro-kernel (MR = 6 output pixels × NR = two vectors of
/// a group's output channels) over depth taps·C_in/G, its panel of A read through an indirection
/// table — one pointer per pixel and tap to the pixel's C_in/G input channels, or to a zero row
/// outside the image (XNNPACK's indirect convolution) — and the weights repacked per call to
/// [g][ky][kx][ci][co] with co padded to whole micro-panels. Nothing is gathered: each input
/// element is read where it lies.
func directIndirectNHWC<T: GEMMScalar>(_ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int, scratch weights: UnsafeMutablePointer<T>) {
    let g = problem.geometry, mr = T.microTileRows, nr = T.microTileColumns
    let (kh, kw, channels, outChannels) = (g.kernelHeight, g.kernelWidth, g.inputChannelsPerGroup, g.outputChannelsPerGroup)
    let paddedOut = roundUp(outChannels, nr), taps = kh * kw
    let zeroRow = UnsafePointer(weights + g.groups * taps * channels * paddedOut)
    weights.update(repeating: 0, count: g.groups * taps * channels * paddedOut + channels)
    for co in 0..<g.outputChannels {
        let (group, local) = (co / outChannels, co % outChannels)
        for tap in 0..<taps {
            for ci in 0..<channels {
                weights[((group * taps + tap) * channels + ci) * paddedOut + local] = problem.weight[(co * taps + tap) * channels + ci]
            }
        }
    }
    let rows = g.batch * g.outputHeight
    let parts = max(1, min(threads, Int(g.directFlops / 2e6)))
    parallelFor(parts) { part in
        let (first, end) = share(of: rows, part: part, parts: parts)
        // The indirection table of one block of MR pixels: [tap][r], plus a row of sentinels the
        // panel reads after its last tap. And the micro-kernel's scratch tile.
        let table = UnsafeMutablePointer<UnsafePointer<T>>.allocate(capacity: (taps + 1) * mr)
        let scratch = UnsafeMutablePointer<T>.allocate(capacity: mr * nr)
        defer { table.deallocate(); scratch.deallocate() }
        table.update(repeating: zeroRow, count: (taps + 1) * mr)
        for row in first..<end {
            let n = row / g.outputHeight, oy = row % g.outputHeight
            // The bias first; the micro-kernel adds the sums to it (β = 1).
            for ox in 0..<g.outputWidth {
                let out = output + g.outputIndex(n, 0, oy, ox)
                if let bias = problem.bias { out.update(from: bias, count: g.outputChannels) } else { out.update(repeating: 0, count: g.outputChannels) }
            }
            for group in 0..<g.groups {
                for ox0 in stride(from: 0, to: g.outputWidth, by: mr) {
                    let count = min(mr, g.outputWidth - ox0)
                    for ky in 0..<kh {
                        let iy = oy * g.stride.height + ky * g.dilation.height - g.padding.height
                        for kx in 0..<kw {
                            for r in 0..<mr {
                                let ix = (ox0 + r) * g.stride.width + kx * g.dilation.width - g.padding.width
                                let inside = r < count && iy >= 0 && iy < g.inputHeight && ix >= 0 && ix < g.inputWidth
                                table[(ky * kw + kx) * mr + r] = inside ? problem.input + g.inputIndex(n, group * channels, iy, ix) : zeroRow
                            }
                        }
                    }
                    for co0 in stride(from: 0, to: outChannels, by: nr) {
                        microKernel(
                            depth: taps * channels, a: IndirectMicroPanelA(table: UnsafePointer(table), channels: channels),
                            b: UnsafePointer(weights + group * taps * channels * paddedOut + co0), bDepthStride: paddedOut,
                            alpha: 1, beta: 1, c: output + g.outputIndex(n, group * outChannels + co0, oy, ox0), ldc: g.outputChannels,
                            rows: count, columns: min(nr, outChannels - co0), scratch: scratch)
                    }
                }
            }
        }
    }
}

/// A micro-panel of op(A) whose row r, for depth steps tap·C + ci, is `table[tap·MR + r][ci]`:
/// one pointer per output pixel and kernel tap. The table holds one more row of valid pointers
/// after the last tap, which `advance` reads when it leaves the last tap.
struct IndirectMicroPanelA<Scalar: GEMMScalar>: MicroPanelA {
    let table: UnsafePointer<UnsafePointer<Scalar>>
    let channels: Int
    var row: UnsafePointer<UnsafePointer<Scalar>>
    var ci = 0

    @inline(__always)
    init(table: UnsafePointer<UnsafePointer<Scalar>>, channels: Int) {
        self.table = table
        self.channels = channels
        row = table
    }

    @inline(__always)
    func element(_ r: Int) -> Scalar { row[r][ci] }

    @inline(__always)
    mutating func advance() {
        ci += 1
        if ci == channels {
            ci = 0
            row += Scalar.microTileRows
        }
    }
}

/// A count known at compile time, so that a specialization's loops unroll and its branches fold.
protocol StaticCount { static var value: Int { get } }
enum One: StaticCount { static var value: Int { 1 } }
enum Two: StaticCount { static var value: Int { 2 } }
enum Four: StaticCount { static var value: Int { 4 } }
enum Eight: StaticCount { static var value: Int { 8 } }

/// NHWC depthwise 3×3 at dilation 1: output pixels ox ..< ox + `Pixels` (1, 2, 4 or 8) of one row,
/// channels 0 ..< `vectorChannels` a vector at a time. `rows` point to the three input rows'
/// column 0 minus the padding (column ox·stride + kx − padding is then
/// `rows.ky + (ox·stride + kx)·channels`), nil for a row outside the image; `taps` are the kx
/// inside the image, all three unless `Pixels` is 1; every other tap must be inside. `out` points
/// to the output row; weights [ky][kx][c]. Each output is its bias plus its products with the
/// taps inside the image in (ky, kx) order with FMA. The nine weight vectors
/// are loaded once per vector of channels; with stride 1 the pixels share their input columns
/// (LLVM merges the equal loads: 3·(pixels + 2) loads for 9·pixels FMAs).
func depthwise3x3<T: GEMMScalar, Stride: StaticCount, Pixels: StaticCount>(
    _ rows: (UnsafePointer<T>?, UnsafePointer<T>?, UnsafePointer<T>?), from ox: Int, _: Stride.Type, _: Pixels.Type, taps: Range<Int>,
    weights: UnsafePointer<T>, bias: UnsafePointer<T>?, channels: Int, vectorChannels: Int, out: UnsafeMutablePointer<T>
) {
    for c in Swift.stride(from: 0, to: vectorChannels, by: T.Vector.scalarCount) {
        depthwise3x3(rows, from: ox, c, Stride.self, Pixels.self, taps: taps, weights: Weights3x3<T.Vector>(weights + c, channels: channels),
                     bias: bias.map { UnsafeRawPointer($0 + c).loadUnaligned(as: T.Vector.self) } ?? T.Vector(), channels: channels, out: out)
    }
}

/// NHWC depthwise 3×3 at dilation 1 on one narrow output row:
/// channels outer, so that each vector of channels loads its nine weight vectors once for the
/// whole row; then the border columns one at a time with their taps inside the image, the
/// interior eight, four, two, then one pixel at a time (`depthwise3x3` with `Pixels`).
@inline(__always)
func depthwise3x3Row<T: GEMMScalar, Stride: StaticCount>(
    _ rows: (UnsafePointer<T>?, UnsafePointer<T>?, UnsafePointer<T>?), _: Stride.Type, width: Int, interior: Range<Int>,
    taps: (Int) -> Range<Int>, weights: UnsafePointer<T>, bias: UnsafePointer<T>?, channels: Int, vectorChannels: Int,
    out: UnsafeMutablePointer<T>
) {
    for c in Swift.stride(from: 0, to: vectorChannels, by: T.Vector.scalarCount) {
        let w = Weights3x3<T.Vector>(weights + c, channels: channels)
        let b = bias.map { UnsafeRawPointer($0 + c).loadUnaligned(as: T.Vector.self) } ?? T.Vector()
        var ox = 0
        @inline(__always) func block<Pixels: StaticCount>(_: Pixels.Type, taps: Range<Int> = 0..<3) {
            depthwise3x3(rows, from: ox, c, Stride.self, Pixels.self, taps: taps, weights: w, bias: b, channels: channels, out: out)
            ox += Pixels.value
        }
        while ox < min(interior.lowerBound, width) { block(One.self, taps: taps(ox)) }
        while ox + 8 <= interior.upperBound { block(Eight.self) }
        if ox + 4 <= interior.upperBound { block(Four.self) }
        if ox + 2 <= interior.upperBound { block(Two.self) }
        if ox + 1 <= interior.upperBound { block(One.self) }
        while ox < width { block(One.self, taps: taps(ox)) }
    }
}

/// The nine weight vectors of a 3×3 depthwise kernel at a vector of channels, weights [ky][kx][c].
struct Weights3x3<V: SIMD> {
    let w0, w1, w2, w3, w4, w5, w6, w7, w8: V

    @inline(__always)
    init(_ weights: UnsafePointer<V.Scalar>, channels: Int) {
        @inline(__always) func weight(_ tap: Int) -> V { UnsafeRawPointer(weights + tap * channels).loadUnaligned(as: V.self) }
        (w0, w1, w2, w3, w4, w5, w6, w7, w8) = (weight(0), weight(1), weight(2), weight(3), weight(4), weight(5), weight(6), weight(7), weight(8))
    }
}

/// `Pixels` output pixels from ox at channels c ..< c + v, weights and bias given (see above).
@inline(__always)
func depthwise3x3<T: GEMMScalar, Stride: StaticCount, Pixels: StaticCount>(
    _ rows: (UnsafePointer<T>?, UnsafePointer<T>?, UnsafePointer<T>?), from ox: Int, _ c: Int, _: Stride.Type, _: Pixels.Type,
    taps: Range<Int>, weights w: Weights3x3<T.Vector>, bias b: T.Vector, channels: Int, out: UnsafeMutablePointer<T>
) {
    typealias V = T.Vector
    let stride = Stride.value, pixels = Pixels.value
    let column = channels * MemoryLayout<T>.stride
    var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
    @inline(__always) func kernelRow(_ row: UnsafePointer<T>, _ w0: V, _ w1: V, _ w2: V) {
        let x = UnsafeRawPointer(row + ox * stride * channels + c)
        @inline(__always) func at(_ pixel: Int, _ kx: Int) -> V { x.loadUnaligned(fromByteOffset: (pixel * stride + kx) * column, as: V.self) }
        @inline(__always) func tap(_ kx: Int, _ w: V) {
            if pixels == 1 && !taps.contains(kx) { return }
            a0 = a0.addingProduct(w, at(0, kx))
            if pixels > 1 { a1 = a1.addingProduct(w, at(1, kx)) }
            if pixels > 2 { a2 = a2.addingProduct(w, at(2, kx)); a3 = a3.addingProduct(w, at(3, kx)) }
            if pixels > 4 {
                a4 = a4.addingProduct(w, at(4, kx)); a5 = a5.addingProduct(w, at(5, kx))
                a6 = a6.addingProduct(w, at(6, kx)); a7 = a7.addingProduct(w, at(7, kx))
            }
        }
        tap(0, w0); tap(1, w1); tap(2, w2)
    }
    if let row = rows.0 { kernelRow(row, w.w0, w.w1, w.w2) }
    if let row = rows.1 { kernelRow(row, w.w3, w.w4, w.w5) }
    if let row = rows.2 { kernelRow(row, w.w6, w.w7, w.w8) }
    let o = UnsafeMutableRawPointer(out + ox * channels + c)
    o.storeBytes(of: a0, as: V.self)
    if pixels > 1 { o.storeBytes(of: a1, toByteOffset: column, as: V.self) }
    if pixels > 2 { o.storeBytes(of: a2, toByteOffset: 2 * column, as: V.self); o.storeBytes(of: a3, toByteOffset: 3 * column, as: V.self) }
    if pixels > 4 {
        o.storeBytes(of: a4, toByteOffset: 4 * column, as: V.self); o.storeBytes(of: a5, toByteOffset: 5 * column, as: V.self)
        o.storeBytes(of: a6, toByteOffset: 6 * column, as: V.self); o.storeBytes(of: a7, toByteOffset: 7 * column, as: V.self)
    }
}
