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

/// `gramSVD` for Float input with the Gram matrix accumulated in Double, where every product of
/// two Floats is exact: a σ_i is then accurate to about u_Double·σ₁²/σ_i, and the singular values
/// come back in Double as well. G is formed from 2048-row blocks of A converted in a reused
/// buffer, so no Double copy of A is made. O(m·n·min(m, n)) flops in Double.
/// - Throws: `LAPACKError` from ?syevr.
public func gramSVDAccumulatingInDouble(_ a: UnsafePointer<Float>, m: Int, n: Int, rank: Int, threads: Int = 1) throws
    -> (svd: SVDResult<Float>, sigma: [Double]) {
    try runGramTriplets(a, m: m, n: n, rank: rank, threads: threads, accumulating: Double.self)
}

func runGramSVD<T: SVDScalar>(_ a: UnsafePointer<T>, m: Int, n: Int, rank: Int, threads: Int) throws -> SVDResult<T> {
    try runGramTriplets(a, m: m, n: n, rank: rank, threads: threads, accumulating: T.self).svd
}

/// The Gram route with G and its eigenpairs in `Wide` and the factors in T.
func runGramTriplets<T: SVDScalar, Wide: SVDScalar>(_ a: UnsafePointer<T>, m: Int, n: Int, rank: Int, threads: Int,
                                                     accumulating _: Wide.Type) throws -> (svd: SVDResult<T>, sigma: [Wide]) {
    let k = min(m, n)
    if rank < 0 || rank > k { fatalError("gramSVD: rank \(rank) outside 0...\(k) for a \(m) × \(n) matrix") }
    if rank == 0 { return (SVDResult(m: m, n: n, rank: 0, u: [], singularValues: [], vt: []), []) }
    let tall = m >= n
    // G = AᵀA (tall) or AAᵀ (wide), k × k.
    var gram = [Wide](repeating: 0, count: k * k)
    if Wide.self == T.self {
        let same = UnsafeRawPointer(a).assumingMemoryBound(to: Wide.self)
        gram.withUnsafeMutableBufferPointer { g in
            gemm(m: k, n: k, k: tall ? m : n, alpha: 1,
                 a: MatrixOperand(same, ld: n, transposed: tall), b: MatrixOperand(same, ld: n, transposed: !tall),
                 beta: 0, c: g.baseAddress!, ldc: k, threads: threads)
        }
    } else {
        // Blocks of 2048 rows (tall) or columns (wide) of A, converted to Wide in a reused buffer.
        let length = tall ? m : n, blockRows = 2048
        var block = [Wide](repeating: 0, count: min(length, blockRows) * k)
        for start in stride(from: 0, to: length, by: blockRows) {
            let rows = min(blockRows, length - start)
            if tall {
                for i in 0..<rows { for j in 0..<k { block[i * k + j] = Wide(a[(start + i) * n + j]) } }
            } else {
                for j in 0..<k { for i in 0..<rows { block[i * k + j] = Wide(a[j * n + start + i]) } }
            }
            block.withUnsafeBufferPointer { x in
                gemm(m: k, n: k, k: rows, alpha: 1, a: MatrixOperand(x.baseAddress!, ld: k, transposed: true),
                     b: MatrixOperand(x.baseAddress!, ld: k), beta: start == 0 ? 0 : 1, c: &gram, ldc: k, threads: threads)
            }
        }
    }
    // ?syevr writes up to n eigenvalues to w whatever the range asked for.
    var eigenvalues = [Wide](repeating: 0, count: k), eigenvectors = [Wide](repeating: 0, count: k * rank)
    let info = Wide.syevr(n: k, a: &gram, first: k - rank + 1, last: k, w: &eigenvalues, z: &eigenvectors, threads: threads)
    if info != 0 { throw LAPACKError(routine: Wide.lapack.prefix + "syevr", info: info) }
    // Descending order; eigenvector columns reversed to match.
    let sigma = eigenvalues[0..<rank].reversed().map { $0 > 0 ? $0.squareRoot() : 0 }
    var small = [T](repeating: 0, count: k * rank)        // V (tall) or U (wide), k × rank
    for i in 0..<k { for j in 0..<rank { small[i * rank + j] = T(eigenvectors[(rank - 1 - j) * k + i]) } }
    // The other factor: A·V·Σ⁻¹ (tall, m × rank) or (Σ⁻¹·Uᵀ·A)ᵀ = Aᵀ·U·Σ⁻¹ (wide, n × rank).
    let otherRows = tall ? m : n
    var other = [T](repeating: 0, count: otherRows * rank)
    small.withUnsafeBufferPointer { s in
        other.withUnsafeMutableBufferPointer { o in
            gemm(m: otherRows, n: rank, k: k, alpha: 1, a: MatrixOperand(a, ld: n, transposed: !tall),
                 b: MatrixOperand(s.baseAddress!, ld: rank), beta: 0, c: o.baseAddress!, ldc: rank, threads: threads)
        }
    }
    let narrowSigma = sigma.map { T($0) }
    for i in 0..<otherRows { for j in 0..<rank { other[i * rank + j] = narrowSigma[j] > 0 ? other[i * rank + j] / narrowSigma[j] : 0 } }
    let u = tall ? other : small
    let v = tall ? small : other
    var vt = [T](repeating: 0, count: rank * n)
    for i in 0..<n { for j in 0..<rank { vt[j * n + i] = v[i * rank + j] } }
    var result = SVDResult(m: m, n: n, rank: rank, u: u, singularValues: narrowSigma, vt: vt)
    result.normalizeSigns()
    return (result, sigma)
}
