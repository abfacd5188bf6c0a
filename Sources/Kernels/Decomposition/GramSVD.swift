/// The `gram` variant: the exact top-r singular triplets through the smaller Gram matrix and
/// LAPACK's ?syevr (MRRR, computing only the r wanted eigenpairs).
///
/// For m ≥ n: G = AᵀA (n × n), its top r eigenpairs (λ_i, v_i) give σ_i = √λ_i and
/// u_i = A·v_i / σ_i. For m < n the same on AAᵀ with the roles of U and V exchanged.
///
/// - Complexity: m·n·min(m, n) flops for G (on the GEMM engine), O(min(m, n)³) for the reduction
///   to tridiagonal form inside ?syevr, 2·m·n·r for the other factor.
/// - Error: squaring A squares its condition number: a singular value σ_i is accurate to about
///   u·σ₁²/σ_i, so triplets with σ_i/σ₁ below √u (≈ 3e-4 for Float) are unreliable, and U loses
///   orthogonality in proportion. Use it for the top of a spectrum that is well separated from
///   rounding level.
/// - Throws: `LAPACKError` from ?syevr.
public func gramSVD<T: SVDScalar>(_ a: UnsafePointer<T>, m: Int, n: Int, rank: Int, threads: Int = 1) throws -> SVDResult<T> {
    try T.gramSVDEntry(a, m: m, n: n, rank: rank, threads: threads)
}

func runGramSVD<T: SVDScalar>(_ a: UnsafePointer<T>, m: Int, n: Int, rank: Int, threads: Int) throws -> SVDResult<T> {
    let k = min(m, n)
    if rank < 0 || rank > k { fatalError("gramSVD: rank \(rank) outside 0...\(k) for a \(m) × \(n) matrix") }
    if rank == 0 { return SVDResult(m: m, n: n, rank: 0, u: [], singularValues: [], vt: []) }
    OpenBLAS.setThreads(threads)
    let tall = m >= n
    // G = AᵀA (tall) or AAᵀ (wide), k × k.
    var gram = [T](repeating: 0, count: k * k)
    gram.withUnsafeMutableBufferPointer { g in
        gemm(m: k, n: k, k: tall ? m : n, alpha: 1,
             a: MatrixOperand(a, ld: n, transposed: tall), b: MatrixOperand(a, ld: n, transposed: !tall),
             beta: 0, c: g.baseAddress!, ldc: k, threads: threads)
    }
    // ?syevr writes up to n eigenvalues to w whatever the range asked for.
    var eigenvalues = [T](repeating: 0, count: k), eigenvectors = [T](repeating: 0, count: k * rank)
    let info = T.syevr(n: k, a: &gram, first: k - rank + 1, last: k, w: &eigenvalues, z: &eigenvectors)
    if info != 0 { throw LAPACKError(routine: T.self == Float.self ? "ssyevr" : "dsyevr", info: info) }
    // Descending order; eigenvector columns reversed to match.
    let sigma = eigenvalues[0..<rank].reversed().map { $0 > 0 ? $0.squareRoot() : 0 }
    var small = [T](repeating: 0, count: k * rank)        // V (tall) or U (wide), k × rank
    for i in 0..<k { for j in 0..<rank { small[i * rank + j] = eigenvectors[(rank - 1 - j) * k + i] } }
    // The other factor: A·V·Σ⁻¹ (tall, m × rank) or (Σ⁻¹·Uᵀ·A)ᵀ = Aᵀ·U·Σ⁻¹ (wide, n × rank).
    let otherRows = tall ? m : n
    var other = [T](repeating: 0, count: otherRows * rank)
    small.withUnsafeBufferPointer { s in
        other.withUnsafeMutableBufferPointer { o in
            gemm(m: otherRows, n: rank, k: k, alpha: 1, a: MatrixOperand(a, ld: n, transposed: !tall),
                 b: MatrixOperand(s.baseAddress!, ld: rank), beta: 0, c: o.baseAddress!, ldc: rank, threads: threads)
        }
    }
    for i in 0..<otherRows { for j in 0..<rank { other[i * rank + j] = sigma[j] > 0 ? other[i * rank + j] / sigma[j] : 0 } }
    let u = tall ? other : small
    let v = tall ? small : other
    var vt = [T](repeating: 0, count: rank * n)
    for i in 0..<n { for j in 0..<rank { vt[j * n + i] = v[i * rank + j] } }
    var result = SVDResult(m: m, n: n, rank: rank, u: u, singularValues: sigma, vt: vt)
    result.normalizeSigns()
    return result
}
