import SeededRandom

/// When conjugate gradient stops and where it starts: the rules of the implementations people
/// use, reproducible by option (`baselines`, `stableBaselines3`, `scipy`), or any mix.
///
/// The loop tests, before every iteration k = 0, 1, …:
///
///     if r_k = 0, or (k > 0 or testsInitialResidual) and stoppingTest(r_k) → converged
///     if k == maximumIterations                                → reachedMaximumIterations
///     one iteration (one product A·p)
///
/// r_k is the recurrence residual (r₀ = b − A·x₀, r_{k+1} = r_k − α_k·A·p_k), as in all three
/// sources. (r_k = 0 exactly is accepted under any rule: the sources would divide 0 by 0 next.)
/// The true residual b − A·x_k drifts from it by rounding (see `CGErrorModel.swift`).
public struct CGOptions: Sendable, Equatable {
    /// The convergence test on the recurrence residual r.
    public enum StoppingTest: Sendable, Equatable {
        /// rᵀr < threshold: the squared norm, as OpenAI baselines and Stable-Baselines3-contrib
        /// test it (threshold 1e-10 there). A threshold of 0 never stops early.
        case squaredResidualBelow(Double)
        /// ‖r‖₂ < max(relative·‖b‖₂, absolute), as SciPy tests it (strict inequality).
        case residualNorm(relative: Double, absolute: Double)
    }

    /// The first iterate x₀.
    public enum Start: Sendable, Equatable {
        /// x₀ = 0, so r₀ = b and no product is spent on it.
        case zero
        /// x₀ is the caller's x on entry; r₀ = b − A·x₀ costs one product.
        case given
        /// x₀ᵢ = scale·gᵢ with gᵢ standard normal from `SeededGenerator(seed:)` (`nextGaussian`),
        /// in order i = 0, 1, …; r₀ = b − A·x₀ costs one product. Stable-Baselines3-contrib starts
        /// from `1e-4 * th.randn_like(b)`; this is the same distribution from a seeded stream.
        case seededGaussian(scale: Double, seed: UInt64)
    }

    public var stoppingTest: StoppingTest
    /// Iterations allowed; `nil` means 10·n, SciPy's default.
    public var maximumIterations: Int?
    public var start: Start
    /// Whether r₀ is tested before the first iteration (SciPy and Stable-Baselines3-contrib do;
    /// baselines does not, and so always takes at least one iteration).
    public var testsInitialResidual: Bool

    /// Any rule: a test, a limit (nil for 10·n), a start, and whether r₀ is tested. Checked when
    /// a solver uses it (`SolverError.invalidArgument` for a negative or non-finite tolerance).
    public init(stoppingTest: StoppingTest, maximumIterations: Int?, start: Start = .zero, testsInitialResidual: Bool = true) {
        self.stoppingTest = stoppingTest
        self.maximumIterations = maximumIterations
        self.start = start
        self.testsInitialResidual = testsInitialResidual
    }

    /// OpenAI baselines, `baselines/common/cg.py`, `cg(f_Ax, b, cg_iters=10, residual_tol=1e-10)`:
    /// x₀ = 0, at most `cg_iters` iterations, stop after an iteration when rᵀr < residual_tol
    /// (the squared norm; r₀ = b is not tested).
    public static func baselines(iterations: Int = 10, residualTolerance: Double = 1e-10) -> CGOptions {
        CGOptions(stoppingTest: .squaredResidualBelow(residualTolerance), maximumIterations: iterations,
                  start: .zero, testsInitialResidual: false)
    }

    /// Stable-Baselines3-contrib, `sb3_contrib/common/utils.py`, `conjugate_gradient_solver(
    /// matrix_vector_dot_fn, b, max_iter=10, residual_tol=1e-10)`, as `sb3_contrib/trpo/trpo.py`
    /// calls it (`max_iter=cg_max_steps`, 15 by default): x₀ = 1e-4·randn, r₀ = b − A·x₀, return
    /// x₀ if r₀ᵀr₀ < residual_tol, otherwise at most `max_iter` iterations, stopping when
    /// rᵀr < residual_tol. (SB3 skips the residual update after the last iteration; here it is
    /// computed anyway, for the report, which does not change x.)
    public static func stableBaselines3(iterations: Int = 15, residualTolerance: Double = 1e-10,
                                        startScale: Double = 1e-4, seed: UInt64) -> CGOptions {
        CGOptions(stoppingTest: .squaredResidualBelow(residualTolerance), maximumIterations: iterations,
                  start: .seededGaussian(scale: startScale, seed: seed), testsInitialResidual: true)
    }

    /// SciPy, `scipy/sparse/linalg/_isolve/iterative.py`, `cg(A, b, x0=None, rtol=1e-5, atol=0.,
    /// maxiter=None)`: x₀ = 0, stop before an iteration when ‖r‖ < max(rtol·‖b‖, atol), at most
    /// `maxiter` iterations (10·n when None). (After `maxiter` iterations SciPy reports failure
    /// without testing the last residual; here it is tested, so the iterations taken are the
    /// same and a run that converged on its last iteration is reported as converged.)
    public static func scipy(rtol: Double = 1e-5, atol: Double = 0, maximumIterations: Int? = nil) -> CGOptions {
        CGOptions(stoppingTest: .residualNorm(relative: rtol, absolute: atol), maximumIterations: maximumIterations,
                  start: .zero, testsInitialResidual: true)
    }

    /// Throws `SolverError.invalidArgument` for a negative or non-finite tolerance, a negative
    /// iteration count, or a non-finite start scale; returns the iteration limit for dimension n.
    func validatedIterationLimit(dimension n: Int) throws -> Int {
        switch stoppingTest {
        case .squaredResidualBelow(let threshold):
            if !(threshold >= 0 && threshold.isFinite) {
                throw SolverError.invalidArgument(name: "squaredResidualBelow", value: "\(threshold)", expected: "finite and at least 0")
            }
        case .residualNorm(let relative, let absolute):
            if !(relative >= 0 && relative.isFinite) {
                throw SolverError.invalidArgument(name: "relative tolerance", value: "\(relative)", expected: "finite and at least 0")
            }
            if !(absolute >= 0 && absolute.isFinite) {
                throw SolverError.invalidArgument(name: "absolute tolerance", value: "\(absolute)", expected: "finite and at least 0")
            }
        }
        if case .seededGaussian(let scale, _) = start, !scale.isFinite {
            throw SolverError.invalidArgument(name: "start scale", value: "\(scale)", expected: "finite")
        }
        guard let limit = maximumIterations else {
            let (tenTimes, overflow) = n.multipliedReportingOverflow(by: 10)
            return overflow ? Int.max : tenTimes
        }
        if limit < 0 { throw SolverError.invalidArgument(name: "maximumIterations", value: "\(limit)", expected: "at least 0") }
        return limit
    }

    /// Whether the stopping test accepts a residual with squared norm `squaredResidual`.
    public func accepts(squaredResidual: Double, rightHandSideNorm: Double) -> Bool {
        switch stoppingTest {
        case .squaredResidualBelow(let threshold):
            return squaredResidual < threshold
        case .residualNorm(let relative, let absolute):
            return squaredResidual.squareRoot() < max(relative * rightHandSideNorm, absolute)
        }
    }

    /// The outcome that ends a run before iteration `iterations` (see the loop above), or nil to
    /// go on: the stopping decision, written once for `conjugateGradient` and the reference.
    func stop(squaredResidual: Double, rightHandSideNorm: Double, iterations: Int, limit: Int) -> CGOutcome? {
        if squaredResidual == 0 || (iterations > 0 || testsInitialResidual) && accepts(squaredResidual: squaredResidual, rightHandSideNorm: rightHandSideNorm) {
            return .converged
        }
        return iterations == limit ? .reachedMaximumIterations : nil
    }

    /// The values of a seeded start, in Double (see `Start.seededGaussian`); empty for the others.
    func seededStart(count: Int) -> [Double] {
        guard case .seededGaussian(let scale, let seed) = start else { return [] }
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in scale * generator.nextGaussian() }
    }
}

/// How a conjugate-gradient run ended. In every case the solution buffer holds finite values.
public enum CGOutcome: Sendable, Equatable, CustomStringConvertible {
    /// The stopping test accepted the recurrence residual; x is the last iterate.
    case converged
    /// The iteration limit came first; x is the last iterate (what baselines and SB3 return).
    case reachedMaximumIterations
    /// pᵀA·p ≤ 0 for a direction p: A is not positive definite (or not symmetric). x is the last
    /// iterate before that direction.
    case notPositiveDefinite(curvature: Double)
    /// rᵀM⁻¹r ≤ 0: the preconditioner is not positive definite. x is the last iterate.
    case preconditionerNotPositiveDefinite(value: Double)
    /// b = 0: x = 0 is the exact solution, returned after no iteration.
    case zeroRightHandSide
    /// A NaN or infinity appeared; x is set to zero (nothing computed is usable).
    case nonFinite(NonFiniteValue)

    /// Where a NaN or infinity was found.
    public enum NonFiniteValue: String, Sendable, Equatable {
        /// b itself (bᵀb is not finite).
        case rightHandSide = "right-hand side b"
        /// r₀ = b − A·x₀: in A, or in the given x₀.
        case startingResidual = "starting residual b - A x0"
        /// pᵀA·p: in A (or an overflow).
        case curvature = "curvature pT A p"
        /// rᵀM⁻¹r: in the preconditioner.
        case preconditionedResidual = "preconditioned residual rT M^-1 r"
        /// rᵀr after an update (an overflow).
        case residual = "residual rT r"
    }

    /// Whether x is an accepted solution.
    public var hasConverged: Bool { self == .converged || self == .zeroRightHandSide }

    public var description: String {
        switch self {
        case .converged: return "converged"
        case .reachedMaximumIterations: return "reached the iteration limit"
        case .notPositiveDefinite(let curvature): return "not positive definite: pT A p = \(curvature)"
        case .preconditionerNotPositiveDefinite(let value): return "preconditioner not positive definite: rT M^-1 r = \(value)"
        case .zeroRightHandSide: return "zero right-hand side: x = 0"
        case .nonFinite(let value): return "NaN or infinity in the \(value.rawValue)"
        }
    }
}

/// What a conjugate-gradient run did. The solution itself is in the caller's buffer.
public struct CGReport: Sendable, Equatable {
    public var outcome: CGOutcome
    /// Iterations taken: updates of x, one product A·p each.
    public var iterations: Int
    /// Products A·v computed: the iterations, plus one for r₀ = b − A·x₀ from a non-zero start.
    public var products: Int
    /// ‖r‖₂ of the recurrence residual at exit (not recomputed from x; see `relativeResidual`).
    public var residualNorm: Double
    /// ‖r₀‖₂.
    public var initialResidualNorm: Double
    /// ‖b‖₂.
    public var rightHandSideNorm: Double
}

/// An argument a solver cannot work with: a programming error, reported before any work.
public enum SolverError: Error, CustomStringConvertible, Equatable {
    case invalidArgument(name: String, value: String, expected: String)
    case dimensionMismatch(name: String, count: Int, expected: Int)

    public var description: String {
        switch self {
        case .invalidArgument(let name, let value, let expected): return "\(name) = \(value): expected \(expected)"
        case .dimensionMismatch(let name, let count, let expected): return "\(name) has \(count) values: expected \(expected)"
        }
    }
}
