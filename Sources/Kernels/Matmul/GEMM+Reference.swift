/// The reference product: C ← α·op(A)·op(B) + β·C in three plain loops, every product and sum
/// in Double whatever the input type, rounded once into C's type at the end.
///
/// Written for obviousness, not speed. Each element's k products are summed in order of p, the
/// loop order (i, p, j) only letting the compiler vectorize across j. When β is zero, C is not
/// read. `gemmReferenceInDouble` keeps the unrounded Double result instead.
///
/// - Complexity: m·n·k multiply-adds, O(n) extra memory.
/// - Error: |Ĉ − C| ≤ γ_{k+2}(u_Double)·(|α||op(A)||op(B)| + |β||C|), plus one rounding into T.
public func gemmReference<T: GEMMScalar>(
    m: Int, n: Int, k: Int,
    alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
) {
    T.referenceGEMM(GEMMProblem(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, ldc: ldc), into: c)
}

/// `gemmReference` keeping the unrounded Double result (for Float inputs, what the error model
/// compares Float variants against).
public func gemmReferenceInDouble<T: GEMMScalar>(
    m: Int, n: Int, k: Int,
    alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>,
    beta: T, c: UnsafeMutablePointer<Double>, ldc: Int
) {
    T.referenceGEMM(GEMMProblem(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, ldc: ldc), into: c)
}

/// `gemmReference` for one concrete input type and output type.
func runReference<T: GEMMScalar, Output: BinaryFloatingPoint>(_ p: GEMMProblem<T>, into c: UnsafeMutablePointer<Output>) {
    let (m, n, k, alpha, beta, a, b, ldc) = (p.m, p.n, p.k, p.alpha, p.beta, p.a, p.b, p.ldc)
    var rowSum = [Double](repeating: 0, count: n)
    for i in 0..<m {
        for j in 0..<n { rowSum[j] = 0 }
        for p in 0..<k {
            let aip = Double(a[i, p])
            for j in 0..<n { rowSum[j] += aip * Double(b[p, j]) }
        }
        let row = c + i * ldc
        for j in 0..<n {
            let product = Double(alpha) * rowSum[j]
            row[j] = Output(beta == 0 ? product : product + Double(beta) * Double(row[j]))
        }
    }
}
