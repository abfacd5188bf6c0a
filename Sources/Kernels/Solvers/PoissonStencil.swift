import Foundation

/// The grid of the 2-D Poisson problem −Δu = f on the unit square with homogeneous Dirichlet
/// boundaries, discretized by the 5-point stencil: `rows × columns` interior unknowns stored
/// row-major (unknown (i, j) at index i·columns + j). The matrix is the unscaled stencil
///
///     (A·u)ᵢⱼ = 4uᵢⱼ − uᵢ,ⱼ₋₁ − uᵢ,ⱼ₊₁ − uᵢ₋₁,ⱼ − uᵢ₊₁,ⱼ      (neighbors outside the grid are 0)
///
/// i.e. h²·(−Δ_h), the matrix SciPy users build as kron(I, T) + kron(T, I) with
/// T = tridiag(−1, 2, −1). Its eigenvalues are known: 4 − 2cos(kπ/(rows+1)) − 2cos(lπ/(columns+1)).
public struct PoissonGrid: Sendable, Equatable, CustomStringConvertible {
    public let rows: Int
    public let columns: Int
    /// rows·columns, the number of unknowns.
    public let count: Int

    /// - Throws: `SolverError.invalidArgument` unless both sizes are at least 1 and their product fits in Int.
    public init(rows: Int, columns: Int) throws {
        if rows < 1 { throw SolverError.invalidArgument(name: "rows", value: "\(rows)", expected: "at least 1") }
        if columns < 1 { throw SolverError.invalidArgument(name: "columns", value: "\(columns)", expected: "at least 1") }
        let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
        if overflow { throw SolverError.invalidArgument(name: "rows × columns", value: "\(rows) × \(columns)", expected: "a product that fits in Int") }
        self.rows = rows
        self.columns = columns
        self.count = count
    }

    /// The smallest and largest eigenvalues of A, exactly (up to the rounding of cos).
    public var extremeEigenvalues: (smallest: Double, largest: Double) {
        let rowAngle = cos(Double.pi / Double(rows + 1)), columnAngle = cos(Double.pi / Double(columns + 1))
        return (4 - 2 * rowAngle - 2 * columnAngle, 4 + 2 * rowAngle + 2 * columnAngle)
    }

    /// κ(A) = λ_max/λ_min (about 0.41·N² on an N × N grid: 6·10³ at 100², 4·10⁵ at 1000²).
    public var conditionNumber: Double {
        let (smallest, largest) = extremeEigenvalues
        return largest / smallest
    }

    public var description: String { "\(rows)x\(columns)" }
}

/// The 2-D Poisson matrix (`PoissonGrid`) as a matrix-free operator, with CG's vector passes
/// fused into its stencil sweeps.
///
/// One unpreconditioned iteration streams 8 vectors of n values, against 11 plus the product's
/// 2 for the default steps (`LinearOperator`):
///
///     direction:  p ← z + β·p, row by row, and s = Σ pᵢ(A·p)ᵢ one row behind, while the three
///                 rows of p the stencil needs are still in cache; A·p is not stored
///                 (reads z, p; writes p)
///     update:     A·p recomputed from p, row by row; x ← x + α·p; r ← r − α·A·p; rᵀr
///                 (reads p, x, r; writes x, r)
///
/// Both passes compute A·p with the same operations in the same order, so the update uses the
/// same values the curvature s was computed from. Threads split the grid into bands of rows;
/// the rows of new p just outside each band are computed beforehand on the calling thread, so
/// no thread reads a row another is writing. Row sums are added in row order, so the results do
/// not depend on the thread count.
///
/// - Complexity: `apply` 5n flops, 2n values streamed; direction 9n flops, 3n values;
///   update 11n flops, 5n values.
/// - Error: each (A·p)ᵢ is computed as (((4pᵢ − left) − right) − up) − down, four roundings
///   (4pᵢ is exact): |fl(A·p) − A·p| ≤ γ₄·(|A||p|) elementwise.
public struct PoissonStencil2D<Scalar: SolverScalar>: LinearOperator {
    public let grid: PoissonGrid

    /// The operator of `grid` (validated when the grid was made). O(1): nothing is stored.
    public init(grid: PoissonGrid) { self.grid = grid }

    public var dimension: Int { grid.count }

    /// y ← A·x by the stencil.
    public func apply(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, threads: Int) {
        Scalar.solverStencilProduct(grid, x, into: y, threads: threads)
    }

    /// p ← z + β·p and returns pᵀA·p, one pass; q is not used.
    public func conjugateGradientDirection(from z: UnsafePointer<Scalar>, beta: Scalar, direction p: UnsafeMutablePointer<Scalar>,
                                           product q: UnsafeMutablePointer<Scalar>, threads: Int) -> Double {
        Scalar.solverStencilDirection(grid, z, beta: beta, direction: p, threads: threads)
    }

    /// x ← x + α·p, r ← r − α·A·p with A·p recomputed from p, returns rᵀr; q is not read.
    public func conjugateGradientUpdate(alpha: Scalar, direction p: UnsafePointer<Scalar>, product q: UnsafePointer<Scalar>,
                                        solution x: UnsafeMutablePointer<Scalar>, residual r: UnsafeMutablePointer<Scalar>, threads: Int) -> Double {
        Scalar.solverStencilUpdate(grid, alpha: alpha, direction: p, solution: x, residual: r, threads: threads)
    }
}

/// The five rows one row of the stencil reads: (A·p)ⱼ = 4·centerⱼ − leftⱼ − rightⱼ − upⱼ − downⱼ
/// with left = center − 1 and right = center + 1 (valid at the interior columns 1..<columns−1),
/// and the rows above and below (a row of zeros at the grid's edge).
///
/// The row kernels below take these as separate pointers and are not inlined: measured, when
/// LLVM sees that left, center and right overlap it replaces the three loads by two and a dozen
/// shuffles (the fused update pass ran 18 cycles per vector of 8 Doubles that way; plain loads
/// take about 5).
struct StencilRows<T> {
    let left: UnsafePointer<T>, center: UnsafePointer<T>, right: UnsafePointer<T>
    let up: UnsafePointer<T>, down: UnsafePointer<T>
    let columns: Int

    /// Row i of the grid stored at p, with `above`/`below` standing for rows −1 and `rows`.
    @inline(__always)
    init(_ p: UnsafePointer<T>, row i: Int, grid: PoissonGrid, above: UnsafePointer<T>, below: UnsafePointer<T>) {
        columns = grid.columns
        center = p + i * columns
        left = center - 1
        right = center + 1
        up = i > 0 ? center - columns : above
        down = i + 1 < grid.rows ? center + columns : below
    }

    /// The same row with other neighbor rows.
    @inline(__always)
    init(_ row: StencilRows<T>, up: UnsafePointer<T>, down: UnsafePointer<T>) {
        (left, center, right, columns) = (row.left, row.center, row.right, row.columns)
        (self.up, self.down) = (up, down)
    }
}

/// Runs `vector(j, (A·p)ⱼ…ⱼ₊w₋₁)` over full vectors and `scalar(j, (A·p)ⱼ)` over the others, every
/// column once in increasing order: column 0, the interior by vectors and a scalar tail, the last
/// column (neighbors outside the grid are 0). The value of a column is the same computed either way.
@inline(__always)
func forEachStencilValue<T: SolverScalar>(_ rows: StencilRows<T>, vector: (Int, T.Vector) -> Void, scalar: (Int, T) -> Void) {
    let columns = rows.columns, width = T.Vector.scalarCount
    @inline(__always) func value(_ j: Int) -> T {
        let left: T = j > 0 ? rows.left[j] : 0
        let right: T = j + 1 < columns ? rows.right[j] : 0
        return 4 * rows.center[j] - left - right - rows.up[j] - rows.down[j]
    }
    scalar(0, value(0))
    let four = T.Vector(repeating: 4)
    var j = 1
    while j + width < columns {
        // Written as a chain of subtractions: measured, with -Ounchecked LLVM lowered the sums
        // (left + right) + (up + down) lane by lane into 4 + 2 + 1 + 1 pieces and shuffles.
        let center: T.Vector = loadVector(rows.center + j)
        vector(j, four * center - loadVector(rows.left + j) - loadVector(rows.right + j) - loadVector(rows.up + j) - loadVector(rows.down + j))
        j += width
    }
    while j < columns {
        scalar(j, value(j))
        j += 1
    }
}

/// y ← (A·p) on one row.
@inline(never)
func stencilProductRow<T: SolverScalar>(_ rows: StencilRows<T>, into y: UnsafeMutablePointer<T>) {
    forEachStencilValue(rows, vector: { j, value in storeVector(value, y + j) }, scalar: { j, value in y[j] = value })
}

/// Σⱼ pⱼ·(A·p)ⱼ on one row (p the center row).
@inline(never)
func stencilCurvatureRow<T: SolverScalar>(_ rows: StencilRows<T>) -> Double {
    var sum = T.Vector(), tail: T = 0
    forEachStencilValue(rows, vector: { j, value in sum = sum.addingProduct(loadVector(rows.center + j), value) },
                        scalar: { j, value in tail = tail.addingProduct(rows.center[j], value) })
    return Double(sum.sum() + tail)
}

/// x ← x + α·p, r ← r − α·(A·p) on one row (p the center row); returns Σ rⱼ².
@inline(never)
func stencilUpdateRow<T: SolverScalar>(_ rows: StencilRows<T>, alpha: T, solution x: UnsafeMutablePointer<T>, residual r: UnsafeMutablePointer<T>) -> Double {
    let alphaVector = T.Vector(repeating: alpha), minusAlphaVector = T.Vector(repeating: -alpha)
    let p = rows.center
    var sum = T.Vector(), tail: T = 0
    forEachStencilValue(rows, vector: { j, value in
        storeVector(loadVector(x + j).addingProduct(alphaVector, loadVector(p + j)), x + j)
        let updated = loadVector(r + j).addingProduct(minusAlphaVector, value)
        storeVector(updated, r + j)
        sum = sum.addingProduct(updated, updated)
    }, scalar: { j, value in
        x[j] = x[j].addingProduct(alpha, p[j])
        r[j] = r[j].addingProduct(-alpha, value)
        tail = tail.addingProduct(r[j], r[j])
    })
    return Double(sum.sum() + tail)
}

/// Bands of rows for `threads` threads: no more than there are rows, and none smaller than
/// `minimumElementsPerThread` unknowns.
@inline(__always)
func stencilBands(_ grid: PoissonGrid, threads: Int) -> Int {
    min(grid.rows, usefulThreads(count: grid.count, threads: threads))
}

/// Runs `body(zeroRow, rowSums)` with a row of `columns` zeros and room for one Double per row,
/// then returns the row sums added in row order.
@inline(__always)
func withStencilScratch<T: SolverScalar>(_ grid: PoissonGrid, extraRows: Int, as type: T.Type,
                                         _ body: (UnsafeMutablePointer<T>, UnsafeMutablePointer<Double>) -> Void) -> Double {
    withUnsafeTemporaryAllocation(of: T.self, capacity: grid.columns * (1 + extraRows)) { rows in
        zeroFill(rows.baseAddress!, count: grid.columns)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: grid.rows) { sums in
            body(rows.baseAddress!, sums.baseAddress!)
            var total = 0.0
            for i in 0..<grid.rows { total += sums[i] }
            return total
        }
    }
}

/// y ← A·p.
func stencilProduct<T: SolverScalar>(_ grid: PoissonGrid, _ p: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, threads: Int) {
    let rows = grid.rows
    let bands = stencilBands(grid, threads: threads)
    _ = withStencilScratch(grid, extraRows: 0, as: T.self) { zeroRow, _ in
        parallelFor(bands) { band in
            let (first, end) = share(of: rows, part: band, parts: bands)
            for i in first..<end {
                stencilProductRow(StencilRows(p, row: i, grid: grid, above: zeroRow, below: zeroRow), into: y + i * grid.columns)
            }
        }
    }
}

/// p ← z + β·p, returning pᵀA·p, in one pass (see `PoissonStencil2D`).
func stencilDirection<T: SolverScalar>(_ grid: PoissonGrid, _ z: UnsafePointer<T>, beta: T, direction p: UnsafeMutablePointer<T>, threads: Int) -> Double {
    let (rows, columns) = (grid.rows, grid.columns)
    let bands = stencilBands(grid, threads: threads)
    // Per band boundary, the new rows on either side: halo + 2(k−1)·columns is the last row of
    // band k−1, the next one the first row of band k.
    return withStencilScratch(grid, extraRows: 2 * (bands - 1), as: T.self) { scratch, rowSums in
        let zeroRow = UnsafePointer(scratch), halo = scratch + columns
        for band in 1..<max(1, bands) {
            let boundary = share(of: rows, part: band, parts: bands).0
            let before = halo + 2 * (band - 1) * columns, after = before + columns
            directionRange(z + (boundary - 1) * columns, beta: beta, from: p + (boundary - 1) * columns, into: before, 0, columns)
            directionRange(z + boundary * columns, beta: beta, from: p + boundary * columns, into: after, 0, columns)
        }
        parallelFor(bands) { band in
            let (first, end) = share(of: rows, part: band, parts: bands)
            let above = band > 0 ? UnsafePointer(halo + 2 * (band - 1) * columns) : zeroRow
            let below = band + 1 < bands ? UnsafePointer(halo + (2 * band + 1) * columns) : zeroRow
            @inline(__always) func curvature(ofRow i: Int) -> Double {
                let rows = StencilRows(UnsafePointer(p), row: i, grid: grid, above: zeroRow, below: zeroRow)
                return stencilCurvatureRow(StencilRows(rows, up: i == first ? above : rows.up, down: i + 1 == end ? below : rows.down))
            }
            for i in first..<end {
                directionRange(z + i * columns, beta: beta, from: p + i * columns, into: p + i * columns, 0, columns)
                if i > first { rowSums[i - 1] = curvature(ofRow: i - 1) }
            }
            rowSums[end - 1] = curvature(ofRow: end - 1)
        }
    }
}

/// x ← x + α·p, r ← r − α·A·p (A·p recomputed), returning rᵀr, in one pass.
func stencilUpdate<T: SolverScalar>(_ grid: PoissonGrid, alpha: T, direction p: UnsafePointer<T>,
                                    solution x: UnsafeMutablePointer<T>, residual r: UnsafeMutablePointer<T>, threads: Int) -> Double {
    let (rows, columns) = (grid.rows, grid.columns)
    let bands = stencilBands(grid, threads: threads)
    return withStencilScratch(grid, extraRows: 0, as: T.self) { zeroRow, rowSums in
        parallelFor(bands) { band in
            let (first, end) = share(of: rows, part: band, parts: bands)
            for i in first..<end {
                let offset = i * columns
                rowSums[i] = stencilUpdateRow(StencilRows(p, row: i, grid: grid, above: zeroRow, below: zeroRow), alpha: alpha,
                                              solution: x + offset, residual: r + offset)
            }
        }
    }
}
