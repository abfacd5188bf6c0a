import Foundation

// The error model of conjugate gradient, as plain functions on Double vectors.
//
// Notation: T the variant's type with unit roundoff u_T (Float 2⁻²⁴ ≈ 6.0e-8, Double 2⁻⁵³ ≈
// 1.1e-16); A, b, x* the exact system in Double; A_T = A + E, b_T = b + e what the variant is
// given (rounded to T); x̂ its answer; r̂ = b_T − A_T·x̂ recomputed in Double from x̂ (not CG's
// recurrence); κ = λ_max/λ_min.
//
// 1. Attainable residual. CG's recurrence residual r_k is not b − A·x_k: every update rounds,
//    and the gap f_k = (b_T − A_T·x_k) − r_k grows by about u_T·(m + 2)·|A||x_j| per iteration j
//    (m nonzeros per row of A; Greenbaum, "Estimating the attainable accuracy of recursively
//    computed residual methods", SIMAX 18(3), 1997, eq. 2.3 and Thm 2.1):
//        ‖f_k‖ ≤ u_T·(k + m + 2)·‖A‖·max_{j≤k}‖x_j‖ (to first order),
//    and from x₀ = 0 the CG iterates' norms grow monotonically to ‖x*‖. Once r_k is small the
//    true residual levels off at ‖f_k‖, so the relative residual a correct CG in T can reach is
//        ρ_floor = u_T·(k + m + 2)·‖A‖·‖x̂‖/‖b‖,
//    usually about √k times u_T·‖A‖‖x̂‖/‖b‖ in practice (the roundings do not all align).
//    For the Poisson problem (‖A‖ < 8, ‖b‖ ≈ 4.5‖x*‖ for uniform x*, m = 5): u·‖A‖‖x‖/‖b‖ ≈
//    1.8·u_T, so Double reaches ~1e-14 whatever the iteration count; Float reaches ~1e-7·√k to
//    1e-7·k: rtol = 1e-5 (SciPy's default) is attainable in Float for k up to about 10², rtol = 1e-8
//    is not attainable in Float at all. `attainableRelativeResidual` computes ρ_floor; a test of a
//    variant accepts ‖r̂‖/‖b‖ ≤ tol + ρ_floor.
//
// 2. Forward error. A_T(x̂ − x*) = e − E·x* − r̂ exactly, so
//        ‖x̂ − x*‖ ≤ (‖r̂‖ + ‖e‖ + ‖E‖‖x*‖) / (λ_min − ‖E‖)
//    and, relative, with ‖b‖ ≤ λ_max‖x*‖, about κ·(‖r̂‖/‖b‖ + ‖e‖/‖b‖ + ‖E‖/λ_max): "κ·tol plus
//    rounding". ‖E‖₂ ≤ ‖E‖_F ≤ u_T‖A‖_F when A is rounded to T (0 for the Poisson matrix, whose
//    entries are exact); ‖e‖ ≤ u_T‖b‖ plus the rounding of b = A·x* itself (γ_m‖|A||x*|‖).
//    `forwardErrorBound` evaluates the first form.
//
// 3. Convergence. In exact arithmetic ‖x_k − x*‖_A ≤ 2·((√κ − 1)/(√κ + 1))^k·‖x₀ − x*‖_A
//    (Saad, Iterative Methods, Thm 6.29); in floating point CG follows it (or does better, on
//    clustered spectra) until the error reaches the floor of 2. `cgConvergenceBound` evaluates
//    the factor; `iterationsForConvergenceBound` inverts it.

/// ‖b − A·x‖₂/‖b‖₂ with A·x by `product` in Double (a reference product: `denseProductReference`,
/// `poissonProductReference`): the true relative residual, not CG's recurrence. 0 when b = 0 and
/// x = 0; infinity when b = 0 and A·x ≠ 0.
/// - Complexity: one product and 4n flops. - Error: the product's, γ_m·|A||x| in Double.
public func relativeResidual(product: ([Double]) -> [Double], b: [Double], x: [Double]) -> Double {
    let ax = product(x)
    var residual = 0.0, norm = 0.0
    for i in 0..<b.count {
        let difference = b[i] - ax[i]
        residual += difference * difference
        norm += b[i] * b[i]
    }
    if residual == 0 { return 0 }
    return (residual / norm).squareRoot()
}

/// ‖x − x*‖₂/‖x*‖₂ in Double (the absolute error ‖x − x*‖₂ when x* = 0).
/// - Complexity: 4n flops. - Error: a few u of Double, relative.
public func forwardError(_ x: [Double], solution xStar: [Double]) -> Double {
    var error = 0.0, norm = 0.0
    for i in 0..<x.count {
        error += (x[i] - xStar[i]) * (x[i] - xStar[i])
        norm += xStar[i] * xStar[i]
    }
    return norm == 0 ? error.squareRoot() : (error / norm).squareRoot()
}

/// The energy norm of the error, ‖x − x*‖_A = √((x − x*)ᵀA(x − x*)), with A by `product` in Double.
/// - Complexity: one product and 5n flops. - Error: γ_m·‖A‖·‖x − x*‖² inside the root, so
///   accurate while ‖x − x*‖_A ≫ √(u·‖A‖)·‖x − x*‖.
public func energyNormError(product: ([Double]) -> [Double], x: [Double], solution xStar: [Double]) -> Double {
    let error = zip(x, xStar).map { $0 - $1 }
    let aError = product(error)
    var energy = 0.0
    for i in 0..<error.count { energy += error[i] * aError[i] }
    return max(0, energy).squareRoot()
}

/// 2·((√κ − 1)/(√κ + 1))^k: the bound on ‖x_k − x*‖_A/‖x₀ − x*‖_A after k iterations of CG on a
/// matrix with condition number κ (exact arithmetic).
/// - Complexity: O(1). - Error: a few ulps.
public func cgConvergenceBound(conditionNumber kappa: Double, iterations k: Int) -> Double {
    let root = kappa.squareRoot()
    return 2 * pow((root - 1) / (root + 1), Double(k))
}

/// The fewest iterations k with `cgConvergenceBound(κ, k)` ≤ `reduction`: ⌈ln(2/ε)/ln((√κ+1)/(√κ−1))⌉,
/// about (√κ/2)·ln(2/ε). 0 when ε ≥ 2; 1 when κ = 1 (A = cI: one step is exact).
/// - Complexity: O(1).
public func iterationsForConvergenceBound(conditionNumber kappa: Double, reduction epsilon: Double) -> Int {
    if epsilon >= 2 { return 0 }
    if kappa <= 1 { return 1 }
    let root = kappa.squareRoot()
    return Int((log(2 / epsilon) / log((root + 1) / (root - 1))).rounded(.up))
}

/// ρ_floor = u·(k + m + 2)·‖A‖·‖x‖/‖b‖: the relative residual below which a correct CG in a type
/// with unit roundoff u cannot be expected to go after k iterations (see the notes above).
/// - Parameters: `unitRoundoff` u (Float 2⁻²⁴, Double 2⁻⁵³); `matrixNorm` ‖A‖₂ or an upper bound
///   (‖A‖_F); `nonzerosPerRow` m (n for a dense matrix, 5 for the stencil).
/// - Complexity: O(1).
public func attainableRelativeResidual(unitRoundoff u: Double, iterations k: Int, nonzerosPerRow m: Int,
                                       matrixNorm: Double, solutionNorm: Double, rightHandSideNorm: Double) -> Double {
    u * Double(k + m + 2) * matrixNorm * solutionNorm / rightHandSideNorm
}

/// (‖r̂‖ + ‖e‖ + ‖E‖‖x*‖)/((λ_min − ‖E‖)·‖x*‖): the bound on ‖x̂ − x*‖/‖x*‖ from the recomputed
/// residual (see the notes above). Infinity when ‖E‖ ≥ λ_min (A_T may be singular).
/// - Parameters: `residualNorm` ‖r̂‖ = ‖b_T − A_T x̂‖; `rightHandSidePerturbation` ‖e‖ = ‖b_T − b‖ (bound);
///   `matrixPerturbation` ‖E‖₂ = ‖A_T − A‖₂ (bound, 0 when exact); λ_min of the exact A; ‖x*‖.
/// - Complexity: O(1).
public func forwardErrorBound(residualNorm: Double, rightHandSidePerturbation: Double, matrixPerturbation: Double,
                              smallestEigenvalue: Double, solutionNorm: Double) -> Double {
    if matrixPerturbation >= smallestEigenvalue { return .infinity }
    return (residualNorm + rightHandSidePerturbation + matrixPerturbation * solutionNorm)
        / ((smallestEigenvalue - matrixPerturbation) * solutionNorm)
}
