import Crosscheck
import Foundation
import Kernels
import Testing

/// A convolution or transposed-convolution layer under test.
enum TestLayer: CustomStringConvertible, Sendable {
    case forward(Conv2DGeometry)
    case transposed(ConvTranspose2DGeometry)

    var geometry: any ConvolutionLayerGeometry {
        switch self {
        case .forward(let g): return g
        case .transposed(let g): return g
        }
    }

    var description: String {
        switch self {
        case .forward(let g): return "conv2d \(g)"
        case .transposed(let g): return "conv_transpose2d \(g)"
        }
    }
}

/// An algorithm of either kind of layer.
enum TestAlgorithm: CustomStringConvertible, Sendable {
    case forward(Conv2DAlgorithm)
    case transposed(ConvTranspose2DAlgorithm)

    var description: String {
        switch self {
        case .forward(let a): return a.description
        case .transposed(let a): return a.description
        }
    }

    /// Every algorithm that computes `layer`.
    static func all(for layer: TestLayer) -> [TestAlgorithm] {
        switch layer {
        case .forward(let g): return Conv2DAlgorithm.allCases.filter { $0.applies(to: g) }.map { .forward($0) }
        case .transposed: return ConvTranspose2DAlgorithm.allCases.map { .transposed($0) }
        }
    }
}

/// One layer with its inputs, its reference output (Double) and the magnitude Σ|w||x| + |b| its
/// error bounds are relative to, shared by the convolution tests.
struct ConvolutionCase<T: ConvolutionScalar> {
    let layer: TestLayer
    let input: [T], weight: [T], bias: [T]?
    let reference: [Double], magnitude: [Double]

    /// Seeded inputs uniform in [-1, 1); the reference is ours.
    init(_ layer: TestLayer, bias hasBias: Bool = true, seed: UInt64 = 7) throws {
        var generator = SeededGenerator(seed: seed)
        let g = layer.geometry
        let input: [T] = .uniform(count: g.inputCount, using: &generator)
        let weight: [T] = .uniform(count: g.weightCount, using: &generator)
        let bias: [T]? = hasBias ? .uniform(count: g.outputChannels, using: &generator) : nil
        try self.init(layer, input: input, weight: weight, bias: bias, expected: nil)
    }

    /// A case on given data; `expected` (PyTorch's output) replaces our reference.
    init(_ layer: TestLayer, input: [T], weight: [T], bias: [T]?, expected: [Double]?) throws {
        self.layer = layer
        self.input = input
        self.weight = weight
        self.bias = bias
        let count = layer.geometry.outputCount
        var reference = [Double](repeating: .nan, count: count), magnitude = reference
        try Self.withOperands(input, weight, bias) { x, w, b in
            try reference.withUnsafeMutableBufferPointer { y in
                try magnitude.withUnsafeMutableBufferPointer { m in
                    switch layer {
                    case .forward(let g):
                        try conv2DReferenceInDouble(geometry: g, input: x, weight: w, bias: b, output: y)
                        try conv2DErrorMagnitude(geometry: g, input: x, weight: w, bias: b, output: m)
                    case .transposed(let g):
                        try convTranspose2DReferenceInDouble(geometry: g, input: x, weight: w, bias: b, output: y)
                        try convTranspose2DErrorMagnitude(geometry: g, input: x, weight: w, bias: b, output: m)
                    }
                }
            }
        }
        self.reference = expected ?? reference
        self.magnitude = magnitude
    }

    static func withOperands<R>(
        _ input: [T], _ weight: [T], _ bias: [T]?,
        _ body: (UnsafeBufferPointer<T>, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>?) throws -> R
    ) rethrows -> R {
        try input.withUnsafeBufferPointer { x in
            try weight.withUnsafeBufferPointer { w in
                if let bias { return try bias.withUnsafeBufferPointer { try body(x, w, $0) } }
                return try body(x, w, nil)
            }
        }
    }

    /// Runs `algorithm` into an output filled with NaN (it must not be read).
    func run(_ algorithm: TestAlgorithm, threads: Int) throws -> [T] {
        var output = [T](repeating: .nan, count: layer.geometry.outputCount)
        try Self.withOperands(input, weight, bias) { x, w, b in
            try output.withUnsafeMutableBufferPointer { y in
                switch (layer, algorithm) {
                case (.forward(let g), .forward(let a)):
                    try conv2D(a, geometry: g, input: x, weight: w, bias: b, output: y, threads: threads)
                case (.transposed(let g), .transposed(let a)):
                    try convTranspose2D(a, geometry: g, input: x, weight: w, bias: b, output: y, threads: threads)
                default:
                    Issue.record("\(algorithm) is not an algorithm for \(layer)")
                }
            }
        }
        return output
    }

    /// The number of roundings n and the magnitude of `algorithm`'s bound |ŷ − y| ≤ γ_n·magnitude.
    func bound(_ algorithm: TestAlgorithm) throws -> (terms: Int, magnitude: [Double], model: String) {
        switch (layer, algorithm) {
        case (.forward(let g), .forward(.winograd(let tile))):
            var winograd = [Double](repeating: .nan, count: g.outputCount)
            try Self.withOperands(input, weight, bias) { x, w, b in
                try winograd.withUnsafeMutableBufferPointer {
                    try winogradErrorMagnitude(tile, geometry: g, input: x, weight: w, bias: b, output: $0)
                }
            }
            return (tile.errorTermCount(g, hasBias: bias != nil), winograd, "gamma_n*S (winograd)")
        case (.forward(let g), _):
            return (g.errorTermCount(hasBias: bias != nil), magnitude, "gamma_k(|w||x|+|b|)")
        case (.transposed(let g), _):
            return (g.errorTermCount, magnitude, "gamma_n(|w||x|+|b|)")
        }
    }

    /// `algorithm`'s output against the reference under its error bound.
    func verify(_ algorithm: TestAlgorithm, threads: Int) throws -> Verification {
        let output = try run(algorithm, threads: threads).map(Double.init)
        let (terms, scale, model) = try bound(algorithm)
        return ErrorModels.scaledForwardError(
            computed: output, reference: reference, scale: scale, unitRoundoff: Double(T.ulpOfOne) / 2,
            bound: convolutionBound(terms: terms, T.self), model: model, describe: { "y[\($0)]" })
    }

    /// Every algorithm of the layer on 1, 2 and 3 threads, each within its bound.
    func expectEveryAlgorithmPasses(_ context: String = "") throws {
        for algorithm in TestAlgorithm.all(for: layer) {
            for threads in [1, 2, 3] {
                let v = try verify(algorithm, threads: threads)
                #expect(v.passed, "\(context) \(algorithm) threads=\(threads) \(T.self) \(layer): err_ratio \(v.errRatio) > \(v.errBound) at \(v.worst); \(v.note)")
            }
        }
    }
}

/// The bound on err_ratio for n roundings: γ_n(u)/u for the variant, plus the reference's own
/// γ_n(u_Double) in units of u (as large again for Double inputs, negligible for Float).
func convolutionBound<T: BinaryFloatingPoint>(terms: Int, _: T.Type) -> Double {
    let u = Double(T.ulpOfOne) / 2, uDouble = Double.ulpOfOne / 2
    return ErrorModels.gammaRatio(terms, unitRoundoff: u) + ErrorModels.gammaRatio(terms, unitRoundoff: uDouble) * (uDouble / u)
}

/// A 4-D array in NCHW-like order (a, b, c, d) permuted to (a, c, d, b): activations to NHWC,
/// OIHW weights to OHWI (and IOHW transposed weights to IHWO), PyTorch's channels_last order.
func channelsLast<T>(_ array: [T], _ a: Int, _ b: Int, _ c: Int, _ d: Int) -> [T] {
    precondition(array.count == a * b * c * d)
    var permuted = array
    for i in 0..<a { for j in 0..<b { for k in 0..<c { for l in 0..<d {
        permuted[((i * c + k) * d + l) * b + j] = array[((i * b + j) * c + k) * d + l]
    } } } }
    return permuted
}
