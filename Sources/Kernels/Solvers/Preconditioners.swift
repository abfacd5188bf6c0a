import Foundation

/// Jacobi (diagonal) preconditioning: M = diag(A), z = D⁻¹·r, fused with rᵀz in one pass.
/// It pays on matrices whose diagonal varies (it makes the diagonal of D^{-1/2}AD^{-1/2} one);
/// on the Poisson matrix, whose diagonal is constant, it changes nothing but the scale.
///
/// - Complexity: n divisions at construction; per application 2n flops, 3n values streamed.
/// - Error: zᵢ = rᵢ·fl(1/dᵢ): two roundings per element.
public struct JacobiPreconditioner<Scalar: SolverScalar>: Preconditioner {
    public let dimension: Int
    private let inverseDiagonal: [Scalar]

    /// From the diagonal of A (n values).
    /// - Throws: `SolverError.invalidArgument` naming the first entry that is not positive and
    ///   finite (no SPD matrix has one).
    public init(diagonal: [Scalar]) throws {
        var inverse = [Scalar](repeating: 0, count: diagonal.count)
        for (i, value) in diagonal.enumerated() {
            if !(value > 0 && value.isFinite) {
                throw SolverError.invalidArgument(name: "diagonal[\(i)]", value: "\(value)", expected: "positive and finite (A symmetric positive definite)")
            }
            inverse[i] = 1 / value
        }
        dimension = diagonal.count
        inverseDiagonal = inverse
    }

    /// From the diagonal of the row-major n × n matrix at `a` with leading dimension `ld`.
    /// - Throws: as `init(diagonal:)`, and for n < 0 or ld < n.
    public init(matrix a: UnsafePointer<Scalar>, dimension n: Int, ld: Int) throws {
        try checkDenseShape(dimension: n, ld: ld)
        try self.init(diagonal: (0..<n).map { a[$0 * ld + $0] })
    }

    /// z ← D⁻¹·r; returns rᵀz.
    public func apply(_ r: UnsafePointer<Scalar>, into z: UnsafeMutablePointer<Scalar>, threads: Int) -> Double {
        inverseDiagonal.withUnsafeBufferPointer { inverse in
            Scalar.solverDiagonalScale(r, by: inverse.baseAddress!, into: z, count: dimension, threads: threads)
        }
    }
}

/// Symmetric successive over-relaxation (SSOR) for the 2-D Poisson matrix A = L + D + Lᵀ
/// (D = 4I, L the left and upper neighbors' −1 entries, natural row-major order):
///
///     M = (D + ωL)·D⁻¹·(D + ωLᵀ) / (ω(2 − ω)),   0 < ω < 2
///
/// applied as z = ω(2−ω)·(D + ωLᵀ)⁻¹·D·(D + ωL)⁻¹·r: a forward sweep
/// yᵢⱼ = rᵢⱼ/4 + (ω/4)(yᵢ,ⱼ₋₁ + yᵢ₋₁,ⱼ), then a backward one
/// zᵢⱼ = ω(2−ω)·yᵢⱼ + (ω/4)(zᵢ,ⱼ₊₁ + zᵢ₊₁,ⱼ), in place in z, with rᵀz summed on the way. M is
/// symmetric positive definite for 0 < ω < 2. With ω near 2/(1 + sin(πh)) it brings κ(M⁻¹A) from
/// O(h⁻²) to O(h⁻¹): on 400² SciPy's CG needs 792 iterations to rtol 1e-8 unpreconditioned and
/// 71 with it (measured with SciPy's triangular solves, see `reference/solvers/`).
///
/// The sweeps are recurrences along each row (each value needs its left or right neighbor's new
/// value), so they run on one thread, latency-bound: about one fused multiply-add latency per
/// unknown and sweep.
///
/// - Complexity: per application about 10n flops, 3n values streamed, 2 sequential sweeps.
/// - Error: each zᵢⱼ comes from a short recurrence, a few roundings per step; M⁻¹ is applied
///   to working accuracy, and CG only needs M symmetric positive definite, not exact.
public struct PoissonSSORPreconditioner<Scalar: SolverScalar>: Preconditioner {
    public let grid: PoissonGrid
    public let omega: Double

    /// - Parameter omega: the relaxation factor, in (0, 2); by default
    ///   `PoissonSSORPreconditioner.defaultOmega(grid)`.
    /// - Throws: `SolverError.invalidArgument` for ω outside (0, 2).
    public init(grid: PoissonGrid, omega: Double? = nil) throws {
        let omega = omega ?? Self.defaultOmega(grid)
        if !(omega > 0 && omega < 2) { throw SolverError.invalidArgument(name: "omega", value: "\(omega)", expected: "in (0, 2)") }
        self.grid = grid
        self.omega = omega
    }

    /// ω = 2/(1 + sin(πh)) with h = 1/(N + 1), N the larger side: SOR's optimal factor, close to
    /// the best for SSOR preconditioning (measured on N² grids, N = 100, 200, 400: within 10% of
    /// the fewest iterations over ω ∈ {1, 1.5, 1.7, 1.8, 1.9}).
    public static func defaultOmega(_ grid: PoissonGrid) -> Double {
        2 / (1 + sin(Double.pi / Double(max(grid.rows, grid.columns) + 1)))
    }

    public var dimension: Int { grid.count }

    /// z ← M⁻¹·r; returns rᵀz. One thread, whatever `threads` is (the sweeps are sequential).
    public func apply(_ r: UnsafePointer<Scalar>, into z: UnsafeMutablePointer<Scalar>, threads: Int) -> Double {
        Scalar.solverStencilSSOR(grid, omega: Scalar(omega), r, into: z)
    }
}

/// z ← M_SSOR⁻¹·r on the Poisson grid, returning rᵀz (see `PoissonSSORPreconditioner`).
func stencilSSOR<T: SolverScalar>(_ grid: PoissonGrid, omega: T, _ r: UnsafePointer<T>, into z: UnsafeMutablePointer<T>) -> Double {
    let (rows, columns) = (grid.rows, grid.columns)
    let coupling = omega / 4, scale = omega * (2 - omega), quarter: T = 0.25
    // Forward: (D + ωL)·y = r, y in z.
    for i in 0..<rows {
        let row = z + i * columns, residual = r + i * columns
        var previous: T = 0
        if i == 0 {
            for j in 0..<columns {
                previous = (residual[j] * quarter).addingProduct(coupling, previous)
                row[j] = previous
            }
        } else {
            let above = row - columns
            for j in 0..<columns {
                previous = (residual[j] * quarter).addingProduct(coupling, above[j]).addingProduct(coupling, previous)
                row[j] = previous
            }
        }
    }
    // Backward: (D + ωLᵀ)·v = D·y, z = ω(2−ω)·v, folded as z = ω(2−ω)·y + (ω/4)(right + below).
    var total = 0.0
    for i in stride(from: rows - 1, through: 0, by: -1) {
        let row = z + i * columns, residual = r + i * columns
        var next: T = 0, rowSum: T = 0
        if i == rows - 1 {
            for j in stride(from: columns - 1, through: 0, by: -1) {
                next = (row[j] * scale).addingProduct(coupling, next)
                row[j] = next
                rowSum = rowSum.addingProduct(residual[j], next)
            }
        } else {
            let below = row + columns
            for j in stride(from: columns - 1, through: 0, by: -1) {
                next = (row[j] * scale).addingProduct(coupling, below[j]).addingProduct(coupling, next)
                row[j] = next
                rowSum = rowSum.addingProduct(residual[j], next)
            }
        }
        total += Double(rowSum)
    }
    return total
}
