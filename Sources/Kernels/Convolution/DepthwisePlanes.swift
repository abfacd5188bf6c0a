/// NCHW depthwise convolution a plane at a time, vectors across the plane's flattened rows.
///
/// Each (n, c) plane is copied, with zeros around it, into per-thread scratch as s_h·s_w phase
/// planes: phase plane (a, b) holds the padded rows ≡ a (mod s_h) and columns ≡ b (mod s_w), row
/// after row with one pitch L. Output (oy, ox) tap (ky, kx) reads padded pixel
/// (oy·s_h + ky·d_h, ox·s_w + kx·d_w), which lies in phase plane (ky·d_h mod s_h, kx·d_w mod s_w)
/// at (oy + ⌊ky·d_h / s_h⌋)·L + ox + ⌊kx·d_w / s_w⌋: the flattened position q = oy·L + ox plus a
/// fixed offset per tap. So the sums over all q in 0 ..< H_out·L are contiguous vector loads
/// times broadcast weights, full vectors whatever W_out is (a 7-wide row used to fill 7 of a
/// vector's 16 lanes).
///
/// Two forms:
/// - `flat` (s_w = 1 and W_out = W, "same" width, every stride-1 MobileNet layer): L = W, no
///   padding columns. The plane is one contiguous copy after p_h zero rows and p_w zeros, the
///   sums are the output plane itself, and a tap whose column ox + kx·d_w − p_w falls outside
///   0 ..< W (where the flattened read wraps into the neighbouring row) reads zero through a lane
///   mask, as it would read the padding.
/// - phase-split (any other layer): L = ⌈W_padded / s_w⌉ with the padding columns stored as zeros;
///   the columns ox ≥ W_out of each row of sums are dropped when the valid ones are copied out.
///
/// Planes are shared among threads, so every layer, however small, splits across them; a plane
/// (at most 114² + 112·114 elements for MobileNet-v2, 103 kB of Float) stays in L2 between its
/// copy and its sums.
struct DepthwisePlanes {
    let flat: Bool
    let rowPhases: Int, columnPhases: Int
    /// L: elements per phase row, also the row pitch of the sums.
    let pitch: Int
    /// Rows of each phase plane, ⌈H_padded / s_h⌉.
    let phaseRows: Int
    /// Flattened output positions summed: H_out·L rounded up to whole vectors.
    let span: Int
    /// Elements per phase plane: its rows, and the zeros that the last vector's taps read after them.
    let phaseStride: Int
    /// Threads the planes are shared among; each has `partElements` of scratch.
    let parts: Int

    /// One thread's phase planes.
    var inputElements: Int { rowPhases * columnPhases * phaseStride }
    /// One thread's scratch: the phase planes, then (phase-split form) the sums, rounded to 64 bytes.
    var partElements: Int { roundUp(inputElements + (flat ? 0 : span), 16) }
    var elements: Int { parts * partElements }

    init(_ g: Conv2DGeometry, vectorLength v: Int, threads: Int) {
        flat = g.stride.width == 1 && g.outputWidth == g.inputWidth
        (rowPhases, columnPhases) = (g.stride.height, g.stride.width)
        pitch = flat ? g.inputWidth : (g.inputWidth + 2 * g.padding.width + columnPhases - 1) / columnPhases
        phaseRows = (g.inputHeight + 2 * g.padding.height + rowPhases - 1) / rowPhases
        span = roundUp(g.outputHeight * pitch, v)
        // The farthest a tap reads from q within its phase plane.
        let reach = (g.kernelHeight - 1) * g.dilation.height / rowPhases * pitch + (g.kernelWidth - 1) * g.dilation.width / columnPhases
        // The flat form's data ends p_w after its rows.
        phaseStride = max(phaseRows * pitch + (flat ? g.padding.width : 0), span + reach)
        // A part is a few microseconds of work at least: the pool's workers spin between calls.
        let planes = g.batch * g.outputChannels
        parts = max(1, min(threads, planes, Int(g.directFlops / 1e5)))
    }

    /// Offset, from the first phase plane, of what tap (ky, kx) reads for flattened output q = 0.
    func tapOffset(_ ky: Int, _ kx: Int, _ g: Conv2DGeometry) -> Int {
        let (row, column) = (ky * g.dilation.height, kx * g.dilation.width)
        return ((row % rowPhases) * columnPhases + column % columnPhases) * phaseStride
            + row / rowPhases * pitch + column / columnPhases
    }

    /// Copies one H×W input plane into `planes`, whose other elements (padding, row tails, the
    /// zeros after each phase plane) were zeroed once for all planes and are never written.
    func fill<T: GEMMScalar>(from source: UnsafePointer<T>, geometry g: Conv2DGeometry, into planes: UnsafeMutablePointer<T>) {
        let (ph, pw, s) = (g.padding.height, g.padding.width, columnPhases)
        if flat && rowPhases == 1 {
            (planes + ph * pitch + pw).update(from: source, count: g.inputHeight * g.inputWidth)
            return
        }
        // Padded row iy + p_h is row `index` of row phase `phase`: stepped without dividing.
        var (phase, index) = (ph % rowPhases, ph / rowPhases)
        for iy in 0..<g.inputHeight {
            let row = planes + phase * s * phaseStride + index * pitch, sourceRow = source + iy * g.inputWidth
            phase += 1
            if phase == rowPhases { (phase, index) = (0, index + 1) }
            /// Padded column c = ix + p_w is at phase c mod s_w, index c / s_w.
            @inline(__always) func put(_ ix: Int) { row[(ix + pw) % s * phaseStride + (ix + pw) / s] = sourceRow[ix] }
            if s == 1 {
                // Also the flat form's rows: padded column c at c from the row's start.
                (row + pw).update(from: sourceRow, count: g.inputWidth)
            } else if s == 2 {
                // From the first input column at phase 0, pairs (phase 0, phase 1) at one index;
                // the odd ends placed without dividing by s_w (measured: those divisions took
                // most of the copy).
                let first = pw & 1, pairs = (g.inputWidth - first) >> 1, index = (pw + first) >> 1
                if first == 1 { row[phaseStride + (pw >> 1)] = sourceRow[0] }
                deinterleave(sourceRow + first, pairs: pairs, even: row + index, odd: row + phaseStride + index)
                if (g.inputWidth - first) & 1 == 1 { row[index + pairs] = sourceRow[g.inputWidth - 1] }
            } else {
                for ix in 0..<g.inputWidth { put(ix) }
            }
        }
    }
}

/// Copies `pairs` pairs (x[2i], x[2i + 1]) to even[i] and odd[i]. The plain loop is what LLVM
/// vectorizes best here (two loads, two permutes, two stores per vector of pairs); Swift SIMD's
/// `evenHalf`/`oddHalf` compiled to a broadcast and a permute per lane pair, and the copy then
/// took three times the sums' time on MobileNet-v2's stride-2 layer.
@inline(__always)
func deinterleave<T: GEMMScalar>(_ x: UnsafePointer<T>, pairs: Int, even: UnsafeMutablePointer<T>, odd: UnsafeMutablePointer<T>) {
    for i in 0..<pairs {
        even[i] = x[2 * i]
        odd[i] = x[2 * i + 1]
    }
}

/// NCHW depthwise (C_in/G = C_out/G = 1) by `DepthwisePlanes`: per plane, the sums over the
/// flattened rows (`DepthwisePlaneSums`); then, in the phase-split form, the valid columns of
/// each row copied out.
func directDepthwiseNCHW<T: GEMMScalar>(_ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int, scratch: UnsafeMutablePointer<T>) {
    typealias V = T.Vector
    let g = problem.geometry, v = V.scalarCount
    let layout = DepthwisePlanes(g, vectorLength: v, threads: threads)
    let (kw, taps) = (g.kernelWidth, g.kernelHeight * g.kernelWidth)
    let planes = g.batch * g.outputChannels, planeInput = g.inputHeight * g.inputWidth
    let offsets = (0..<taps).map { layout.tapOffset($0 / kw, $0 % kw, g) }
    let lows = (0..<kw).map { T(g.padding.width - $0 * g.dilation.width) }
    parallelFor(layout.parts) { part in
        let (first, end) = share(of: planes, part: part, parts: layout.parts)
        let phasePlanes = scratch + part * layout.partElements, sums = phasePlanes + layout.inputElements
        // Zeros wherever no input lands, for every plane of this part.
        phasePlanes.update(repeating: 0, count: layout.inputElements)
        let weights = UnsafeMutablePointer<V>.allocate(capacity: taps)
        defer { weights.deallocate() }
        offsets.withUnsafeBufferPointer { offsets in
            lows.withUnsafeBufferPointer { lows in
                var kernel = DepthwisePlaneSums<T>(
                    layout: layout, geometry: g, planes: UnsafePointer(phasePlanes), offsets: offsets.baseAddress!, lows: lows.baseAddress!,
                    weights: UnsafePointer(weights), bias: V(), target: sums)
                for plane in first..<end {
                    let c = plane % g.outputChannels
                    layout.fill(from: problem.input + plane * planeInput, geometry: g, into: phasePlanes)
                    for tap in 0..<taps { weights[tap] = V(repeating: problem.weight[c * taps + tap]) }
                    kernel.bias = V(repeating: problem.bias?[c] ?? 0)
                    kernel.target = layout.flat ? output + plane * g.outputPixels : sums
                    kernel.run(kernelHeight: g.kernelHeight)
                    guard !layout.flat else { continue }
                    let out = output + plane * g.outputPixels
                    for oy in 0..<g.outputHeight {
                        (out + oy * g.outputWidth).update(from: sums + oy * layout.pitch, count: g.outputWidth)
                    }
                }
            }
        }
    }
}

/// The sums of one plane over its flattened positions q in 0 ..< H_out·L, four vectors per pass:
/// each its bias plus its kh·kw products in (ky, kx) order with FMA (taps on the padding add w·0).
struct DepthwisePlaneSums<T: GEMMScalar> {
    typealias V = T.Vector
    let planes: UnsafePointer<T>
    /// Per tap, the offset of its read for q = 0; per kernel column kx, lo = p_w − kx·d_w.
    let offsets: UnsafePointer<Int>, lows: UnsafePointer<T>
    let weights: UnsafePointer<V>
    var bias: V
    var target: UnsafeMutablePointer<T>
    let flat: Bool, kernelWidth: Int, count: Int
    /// The flat form's columns ox = q mod W, per lane, as T (exact: W < 2^24): those of q = 0,
    /// the step to the next vector (v mod W), and W.
    let firstColumns: V, advance: V, width: V

    init(layout: DepthwisePlanes, geometry g: Conv2DGeometry, planes: UnsafePointer<T>, offsets: UnsafePointer<Int>, lows: UnsafePointer<T>,
         weights: UnsafePointer<V>, bias: V, target: UnsafeMutablePointer<T>) {
        (self.planes, self.offsets, self.lows, self.weights, self.bias, self.target) = (planes, offsets, lows, weights, bias, target)
        (flat, kernelWidth, count) = (layout.flat, g.kernelWidth, g.outputHeight * layout.pitch)
        var columns = V()
        for lane in 0..<V.scalarCount { columns[lane] = T(lane % g.inputWidth) }
        (firstColumns, advance, width) = (columns, V(repeating: T(V.scalarCount % g.inputWidth)), V(repeating: T(g.inputWidth)))
    }

    /// The columns of the vector after the one whose columns are `columns`.
    @inline(__always)
    func next(_ columns: V) -> V {
        wrapped(columns + advance, width: width)
    }

    /// Tap (ky, kx)'s input for the vector at q, whose columns are `columns`: when `masked` (the
    /// flat form), zero in the lanes where the tap's column ox + kx·d_w − p_w is outside 0 ..< W,
    /// that is ox outside lo ..< W + lo.
    @inline(__always)
    func input(_ tap: Int, _ kx: Int, _ q: Int, _ columns: V, masked: Bool) -> V {
        let x = UnsafeRawPointer(planes + offsets[tap] + q).loadUnaligned(as: V.self)
        guard masked else { return x }
        let low = V(repeating: lows[kx])
        return keepInside(x, columns: columns, low: low, high: low + width)
    }

    /// Writes the sums to `target`, with the form and, for 3×3, the kernel's size known to the
    /// compiler (a specialization each), so that the tap loops unroll and the form's test leaves
    /// them: as arguments, the loops ran at 12 GFLOP/s against 30.
    func run(kernelHeight kh: Int) {
        switch (kh == 3 && kernelWidth == 3, flat) {
        case (true, true): run(DepthwiseForm<Masked, Kernel3x3>.self, kh)
        case (true, false): run(DepthwiseForm<Unmasked, Kernel3x3>.self, kh)
        case (false, true): run(DepthwiseForm<Masked, AnyKernel>.self, kh)
        case (false, false): run(DepthwiseForm<Unmasked, AnyKernel>.self, kh)
        }
    }

    func run<Mask: StaticFlag, Size: StaticFlag>(_: DepthwiseForm<Mask, Size>.Type, _ kernelHeight: Int) {
        let masked = Mask.value, (kh, kw) = Size.value ? (3, 3) : (kernelHeight, kernelWidth)
        let v = V.scalarCount, step = MemoryLayout<V>.stride
        var (q, columns) = (0, firstColumns)
        while q + 4 * v <= count {
            let c1 = masked ? next(columns) : columns, c2 = masked ? next(c1) : columns, c3 = masked ? next(c2) : columns
            var a0 = bias, a1 = bias, a2 = bias, a3 = bias
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let tap = ky * kw + kx, w = weights[tap]
                    a0 = a0.addingProduct(w, input(tap, kx, q, columns, masked: masked))
                    a1 = a1.addingProduct(w, input(tap, kx, q + v, c1, masked: masked))
                    a2 = a2.addingProduct(w, input(tap, kx, q + 2 * v, c2, masked: masked))
                    a3 = a3.addingProduct(w, input(tap, kx, q + 3 * v, c3, masked: masked))
                }
            }
            let s = UnsafeMutableRawPointer(target + q)
            s.storeBytes(of: a0, as: V.self)
            s.storeBytes(of: a1, toByteOffset: step, as: V.self)
            s.storeBytes(of: a2, toByteOffset: 2 * step, as: V.self)
            s.storeBytes(of: a3, toByteOffset: 3 * step, as: V.self)
            (q, columns) = (q + 4 * v, masked ? next(c3) : columns)
        }
        while q < count {
            var a0 = bias
            for ky in 0..<kh {
                for kx in 0..<kw { a0 = a0.addingProduct(weights[ky * kw + kx], input(ky * kw + kx, kx, q, columns, masked: masked)) }
            }
            store(a0, to: target + q, count: min(v, count - q))
            (q, columns) = (q + v, masked ? next(columns) : columns)
        }
    }
}

/// A Boolean known at compile time, for `DepthwisePlaneSums.run`'s specializations.
protocol StaticFlag { static var value: Bool { get } }
enum Masked: StaticFlag { static var value: Bool { true } }
enum Unmasked: StaticFlag { static var value: Bool { false } }
enum Kernel3x3: StaticFlag { static var value: Bool { true } }
enum AnyKernel: StaticFlag { static var value: Bool { false } }
/// The form of `DepthwisePlaneSums.run`: masked reads or not, 3×3 or any kernel.
enum DepthwiseForm<Mask: StaticFlag, Size: StaticFlag> {}
