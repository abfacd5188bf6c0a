/// A square sparse matrix in compressed sparse row form (SciPy's `csr_array` layout, 32-bit
/// indices as SciPy uses below 2³¹ entries): row i's entries are `values[k]` at columns
/// `columnIndices[k]` for k in `rowStarts[i]..<rowStarts[i+1]`.
///
/// - Complexity: `apply` 2·nnz flops; streams nnz values and indices, n + 1 row starts, x
///   (gathered) and y.
/// - Error: each yᵢ is a sum of its row's products with fused multiply-adds, in stored order:
///   |ŷ − y| ≤ γ_{nnz(row)}·|A||x| elementwise.
public struct CSRMatrix<Scalar: SolverScalar>: LinearOperator {
    public let dimension: Int
    public let rowStarts: [Int32]
    public let columnIndices: [Int32]
    public let values: [Scalar]

    /// - Throws: `SolverError.invalidArgument` unless `rowStarts` has dimension + 1 entries
    ///   rising from 0 to the entry count, every column index is in 0..<dimension, and
    ///   `values` matches `columnIndices` in length.
    public init(dimension: Int, rowStarts: [Int32], columnIndices: [Int32], values: [Scalar]) throws {
        if dimension < 0 || dimension >= Int(Int32.max) {
            throw SolverError.invalidArgument(name: "dimension", value: "\(dimension)", expected: "in 0..<\(Int32.max)")
        }
        if rowStarts.count != dimension + 1 { throw SolverError.dimensionMismatch(name: "rowStarts", count: rowStarts.count, expected: dimension + 1) }
        if values.count != columnIndices.count { throw SolverError.dimensionMismatch(name: "values", count: values.count, expected: columnIndices.count) }
        if rowStarts[0] != 0 || Int(rowStarts[dimension]) != columnIndices.count {
            throw SolverError.invalidArgument(name: "rowStarts", value: "\(rowStarts[0])…\(rowStarts[dimension])", expected: "0…\(columnIndices.count)")
        }
        for i in 0..<dimension where rowStarts[i + 1] < rowStarts[i] {
            throw SolverError.invalidArgument(name: "rowStarts[\(i + 1)]", value: "\(rowStarts[i + 1])", expected: "at least rowStarts[\(i)] = \(rowStarts[i])")
        }
        if let bad = columnIndices.firstIndex(where: { $0 < 0 || Int($0) >= dimension }) {
            throw SolverError.invalidArgument(name: "columnIndices[\(bad)]", value: "\(columnIndices[bad])", expected: "in 0..<\(dimension)")
        }
        self.dimension = dimension
        self.rowStarts = rowStarts
        self.columnIndices = columnIndices
        self.values = values
    }

    /// The 2-D Poisson matrix of `grid` (`PoissonGrid`) in CSR, columns in increasing order
    /// within each row (up, left, center, right, down), as SciPy's kron construction stores it.
    public static func poisson(_ grid: PoissonGrid) throws -> CSRMatrix {
        let (rows, columns) = (grid.rows, grid.columns)
        var rowStarts: [Int32] = [0]
        var indices: [Int32] = [], values: [Scalar] = []
        rowStarts.reserveCapacity(grid.count + 1)
        indices.reserveCapacity(5 * grid.count)
        values.reserveCapacity(5 * grid.count)
        for i in 0..<rows {
            for j in 0..<columns {
                let k = i * columns + j
                if i > 0 { indices.append(Int32(k - columns)); values.append(-1) }
                if j > 0 { indices.append(Int32(k - 1)); values.append(-1) }
                indices.append(Int32(k)); values.append(4)
                if j + 1 < columns { indices.append(Int32(k + 1)); values.append(-1) }
                if i + 1 < rows { indices.append(Int32(k + columns)); values.append(-1) }
                rowStarts.append(Int32(indices.count))
            }
        }
        return try CSRMatrix(dimension: grid.count, rowStarts: rowStarts, columnIndices: indices, values: values)
    }

    /// y ← A·x, rows split across threads for large matrices.
    public func apply(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, threads: Int) {
        Scalar.solverSparseProduct(self, x, into: y, threads: threads)
    }
}

/// y ← A·x for a CSR matrix.
func sparseProduct<T: SolverScalar>(_ matrix: CSRMatrix<T>, _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, threads: Int) {
    matrix.rowStarts.withUnsafeBufferPointer { starts in
        matrix.columnIndices.withUnsafeBufferPointer { indices in
            matrix.values.withUnsafeBufferPointer { values in
                forEachShare(count: matrix.dimension, threads: threads) { first, end in
                    for i in first..<end {
                        var sum: T = 0
                        for k in Int(starts[i])..<Int(starts[i + 1]) {
                            sum = sum.addingProduct(values[k], x[Int(indices[k])])
                        }
                        y[i] = sum
                    }
                }
            }
        }
    }
}
