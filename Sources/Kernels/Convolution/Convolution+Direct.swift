/// Direct convolution with SIMD: the layer's sum computed in place, no matrix product. Made for
/// the layers a GEMM serves badly: depthwise (one input channel per output, so K = kh·kw is tiny)
/// and layers with few input channels (a network's stem, 3 → 64). It computes every layer.
///
/// Three loop nests, by layout and kind:
/// - NCHW: vectors across output columns. The input is first copied into a zero-padded,
///   stride-phase-split buffer: each padded row is stored as s_w rows of its columns
///   ≡ 0, 1, …, s_w − 1 (mod s_w), so that the input columns ox·s_w + kx·d_w of consecutive
///   outputs ox are consecutive in memory for every stride; each output row is then a sum of
///   contiguous vector loads times broadcast weights, four vectors at a time.
/// - NHWC depthwise (C_in/G = C_out/G = 1): vectors across channels; four output pixels share
///   each weight vector, taps outside the image skipped.
/// - NHWC otherwise: vectors across a group's output channels, six output pixels × two vectors
///   (the GEMM micro-kernel's 6 × 32 register tile), each pixel's input read through a pointer
///   per tap (a zero row for taps outside the image: XNNPACK's indirect convolution), weights
///   repacked per call to [g][ky][kx][ci][co] with co padded to two vectors.
///
/// Each output is its bias plus its k products, accumulated in order with FMA:
/// |ŷ − y| ≤ γ_{k+1}·(Σ|w||x| + |b|).
enum DirectConvolution {
    /// Elements of scratch memory one call takes: the padded, phase-split input (NCHW) or the
    /// repacked weights and a zero row (NHWC). O(1).
    static func workspaceElements<T: GEMMScalar>(_ g: Conv2DGeometry, _: T.Type, threads: Int) -> Int {
        let v = T.Vector.scalarCount
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
        if g.layout == .nchw {
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
/// other cache line of the rows) was 20% slower.
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
            while ox < min(interior.lowerBound, g.outputWidth) {
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

/// NHWC, any groups: six output pixels × two vectors of a group's output channels per register
/// tile, the input read through one pointer per pixel and tap (a zero row outside the image).
func directIndirectNHWC<T: GEMMScalar>(_ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int, scratch weights: UnsafeMutablePointer<T>) {
    typealias V = T.Vector
    let g = problem.geometry, v = V.scalarCount
    let (kh, kw, channels, outChannels) = (g.kernelHeight, g.kernelWidth, g.inputChannelsPerGroup, g.outputChannelsPerGroup)
    let paddedOut = roundUp(outChannels, 2 * v), taps = kh * kw
    // Weights as [g][ky][kx][ci][co], co padded with zeros to whole pairs of vectors.
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
        var pixels = [UnsafePointer<T>](repeating: zeroRow, count: 6)
        for row in first..<end {
            let n = row / g.outputHeight, oy = row % g.outputHeight
            for group in 0..<g.groups {
                for ox0 in stride(from: 0, to: g.outputWidth, by: 6) {
                    let count = min(6, g.outputWidth - ox0)
                    for co0 in stride(from: 0, to: outChannels, by: 2 * v) {
                        let bias0 = V(biasOf: problem.bias, from: group * outChannels + co0, count: min(v, outChannels - co0))
                        let bias1 = V(biasOf: problem.bias, from: group * outChannels + co0 + v, count: min(v, outChannels - co0 - v))
                        var c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1
                        var c30 = bias0, c31 = bias1, c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1
                        for ky in 0..<kh {
                            let iy = oy * g.stride.height + ky * g.dilation.height - g.padding.height
                            for kx in 0..<kw {
                                for r in 0..<6 {
                                    let ix = (ox0 + r) * g.stride.width + kx * g.dilation.width - g.padding.width
                                    let inside = r < count && iy >= 0 && iy < g.inputHeight && ix >= 0 && ix < g.inputWidth
                                    pixels[r] = inside ? problem.input + g.inputIndex(n, group * channels, iy, ix) : zeroRow
                                }
                                let (p0, p1, p2, p3, p4, p5) = (pixels[0], pixels[1], pixels[2], pixels[3], pixels[4], pixels[5])
                                var b = UnsafeRawPointer(weights + ((group * taps + ky * kw + kx) * channels) * paddedOut + co0)
                                let step = paddedOut * MemoryLayout<T>.stride, half = MemoryLayout<V>.stride
                                for ci in 0..<channels {
                                    let b0 = b.load(as: V.self), b1 = b.load(fromByteOffset: half, as: V.self)
                                    var x = V(repeating: p0[ci])
                                    c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
                                    x = V(repeating: p1[ci])
                                    c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
                                    x = V(repeating: p2[ci])
                                    c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
                                    x = V(repeating: p3[ci])
                                    c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
                                    x = V(repeating: p4[ci])
                                    c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
                                    x = V(repeating: p5[ci])
                                    c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
                                    b += step
                                }
                            }
                        }
                        @inline(__always) func write(_ r: Int, _ left: V, _ right: V) {
                            if r >= count { return }
                            let out = output + g.outputIndex(n, group * outChannels + co0, oy, ox0 + r)
                            store(left, to: out, count: min(v, outChannels - co0))
                            if outChannels - co0 > v { store(right, to: out + v, count: min(v, outChannels - co0 - v)) }
                        }
                        write(0, c00, c01); write(1, c10, c11); write(2, c20, c21)
                        write(3, c30, c31); write(4, c40, c41); write(5, c50, c51)
                    }
                }
            }
        }
    }
}

extension SIMD where Scalar: BinaryFloatingPoint {
    /// Lanes `bias[first ..< first + count]`, zeros after (all zeros without a bias or when
    /// `count` ≤ 0).
    @inline(__always)
    init(biasOf bias: UnsafePointer<Scalar>?, from first: Int, count: Int) {
        self.init()
        guard let bias, count > 0 else { return }
        for lane in 0..<Swift.min(count, Self.scalarCount) { self[lane] = bias[first + lane] }
    }
}
