import Foundation
import Testing
@testable import Kernels
import SeededRandom

/// Small policies whose Fisher matrix can be formed explicitly (P ≈ 120–140).
let smallGaussianPolicy = try! PolicyNetwork(layerSizes: [5, 8, 7, 3], head: .gaussian)
let smallCategoricalPolicy = try! PolicyNetwork(layerSizes: [4, 8, 6, 3], head: .categorical)

/// max over elements of |computed − exact| / (u·scale): the Fisher product's error in units of
/// its rounding scale (see `ReferenceFisher.absoluteProduct`).
func errorRatio<T: BinaryFloatingPoint>(_ computed: [T], _ exact: [Double], scale: [Double]) -> Double {
    let u = Double(T.ulpOfOne) / 2
    var worst = 0.0
    for i in computed.indices {
        let error = abs(Double(computed[i]) - exact[i])
        worst = max(worst, scale[i] > 0 ? error / (u * scale[i]) : (error > 0 ? .infinity : 0))
    }
    return worst
}

/// The rounding bound's depth for a Fisher product on `count` states: the sums over the states,
/// plus the depths of the chain of products through the layers (each layer's tangent, 2n_{l−1}
/// deep, and adjoint, n_l deep) and the tanh and head roundings, a few units each.
func fisherDepth(_ network: PolicyNetwork, count: Int) -> Double {
    let sizes = network.layerSizes
    return Double(count + 3 * sizes.reduce(0, +) + 8 * sizes.count)
}

func fisherProduct<T: PolicyScalar>(_ fisher: FisherOperator<T>, _ v: [T]) -> [T] {
    var y = [T](repeating: .nan, count: v.count)
    v.withUnsafeBufferPointer { v in y.withUnsafeMutableBufferPointer { fisher.apply(v.baseAddress!, into: $0.baseAddress!) } }
    return y
}

@Suite("TRPO Fisher-vector product")
struct TRPOFisherTests {
    static let cases: [(PolicyNetwork, Double)] = [
        (smallGaussianPolicy, 0), (smallGaussianPolicy, 0.1), (smallCategoricalPolicy, 0), (smallCategoricalPolicy, 0.1),
    ]

    /// The product against F formed explicitly from per-state Jacobians, in Float and Double.
    @Test(arguments: cases)
    func productMatchesExplicitFisher(network: PolicyNetwork, damping: Double) throws {
        let count = 37
        let theta: [Double] = network.seededParameters(seed: 11)
        var generator = SeededGenerator(seed: 12)
        let states: [Double] = .gaussian(count: count * network.inputCount, using: &generator)
        let v: [Double] = .gaussian(count: network.parameterCount, using: &generator)
        let reference = try ReferenceFisher(network: network, parameters: theta, states: states)
        let f = reference.matrix(damping: damping), n = network.parameterCount
        let exact = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + f[i * n + $1] * v[$1] } }
        let scale = reference.absoluteProduct(v, damping: damping)
        // The streamed reference product agrees with the matrix.
        #expect(errorRatio(reference.product(v, damping: damping), exact, scale: scale) < Double(n))

        let double = try makeFisherOperator(network: network, parameters: theta, states: states, damping: damping)
        let doubleRatio = errorRatio(fisherProduct(double, v), exact, scale: scale)
        let float = try makeFisherOperator(network: network, parameters: theta.map(Float.init), states: states.map(Float.init), damping: Float(damping))
        // Float inputs are the rounded Double ones: compare with the exact product of those.
        let floatReference = try ReferenceFisher(network: network, parameters: theta.map(Float.init), states: states.map(Float.init))
        let vFloat = v.map(Float.init)
        let floatExact = floatReference.product(vFloat.map(Double.init), damping: Double(Float(damping)))
        let floatRatio = errorRatio(fisherProduct(float, vFloat), floatExact, scale: floatReference.absoluteProduct(vFloat.map(Double.init), damping: Double(Float(damping))))
        let bound = fisherDepth(network, count: count)
        #expect(doubleRatio <= bound)
        #expect(floatRatio <= bound)
    }
}
