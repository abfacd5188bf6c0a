/// The magnitudes the convolution error bounds are relative to, per output element, so that a
/// check can report err_ratio = |ŷ − y| / (u·magnitude) against γ_n/u:
///
/// - every algorithm but Winograd: Σ|w||x| + |b| over the output's window (the reference run on
///   absolute values), n = `Conv2DGeometry.errorTermCount(hasBias:)`;
/// - Winograd: S = |K_A| P⁺ + |b| (`WinogradTile`'s derivation), n = `WinogradTile.errorTermCount`;
/// - transposed convolution: Σ|w||x| + |b| over the scatter, n = `ConvTranspose2DGeometry.errorTermCount`.

extension Conv2DGeometry {
    /// n in |ŷ − y| ≤ γ_n·(Σ|w||x| + |b|): k = (C_in/G)·kh·kw products, plus 1 with a bias.
    public func errorTermCount(hasBias: Bool) -> Int { reductionLength + (hasBias ? 1 : 0) }
}

/// `body` on copies of the operands made non-negative, |x|, |w| and |b|: the reference run on
/// them gives Σ|w||x| + |b|.
private func withAbsoluteOperands<T: BinaryFloatingPoint, R>(
    _ input: UnsafeBufferPointer<T>, _ weight: UnsafeBufferPointer<T>, _ bias: UnsafeBufferPointer<T>?,
    _ body: (UnsafeBufferPointer<T>, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>?) throws -> R
) rethrows -> R {
    let (x, w, b) = (input.map { abs($0) }, weight.map { abs($0) }, bias?.map { abs($0) })
    return try x.withUnsafeBufferPointer { x in
        try w.withUnsafeBufferPointer { w in
            guard let b else { return try body(x, w, nil) }
            return try b.withUnsafeBufferPointer { try body(x, w, $0) }
        }
    }
}

/// Σ|w||x| + |b| for every output element of a convolution, in Double: the reference
/// convolution of |x| with |w| plus |b|.
///
/// - Complexity: as `conv2DReferenceInDouble`, plus copies of the operands.
/// - Throws: `ConvolutionError` when a buffer is smaller than the layer needs.
public func conv2DErrorMagnitude<T: ConvolutionScalar>(
    geometry: Conv2DGeometry, input: UnsafeBufferPointer<T>, weight: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
    output: UnsafeMutableBufferPointer<Double>
) throws {
    try withAbsoluteOperands(input, weight, bias) { x, w, b in
        try conv2DReferenceInDouble(geometry: geometry, input: x, weight: w, bias: b, output: output)
    }
}

/// S = |K_A| P⁺ + |b| for every output element of a Winograd convolution (see `WinogradTile`).
///
/// - Complexity: O(α²·(C_out·(C_in/G)·T + C_in·T·α² + C_out·T·m²)) in Double for T tiles.
/// - Throws: `ConvolutionError` when a buffer is smaller than the layer needs, or when Winograd
///   does not apply to the layer.
public func winogradErrorMagnitude<T: ConvolutionScalar>(
    _ tile: WinogradTile, geometry: Conv2DGeometry, input: UnsafeBufferPointer<T>, weight: UnsafeBufferPointer<T>,
    bias: UnsafeBufferPointer<T>?, output: UnsafeMutableBufferPointer<Double>
) throws {
    if !WinogradTile.applies(to: geometry) {
        throw ConvolutionError.unsupported(algorithm: "winograd-\(tile)", reason: WinogradTile.requirement(geometry))
    }
    guard let problem = try Conv2DProblem(geometry, input: input, weight: weight, bias: bias, outputCount: output.count) else { return }
    T.winogradMagnitudeEntry(tile, problem, into: output.baseAddress!)
}

/// Σ|w||x| + |b| for every output element of a transposed convolution, in Double.
///
/// - Complexity: as `convTranspose2DReferenceInDouble`, plus copies of the operands.
/// - Throws: `ConvolutionError` when a buffer is smaller than the layer needs.
public func convTranspose2DErrorMagnitude<T: ConvolutionScalar>(
    geometry: ConvTranspose2DGeometry, input: UnsafeBufferPointer<T>, weight: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
    output: UnsafeMutableBufferPointer<Double>
) throws {
    try withAbsoluteOperands(input, weight, bias) { x, w, b in
        try convTranspose2DReferenceInDouble(geometry: geometry, input: x, weight: w, bias: b, output: output)
    }
}
