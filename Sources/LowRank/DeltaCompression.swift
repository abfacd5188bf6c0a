import Crosscheck
import Foundation
import Kernels

/// Which SVD computes the factors of a delta.
public enum SVDMethod: String, Sendable, CaseIterable {
    /// LAPACK's thin SVD (?gesdd): every singular value, exact to rounding.
    case exact
    /// The randomized truncated SVD (subspace iteration, see `randomizedSVD`).
    case randomized
    /// Randomized where it is fast and its accuracy guard holds, exact otherwise.
    case auto
}

/// The low-rank factors of one delta, ΔW ≈ B·A with B (m × r) and A (r × n), and how good they are.
public struct LowRankFactors: Sendable {
    public let m: Int, n: Int, rank: Int
    /// B = U_r·Σ_r (m × r, row-major).
    public let b: [Float]
    /// A = V_rᵀ (r × n, row-major).
    public let a: [Float]
    /// Σ_{i≤r} σ_i² / ‖ΔW‖²_F.
    public let retainedEnergy: Double
    /// √(Σ_{i>r} σ_i²) / ‖ΔW‖_F, the Eckart–Young optimum at this rank; nil when only the top of
    /// the spectrum was computed (randomized).
    public let optimalRelativeError: Double?
    public let sigma1: Double
    /// σ_{r+1} (from the randomized sketch, an estimate from below); nil at full rank.
    public let sigmaNext: Double?
    public let method: SVDMethod
    public let note: String

    /// ‖ΔW − B·A‖_F / ‖ΔW‖_F for `delta` (m × n; for factors of the transpose, n × m as ΔW is
    /// stored), computed from these Float factors. An adapter's report measures its factors as
    /// stored instead (`StoredPair`), after their dtype's rounding.
    public func relativeError(against delta: [Float], transposed: Bool = false, threads: Int = 1) -> Double {
        let pair = StoredPair(a: a, b: b, rank: rank, rows: m, columns: n, scale: 1, transposed: transposed)
        return delta.withUnsafeBufferPointer { pair.relativeError(against: $0, threads: threads) }
    }
}

/// A delta that cannot be compressed, with the reason.
public enum CompressionError: Error, CustomStringConvertible, Equatable {
    /// ΔW holds NaN or an infinity.
    case nonFinite
    /// More rank than an m × n matrix has.
    case rankTooLarge(rank: Int, m: Int, n: Int)

    public var description: String {
        switch self {
        case .nonFinite: return "delta contains NaN or infinity"
        case let .rankTooLarge(rank, m, n): return "rank \(rank) is larger than the matrix allows (\(m) × \(n): at most \(min(m, n)))"
        }
    }
}

/// Compresses ΔW (m × n, row-major) to rank-r factors.
///
/// - `exact`: the exact top-r triplets (the Double Gram route for a fixed rank, where it is
///   accurate; else LAPACK's full thin SVD, then r from `choice`); the optimal error is known.
/// - `randomized`: the randomized SVD (`randomizedFactors`): at r for a fixed rank; for an energy
///   choice, a sketch of 32 triplets doubled until it holds the energy (or reaches the cap).
/// - `auto`: exact when min(m, n) ≤ 512 (where it costs milliseconds); otherwise randomized, kept
///   only if its a-posteriori certificate bounds the Eckart–Young ratio by `certifiedRatioLimit`
///   (1.02; and, for an energy choice, the sketch needed stays within min(m, n)/4); else exact.
///
/// The retained energy and errors are measured against ‖ΔW‖_F computed exactly. With
/// `ofTranspose`, the factors returned are those of ΔWᵀ (B = V_rΣ_r, A = U_rᵀ).
/// - Complexity: exact O(m·n·min(m, n)); randomized O(m·n·(r + p)) per sketch.
public func compressDelta(_ delta: [Float], m: Int, n: Int, choice: RankChoice, maxRank: Int?, method: SVDMethod, threads: Int,
                          ofTranspose: Bool = false) throws -> LowRankFactors {
    if delta.count != m * n { fatalError("compressDelta: \(delta.count) values for \(m) × \(n)") }
    let k = min(m, n)
    let squaredNorm = sumOfSquares(delta)
    guard squaredNorm.isFinite else { throw CompressionError.nonFinite }
    let cap = min(k, maxRank ?? k)
    if case .fixed(let r) = choice, r > k {
        throw CompressionError.rankTooLarge(rank: r, m: m, n: n)
    }
    if method == .randomized || (method == .auto && k > 512),
       let result = try randomizedFactors(delta, m: m, n: n, choice: choice, cap: cap, squaredNorm: squaredNorm, threads: threads,
                                          automatic: method == .auto, ofTranspose: ofTranspose) {
        return result
    }
    if case .fixed(let r) = choice, let top = try exactTopTriplets(delta, m: m, n: n, rank: min(r, cap), squaredNorm: squaredNorm, threads: threads) {
        return factors(top.svd, squaredNorm: squaredNorm, fullSigma: nil, sigmaNext: top.sigmaNext, method: .exact,
                       note: (method == .auto ? "auto: exact, " : "") + "top-r via the Double Gram matrix",
                       ofTranspose: ofTranspose, optimalSquared: top.optimalSquared)
    }
    let svd = try delta.withUnsafeBufferPointer { try lapackSVD($0.baseAddress!, m: m, n: n, threads: threads) }
    let sigma = svd.singularValues.map(Double.init)
    let r = selectRank(sigma: sigma, squaredNorm: squaredNorm, choice: choice, cap: cap)
    return factors(svd.truncated(to: r), squaredNorm: squaredNorm, fullSigma: sigma,
                   sigmaNext: r < sigma.count ? sigma[r] : nil, method: .exact,
                   note: method == .auto ? "auto: exact" : "", ofTranspose: ofTranspose)
}

/// The largest certified Eckart–Young ratio `auto` accepts from the randomized route. The
/// certificate is a worst case: on Gaussian noise floors it is about √(1 + 1.21·r·(1/√m + 1/√n)²)
/// (1.012 at r = 16 on 5632 × 2048, 1.018 on 2048 × 2048) while the measured ratio there is about
/// 1.001; 1.02 lets such layers take the randomized route, and a delta whose structure the
/// certificate cannot bound that well goes to the exact route.
let certifiedRatioLimit = 1.02

/// The randomized route of `compressDelta`, with an a-posteriori certificate of its accuracy.
///
/// The sketch is the randomized SVD's (ℓ = s + p columns, p = max(10, s/4), two power
/// iterations), all ℓ triplets kept: their left vectors U span the range Q the algorithm found.
/// The rank-r result Ã_r = U_rΣ̂_rV_rᵀ has error² = ‖ΔW‖² − Σ_{i≤r}σ̂_i² exactly. Its excess over
/// the optimum is bounded by Ky Fan's inequality applied to ΔWᵀΔW = (QQᵀΔW)ᵀ(QQᵀΔW) + RᵀR, with
/// R = (I − QQᵀ)ΔW: Σ_{i≤r}σ_i² ≤ Σ_{i≤r}σ̂_i² + r·‖R‖₂², so that
///
///     optimal² ≥ error² − r·‖R‖₂²,   ratio ≤ √(error² / (error² − r·‖R‖₂²)).
///
/// ‖R‖₂ is estimated by six steps of block power iteration (four vectors) on RᵀR and taken
/// 1.1 times larger, since power iteration approaches it from below. With `automatic` only (an
/// explicit `randomized` skips it, a fifth of the time at scale), and nil (use the exact route)
/// when the bound exceeds `certifiedRatioLimit` or an energy choice needs a sketch wider than
/// min(m, n)/4.
/// - Complexity: (4q + 4)·m·n·ℓ flops per sketch, plus 48·m·n for the certificate.
func randomizedFactors(_ delta: [Float], m: Int, n: Int, choice: RankChoice, cap: Int, squaredNorm: Double, threads: Int,
                       automatic: Bool, ofTranspose: Bool) throws -> LowRankFactors? {
    let k = min(m, n)
    var sketch: Int
    switch choice {
    case .fixed(let r): sketch = min(r, cap)
    case .energy: sketch = min(cap, 32)
    }
    while true {
        let width = min(k, sketch + RandomizedSVDOptions(rank: sketch).oversampling)
        let svd = try delta.withUnsafeBufferPointer {
            try randomizedSVD($0.baseAddress!, m: m, n: n, options: RandomizedSVDOptions(rank: width, oversampling: 0), threads: threads)
        }
        let sigma = svd.singularValues.map(Double.init)
        let r = selectRank(sigma: Array(sigma.prefix(sketch)), squaredNorm: squaredNorm, choice: choice, cap: sketch)
        let kept = sigma.prefix(r).reduce(0) { $0 + $1 * $1 }
        if case .energy(let fraction) = choice, !energyReached(kept / squaredNorm, fraction, k: k), sketch < cap {
            if automatic && 2 * sketch > k / 4 { return nil }
            sketch = min(cap, 2 * sketch)
            continue
        }
        var note = "not certified (--method auto certifies the randomized route)"
        if automatic {
            let errorSquared = max(0, squaredNorm - kept)
            let residualNorm = 1.1 * residualSpectralNorm(delta, m: m, n: n, basis: svd.u, width: svd.rank, threads: threads)
            let excess = Double(r) * residualNorm * residualNorm
            let ratioBound = errorSquared > excess ? (errorSquared / (errorSquared - excess)).squareRoot() : .infinity
            if !(ratioBound <= certifiedRatioLimit) { return nil }
            note = "auto: randomized, Eckart–Young ratio ≤ \(String(format: "%.6f", ratioBound)) (certified)"
        }
        return factors(svd.truncated(to: r), squaredNorm: squaredNorm, fullSigma: nil, sigmaNext: sigma.count > r ? sigma[r] : nil,
                       method: .randomized, note: note, ofTranspose: ofTranspose)
    }
}

/// An estimate (from below) of ‖(I − UUᵀ)A‖₂ for A (m × n) and U (m × `width`, orthonormal
/// columns): six steps of block power iteration with four seeded Gaussian vectors on RᵀR,
/// R = (I − UUᵀ)A, each step two products with A. O(16·m·n + m·width) per step.
func residualSpectralNorm(_ a: [Float], m: Int, n: Int, basis u: [Float], width: Int, threads: Int) -> Double {
    let block = 4
    var generator = SeededGenerator(seed: 0x4B59_46A1)
    var x = [Float].gaussian(count: n * block, using: &generator)
    var y = [Float](repeating: 0, count: m * block), projection = [Float](repeating: 0, count: width * block)
    var estimate = 0.0
    a.withUnsafeBufferPointer { ap in
        u.withUnsafeBufferPointer { up in
            for _ in 0..<6 {
                // Normalize the columns of X (n × block).
                for j in 0..<block {
                    var norm = 0.0
                    for i in 0..<n { norm += Double(x[i * block + j]) * Double(x[i * block + j]) }
                    let scale = norm > 0 ? Float(1 / norm.squareRoot()) : 0
                    for i in 0..<n { x[i * block + j] *= scale }
                }
                // Y = (I − UUᵀ)·A·X.
                x.withUnsafeBufferPointer { xp in
                    gemm(m: m, n: block, k: n, alpha: 1, a: MatrixOperand(ap.baseAddress!, ld: n), b: MatrixOperand(xp.baseAddress!, ld: block),
                         beta: 0, c: &y, ldc: block, threads: threads)
                }
                if width > 0 {
                    y.withUnsafeBufferPointer { yp in
                        gemm(m: width, n: block, k: m, alpha: 1, a: MatrixOperand(up.baseAddress!, ld: width, transposed: true),
                             b: MatrixOperand(yp.baseAddress!, ld: block), beta: 0, c: &projection, ldc: block, threads: 1)
                    }
                    projection.withUnsafeBufferPointer { pp in
                        gemm(m: m, n: block, k: width, alpha: -1, a: MatrixOperand(up.baseAddress!, ld: width),
                             b: MatrixOperand(pp.baseAddress!, ld: block), beta: 1, c: &y, ldc: block, threads: 1)
                    }
                }
                // ‖R·x_j‖ for unit x_j: the estimate; then X = Aᵀ·Y (= RᵀR·X).
                for j in 0..<block {
                    var norm = 0.0
                    for i in 0..<m { norm += Double(y[i * block + j]) * Double(y[i * block + j]) }
                    estimate = max(estimate, norm.squareRoot())
                }
                y.withUnsafeBufferPointer { yp in
                    gemm(m: n, n: block, k: m, alpha: 1, a: MatrixOperand(ap.baseAddress!, ld: n, transposed: true),
                         b: MatrixOperand(yp.baseAddress!, ld: block), beta: 0, c: &x, ldc: block, threads: threads)
                }
            }
        }
    }
    return estimate
}

/// The exact top-r singular triplets of ΔW through `gramSVDAccumulatingInDouble` (the Gram matrix
/// formed in Double, where every product of two Floats is exact; ?syevr computes only the r + 1
/// wanted eigenpairs).
///
/// Forming AᵀA squares the condition number, so a σ_i is accurate to about u_Double·σ₁²/σ_i: with
/// σ_r/σ₁ ≥ 10⁻⁴ that is 10⁻⁸ relative or better, far below Float's rounding of the factors. The
/// optimal error √(Σ_{i>r} σ_i²) follows from ‖ΔW‖² − Σ_{i≤r} σ_i², exact enough while the kept
/// energy is below 1 − 10⁻⁶. Outside either guard this returns nil and the caller uses LAPACK's
/// full SVD. Measured on MiniLM deltas: 3–5× faster than the full ?gesdd at rank 16.
func exactTopTriplets(_ delta: [Float], m: Int, n: Int, rank r: Int, squaredNorm: Double, threads: Int)
    throws -> (svd: SVDResult<Float>, sigmaNext: Double?, optimalSquared: Double)? {
    guard r >= 1, r < min(m, n), squaredNorm > 0 else { return nil }
    let top: (svd: SVDResult<Float>, sigma: [Double])
    do {
        top = try delta.withUnsafeBufferPointer {
            try gramSVDAccumulatingInDouble($0.baseAddress!, m: m, n: n, rank: r + 1, threads: threads)
        }
    } catch is LAPACKError {
        return nil
    }
    let sigma = top.sigma
    guard sigma[r - 1] > 0, sigma[r - 1] >= 1e-4 * sigma[0] else { return nil }
    let kept = sigma.prefix(r).reduce(0) { $0 + $1 * $1 }
    guard kept <= (1 - 1e-6) * squaredNorm else { return nil }
    return (top.svd.truncated(to: r), sigma[r], max(0, squaredNorm - kept))
}

/// The rank for `choice`: fixed (capped), or the smallest r with Σ_{i≤r} σ_i² ≥ F·‖ΔW‖² (capped),
/// up to the rounding of the σ_i (`energyReached`), so that F = 1 stops at the numerical rank.
func selectRank(sigma: [Double], squaredNorm: Double, choice: RankChoice, cap: Int) -> Int {
    switch choice {
    case .fixed(let r): return min(r, cap)
    case .energy(let fraction):
        if squaredNorm == 0 { return min(1, cap) }
        var kept = 0.0
        for (i, s) in sigma.prefix(cap).enumerated() {
            kept += s * s
            if energyReached(kept / squaredNorm, fraction, k: sigma.count) { return i + 1 }
        }
        return min(cap, sigma.count)
    }
}

/// B = U_rΣ_r, A = V_rᵀ (or, for `ofTranspose`, the factors of ΔWᵀ), with their retained
/// energy and the Eckart–Young optimum at r when the spectrum is known.
func factors(_ svd: SVDResult<Float>, squaredNorm: Double, fullSigma: [Double]?, sigmaNext: Double?,
             method: SVDMethod, note: String, ofTranspose: Bool, optimalSquared: Double? = nil) -> LowRankFactors {
    let (m, n, r) = (svd.m, svd.n, svd.rank)
    var b = svd.u
    for i in 0..<m { for j in 0..<r { b[i * r + j] *= svd.singularValues[j] } }
    let norm = squaredNorm.squareRoot()
    let kept = svd.singularValues.reduce(0.0) { $0 + Double($1) * Double($1) }
    let optimal = fullSigma.map { sigma in sigma.dropFirst(r).reduce(0.0) { $0 + $1 * $1 }.squareRoot() } ?? optimalSquared?.squareRoot()
    var (outB, outA, outM, outN) = (b, svd.vt, m, n)
    if ofTranspose {
        // ΔWᵀ = V·Σ·Uᵀ: B = V_rΣ_r (n × r), A = U_rᵀ (r × m).
        outB = [Float](repeating: 0, count: n * r)
        outA = [Float](repeating: 0, count: r * m)
        for j in 0..<r {
            for i in 0..<n { outB[i * r + j] = svd.vt[j * n + i] * svd.singularValues[j] }
            for i in 0..<m { outA[j * m + i] = svd.u[i * r + j] }
        }
        (outM, outN) = (n, m)
    }
    return LowRankFactors(
        m: outM, n: outN, rank: r, b: outB, a: outA,
        retainedEnergy: squaredNorm > 0 ? kept / squaredNorm : 1,
        optimalRelativeError: optimal.map { norm > 0 ? $0 / norm : 0 },
        sigma1: Double(svd.singularValues.first ?? 0), sigmaNext: sigmaNext, method: method, note: note)
}
