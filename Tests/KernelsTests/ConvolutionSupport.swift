import Crosscheck
import Foundation
import Kernels
import Testing

/// One convolution layer with seeded inputs, its reference (Double) and the magnitudes its
/// error bounds are relative to, shared by the convolution tests.
struct ConvolutionCase<T: ConvolutionScalar> {
    let geometry: Conv2DGeometry
    let input: [T], weight: [T], bias: [T]?
    let reference: [Double], magnitude: [Double]

    init(_ geometry: Conv2DGeometry, bias hasBias: Bool = true, seed: UInt64 = 7) throws {
        var generator = SeededGenerator(seed: seed)
        let input: [T] = .uniform(count: geometry.inputCount, using: &generator)
        let weight: [T] = .uniform(count: geometry.weightCount, using: &generator)
        let bias: [T]? = hasBias ? .uniform(count: geometry.outputChannels, using: &generator) : nil
        try self.init(geometry, input: input, weight: weight, bias: bias, reference: nil)
    }

    /// A case on given data; `reference` (for example PyTorch's result) replaces our reference.
    init(_ geometry: Conv2DGeometry, input: [T], weight: [T], bias: [T]?, reference expected: [Double]?) throws {
        self.geometry = geometry
        self.input = input
        self.weight = weight
        self.bias = bias
        var reference = [Double](repeating: .nan, count: geometry.outputCount)
        var magnitude = [Double](repeating: .nan, count: geometry.outputCount)
        try input.withUnsafeBufferPointer { x in
            try weight.withUnsafeBufferPointer { w in
                try withOptional(bias) { b in
                    if expected == nil {
                        try reference.withUnsafeMutableBufferPointer {
                            try conv2DReferenceInDouble(geometry: geometry, input: x, weight: w, bias: b, output: $0)
                        }
                    }
                    try magnitude.withUnsafeMutableBufferPointer {
                        try conv2DErrorMagnitude(geometry: geometry, input: x, weight: w, bias: b, output: $0)
                    }
                }
            }
        }
        self.reference = expected ?? reference
        self.magnitude = magnitude
    }

    /// Runs `algorithm` into an output filled with NaN (it must not be read).
    func run(_ algorithm: Conv2DAlgorithm, threads: Int) throws -> [T] {
        var output = [T](repeating: .nan, count: geometry.outputCount)
        try input.withUnsafeBufferPointer { x in
            try weight.withUnsafeBufferPointer { w in
                try withOptional(bias) { b in
                    try output.withUnsafeMutableBufferPointer {
                        try conv2D(algorithm, geometry: geometry, input: x, weight: w, bias: b, output: $0, threads: threads)
                    }
                }
            }
        }
        return output
    }

    /// Checks `algorithm` against the reference under its error bound.
    func verify(_ algorithm: Conv2DAlgorithm, threads: Int) throws -> Verification {
        let output = try run(algorithm, threads: threads).map(Double.init)
        let u = Double(T.ulpOfOne) / 2
        let hasBias = bias != nil
        var scale = magnitude, terms = geometry.errorTermCount(hasBias: hasBias), model = "gamma_k(|w||x|+|b|)"
        if case .winograd(let tile) = algorithm {
            var winograd = [Double](repeating: .nan, count: geometry.outputCount)
            try input.withUnsafeBufferPointer { x in
                try weight.withUnsafeBufferPointer { w in
                    try withOptional(bias) { b in
                        try winograd.withUnsafeMutableBufferPointer {
                            try winogradErrorMagnitude(tile, geometry: geometry, input: x, weight: w, bias: b, output: $0)
                        }
                    }
                }
            }
            scale = winograd
            terms = tile.errorTermCount(geometry, hasBias: hasBias)
            model = "winograd gamma_n*S"
        }
        return ErrorModels.scaledForwardError(
            computed: output, reference: reference, scale: scale, unitRoundoff: u,
            bound: convolutionBound(terms: terms, T.self), model: model, describe: { "y[\($0)]" })
    }
}

/// The bound on err_ratio for n rounding terms: γ_n(u)/u for the variant, plus the reference's
/// own γ_n(u_Double) in units of u (as large again for Double inputs).
func convolutionBound<T: BinaryFloatingPoint>(terms: Int, _: T.Type) -> Double {
    let u = Double(T.ulpOfOne) / 2, uDouble = Double.ulpOfOne / 2
    return ErrorModels.gammaRatio(terms, unitRoundoff: u) + ErrorModels.gammaRatio(terms, unitRoundoff: uDouble) * (uDouble / u)
}

func withOptional<T, R>(_ array: [T]?, _ body: (UnsafeBufferPointer<T>?) throws -> R) rethrows -> R {
    guard let array else { return try body(nil) }
    return try array.withUnsafeBufferPointer { try body($0) }
}
