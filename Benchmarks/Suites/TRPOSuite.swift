import Crosscheck
import Foundation
import Kernels

/// One TRPO workload: a policy network and N seeded states.
public struct TRPOSpec: Sendable, CustomStringConvertible {
    public var network: PolicyNetwork
    public var count: Int

    /// θ = `seededParameters(seed: 1)`, the batch `PolicyBatch.seeded(seed: 2)`, the Fisher
    /// product's v from seed 3: the seeds `Benchmarks/peers/torch_trpo_step.py` uses.
    static let parameterSeed: UInt64 = 1, batchSeed: UInt64 = 2, vectorSeed: UInt64 = 3

    public static func cheetah(_ count: Int) -> TRPOSpec { TRPOSpec(network: .halfCheetah, count: count) }
    public static func cartPole(_ count: Int) -> TRPOSpec { TRPOSpec(network: .cartPole, count: count) }

    /// `cheetahN`, `cartpoleN`, or `S0xS1x…xSL-HEAD-N` for other networks.
    public var description: String {
        if network == .halfCheetah { return "cheetah\(count)" }
        if network == .cartPole { return "cartpole\(count)" }
        return "\(network)-\(count)"
    }
}

/// The TRPO family (`Sources/Kernels/Solvers/TRPO`): a policy MLP's damped Fisher-vector product
/// without forming F (variants `fvp`, and `fvp-reference` on small cases), and one whole TRPO
/// update as Stable-Baselines3-contrib runs it (variant `step`: surrogate gradient, 15 CG iterations on the Fisher operator, β = √(2δ/xᵀ(F+λI)x),
/// backtracking line search), on HalfCheetah's 17 → 64 → 64 → 6 Gaussian policy and CartPole's
/// 4 → 64 → 64 → 2 categorical one. `Benchmarks/peers/torch_trpo_step.py` times PyTorch's
/// double-backpropagation implementation on the same inputs.
///
/// Each size gives two cases, shapes `SIZE-fvp` and `SIZE-step` (`cheetah5000-fvp`).
///
/// Error models:
/// - `fvp`: |ŷ − y| ≤ γ_K·s elementwise, y = (F + λI)·v from per-state Jacobians in Double
///   (`ReferenceFisher`), s = (1/N)·Σᵢ|Jᵢ|ᵀ|Mᵢ||Jᵢ||v| + 2|v_σ| + λ|v| (`absoluteProduct`), K =
///   `FisherOperator.roundingDepth` (N plus the depths along the network, see there).
/// - `step` (`TRPOStepReference`), every criterion hard:
///   `gradient`, the surrogate's gradient, |ĝ − g| ≤ γ_K·Σ|J|ᵀ|∂L/∂out| elementwise;
///   `direction`, CG's direction solves (F + λI)x = g at least as well as the Double reference
///   after half the iterations, plus Greenbaum's attainable floor (CG's iterates themselves drift
///   apart faster than rounding, so they are not compared elementwise; the drift is in the note);
///   `trust-region`, |½β²xᵀ(F + λI)x/δ − 1| ≤ γ_K·(|x|ᵀ|A||x|)/(xᵀAx) + 4u;
///   `kl`, the true mean KL of the returned policy (Double) at most δ;
///   `quadratic-kl`, ½sᵀFs ≤ c²δ(1 + the trust-region bound) for the applied step s = cβx;
///   `improvement`, the surrogate in Double does not decrease.
public enum TRPOSuite {
    public static let defaultSpecs: [TRPOSpec] = [.cheetah(5000), .cheetah(2048), .cartPole(5000), .cartPole(2048)]
    public static let quickSpecs: [TRPOSpec] = [.cheetah(2048)]
    /// What `swift test` walks: small networks (the reference forms per-state Jacobians), one
    /// with HalfCheetah's thin input (17) and output (6) layers, batches that leave a partial
    /// chunk and give 1, 2 and 3 threads their 256 states each.
    public static let testSpecs: [TRPOSpec] = [
        TRPOSpec(network: try! PolicyNetwork(layerSizes: [5, 8, 7, 3], head: .gaussian), count: 37),
        TRPOSpec(network: try! PolicyNetwork(layerSizes: [4, 8, 6, 3], head: .categorical), count: 800),
        TRPOSpec(network: try! PolicyNetwork(layerSizes: [17, 16, 16, 6], head: .gaussian), count: 600),
    ]

    public static let family = Family(
        name: "trpo",
        summary: "TRPO on a policy MLP: damped Fisher-vector product (variant fvp) and one SB3-contrib update (variant step); shape cheetahN | cartpoleN",
        elementTypes: [.f32, .f64],
        sizes: Sizes(
            notation: "cheetahN | cartpoleN | S0xS1x...xSL-{gaussian|categorical}-N",
            parse: parse,
            defaults: defaultSpecs, quick: quickSpecs, test: testSpecs,
            presets: [("batches", "both policies at N = 512, 1024, 2048, 5000, 10000",
                       [512, 1024, 2048, 5000, 10000].flatMap { [TRPOSpec.cheetah($0), .cartPole($0)] })]),
        counters: [Counter("cg_iterations", unit: "CG iterations"), Counter("line_search_trials", unit: "trials")],
        cases: { spec, dtype in
            switch dtype {
            case .f32: return [fisherCase(spec, Float.self), stepCase(spec, Float.self)]
            case .f64: return [fisherCase(spec, Double.self), stepCase(spec, Double.self)]
            default: throw CaseRequestError("trpo has no element type \(dtype.rawValue)")
            }
        })

    /// Parses `cheetahN`, `cartpoleN` or `S0xS1x…xSL-HEAD-N`.
    static func parse(_ text: String) throws -> TRPOSpec {
        let entry = text.lowercased()
        for (prefix, network) in [("cheetah", PolicyNetwork.halfCheetah), ("cartpole", .cartPole)] where entry.hasPrefix(prefix) {
            return TRPOSpec(network: network, count: try SizeArithmetic.integer(entry.dropFirst(prefix.count), in: text, minimum: 1))
        }
        let parts = entry.split(separator: "-")
        guard parts.count == 3, let head = ["gaussian": PolicyHead.gaussian, "categorical": .categorical][String(parts[1])] else {
            throw CaseRequestError("--sizes: '\(text)' is not a trpo size; use cheetahN, cartpoleN or S0xS1x...xSL-{gaussian|categorical}-N")
        }
        let sizes = try parts[0].split(separator: "x").map { try SizeArithmetic.integer($0, in: text, minimum: 1) }
        let count = try SizeArithmetic.integer(parts[2], in: text, minimum: 1)
        do {
            let network = try PolicyNetwork(layerSizes: sizes, head: head)
            _ = try SizeArithmetic.product([count, sizes.reduce(0, +), 8], entry: text)
            return TRPOSpec(network: network, count: count)
        } catch let error as TRPOError {
            throw CaseRequestError("--sizes: '\(text)': \(error)")
        }
    }

    /// The reference forms each state's n_L × P Jacobian; it is timed as a variant up to this
    /// many Jacobian entries in all (N·n_L·P), about a second of plain loops.
    static let timedReferenceLimit = 50_000_000

    // MARK: Fisher-vector product

    public static func fisherCase<T: PolicyScalar>(_ spec: TRPOSpec, _: T.Type) -> Case {
        let network = spec.network, n = Double(spec.count)
        let workload = Workload(flops: FisherOperator<T>.flopsPerProduct(network: network, count: spec.count),
                                bytes: FisherOperator<T>.bytesPerProduct(network: network, count: spec.count))
        let reference = Variant<FisherProductInstance<T>>("fvp-reference", check: { c, y in c.verify(y, unitRoundoff: 0x1p-53) }) { c, _ in
            c.reference.product(c.v, damping: c.damping)
        }
        let batched = Variant<FisherProductInstance<T>>("fvp", threaded: true) { c, threads in
            var y = [T](repeating: .nan, count: c.vT.count)
            c.vT.withUnsafeBufferPointer { v in y.withUnsafeMutableBufferPointer { c.fisher.apply(v.baseAddress!, into: $0.baseAddress!, threads: threads) } }
            return y.map(Double.init)
        }
        let timesReference = SizeArithmetic.saturatingProduct(spec.count, network.outputCount * network.parameterCount) <= timedReferenceLimit
        let memory = SizeArithmetic.bytes([(spec.count, (network.inputCount + 4 * network.layerSizes.reduce(0, +)) * MemoryLayout<T>.size),
                                           (network.parameterCount, 16 * 8), (network.outputCount * network.parameterCount, 8)])
        return Case(
            kernel: "trpo", dtype: .of(T.self), shape: "\(spec)-fvp", sizeN: n, workload: workload, memoryBytes: memory,
            reference: timesReference ? reference : nil, variants: timesReference ? [reference, batched] : [batched],
            prepare: { try FisherProductInstance<T>(spec) })
    }

    // MARK: One update

    public static func stepCase<T: PolicyScalar>(_ spec: TRPOSpec, _: T.Type) -> Case {
        let network = spec.network
        let step = Variant<TRPOStepInstance<T>>("step", threaded: true) { c, threads in
            var options = c.options
            options.threads = threads
            return try trpoStep(network: network, parameters: c.parameters, batch: c.batch, options: options)
        }
        // A nominal workload (16 products); each call reports its own (`report`).
        let perProduct = FisherOperator<T>.flopsPerProduct(network: network, count: spec.count)
        let memory = SizeArithmetic.bytes([(spec.count, (network.inputCount + 6 * network.layerSizes.reduce(0, +)) * MemoryLayout<T>.size),
                                           (network.parameterCount, 24 * 8), (network.outputCount * network.parameterCount, 8)])
        return Case(
            kernel: "trpo", dtype: .of(T.self), shape: "\(spec)-step", sizeN: Double(spec.count),
            workload: Workload(flops: 16 * perProduct, bytes: 0), memoryBytes: memory,
            reference: nil, variants: [step],
            prepare: { try TRPOStepInstance<T>(spec) })
    }
}

/// A Fisher-vector product case: the operator at θ on the seeded states (its forward pass done
/// here, untimed), v, and the reference product with its rounding scale.
public final class FisherProductInstance<T: PolicyScalar>: PreparedCase {
    public typealias Output = [Double]

    let spec: TRPOSpec
    /// λ = 0.1 rounded to T, in Double: what the operator adds.
    let damping = Double(T(0.1))
    let fisher: FisherOperator<T>
    let reference: ReferenceFisher
    /// v in T, and exactly in Double; y_ref = (F + λI)·v and its scale, on the rounded inputs.
    let vT: [T]
    let v: [Double]
    let exact: [Double], scale: [Double]

    init(_ spec: TRPOSpec) throws {
        self.spec = spec
        let theta: [T] = spec.network.seededParameters(seed: TRPOSpec.parameterSeed)
        let batch = try PolicyBatch.seeded(network: spec.network, parameters: theta, count: spec.count, seed: TRPOSpec.batchSeed, threads: 2)
        var generator = SeededGenerator(seed: TRPOSpec.vectorSeed)
        vT = .gaussian(count: spec.network.parameterCount, using: &generator)
        v = vT.map(Double.init)
        fisher = try makeFisherOperator(network: spec.network, parameters: theta, states: batch.states, damping: T(damping),
                                        threads: max(3, ProcessInfo.processInfo.activeProcessorCount))
        reference = try ReferenceFisher(network: spec.network, parameters: theta, states: batch.states)
        exact = reference.product(v, damping: damping)
        scale = reference.absoluteProduct(v, damping: damping)
    }

    public func check(_ y: [Double]) -> Verification {
        verify(y, unitRoundoff: Double(T.ulpOfOne) / 2)
    }

    func verify(_ y: [Double], unitRoundoff u: Double) -> Verification {
        let depth = FisherOperator<T>.roundingDepth(network: spec.network, count: spec.count)
        return ErrorModels.scaledForwardError(
            computed: y, reference: exact, scale: scale, unitRoundoff: u, bound: ErrorModels.gammaRatio(depth, unitRoundoff: u),
            model: "gamma_K(|J|^T|M||J||v|), K=\(depth)", describe: { "Fv[\($0)]" })
    }
}

/// A TRPO update case: θ, the seeded batch, SB3-contrib's options, and the Double reference's
/// result-independent half (gradient, CG directions), computed once.
public final class TRPOStepInstance<T: PolicyScalar>: PreparedCase {
    public typealias Output = TRPOStepResult<T>

    let spec: TRPOSpec
    let parameters: [T]
    let batch: PolicyBatch<T>
    let options = TRPOOptions()
    let reference: TRPOStepReference<T>

    init(_ spec: TRPOSpec) throws {
        self.spec = spec
        parameters = spec.network.seededParameters(seed: TRPOSpec.parameterSeed)
        batch = try PolicyBatch.seeded(network: spec.network, parameters: parameters, count: spec.count, seed: TRPOSpec.batchSeed, threads: 2)
        reference = try TRPOStepReference(network: spec.network, parameters: parameters, batch: batch, options: options)
    }

    public func check(_ result: TRPOStepResult<T>) throws -> Verification {
        let v = try reference.verify(result)
        let u = v.unitRoundoff, c = result.backtrackingCoefficient
        let criteria = [
            Criterion("gradient", value: v.gradientErrorRatio, bound: v.gradientErrorBound),
            Criterion("direction", value: v.directionResidual, bound: v.directionResidualBound),
            Criterion("trust-region", value: abs(v.trustRegionRatio - 1) / u, bound: v.trustRegionErrorBound),
            Criterion("kl", value: v.trueKL, bound: options.maxKL),
            Criterion("quadratic-kl", value: v.quadraticKL, bound: c * c * options.maxKL * (1 + v.trustRegionErrorBound * u)),
            Criterion("improvement", value: v.surrogateBefore - v.surrogateAfter, bound: 0),
        ]
        let note = "\(result.conjugateGradient.iterations) CG iterations (reference \(v.referenceIterations)), \(result.lineSearchIterations) trials, "
            + (result.accepted ? "accepted c=\(Criterion.format(c)), KL \(Criterion.format(result.kl))" : "rejected")
            + "; direction vs reference: relative \(Criterion.format(v.directionRelativeError)), energy \(Criterion.format(v.directionEnergyError))"
            + "; true KL / quadratic model \(Criterion.format(v.trueKL / v.quadraticKL))"
        return Verification(model: "trpo-step(gradient gamma_K, CG residual, trust region, KL)", criteria: criteria,
                            maxAbsError: 0, maxRelError: v.gradientRelativeError, worst: "gradient", note: note)
    }

    public static var reportsPerCall: Bool { true }

    /// `cg_iterations`, `line_search_trials`, and the call's work: its Fisher-vector products
    /// (CG's, plus one for xᵀ(F + λI)x) at `FisherOperator.flopsPerProduct`, the gradient's
    /// adjoint pass (half a product) and a forward pass per trial and one for θ_old.
    public func report(_ result: TRPOStepResult<T>) -> CallReport {
        let network = spec.network, perProduct = FisherOperator<T>.flopsPerProduct(network: network, count: spec.count)
        let forward = FisherOperator<T>.flopsPerForwardPass(network: network, count: spec.count)
        let products = Double(result.conjugateGradient.products + 1)
        let flops = (products + 0.5) * perProduct + Double(result.lineSearchIterations + 1) * forward
        return CallReport(counters: ["cg_iterations": Double(result.conjugateGradient.iterations),
                                     "line_search_trials": Double(result.lineSearchIterations)],
                          workload: Workload(flops: flops, bytes: 0))
    }
}
