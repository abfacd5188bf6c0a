import Foundation
import SeededRandom

/// The eigenvalues of a dense symmetric positive definite test matrix, largest 1.
public enum SPDSpectrum: Sendable, Equatable, CustomStringConvertible {
    /// λᵢ = κ^(−i/(n−1)), i = 0…n−1: geometric from 1 down to 1/κ (κ = 10, 10³, 10⁶ in the suite).
    case geometric(conditionNumber: Double)
    /// `clusters` clusters whose centers are geometric from 1 down to 1/κ, n/clusters eigenvalues
    /// each (the first ones one more), each center·(1 + relativeWidth·uᵢ) with uᵢ seeded uniform
    /// in [−1, 1). CG converges in about as many iterations as there are clusters once the
    /// widths are resolved, far fewer than √κ suggests.
    case clustered(clusters: Int, conditionNumber: Double, relativeWidth: Double)

    public var description: String {
        switch self {
        case .geometric(let kappa): return "geometric-k\(kappa)"
        case .clustered(let clusters, let kappa, let width): return "clustered\(clusters)-k\(kappa)-w\(width)"
        }
    }

    /// The n eigenvalues, descending for `geometric`, by cluster for `clustered`.
    func eigenvalues(_ n: Int, using generator: inout SeededGenerator) throws -> [Double] {
        switch self {
        case .geometric(let kappa):
            if !(kappa >= 1 && kappa.isFinite) { throw SolverError.invalidArgument(name: "conditionNumber", value: "\(kappa)", expected: "finite and at least 1") }
            return (0..<n).map { n == 1 ? 1 : pow(kappa, -Double($0) / Double(n - 1)) }
        case .clustered(let clusters, let kappa, let width):
            if !(kappa >= 1 && kappa.isFinite) { throw SolverError.invalidArgument(name: "conditionNumber", value: "\(kappa)", expected: "finite and at least 1") }
            if clusters < 1 || clusters > max(1, n) { throw SolverError.invalidArgument(name: "clusters", value: "\(clusters)", expected: "in 1...\(max(1, n))") }
            if !(width >= 0 && width < 1) { throw SolverError.invalidArgument(name: "relativeWidth", value: "\(width)", expected: "in [0, 1)") }
            return (0..<n).map { i in
                let cluster = (0..<clusters).first { i < share(of: n, part: $0, parts: clusters).1 }!
                let center = clusters == 1 ? 1 : pow(kappa, -Double(cluster) / Double(clusters - 1))
                return center * (1 + width * generator.nextSigned())
            }
        }
    }
}

/// A dense symmetric positive definite system A·x* = b with A = Q·Λ·Qᵀ built in Double: Q from a
/// seeded Gaussian n × n matrix orthonormalized by Householder QR (`SVDScalar.orthonormalize`,
/// as the SVD family's test matrices), Λ from `spectrum`, the product on the GEMM engine, then
/// symmetrized exactly ((A + Aᵀ)/2); x* seeded Gaussian; b = A·x* in Double (GEMM engine).
///
/// κ(A) is known by construction up to the rounding of the construction (‖A − QΛQᵀ‖ ≈ n·u).
///
/// - Complexity: about 4n³ flops (QR, then one n × n × n product); n = 4096 takes seconds.
public struct SPDSystem: Sendable {
    public let dimension: Int
    /// A, row-major n × n, exactly symmetric.
    public let matrix: [Double]
    /// The eigenvalues Λ used to build A.
    public let eigenvalues: [Double]
    /// x*.
    public let solution: [Double]
    /// b = A·x*, in Double.
    public let rightHandSide: [Double]

    /// - Throws: `SolverError.invalidArgument` for n < 1 or a spectrum's invalid parameters,
    ///   `LAPACKError` if the QR fails.
    public init(dimension n: Int, spectrum: SPDSpectrum, seed: UInt64, threads: Int = 1) throws {
        if n < 1 { throw SolverError.invalidArgument(name: "dimension", value: "\(n)", expected: "at least 1") }
        var generator = SeededGenerator(seed: seed)
        var q = [Double].gaussian(count: n * n, using: &generator)
        try Double.orthonormalize(m: n, n: n, a: &q, threads: threads)
        let lambda = try spectrum.eigenvalues(n, using: &generator)
        let xStar = [Double].gaussian(count: n, using: &generator)
        var scaled = q
        for i in 0..<n { for j in 0..<n { scaled[i * n + j] *= lambda[j] } }
        var a = [Double](repeating: 0, count: n * n)
        scaled.withUnsafeBufferPointer { scaled in
            q.withUnsafeBufferPointer { q in
                gemm(m: n, n: n, k: n, alpha: 1.0, a: MatrixOperand(scaled.baseAddress!, ld: n),
                     b: MatrixOperand(q.baseAddress!, ld: n, transposed: true), beta: 0, c: &a, ldc: n, threads: threads)
            }
        }
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let mean = 0.5 * (a[i * n + j] + a[j * n + i])
                a[i * n + j] = mean
                a[j * n + i] = mean
            }
        }
        var b = [Double](repeating: 0, count: n)
        a.withUnsafeBufferPointer { a in
            xStar.withUnsafeBufferPointer { x in
                gemm(m: n, n: 1, k: n, alpha: 1.0, a: MatrixOperand(a.baseAddress!, ld: n),
                     b: MatrixOperand(x.baseAddress!, ld: 1), beta: 0, c: &b, ldc: 1, threads: threads)
            }
        }
        dimension = n
        matrix = a
        eigenvalues = lambda
        solution = xStar
        rightHandSide = b
    }

    /// λ_min and λ_max of Λ.
    public var extremeEigenvalues: (smallest: Double, largest: Double) { (eigenvalues.min()!, eigenvalues.max()!) }

    /// A bound on ‖A − Q·Λ·Qᵀ‖₂ from the construction's rounding, so that (Weyl) every eigenvalue
    /// of the stored A is within it of one in Λ: the product's γ_n·‖|QΛ||Qᵀ|‖₂ ≤ γ_n·n·λ_max (as
    /// ‖|Q|‖₂² ≤ ‖Q‖_F² = n), the scaling's u, and Q's departure from orthonormality after
    /// Householder QR (O(n·u), Higham Thm 19.4), together at most 2(n + 1)·u·n·λ_max.
    public var constructionError: Double {
        let n = Double(dimension)
        return 2 * (n + 1) * 0x1p-53 * n * extremeEigenvalues.largest
    }

    /// κ = λ_max/λ_min of Λ.
    public var conditionNumber: Double {
        let (smallest, largest) = extremeEigenvalues
        return largest / smallest
    }
}

/// The 2-D Poisson system A·x* = b on `grid` (`PoissonGrid`): x* seeded uniform in [−1, 1),
/// b = A·x* in Double by the reference stencil (each bᵢ within γ₄·(|A||x*|)ᵢ of exact).
///
/// - Complexity: O(n).
public struct PoissonSystem: Sendable {
    public let grid: PoissonGrid
    public let solution: [Double]
    public let rightHandSide: [Double]

    /// x* from `SeededGenerator(seed:)`'s `[Double].uniform`, b by `poissonProductReference`.
    public init(grid: PoissonGrid, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let xStar = [Double].uniform(count: grid.count, using: &generator)
        self.grid = grid
        solution = xStar
        rightHandSide = poissonProductReference(grid)(xStar)
    }
}
