/// Conjugate gradient (Hestenes–Stiefel) for A·x = b with A symmetric positive definite, over
/// any `LinearOperator`, optionally preconditioned:
///
///     r₀ = b − A·x₀;  k = 0
///     loop (stopping rules: `CGOptions`)
///       z = M⁻¹·r_k                   (z = r_k without a preconditioner)
///       ρ_k = r_kᵀz;  β = ρ_k/ρ_{k−1}  (β = 0 for k = 0)
///       p ← z + β·p;  s = pᵀA·p        breakdown when s ≤ 0 (A not SPD)
///       α = ρ_k/s;  x ← x + α·p;  r ← r − α·A·p;  k += 1
///
/// The O(n) passes are the operator's (`conjugateGradientDirection`, `…Update`: fused where the
/// operator can), the preconditioner's, and the vector kernels of `SolverScalar`; the scalars
/// ρ, s, α, β and the norms are kept in Double.
///
/// - Parameters:
///   - a: the operator; n = `a.dimension`.
///   - b: n values.
///   - x: n values; read only for `.given` starts; on return the solution, or the last iterate
///     (see `CGOutcome`), never NaN or infinity.
///   - options: stopping rule and start (default SciPy's: rtol 1e-5, at most 10·n iterations).
///   - threads: threads the passes may use (each pass decides how many are worth it for n).
/// - Returns: the outcome, iterations, products and residual norms.
/// - Throws: `SolverError` for mismatched sizes, `threads < 1` or invalid options; nothing else:
///   numerical trouble (indefinite A, NaN, zero b, non-convergence) is the report's outcome.
/// - Complexity: per iteration one product A·p and 10n flops; the default steps stream 11n values
///   besides the product (`LinearOperator`), `PoissonStencil2D`'s 8n in all; workspace 3n values
///   (4n preconditioned), allocated per call.
/// - Error: see `CGErrorModel.swift`: the true residual b − A·x̂ differs from the recurrence's
///   by O(k·u·‖A‖·max‖x_j‖) (Greenbaum); the forward error is at most κ(A) times the relative
///   residual.
public func conjugateGradient<Operator: LinearOperator>(
    _ a: Operator, b: UnsafeBufferPointer<Operator.Scalar>, x: UnsafeMutableBufferPointer<Operator.Scalar>,
    options: CGOptions = .scipy(), threads: Int = 1
) throws -> CGReport {
    try runConjugateGradient(a, preconditioner: nil as IdentityPreconditioner<Operator.Scalar>?, b: b, x: x, options: options, threads: threads)
}

/// Preconditioned conjugate gradient: `conjugateGradient(_:b:x:options:threads:)` with z = M⁻¹·r
/// from `preconditioner` (symmetric positive definite; `preconditionerNotPositiveDefinite` when
/// rᵀM⁻¹r ≤ 0). The stopping test still applies to the unpreconditioned residual r, as SciPy's.
///
/// - Complexity: as unpreconditioned, plus one application of M⁻¹ per iteration.
public func conjugateGradient<Operator: LinearOperator, Precondition: Preconditioner>(
    _ a: Operator, preconditioner: Precondition,
    b: UnsafeBufferPointer<Operator.Scalar>, x: UnsafeMutableBufferPointer<Operator.Scalar>,
    options: CGOptions = .scipy(), threads: Int = 1
) throws -> CGReport where Precondition.Scalar == Operator.Scalar {
    try runConjugateGradient(a, preconditioner: preconditioner, b: b, x: x, options: options, threads: threads)
}

/// M = I: z ← r, returning rᵀr. Unpreconditioned CG does not call it (it uses r as z).
public struct IdentityPreconditioner<Scalar: SolverScalar>: Preconditioner {
    public let dimension: Int

    /// M = I on vectors of `dimension` values.
    public init(dimension: Int) { self.dimension = dimension }

    /// z ← r; returns rᵀr.
    public func apply(_ r: UnsafePointer<Scalar>, into z: UnsafeMutablePointer<Scalar>, threads: Int) -> Double {
        copyValues(from: r, to: z, count: dimension)
        return Scalar.solverDot(r, r, count: dimension, threads: threads)
    }
}

/// Zeroes n values without generic per-element code (0.0 is all zero bits in IEEE 754).
func zeroFill<T>(_ x: UnsafeMutablePointer<T>, count: Int) {
    UnsafeMutableRawPointer(x).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<T>.stride)
}

/// Copies n values as bytes (memcpy), without generic per-element code.
func copyValues<T>(from source: UnsafePointer<T>, to destination: UnsafeMutablePointer<T>, count: Int) {
    UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * MemoryLayout<T>.stride)
}

func runConjugateGradient<Operator: LinearOperator, Precondition: Preconditioner>(
    _ a: Operator, preconditioner: Precondition?,
    b: UnsafeBufferPointer<Operator.Scalar>, x: UnsafeMutableBufferPointer<Operator.Scalar>,
    options: CGOptions, threads: Int
) throws -> CGReport where Precondition.Scalar == Operator.Scalar {
    typealias T = Operator.Scalar
    let n = a.dimension
    if threads < 1 { throw SolverError.invalidArgument(name: "threads", value: "\(threads)", expected: "at least 1") }
    if b.count != n { throw SolverError.dimensionMismatch(name: "b", count: b.count, expected: n) }
    if x.count != n { throw SolverError.dimensionMismatch(name: "x", count: x.count, expected: n) }
    if let preconditioner, preconditioner.dimension != n {
        throw SolverError.dimensionMismatch(name: "preconditioner", count: preconditioner.dimension, expected: n)
    }
    let limit = try options.validatedIterationLimit(dimension: n)
    guard let bBase = b.baseAddress, let xBase = x.baseAddress, n > 0 else {
        return CGReport(outcome: .zeroRightHandSide, iterations: 0, products: 0, residualNorm: 0, initialResidualNorm: 0, rightHandSideNorm: 0)
    }

    let bb = T.solverDot(bBase, bBase, count: n, threads: threads)
    let bNorm = bb.squareRoot()
    var report = CGReport(outcome: .converged, iterations: 0, products: 0, residualNorm: bNorm, initialResidualNorm: bNorm, rightHandSideNorm: bNorm)
    func fail(_ value: CGOutcome.NonFiniteValue) -> CGReport {
        zeroFill(xBase, count: n)
        report.outcome = .nonFinite(value)
        return report
    }
    if !bb.isFinite { return fail(.rightHandSide) }
    if bb == 0 {
        zeroFill(xBase, count: n)
        report.outcome = .zeroRightHandSide
        return report
    }

    // Workspace: r, p, q, and z when preconditioned; every value is written before it is read.
    let vectors = preconditioner == nil ? 3 : 4
    let (total, overflow) = n.multipliedReportingOverflow(by: vectors * MemoryLayout<T>.stride)
    if overflow { throw SolverError.invalidArgument(name: "dimension", value: "\(n)", expected: "small enough for \(vectors) work vectors") }
    let raw = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 64)
    defer { raw.deallocate() }
    let workspace = raw.bindMemory(to: T.self, capacity: vectors * n)
    let r = workspace, p = workspace + n, q = workspace + 2 * n
    let z = preconditioner == nil ? r : workspace + 3 * n

    var rr: Double
    switch options.start {
    case .zero:
        zeroFill(xBase, count: n)
        copyValues(from: bBase, to: r, count: n)
        rr = bb
    case .given, .seededGaussian:
        if case .seededGaussian = options.start {
            for (i, value) in options.seededStart(count: n).enumerated() { xBase[i] = T(value) }
        }
        a.apply(xBase, into: q, threads: threads)
        report.products = 1
        rr = T.solverResidual(bBase, product: q, residual: r, count: n, threads: threads)
    }
    if !rr.isFinite { return fail(.startingResidual) }
    report.initialResidualNorm = rr.squareRoot()

    var previousRho = 0.0
    while true {
        report.residualNorm = rr.squareRoot()
        if let outcome = options.stop(squaredResidual: rr, rightHandSideNorm: bNorm, iterations: report.iterations, limit: limit) {
            report.outcome = outcome
            return report
        }
        var rho = rr
        if let preconditioner {
            rho = preconditioner.apply(r, into: z, threads: threads)
            if !rho.isFinite { return fail(.preconditionedResidual) }
            if rho <= 0 {
                report.outcome = .preconditionerNotPositiveDefinite(value: rho)
                return report
            }
        }
        let beta = report.iterations == 0 ? 0 : rho / previousRho
        let curvature = a.conjugateGradientDirection(from: z, beta: T(beta), direction: p, product: q, threads: threads)
        report.products += 1
        if !curvature.isFinite { return fail(.curvature) }
        if curvature <= 0 {
            report.outcome = .notPositiveDefinite(curvature: curvature)
            return report
        }
        rr = a.conjugateGradientUpdate(alpha: T(rho / curvature), direction: p, product: q, solution: xBase, residual: r, threads: threads)
        report.iterations += 1
        if !rr.isFinite { return fail(.residual) }
        previousRho = rho
    }
}
