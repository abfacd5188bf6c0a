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

/// Absolute values of a buffer, for running a kernel on |x|, |w|, |b|.
private func absolute<T: BinaryFloatingPoint>(_ buffer: UnsafeBufferPointer<T>) -> [T] { buffer.map { abs($0) } }

/// Σ|w||x| + |b| for every output element of a convolution, in Double: the reference
/// convolution of |x| with |w| plus |b|.
///
/// - Complexity: as `conv2DReferenceInDouble`, plus copies of the operands.
/// - Throws: `ConvolutionError` when a buffer is smaller than the layer needs.
public func conv2DErrorMagnitude<T: ConvolutionScalar>(
    geometry: Conv2DGeometry, input: UnsafeBufferPointer<T>, weight: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
    output: UnsafeMutableBufferPointer<Double>
) throws {
    let (x, w, b) = (absolute(input), absolute(weight), bias.map(absolute))
    try x.withUnsafeBufferPointer { x in
        try w.withUnsafeBufferPointer { w in
            try withOptionalBuffer(b) { b in
                try conv2DReferenceInDouble(geometry: geometry, input: x, weight: w, bias: b, output: output)
            }
        }
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
    let (x, w, b) = (absolute(input), absolute(weight), bias.map(absolute))
    try x.withUnsafeBufferPointer { x in
        try w.withUnsafeBufferPointer { w in
            try withOptionalBuffer(b) { b in
                try convTranspose2DReferenceInDouble(geometry: geometry, input: x, weight: w, bias: b, output: output)
            }
        }
    }
}

/// `body` with a buffer pointer to `array`, or nil.
private func withOptionalBuffer<T, R>(_ array: [T]?, _ body: (UnsafeBufferPointer<T>?) throws -> R) rethrows -> R {
    guard let array else { return try body(nil) }
    return try array.withUnsafeBufferPointer { try body($0) }
}
