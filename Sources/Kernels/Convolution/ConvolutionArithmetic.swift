// Output sizes of convolution, pooling and transposed convolution, and TensorFlow's SAME/VALID
// padding: the project's one home for these formulas. Every function checks its arguments the way
// PyTorch (or, for SAME/VALID, TensorFlow) does, computes with overflow-checked integers, and
// reports a bad combination as a `ConvolutionArithmeticError` naming the layer, the field and the
// value at fault. All results are exact.
//
// Notation, per spatial axis: input size i, kernel k, stride s, dilation d, padding p (p_b before,
// p_a after), effective kernel K = d(k − 1) + 1.

/// A spatial axis of an NCHW/NHWC tensor, named in errors about one axis of a 2-D layer.
public enum SpatialAxis: String, Sendable, CaseIterable {
    case height, width
}

/// The argument of an output-size computation that an error is about.
public enum ConvolutionField: String, Sendable {
    case input, kernel, stride, dilation, padding
    case outputPadding = "output_padding"
}

/// A combination of sizes that the layer cannot have, with the layer, field and value at fault.
///
/// The problems mirror the checks PyTorch makes (`non-positive stride is not supported`, `Kernel
/// size can't be greater than actual input size`, `pad should be smaller than or equal to half of
/// kernel size`, `output padding must be smaller than either stride or dilation`, `Output size is
/// too small`), plus integer overflow, which PyTorch does not check.
public struct ConvolutionArithmeticError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        /// Kernel, stride, dilation and input size must be at least 1.
        case notPositive
        /// Padding and output padding must be at least 0.
        case negative
        /// Convolution: the padded input i + p_b + p_a is smaller than the effective kernel K.
        case kernelExceedsPaddedInput(paddedInput: Int, effectiveKernel: Int)
        /// Pooling: the padding exceeds half the kernel, ⌊k/2⌋ (PyTorch's `pool2d_shape_check`).
        case poolPaddingExceedsHalfKernel(kernel: Int)
        /// Transposed convolution: output padding must be smaller than the stride or the dilation.
        case outputPaddingNotBelowStrideOrDilation(stride: Int, dilation: Int)
        /// The formula gives an output size below 1.
        case outputTooSmall(output: Int)
        /// An intermediate value does not fit in `Int`.
        case overflow
    }

    public var layer: String
    public var field: ConvolutionField
    public var axis: SpatialAxis?
    public var value: Int
    public var problem: Problem

    public init(layer: String, field: ConvolutionField, axis: SpatialAxis? = nil, value: Int, problem: Problem) {
        self.layer = layer
        self.field = field
        self.axis = axis
        self.value = value
        self.problem = problem
    }

    public var description: String {
        let name = field.rawValue + (axis.map { " (\($0.rawValue))" } ?? "")
        let reason: String
        switch problem {
        case .notPositive: reason = "must be at least 1, got \(value)"
        case .negative: reason = "must not be negative, got \(value)"
        case .kernelExceedsPaddedInput(let padded, let kernel):
            reason = "\(value) leaves a padded input of \(padded), smaller than the effective kernel d(k−1)+1 = \(kernel)"
        case .poolPaddingExceedsHalfKernel(let kernel):
            reason = "\(value) is more than half the kernel \(kernel) (PyTorch allows at most \(kernel / 2))"
        case .outputPaddingNotBelowStrideOrDilation(let stride, let dilation):
            reason = "\(value) must be smaller than the stride (\(stride)) or the dilation (\(dilation))"
        case .outputTooSmall(let output):
            reason = "\(value) gives an output size of \(output); it must be at least 1"
        case .overflow:
            reason = "\(value) makes the size arithmetic overflow"
        }
        return "layer '\(layer)': \(name) \(reason)"
    }
}

/// TensorFlow's resolution of a `'SAME'` or `'VALID'` padding for one axis: the output size and
/// the padding actually added before and after the input (SAME puts the odd pixel after).
public struct ResolvedPadding: Equatable, Sendable {
    public var output: Int
    public var before: Int
    public var after: Int

    public init(output: Int, before: Int, after: Int) {
        self.output = output
        self.before = before
        self.after = after
    }
}

/// The effective (dilated) kernel extent K = d(k − 1) + 1: the span of input positions one
/// window covers, holes included.
///
/// - Complexity: O(1). Exact.
/// - Throws: `ConvolutionArithmeticError` if k or d is below 1, or K overflows.
public func effectiveKernelSize(kernel: Int, dilation: Int, layer: String = "layer", axis: SpatialAxis? = nil) throws(ConvolutionArithmeticError) -> Int {
    let check = SizeCheck(layer: layer, axis: axis)
    try check.positive(kernel, .kernel)
    try check.positive(dilation, .dilation)
    return try check.add(check.multiply(dilation, kernel - 1, .dilation), 1, .dilation)
}

/// Output size of a convolution (PyTorch `conv2d`, one axis) with symmetric padding p:
/// o = ⌊(i + 2p − d(k − 1) − 1) / s⌋ + 1.
///
/// This is the function every convolution geometry in the project calls (once per axis).
///
/// - Complexity: O(1). Exact.
/// - Throws: `ConvolutionArithmeticError` — i, k, s or d below 1 (`notPositive`), p negative,
///   i + 2p < K (`kernelExceedsPaddedInput`, PyTorch's "Kernel size can't be greater than actual
///   input size"), or overflow.
public func convolutionOutputSize(input: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                                  layer: String = "convolution", axis: SpatialAxis? = nil) throws(ConvolutionArithmeticError) -> Int {
    try convolutionOutputSize(input: input, kernel: kernel, stride: stride, paddingBefore: padding, paddingAfter: padding,
                              dilation: dilation, layer: layer, axis: axis)
}

/// Output size of a convolution with asymmetric padding (TensorFlow's resolved SAME, or an
/// explicit pad layer before a VALID convolution): o = ⌊(i + p_b + p_a − K) / s⌋ + 1.
///
/// - Complexity: O(1). Exact.
/// - Throws: as `convolutionOutputSize(input:kernel:stride:padding:dilation:layer:axis:)`.
public func convolutionOutputSize(input: Int, kernel: Int, stride: Int = 1, paddingBefore: Int, paddingAfter: Int, dilation: Int = 1,
                                  layer: String = "convolution", axis: SpatialAxis? = nil) throws(ConvolutionArithmeticError) -> Int {
    let check = SizeCheck(layer: layer, axis: axis)
    try check.positive(input, .input)
    try check.positive(stride, .stride)
    try check.nonNegative(paddingBefore, .padding)
    try check.nonNegative(paddingAfter, .padding)
    let window = try effectiveKernelSize(kernel: kernel, dilation: dilation, layer: layer, axis: axis)
    let padded = try check.add(check.add(input, paddingBefore, .padding), paddingAfter, .padding)
    if padded < window {
        throw check.error(.padding, paddingBefore, .kernelExceedsPaddedInput(paddedInput: padded, effectiveKernel: window))
    }
    return (padded - window) / stride + 1
}

/// Output size of max or average pooling (PyTorch `pooling_output_shape`, one axis) with
/// symmetric padding p:
/// o = ⌊(i + 2p − K + (ceilMode ? s − 1 : 0)) / s⌋ + 1, and with `ceilMode` the last window is
/// dropped when it would start in the right padding, that is when (o − 1)·s ≥ i + p.
///
/// - Complexity: O(1). Exact.
/// - Throws: `ConvolutionArithmeticError` — i, k, s or d below 1, p negative, p > ⌊k/2⌋
///   (`poolPaddingExceedsHalfKernel`: PyTorch 2.15's `pool2d_shape_check` bounds the padding by
///   the kernel itself, which is stricter than `pooling_output_shape`'s bound ⌊K/2⌋ on the
///   effective kernel), o < 1 (`outputTooSmall`), or overflow.
public func poolingOutputSize(input: Int, kernel: Int, stride: Int, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false,
                              layer: String = "pooling", axis: SpatialAxis? = nil) throws(ConvolutionArithmeticError) -> Int {
    try poolingOutputSize(input: input, kernel: kernel, stride: stride, paddingBefore: padding, paddingAfter: padding,
                          dilation: dilation, ceilMode: ceilMode, layer: layer, axis: axis)
}

/// Output size of pooling with asymmetric padding (PyTorch `pooling_output_shape_pad_lr`):
/// o = ⌊(i + p_b + p_a − K + (ceilMode ? s − 1 : 0)) / s⌋ + 1, minus one with `ceilMode` when
/// (o − 1)·s ≥ i + p_b. Each side's padding must be at most ⌊k/2⌋.
///
/// - Complexity: O(1). Exact.
/// - Throws: as `poolingOutputSize(input:kernel:stride:padding:dilation:ceilMode:layer:axis:)`.
public func poolingOutputSize(input: Int, kernel: Int, stride: Int, paddingBefore: Int, paddingAfter: Int, dilation: Int = 1,
                              ceilMode: Bool = false, layer: String = "pooling", axis: SpatialAxis? = nil) throws(ConvolutionArithmeticError) -> Int {
    let check = SizeCheck(layer: layer, axis: axis)
    try check.positive(input, .input)
    try check.positive(stride, .stride)
    let window = try effectiveKernelSize(kernel: kernel, dilation: dilation, layer: layer, axis: axis)
    for pad in [paddingBefore, paddingAfter] {
        try check.nonNegative(pad, .padding)
        if pad > kernel / 2 { throw check.error(.padding, pad, .poolPaddingExceedsHalfKernel(kernel: kernel)) }
    }
    let padded = try check.add(check.add(input, paddingBefore, .padding), paddingAfter, .padding)
    let span = try check.add(padded - window, ceilMode ? stride - 1 : 0, .stride)
    var output = floorDivide(span, stride) + 1
    // PyTorch: in ceil mode, the last window must start inside the input or the left padding.
    if ceilMode, output >= 1, try check.multiply(output - 1, stride, .stride) >= check.add(input, paddingBefore, .padding) {
        output -= 1
    }
    if output < 1 { throw check.error(.input, input, .outputTooSmall(output: output)) }
    return output
}

/// Output size of a transposed convolution (PyTorch `conv_transpose2d`, one axis):
/// o = (i − 1)·s − 2p + d(k − 1) + output_padding + 1.
///
/// PyTorch requires output_padding < s or output_padding < d (otherwise the extra row would
/// receive no input at all).
///
/// - Complexity: O(1). Exact.
/// - Throws: `ConvolutionArithmeticError` — i, k, s or d below 1, p or output padding negative,
///   output padding ≥ both s and d (`outputPaddingNotBelowStrideOrDilation`), o < 1, or overflow.
public func transposedConvolutionOutputSize(input: Int, kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
                                            dilation: Int = 1, layer: String = "transposed convolution",
                                            axis: SpatialAxis? = nil) throws(ConvolutionArithmeticError) -> Int {
    try transposedConvolutionOutputSize(input: input, kernel: kernel, stride: stride, paddingBefore: padding, paddingAfter: padding,
                                        outputPadding: outputPadding, dilation: dilation, layer: layer, axis: axis)
}

/// Output size of a transposed convolution that crops p_b from the start and p_a from the end of
/// the full output: o = (i − 1)·s − p_b − p_a + d(k − 1) + output_padding + 1.
///
/// - Complexity: O(1). Exact.
/// - Throws: as `transposedConvolutionOutputSize(input:kernel:stride:padding:outputPadding:dilation:layer:axis:)`.
public func transposedConvolutionOutputSize(input: Int, kernel: Int, stride: Int = 1, paddingBefore: Int, paddingAfter: Int,
                                            outputPadding: Int = 0, dilation: Int = 1, layer: String = "transposed convolution",
                                            axis: SpatialAxis? = nil) throws(ConvolutionArithmeticError) -> Int {
    let check = SizeCheck(layer: layer, axis: axis)
    try check.positive(input, .input)
    try check.positive(stride, .stride)
    try check.nonNegative(paddingBefore, .padding)
    try check.nonNegative(paddingAfter, .padding)
    try check.nonNegative(outputPadding, .outputPadding)
    let window = try effectiveKernelSize(kernel: kernel, dilation: dilation, layer: layer, axis: axis)
    if outputPadding >= stride && outputPadding >= dilation {
        throw check.error(.outputPadding, outputPadding, .outputPaddingNotBelowStrideOrDilation(stride: stride, dilation: dilation))
    }
    let full = try check.add(check.add(check.multiply(input - 1, stride, .stride), window, .kernel), outputPadding, .outputPadding)
    let output = full - paddingBefore - paddingAfter   // full ≥ 1 and paddings ≥ 0: cannot overflow
    if output < 1 { throw check.error(.padding, paddingBefore, .outputTooSmall(output: output)) }
    return output
}

/// TensorFlow's `'SAME'` padding for one axis (`GetWindowedOutputSizeVerbose`): output
/// o = ⌈i / s⌉, total padding max((o − 1)·s + K − i, 0), of which ⌊total/2⌋ goes before the input
/// and the rest after. The split depends on i, which is why a receptive field's effective padding
/// is only defined once the input size is known.
///
/// - Complexity: O(1). Exact.
/// - Throws: `ConvolutionArithmeticError` if i, k, s or d is below 1, or on overflow.
public func tensorFlowSamePadding(input: Int, kernel: Int, stride: Int, dilation: Int = 1, layer: String = "layer",
                                  axis: SpatialAxis? = nil) throws(ConvolutionArithmeticError) -> ResolvedPadding {
    let check = SizeCheck(layer: layer, axis: axis)
    try check.positive(input, .input)
    try check.positive(stride, .stride)
    let window = try effectiveKernelSize(kernel: kernel, dilation: dilation, layer: layer, axis: axis)
    let output = (input - 1) / stride + 1   // ⌈i/s⌉ without overflow
    let covered = try check.add(check.multiply(output - 1, stride, .stride), window, .kernel)
    let total = max(covered - input, 0)
    return ResolvedPadding(output: output, before: total / 2, after: total - total / 2)
}

/// TensorFlow's `'VALID'` padding for one axis: no padding, o = ⌊(i − K) / s⌋ + 1 = ⌈(i − K + 1)/s⌉.
///
/// - Complexity: O(1). Exact.
/// - Throws: `ConvolutionArithmeticError` if i, k, s or d is below 1, or i < K
///   (`kernelExceedsPaddedInput`: TensorFlow's "Computed output size would be negative").
public func tensorFlowValidPadding(input: Int, kernel: Int, stride: Int, dilation: Int = 1, layer: String = "layer",
                                   axis: SpatialAxis? = nil) throws(ConvolutionArithmeticError) -> ResolvedPadding {
    let output = try convolutionOutputSize(input: input, kernel: kernel, stride: stride, paddingBefore: 0, paddingAfter: 0,
                                           dilation: dilation, layer: layer, axis: axis)
    return ResolvedPadding(output: output, before: 0, after: 0)
}

/// ⌊a / b⌋ for b > 0 (Swift's `/` truncates toward zero; PyTorch's `div_rtn` rounds down).
@inline(__always)
func floorDivide(_ a: Int, _ b: Int) -> Int {
    let quotient = a / b
    return (a % b != 0 && a < 0) ? quotient - 1 : quotient
}

/// Argument checks and overflow-checked arithmetic that name the layer, axis and field in their
/// errors. (`-Ounchecked` removes Swift's own overflow traps, so every size product goes through
/// here.)
struct SizeCheck {
    let layer: String
    let axis: SpatialAxis?

    func error(_ field: ConvolutionField, _ value: Int, _ problem: ConvolutionArithmeticError.Problem) -> ConvolutionArithmeticError {
        ConvolutionArithmeticError(layer: layer, field: field, axis: axis, value: value, problem: problem)
    }

    func positive(_ value: Int, _ field: ConvolutionField) throws(ConvolutionArithmeticError) {
        if value < 1 { throw error(field, value, .notPositive) }
    }

    func nonNegative(_ value: Int, _ field: ConvolutionField) throws(ConvolutionArithmeticError) {
        if value < 0 { throw error(field, value, .negative) }
    }

    func add(_ a: Int, _ b: Int, _ field: ConvolutionField) throws(ConvolutionArithmeticError) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { throw error(field, b, .overflow) }
        return sum
    }

    func multiply(_ a: Int, _ b: Int, _ field: ConvolutionField) throws(ConvolutionArithmeticError) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        if overflow { throw error(field, b, .overflow) }
        return product
    }
}
