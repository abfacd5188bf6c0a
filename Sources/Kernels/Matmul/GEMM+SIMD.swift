/// The `simd` variant: C ← α·op(A)·op(B) + β·C with a vectorized inner loop and no blocking or
/// packing — what a careful programmer writes before reaching for cache blocking.
///
/// With B not transposed, each row of C is built as a sum of rows of B scaled by A's elements
/// (an axpy across j, contiguous in B and C). With B transposed, each element is a dot product of
/// two contiguous rows, vectorized across p. Rows of C stream from memory once per element of A,
/// so this is bandwidth-bound on large matrices.
///
/// - Complexity: 2·m·n·k flops, O(n) extra memory.
/// - Error: |Ĉ − C| ≤ γ_{k+2}·(|α||op(A)||op(B)| + |β||C|) (the sums are reassociated across
///   vector lanes in the transposed-B path, which the γ bound covers).
public func gemmSIMD<T: GEMMScalar>(
    m: Int, n: Int, k: Int,
    alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
) {
    T.simdGEMM(GEMMProblem(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, ldc: ldc), into: c)
}

/// `gemmSIMD` for one concrete type.
func runSIMD<T: GEMMScalar>(_ p: GEMMProblem<T>, into c: UnsafeMutablePointer<T>) {
    typealias V = T.Vector
    let (m, n, k, alpha, beta, a, b, ldc) = (p.m, p.n, p.k, p.alpha, p.beta, p.a, p.b, p.ldc)
    let width = V.scalarCount
    if m == 0 || n == 0 { return }
    if b.columnStride == 1 {
        let rowSum = allocateAligned(T.self, count: n)
        defer { rowSum.deallocate() }
        let vectorEnd = n - n % width
        for i in 0..<m {
            rowSum.update(repeating: 0, count: n)
            for p in 0..<k {
                let aip = a[i, p], broadcast = V(repeating: aip)
                let bRow = b.base + p * b.rowStride
                var j = 0
                while j < vectorEnd {
                    let sum = UnsafeMutableRawPointer(rowSum + j)
                    let bj = UnsafeRawPointer(bRow + j).loadUnaligned(as: V.self)
                    sum.storeBytes(of: sum.load(as: V.self).addingProduct(broadcast, bj), as: V.self)
                    j += width
                }
                while j < n { rowSum[j] = rowSum[j].addingProduct(aip, bRow[j]); j += 1 }
            }
            combine(row: c + i * ldc, sum: rowSum, count: n, alpha: alpha, beta: beta)
        }
    } else {
        let vectorEnd = k - k % width
        let aRow = allocateAligned(T.self, count: max(k, 1))
        defer { aRow.deallocate() }
        for i in 0..<m {
            for p in 0..<k { aRow[p] = a[i, p] }
            for j in 0..<n {
                let bColumn = b.base + j * b.columnStride
                var accumulator = V()
                var p = 0
                while p < vectorEnd {
                    let x = UnsafeRawPointer(aRow + p).load(as: V.self)
                    let y = UnsafeRawPointer(bColumn + p).loadUnaligned(as: V.self)
                    accumulator = accumulator.addingProduct(x, y)
                    p += width
                }
                var dot = accumulator.sum()
                while p < k { dot = dot.addingProduct(aRow[p], bColumn[p]); p += 1 }
                let out = c + i * ldc + j
                out.pointee = beta == 0 ? alpha * dot : alpha * dot + beta * out.pointee
            }
        }
    }
}

/// C_row ← α·sum + β·C_row, not reading C_row when β is zero.
@inline(__always)
private func combine<T: BinaryFloatingPoint>(row: UnsafeMutablePointer<T>, sum: UnsafeMutablePointer<T>, count: Int, alpha: T, beta: T) {
    if beta == 0 {
        for j in 0..<count { row[j] = alpha * sum[j] }
    } else {
        for j in 0..<count { row[j] = alpha * sum[j] + beta * row[j] }
    }
}
