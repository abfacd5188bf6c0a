/// The reference upsampling: y = Σ_{r,c} w_r·w_c·x[index_r, index_c] over the row taps r and
/// column taps c of `geometry`, in plain loops, every weight, product and sum in Double.
///
/// The source indices are PyTorch's, bit for bit (computed in Float as PyTorch computes them for
/// Float tensors; see `UpsampleGeometry`), so nearest modes pick the same elements as PyTorch
/// and the result is the exact interpolant at PyTorch's sample points up to Double rounding.
/// Works in either layout; `input` holds `geometry.input` and `output` `geometry.output`, both
/// in `geometry.layout`.
///
/// - Complexity: N·C·out_h·out_w·taps² multiply-adds (taps = 1, 2, 4), plus one conversion of
///   the input to Double.
/// - Error: exact for `nearest` and `nearest-exact`; otherwise within
///   γ_{2·taps}(2⁻⁵³)·Σ|w||x| of the exact interpolant (negligible next to a Float kernel's
///   bound, see `UpsampleMode.roundingsInBound`).
public func upsampleReference<T: BinaryFloatingPoint>(
    _ input: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<Double>, geometry: UpsampleGeometry
) {
    geometry.checkBuffers(input: input.count, output: output.count)
    referenceSums(input.map { Double($0) }, into: output, geometry: geometry, magnitude: false)
}

/// The magnitude Σ_{r,c} |w_r|·|w_c|·|x[index_r, index_c]| of each output's sum, over the taps
/// of `geometry` (a tap clamped onto the same element as another counts again), in Double: the
/// scale of the rounding-error bound, so that a check reports
/// err_ratio = |ŷ − y| / (u·magnitude) and compares it with `UpsampleMode.roundingsInBound`.
///
/// - Complexity: as `upsampleReference`.
public func upsampleMagnitude<T: BinaryFloatingPoint>(
    _ input: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<Double>, geometry: UpsampleGeometry
) {
    geometry.checkBuffers(input: input.count, output: output.count)
    referenceSums(input.map { Double($0) }, into: output, geometry: geometry, magnitude: true)
}

extension UpsampleMode {
    /// k in the bound |ŷ − y| ≤ γ_k·Σ|w||x|, γ_k = k·u/(1 − k·u), that every Float variant of
    /// `upsample` meets against `upsampleReference` (0: exact, bit for bit).
    ///
    /// Derivation, for n = m = taps per axis (2 bilinear, 4 bicubic). The Float kernels blend
    /// columns first, h_r = Σ_c ŵ_c·x_{r,c}, then rows, y = Σ_r ŵ_r·h_r, each sum a product
    /// followed by fused multiply-adds, so each term of an n-term sum is rounded at most n
    /// times: fl(Σ_c ŵ_c·x_c) = Σ_c ŵ_c·x_c·(1 + θ_n). The weights are the exact weights rounded
    /// once to Float, ŵ = w·(1 + δ), |δ| ≤ u. Every term w_r·w_c·x_{r,c} of y therefore carries
    /// (1 + δ)(1 + δ′)(1 + θ_m)(1 + θ′_n) = 1 + θ_{n+m+2}, and
    /// |ŷ − y| ≤ γ_{n+m+2}·Σ|w_r||w_c||x_{r,c}|: k = 6 for bilinear, 10 for bicubic. The Double
    /// reference adds at most γ_{n+m}(2⁻⁵³)·Σ|w||x|, below 10⁻⁷ u·Σ|w||x|.
    public var roundingsInBound: Int {
        taps == 1 ? 0 : 2 * taps + 2
    }
}

extension UpsampleGeometry {
    /// Stops with a message unless the buffers hold `input.count` and `output.count` elements.
    func checkBuffers(input inputCount: Int, output outputCount: Int) {
        if inputCount != input.count {
            fatalError("upsample: input buffer holds \(inputCount) elements, shape \(input) needs \(input.count)")
        }
        if outputCount != output.count {
            fatalError("upsample: output buffer holds \(outputCount) elements, shape \(output) needs \(output.count)")
        }
    }
}

/// The reference loops: Σ w_r·w_c·x, or Σ |w_r|·|w_c|·|x| when `magnitude`.
func referenceSums(_ x: [Double], into y: UnsafeMutableBufferPointer<Double>, geometry g: UpsampleGeometry, magnitude: Bool) {
    let rows = g.rows, columns = g.columns
    for n in 0..<g.output.batch {
        for c in 0..<g.output.channels {
            for oh in 0..<g.output.height {
                for ow in 0..<g.output.width {
                    var sum = 0.0
                    for r in 0..<rows.taps {
                        for t in 0..<columns.taps {
                            let weight = rows.weight(oh, r) * columns.weight(ow, t)
                            let value = x[g.input.offset(n: n, c: c, h: rows.index(oh, r), w: columns.index(ow, t), layout: g.layout)]
                            sum += magnitude ? abs(weight) * abs(value) : weight * value
                        }
                    }
                    y[g.output.offset(n: n, c: c, h: oh, w: ow, layout: g.layout)] = sum
                }
            }
        }
    }
}
