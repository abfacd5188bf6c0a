/// The reference: textbook Hestenes–Stiefel conjugate gradient in Double with plain loops,
/// written for obviousness, under the same `CGOptions` (stopping test, start, limit) and with the
/// same outcomes as `conjugateGradient`, so that iteration counts can be compared one to one.
///
///     x = x₀;  r = b − A·x;  (z = M⁻¹·r);  p = z;  ρ = rᵀz
///     repeat:  q = A·p;  α = ρ/(pᵀq);  x += α·p;  r −= α·q;
///              (z = M⁻¹·r);  ρ' = rᵀz;  p = z + (ρ'/ρ)·p;  ρ = ρ'
///
/// - Parameters:
///   - product: v ↦ A·v in Double (`denseProductReference`, `poissonProductReference`).
///   - preconditioner: r ↦ M⁻¹·r in Double, or nil.
///   - x: read for `.given` starts; on return as `conjugateGradient` leaves it.
/// - Complexity: per iteration one product and one preconditioner application, plus 10n flops
///   in unfused loops.
/// - Error: rounding of Double (u = 2⁻⁵³) in every dot product and update; see `CGErrorModel.swift`.
public func conjugateGradientReference(product: ([Double]) -> [Double], preconditioner: (([Double]) -> [Double])? = nil,
                                       b: [Double], x: inout [Double], options: CGOptions) throws -> CGReport {
    let n = b.count
    if x.count != n { throw SolverError.dimensionMismatch(name: "x", count: x.count, expected: n) }
    let limit = try options.validatedIterationLimit(dimension: n)

    func dot(_ u: [Double], _ v: [Double]) -> Double {
        var sum = 0.0
        for i in 0..<n { sum += u[i] * v[i] }
        return sum
    }

    let bNorm = dot(b, b).squareRoot()
    var report = CGReport(outcome: .converged, iterations: 0, products: 0, residualNorm: bNorm, initialResidualNorm: bNorm, rightHandSideNorm: bNorm)
    if !bNorm.isFinite {
        x = [Double](repeating: 0, count: n)
        report.outcome = .nonFinite(.rightHandSide)
        return report
    }
    if bNorm == 0 {
        x = [Double](repeating: 0, count: n)
        report.outcome = .zeroRightHandSide
        return report
    }

    var r = b
    switch options.start {
    case .zero:
        x = [Double](repeating: 0, count: n)
    case .given, .seededGaussian:
        if case .seededGaussian = options.start { x = options.seededStart(count: n) }
        let ax = product(x)
        report.products = 1
        for i in 0..<n { r[i] = b[i] - ax[i] }
    }
    var rr = dot(r, r)
    if !rr.isFinite {
        x = [Double](repeating: 0, count: n)
        report.outcome = .nonFinite(.startingResidual)
        return report
    }
    report.initialResidualNorm = rr.squareRoot()

    var p = [Double](repeating: 0, count: n)
    var previousRho = 0.0
    while true {
        report.residualNorm = rr.squareRoot()
        if let outcome = options.stop(squaredResidual: rr, rightHandSideNorm: bNorm, iterations: report.iterations, limit: limit) {
            report.outcome = outcome
            return report
        }
        let z = preconditioner?(r) ?? r
        let rho = dot(r, z)
        if !rho.isFinite {
            x = [Double](repeating: 0, count: n)
            report.outcome = .nonFinite(.preconditionedResidual)
            return report
        }
        if preconditioner != nil && rho <= 0 {
            report.outcome = .preconditionerNotPositiveDefinite(value: rho)
            return report
        }
        let beta = report.iterations == 0 ? 0 : rho / previousRho
        for i in 0..<n { p[i] = z[i] + beta * p[i] }
        let q = product(p)
        report.products += 1
        let curvature = dot(p, q)
        if !curvature.isFinite {
            x = [Double](repeating: 0, count: n)
            report.outcome = .nonFinite(.curvature)
            return report
        }
        if curvature <= 0 {
            report.outcome = .notPositiveDefinite(curvature: curvature)
            return report
        }
        let alpha = rho / curvature
        for i in 0..<n {
            x[i] += alpha * p[i]
            r[i] -= alpha * q[i]
        }
        rr = dot(r, r)
        report.iterations += 1
        if !rr.isFinite {
            x = [Double](repeating: 0, count: n)
            report.outcome = .nonFinite(.residual)
            return report
        }
        previousRho = rho
    }
}

/// v ↦ A·v for a row-major n × n matrix in Double, plain loops (the reference's product).
/// - Complexity: 2n² flops per call. - Error: γ_n·|A||v| elementwise.
public func denseProductReference(_ a: [Double], dimension n: Int) -> ([Double]) -> [Double] {
    if a.count != n * n { fatalError("denseProductReference: \(a.count) values for a \(n) × \(n) matrix") }
    return { v in
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var sum = 0.0
            for j in 0..<n { sum += a[i * n + j] * v[j] }
            y[i] = sum
        }
        return y
    }
}

/// v ↦ A·v for the 2-D Poisson matrix of `grid` in Double, plain loops over the five-point
/// stencil (the reference's product). - Complexity: 5n flops per call. - Error: γ₄·|A||v|.
public func poissonProductReference(_ grid: PoissonGrid) -> ([Double]) -> [Double] {
    let (rows, columns) = (grid.rows, grid.columns)
    return { v in
        var y = [Double](repeating: 0, count: grid.count)
        for i in 0..<rows {
            for j in 0..<columns {
                var value = 4 * v[i * columns + j]
                if i > 0 { value -= v[(i - 1) * columns + j] }
                if i + 1 < rows { value -= v[(i + 1) * columns + j] }
                if j > 0 { value -= v[i * columns + j - 1] }
                if j + 1 < columns { value -= v[i * columns + j + 1] }
                y[i * columns + j] = value
            }
        }
        return y
    }
}
