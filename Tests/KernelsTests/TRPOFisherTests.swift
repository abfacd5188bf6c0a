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

/// The rounding bound's depth K of a Fisher product (`FisherOperator.roundingDepth`).
func fisherDepth(_ network: PolicyNetwork, count: Int) -> Double {
    Double(FisherOperator<Float>.roundingDepth(network: network, count: count))
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

    /// vᵀ(Fw) = wᵀ(Fv) and vᵀFv ≥ 0 (≥ λ|v|² damped), in Float, up to the products' rounding.
    @Test(arguments: [smallGaussianPolicy, smallCategoricalPolicy, PolicyNetwork.cartPole])
    func operatorIsSymmetricPositiveSemidefinite(network: PolicyNetwork) throws {
        let count = 300
        let theta: [Float] = network.seededParameters(seed: 5)
        var generator = SeededGenerator(seed: 6)
        let states: [Float] = .gaussian(count: count * network.inputCount, using: &generator)
        let reference = try ReferenceFisher(network: network, parameters: theta, states: states)
        for damping: Float in [0, 0.1] {
            let fisher = try makeFisherOperator(network: network, parameters: theta, states: states, damping: damping)
            for _ in 0..<3 {
                let v: [Float] = .gaussian(count: network.parameterCount, using: &generator)
                let w: [Float] = .gaussian(count: network.parameterCount, using: &generator)
                let fv = fisherProduct(fisher, v), fw = fisherProduct(fisher, w)
                func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
                // Each side is within u·depth·(|v|ᵀ·scale(w)) of its exact value.
                let u = Double(Float.ulpOfOne) / 2, depth = fisherDepth(network, count: count)
                let tolerance = u * depth * dot(v.map(abs), reference.absoluteProduct(w.map(Double.init), damping: Double(damping)).map(Float.init))
                #expect(abs(dot(v, fw) - dot(w, fv)) <= 2 * tolerance)
                let vFv = dot(v, fv), vv = dot(v, v)
                let selfTolerance = u * depth * dot(v.map(abs), reference.absoluteProduct(v.map(Double.init), damping: Double(damping)).map(Float.init))
                #expect(vFv >= Double(damping) * vv - selfTolerance)
            }
        }
    }

    /// The split over threads and chunks changes only the order of the sums over the states:
    /// 1, 2 and 3 threads and chunks of 256 (with a last partial chunk) agree to rounding.
    @Test func resultIsIndependentOfThreadsAndChunks() throws {
        let network = PolicyNetwork.halfCheetah, count = 1100
        let theta: [Float] = network.seededParameters(seed: 9)
        var generator = SeededGenerator(seed: 10)
        let states: [Float] = .gaussian(count: count * network.inputCount, using: &generator)
        let v: [Float] = .gaussian(count: network.parameterCount, using: &generator)
        let fisher = try makeFisherOperator(network: network, parameters: theta, states: states, threads: 3)
        #expect(fisher.threads == 3)
        let outputs = try policyOutputs(network: network, parameters: theta, states: states)
        let threaded = try policyOutputs(network: network, parameters: theta, states: states, threads: 3)
        #expect(outputs == threaded)
        var products: [[Float]] = []
        for threads in 1...3 {
            var y = [Float](repeating: .nan, count: v.count)
            v.withUnsafeBufferPointer { v in y.withUnsafeMutableBufferPointer { fisher.apply(v.baseAddress!, into: $0.baseAddress!, threads: threads) } }
            products.append(y)
        }
        let scale = try ReferenceFisher(network: network, parameters: theta, states: states).absoluteProduct(v.map(Double.init), damping: 0.1)
        let u = Double(Float.ulpOfOne) / 2, depth = fisherDepth(network, count: count)
        for y in products.dropFirst() {
            for j in y.indices { #expect(abs(Double(y[j]) - Double(products[0][j])) <= 2 * u * depth * scale[j]) }
        }
    }

    /// The vectorized tanh against libm's, in ulps, over [−20, 20] and its edges.
    @Test func tanhAccuracy() {
        func worstUlps<T: BinaryFloatingPoint>(_: T.Type, _ exact: (Double) -> Double) -> Double {
            var values: [T] = (0...80_000).map { T(-20 + 40 * Double($0) / 80_000) }
            values += [0, -0, T.leastNormalMagnitude, 1e-30, -1e-30, 25, -25, 1000]
            var computed = values
            computed.withUnsafeMutableBufferPointer { tanhInPlace($0.baseAddress!, count: $0.count) }
            var worst = 0.0
            for (x, y) in zip(values, computed) {
                let expected = T(exact(Double(x)))
                worst = max(worst, abs(Double(y) - Double(expected)) / Double(expected.ulp))
            }
            return worst
        }
        #expect(worstUlps(Float.self, Foundation.tanh) <= 3)
        #expect(worstUlps(Double.self, Foundation.tanh) <= 3)
        var nan: [Float] = [.nan]
        nan.withUnsafeMutableBufferPointer { tanhInPlace($0.baseAddress!, count: 1) }
        #expect(nan[0].isNaN)
    }
}

/// The flop count is the GEMMs' of the two passes, counted by hand for HalfCheetah's policy:
/// tangent 2·(64·17 + 64·128 + 6·128), adjoint 2·(6·64 + 64·6 + 64·64 + 64·64 + 64·17) per state.
@Test func fisherFlopCount() {
    let tangent = 2 * (64 * 17 + 64 * 128 + 6 * 128), adjoint = 2 * (6 * 64 + 64 * 6 + 64 * 64 + 64 * 64 + 64 * 17)
    #expect(FisherOperator<Float>.flopsPerProduct(network: .halfCheetah, count: 5000) == Double(5000 * (tangent + adjoint)))
}
