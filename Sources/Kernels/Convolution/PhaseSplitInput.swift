/// The NCHW input, zero-padded, each padded row stored as s_w phase rows: padded column c of
/// row py of plane (n, ci) is at `plane(n, ci) + py·rowStride + (c mod s_w)·phaseLength + c / s_w`.
///
/// Kernel tap (ky, kx) of output pixel (oy, ox) reads padded pixel (oy·s_h + ky·d_h,
/// ox·s_w + kx·d_w): for consecutive ox these are consecutive elements of one phase row, whatever
/// the stride, and padding reads zeros, so gathering a window's row is one contiguous copy with
/// no bounds checks. The direct NCHW kernel and the NCHW im2col gather both read it.
struct PhaseSplitInput {
    let paddedHeight: Int, phaseLength: Int, phases: Int
    var rowStride: Int { phases * phaseLength }
    var planeStride: Int { paddedHeight * rowStride }
    let planes: Int
    var elements: Int { planes * planeStride }

    /// Phase rows hold at least `outputColumnsRead` (≥ W_out) outputs' worth of every tap, so
    /// that a reader of that many columns stays inside its phase row.
    init(_ g: Conv2DGeometry, outputColumnsRead: Int) {
        phases = g.stride.width
        paddedHeight = g.inputHeight + 2 * g.padding.height
        let paddedWidth = g.inputWidth + 2 * g.padding.width
        // Tap kx of output column ox reads phase index ox + (kx·d_w) / s_w.
        let lastRead = outputColumnsRead + (g.kernelWidth - 1) * g.dilation.width / phases
        phaseLength = max((paddedWidth + phases - 1) / phases, lastRead)
        planes = g.batch * g.inputChannels
    }

    /// Offset, from its plane, of the phase row that kernel tap (ky, kx) of output row 0 reads,
    /// at output column 0.
    @inline(__always)
    func tapOffset(_ ky: Int, _ kx: Int, _ g: Conv2DGeometry) -> Int {
        let column = kx * g.dilation.width
        return ky * g.dilation.height * rowStride + (column % phases) * phaseLength + column / phases
    }

    /// Offset of output pixel (oy, ox)'s reads from those of output pixel (0, 0), for any tap.
    @inline(__always)
    func outputOffset(_ oy: Int, _ ox: Int, _ g: Conv2DGeometry) -> Int { oy * g.stride.height * rowStride + ox }

    /// Copies x into `buffer` (zeros in the padding and after each phase row), planes shared
    /// among `threads` threads.
    func fill<T: BinaryFloatingPoint>(from x: UnsafePointer<T>, geometry g: Conv2DGeometry, into buffer: UnsafeMutablePointer<T>, threads: Int) {
        let (ph, pw, s) = (g.padding.height, g.padding.width, phases)
        let parts = max(1, min(threads, elements / 65536))
        parallelFor(parts) { part in
            let (first, end) = share(of: planes, part: part, parts: parts)
            for plane in first..<end {
                let destination = buffer + plane * planeStride
                let source = x + plane * g.inputHeight * g.inputWidth
                // Zeros where no input lands: the padding rows, and in each input row the
                // padding columns and phase-row tails (the whole row when it is split).
                destination.update(repeating: 0, count: ph * rowStride)
                let bottom = destination + (g.inputHeight + ph) * rowStride
                bottom.update(repeating: 0, count: (paddedHeight - g.inputHeight - ph) * rowStride)
                for iy in 0..<g.inputHeight {
                    let row = destination + (iy + ph) * rowStride, sourceRow = source + iy * g.inputWidth
                    if s == 1 {
                        row.update(repeating: 0, count: pw)
                        (row + pw).update(from: sourceRow, count: g.inputWidth)
                        (row + pw + g.inputWidth).update(repeating: 0, count: rowStride - pw - g.inputWidth)
                    } else {
                        row.update(repeating: 0, count: rowStride)
                        // Padded column c = ix + p_w goes to phase c mod s, index c / s: stepped
                        // without dividing.
                        var (phase, index) = (pw % s, pw / s)
                        for ix in 0..<g.inputWidth {
                            row[phase * phaseLength + index] = sourceRow[ix]
                            phase += 1
                            if phase == s { phase = 0; index += 1 }
                        }
                    }
                }
            }
        }
    }
}
