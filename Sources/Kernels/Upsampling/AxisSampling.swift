/// How one spatial axis of the output samples the input: for output index `i`, the input
/// indices `index(i, t)` and weights `weight(i, t)` of its `taps` taps (1 for nearest, 2 for
/// linear, 4 for cubic), so that along this axis y[i] = Σ_t weight(i, t)·x[index(i, t)].
///
/// Indices are already clamped into `0..<inputSize` (PyTorch's border rule: a tap that falls
/// outside the input reads the nearest edge element). They are computed with PyTorch's CPU
/// arithmetic for Float tensors, bit for bit (see `PyTorchUpsampleKernel` for the two variants
/// of it); the weights are the exact interpolation weights at PyTorch's source coordinate, in
/// Double, and rounded once to Float for the Float kernels.
struct AxisSampling: Sendable {
    let inputSize: Int
    let outputSize: Int
    let taps: Int
    /// `outputSize × taps` input indices, row-major.
    let indices: [Int]
    /// `outputSize × taps` weights, exact up to Double rounding.
    let weights: [Double]
    /// `weights` rounded to Float: each within a relative u = 2⁻²⁴ of the exact weight.
    let floatWeights: [Float]

    @inline(__always) func index(_ i: Int, _ t: Int) -> Int { indices[i * taps + t] }
    @inline(__always) func weight(_ i: Int, _ t: Int) -> Double { weights[i * taps + t] }

    init(inputSize: Int, outputSize: Int, taps: Int, indices: [Int], weights: [Double]) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.taps = taps
        self.indices = indices
        self.weights = weights
        floatWeights = weights.map { Float($0) }
    }

    /// The sampling of one axis of `inputSize` elements onto `outputSize` in `mode`, as PyTorch's
    /// `kernel` computes it. `scaleFactor` is the user's scale factor when PyTorch maps by it
    /// (a factor given and `recompute_scale_factor` not true), nil when it maps by in/out. O(out).
    init(mode: UpsampleMode, inputSize: Int, outputSize: Int, scaleFactor: Double?, kernel: PyTorchUpsampleKernel) {
        let arithmetic = PyTorchIndexArithmetic(
            inputSize: inputSize, outputSize: outputSize, scaleFactor: scaleFactor,
            alignCorners: mode.alignCorners, fusedSourceIndex: kernel.fusesSourceIndex(mode))
        var indices: [Int] = [], weights: [Double] = []
        let taps = mode.taps
        indices.reserveCapacity(outputSize * taps)
        weights.reserveCapacity(outputSize * taps)
        for i in 0..<outputSize {
            switch mode {
            case .nearest:
                indices.append(kernel == .channelsLast ? arithmetic.nearestIndexWithShortcuts(i) : arithmetic.nearestIndex(i))
                weights.append(1)
            case .nearestExact:
                indices.append(kernel == .channelsLast ? arithmetic.nearestExactIndexInDouble(i) : arithmetic.nearestExactIndex(i))
                weights.append(1)
            case .bilinear:
                let (first, second, fraction) = arithmetic.linearTaps(i)
                indices += [first, second]
                weights += [1 - Double(fraction), Double(fraction)]
            case .bicubic:
                let (floorIndex, fraction) = arithmetic.cubicIndexAndFraction(i)
                for t in 0..<4 { indices.append(min(max(floorIndex - 1 + t, 0), inputSize - 1)) }
                weights += cubicConvolutionWeights(Double(fraction))
            }
        }
        self.init(inputSize: inputSize, outputSize: outputSize, taps: taps, indices: indices, weights: weights)
    }
}

/// The cubic convolution weights (Keys' kernel with a = −0.75, as PyTorch and OpenCV use) of the
/// four taps at offsets −1, 0, 1, 2 from the floor of the source coordinate, for the fraction
/// t ∈ [0, 1]:
///
///     W(x) = (a+2)|x|³ − (a+3)|x|² + 1          for |x| ≤ 1
///     W(x) = a|x|³ − 5a|x|² + 8a|x| − 4a        for 1 < |x| < 2
///     weights = W(t+1), W(t), W(1−t), W(2−t)      (they sum to 1)
///
/// In Double, from the exact t (a Float); PyTorch evaluates the same polynomials in Float, after
/// rounding t+1 and 2−t to Float, so its weights differ from these by a few units of 2⁻²⁴.
func cubicConvolutionWeights(_ t: Double) -> [Double] {
    let a = -0.75
    func inner(_ x: Double) -> Double { ((a + 2) * x - (a + 3)) * x * x + 1 }
    func outer(_ x: Double) -> Double { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return [outer(t + 1), inner(t), inner(1 - t), outer(2 - t)]
}

/// PyTorch's index arithmetic for one axis of a Float tensor (aten/src/ATen/native/UpSample.h
/// and cpu/UpSampleKernel.cpp), reproduced operation by operation, in Float where PyTorch
/// computes in `opmath_t` = float and in Double where it promotes to double:
///
/// - scale (`area_pixel_compute_scale<float>`): with align_corners, (in−1)/(out−1) in Float
///   (0 when out ≤ 1); otherwise Float(1.0 / scale_factor) (the division in Double) when PyTorch
///   maps by the user's factor, else Float(in)/Float(out).
/// - source coordinate (`area_pixel_compute_source_index`): with align_corners s·i; otherwise
///   s·(i + 0.5) − 0.5, where the product and the difference are rounded once (an FMA) or twice
///   depending on the kernel (see `PyTorchUpsampleKernel`); linear modes then clamp a negative
///   coordinate to 0, cubic does not.
/// - floor index and fraction (`guard_index_and_lambda`): min(⌊r⌋, in−1) and
///   t = min(max(r − index, 0), 1), exact in Float.
struct PyTorchIndexArithmetic {
    let inputSize: Int
    let outputSize: Int
    let alignCorners: Bool
    let fusedSourceIndex: Bool
    let scale: Float

    init(inputSize: Int, outputSize: Int, scaleFactor: Double?, alignCorners: Bool, fusedSourceIndex: Bool) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.alignCorners = alignCorners
        self.fusedSourceIndex = fusedSourceIndex
        if alignCorners {
            scale = outputSize > 1 ? Float(inputSize - 1) / Float(outputSize - 1) : 0
        } else if let factor = scaleFactor, factor > 0 {
            scale = Float(1.0 / factor)
        } else {
            scale = Float(inputSize) / Float(outputSize)
        }
    }

    /// `area_pixel_compute_source_index<float>`, before any clamping.
    func sourceCoordinate(_ i: Int) -> Float {
        if alignCorners { return scale * Float(i) }
        let center = Float(i) + 0.5
        return fusedSourceIndex ? (-0.5 as Float).addingProduct(scale, center) : scale * center - 0.5
    }

    /// `nearest`: min(⌊Float(i)·s⌋, in−1) (OpenCV's INTER_NEAREST).
    func nearestIndex(_ i: Int) -> Int {
        min(Int((Float(i) * scale).rounded(.down)), inputSize - 1)
    }

    /// `nearest` in PyTorch's channels-last kernel (`nearest_idx`): i when out = in, i/2 when
    /// out = 2·in — whatever the scale factor — and `nearestIndex` otherwise.
    func nearestIndexWithShortcuts(_ i: Int) -> Int {
        if outputSize == inputSize { return i }
        if outputSize == 2 * inputSize { return i >> 1 }
        return nearestIndex(i)
    }

    /// `nearest-exact` in PyTorch's generic kernel: the clamped source coordinate r, then
    /// ⌊Float(Double(r) + 0.5)⌋, capped at in−1.
    func nearestExactIndex(_ i: Int) -> Int {
        let r = max(sourceCoordinate(i), 0)
        return min(Int(Float(Double(r) + 0.5).rounded(.down)), inputSize - 1)
    }

    /// `nearest-exact` in PyTorch's channels-last kernel (`nearest_neighbor_exact_compute_source_index`):
    /// ⌊Float((i + 0.5)·Double(s))⌋, the product in Double, capped at in−1.
    func nearestExactIndexInDouble(_ i: Int) -> Int {
        min(Int(Float((Double(i) + 0.5) * Double(scale)).rounded(.down)), inputSize - 1)
    }

    /// `compute_source_index_and_lambda`: the two taps and the weight t of the second (the first
    /// weighs 1 − t). When out = in, the identity (i, i, 0), whatever the scale factor.
    func linearTaps(_ i: Int) -> (Int, Int, Float) {
        if outputSize == inputSize { return (i, i, 0) }
        let (first, fraction) = floorIndexAndFraction(max(sourceCoordinate(i), 0))
        return (first, first < inputSize - 1 ? first + 1 : first, fraction)
    }

    /// The floor index (before clamping, −1 possible near the left edge) and fraction of the
    /// unclamped cubic source coordinate.
    func cubicIndexAndFraction(_ i: Int) -> (Int, Float) {
        floorIndexAndFraction(sourceCoordinate(i))
    }

    /// `guard_index_and_lambda`: (min(⌊r⌋, in−1), min(max(r − index, 0), 1)).
    func floorIndexAndFraction(_ r: Float) -> (Int, Float) {
        let index = min(Int(r.rounded(.down)), inputSize - 1)
        return (index, min(max(r - Float(index), 0), 1))
    }
}
