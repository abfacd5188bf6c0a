/// The `jacobi` variant, the reference: thin SVD by one-sided Jacobi rotations (Hestenes), in
/// plain loops and in Double whatever the input type.
///
/// Columns of a working copy W of A are rotated in pairs until every pair is orthogonal to
/// working precision; then σ_j = ‖w_j‖, u_j = w_j / σ_j, and the accumulated rotations are V.
/// A wide matrix is handled through its transpose. Columns that end up exactly zero (a rank-
/// deficient or zero A) get unit vectors orthogonal to the others, so U stays orthonormal.
///
/// - Complexity: O(sweeps · m · n²) flops for m ≥ n, with sweeps typically 6–12 (quadratic
///   convergence); slow, and meant as an oracle for small matrices.
/// - Error: one-sided Jacobi is backward stable and computes even small singular values to high
///   relative accuracy (Demmel & Veselić 1992); in Double, far below Float's rounding level.
public func jacobiSVD<T: BinaryFloatingPoint & Sendable>(_ a: UnsafePointer<T>, m: Int, n: Int) -> SVDResult<T> {
    if m < 0 || n < 0 { fatalError("jacobiSVD: negative dimension \(m) × \(n)") }
    var input = [Double](repeating: 0, count: m * n)
    for i in 0..<(m * n) { input[i] = Double(a[i]) }
    let (u, s, vt) = jacobiSVDInDouble(input, m: m, n: n)
    var result = SVDResult(m: m, n: n, rank: min(m, n), u: u.map { T($0) }, singularValues: s.map { T($0) }, vt: vt.map { T($0) })
    result.normalizeSigns()
    return result
}

/// The precision of the rotation angles and of the accumulated V. Measured: accumulating V in
/// Double, ‖I − VᵀV‖_F reached 38·n·u for a 384 × 384 matrix (every rotation adds rounding, and
/// there are thousands per column); in Float80 it stays far below the rounding of the result.
#if arch(x86_64) || arch(i386)
typealias Rotation = Float80
#else
typealias Rotation = Double
#endif

/// One-sided Jacobi on a row-major m × n Double matrix: (U m×k, σ descending, Vᵀ k×n).
func jacobiSVDInDouble(_ a: [Double], m: Int, n: Int) -> (u: [Double], s: [Double], vt: [Double]) {
    if m < n {
        // A = (Aᵀ)ᵀ = (U'ΣV'ᵀ)ᵀ = V'ΣU'ᵀ.
        var transposed = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { transposed[j * m + i] = a[i * n + j] } }
        let (u, s, vt) = jacobiSVDInDouble(transposed, m: n, n: m)
        // U = V' (m × m) = (V'ᵀ)ᵀ; Vᵀ = U'ᵀ (m × n).
        var newU = [Double](repeating: 0, count: m * m), newVt = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<m { newU[i * m + j] = vt[j * m + i] } }
        for i in 0..<n { for j in 0..<m { newVt[j * n + i] = u[i * m + j] } }
        return (newU, s, newVt)
    }
    // m ≥ n. Columns stored contiguously: w[j][i] = A[i, j], v[j][i] = V[i, j].
    var w = (0..<n).map { j in (0..<m).map { i in a[i * n + j] } }
    var v = (0..<n).map { j in (0..<n).map { i in Rotation(i == j ? 1 : 0) } }
    // Pairs count as orthogonal at |cos θ| ≤ √m·ε (LAPACK ?gesvj's criterion): a tighter test only adds
    // sweeps, and every rotation adds rounding to the accumulated V.
    let tolerance = Double(m).squareRoot() * Double.ulpOfOne
    for _ in 0..<100 {
        var rotated = false
        for p in 0..<n {
            for q in (p + 1)..<max(p + 1, n) {
                var alpha = 0.0, beta = 0.0, gamma = 0.0
                for i in 0..<m {
                    alpha += w[p][i] * w[p][i]
                    beta += w[q][i] * w[q][i]
                    gamma += w[p][i] * w[q][i]
                }
                if gamma == 0 || abs(gamma) <= tolerance * (alpha * beta).squareRoot() { continue }
                rotated = true
                let zeta = Rotation(beta - alpha) / Rotation(2 * gamma)
                let t = (zeta >= 0 ? 1 : -1) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                let c = 1 / (1 + t * t).squareRoot(), s = c * t
                let (cw, sw) = (Double(c), Double(s))
                for i in 0..<m {
                    let x = w[p][i], y = w[q][i]
                    w[p][i] = cw * x - sw * y
                    w[q][i] = sw * x + cw * y
                }
                for i in 0..<n {
                    let x = v[p][i], y = v[q][i]
                    v[p][i] = c * x - s * y
                    v[q][i] = s * x + c * y
                }
            }
        }
        if !rotated { break }
    }
    let norms = w.map { column in column.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    let order = (0..<n).sorted { norms[$0] > norms[$1] }
    var uColumns: [[Double]] = []
    for j in order {
        uColumns.append(norms[j] > 0 ? w[j].map { $0 / norms[j] } : [])
    }
    // Exactly zero columns: complete U with unit vectors orthogonal to the columns found.
    var candidate = 0
    for j in uColumns.indices where uColumns[j].isEmpty {
        while candidate < m {
            var e = [Double](repeating: 0, count: m)
            e[candidate] = 1
            candidate += 1
            for _ in 0..<2 {
                for other in uColumns where !other.isEmpty {
                    let projection = zip(other, e).reduce(0) { $0 + $1.0 * $1.1 }
                    for i in 0..<m { e[i] -= projection * other[i] }
                }
            }
            let norm = e.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0.5 {
                uColumns[j] = e.map { $0 / norm }
                break
            }
        }
    }
    var u = [Double](repeating: 0, count: m * n), vt = [Double](repeating: 0, count: n * n)
    for (k, j) in order.enumerated() {
        for i in 0..<m { u[i * n + k] = uColumns[k][i] }
        for i in 0..<n { vt[k * n + i] = Double(v[j][i]) }
    }
    return (u, order.map { norms[$0] }, vt)
}
