/// The reference convolution: the layer's formula as plain loops, every product and sum in
/// Double whatever the element type, rounded once into the output's type.
///
/// Written for obviousness, not speed: for each output element, the products of its window in
/// the order (ci, ky, kx), taps outside the image skipped, then the bias.
///
/// - Complexity: N·C_out·H_out·W_out·(C_in/G)·kh·kw multiply-adds, no extra memory.
/// - Error: |ŷ − y| ≤ γ_{k+1}(u_Double)·(Σ|w||x| + |b|) before the final rounding into `Output`.
func runConv2DReference<T: BinaryFloatingPoint, Output: BinaryFloatingPoint>(
    _ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<Output>
) {
    let g = problem.geometry
    let (x, w) = (problem.input, problem.weight)
    for n in 0..<g.batch {
        for co in 0..<g.outputChannels {
            let group = co / g.outputChannelsPerGroup
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    var sum = 0.0
                    for ci in 0..<g.inputChannelsPerGroup {
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.stride.height + ky * g.dilation.height - g.padding.height
                            if iy < 0 || iy >= g.inputHeight { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.stride.width + kx * g.dilation.width - g.padding.width
                                if ix < 0 || ix >= g.inputWidth { continue }
                                let xValue = x[g.inputIndex(n, group * g.inputChannelsPerGroup + ci, iy, ix)]
                                sum += Double(w[g.weightIndex(co, ci, ky, kx)]) * Double(xValue)
                            }
                        }
                    }
                    if let bias = problem.bias { sum += Double(bias[co]) }
                    output[g.outputIndex(n, co, oy, ox)] = Output(sum)
                }
            }
        }
    }
}
