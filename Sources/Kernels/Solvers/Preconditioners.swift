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
///
/// Each sweep is a recurrence along every row (a value needs its left, or right, neighbor's new
/// value: one fused multiply-add of latency per unknown), so four rows run at once as a wavefront,
/// each a column behind the row before it, whose new value it takes as its neighbor above (or
/// below) from a register: four independent chains. Measured on 1000² (Double), one application
/// took 2.26 ms a row at a time, 1.25 ms as a wavefront of four rows, and 1.08 ms once the steps
/// where all four rows are inside the grid ran without bounds tests.
func stencilSSOR<T: SolverScalar>(_ grid: PoissonGrid, omega: T, _ r: UnsafePointer<T>, into z: UnsafeMutablePointer<T>) -> Double {
    let (rows, columns) = (grid.rows, grid.columns)
    let coupling = omega / 4, scale = omega * (2 - omega)
    return withUnsafeTemporaryAllocation(of: T.self, capacity: columns) { zeroRow in
        zeroFill(zeroRow.baseAddress!, count: columns)
        let zeros = UnsafePointer(zeroRow.baseAddress!)
        // Forward: (D + ωL)·y = r, y in z, four rows at a time from the top.
        var first = 0
        while first < rows {
            ssorForwardRows(z, r, first: first, count: min(ssorWavefront, rows - first), columns: columns,
                            above: first > 0 ? UnsafePointer(z + (first - 1) * columns) : zeros, coupling: coupling)
            first += ssorWavefront
        }
        // Backward: (D + ωLᵀ)·v = D·y, z = ω(2−ω)·v, folded as z = ω(2−ω)·y + (ω/4)(right + below),
        // four rows at a time from the bottom.
        var total = 0.0, last = rows - 1
        while last >= 0 {
            total += ssorBackwardRows(z, r, last: last, count: min(ssorWavefront, last + 1), columns: columns,
                                      below: last + 1 < rows ? UnsafePointer(z + (last + 1) * columns) : zeros, coupling: coupling, scale: scale)
            last -= ssorWavefront
        }
        return total
    }
}

/// Rows per wavefront of the SSOR sweeps: four chains cover the latency of a fused multiply-add.
let ssorWavefront = 4

/// Runs `advance(step, everyRowActive)` for the steps of a wavefront of `count` rows over
/// `columns` columns: the steps where all four rows are inside the grid with `everyRowActive`
/// true, so that their loop carries no bounds tests.
@inline(__always)
func forEachWavefrontStep(count: Int, columns: Int, _ advance: (Int, Bool) -> Void) {
    let steps = columns + count - 1
    var step = 0
    if count == ssorWavefront && columns >= ssorWavefront {
        while step < ssorWavefront - 1 { advance(step, false); step += 1 }
        while step < columns { advance(step, true); step += 1 }
    }
    while step < steps { advance(step, false); step += 1 }
}

/// The forward sweep yᵢⱼ = rᵢⱼ/4 + (ω/4)(yᵢ,ⱼ₋₁ + yᵢ₋₁,ⱼ) on rows first..<first+count (count ≤ 4),
/// `above` the finished row first−1 (or zeros): at step s, row first+k computes column s − k.
@inline(never)
func ssorForwardRows<T: SolverScalar>(_ z: UnsafeMutablePointer<T>, _ r: UnsafePointer<T>, first: Int, count: Int, columns: Int,
                                      above: UnsafePointer<T>, coupling: T) {
    let quarter: T = 0.25
    let row0 = z + first * columns, row1 = row0 + columns, row2 = row1 + columns, row3 = row2 + columns
    let offset = first * columns
    // Each row's value left of its current column, and what rows 0, 1, 2 of the wavefront computed
    // at the last step: the value above rows 1, 2, 3's current column.
    var left0: T = 0, left1: T = 0, left2: T = 0, left3: T = 0
    var up1: T = 0, up2: T = 0, up3: T = 0
    @inline(__always) func value(_ residual: T, up: T, left: T) -> T {
        (residual * quarter).addingProduct(coupling, up).addingProduct(coupling, left)
    }
    forEachWavefrontStep(count: count, columns: columns) { step, everyRowActive in
        if count > 3, everyRowActive || (step >= 3 && step - 3 < columns) {
            left3 = value(r[offset + 3 * columns + step - 3], up: up3, left: left3)
            row3[step - 3] = left3
        }
        if count > 2, everyRowActive || (step >= 2 && step - 2 < columns) {
            left2 = value(r[offset + 2 * columns + step - 2], up: up2, left: left2)
            row2[step - 2] = left2
            up3 = left2
        }
        if count > 1, everyRowActive || (step >= 1 && step - 1 < columns) {
            left1 = value(r[offset + columns + step - 1], up: up1, left: left1)
            row1[step - 1] = left1
            up2 = left1
        }
        if everyRowActive || step < columns {
            left0 = value(r[offset + step], up: above[step], left: left0)
            row0[step] = left0
            up1 = left0
        }
    }
}

/// The backward sweep zᵢⱼ = ω(2−ω)·yᵢⱼ + (ω/4)(zᵢ,ⱼ₊₁ + zᵢ₊₁,ⱼ) in place on rows
/// last−count+1...last (count ≤ 4), `below` the finished row last+1 (or zeros), returning
/// Σ rᵢⱼzᵢⱼ over them: at step s, row last−k computes column columns−1−(s − k).
@inline(never)
func ssorBackwardRows<T: SolverScalar>(_ z: UnsafeMutablePointer<T>, _ r: UnsafePointer<T>, last: Int, count: Int, columns: Int,
                                       below: UnsafePointer<T>, coupling: T, scale: T) -> Double {
    // Row k of the wavefront (row last − k) at the column `step − k` from the right: its index
    // from `end`, the last element of row `last`, is −(k·columns + step − k).
    let end = last * columns + columns - 1
    var right0: T = 0, right1: T = 0, right2: T = 0, right3: T = 0
    var down1: T = 0, down2: T = 0, down3: T = 0
    var sum0: T = 0, sum1: T = 0, sum2: T = 0, sum3: T = 0
    @inline(__always) func update(_ index: Int, down: T, right: inout T, sum: inout T) {
        right = (z[index] * scale).addingProduct(coupling, down).addingProduct(coupling, right)
        z[index] = right
        sum = sum.addingProduct(r[index], right)
    }
    forEachWavefrontStep(count: count, columns: columns) { step, everyRowActive in
        if count > 3, everyRowActive || (step >= 3 && step - 3 < columns) {
            update(end - 3 * columns - (step - 3), down: down3, right: &right3, sum: &sum3)
        }
        if count > 2, everyRowActive || (step >= 2 && step - 2 < columns) {
            update(end - 2 * columns - (step - 2), down: down2, right: &right2, sum: &sum2)
            down3 = right2
        }
        if count > 1, everyRowActive || (step >= 1 && step - 1 < columns) {
            update(end - columns - (step - 1), down: down1, right: &right1, sum: &sum1)
            down2 = right1
        }
        if everyRowActive || step < columns {
            update(end - step, down: below[columns - 1 - step], right: &right0, sum: &sum0)
            down1 = right0
        }
    }
    return Double(sum0) + Double(sum1) + Double(sum2) + Double(sum3)
}
