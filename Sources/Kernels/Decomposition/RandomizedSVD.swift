import SeededRandom
/// Parameters of the randomized truncated SVD.
public struct RandomizedSVDOptions: Sendable, Equatable {
    /// Singular triplets wanted.
    public var rank: Int
    /// Extra sketch columns beyond `rank` (p). More columns capture more of the range at a cost
    /// linear in rank + p.
    public var oversampling: Int
    /// Subspace (power) iterations (q). Each multiplies the decay of the spectrum the sketch
    /// sees by two (it samples (AAᵀ)^q·A) at the cost of two more products with A.
    public var powerIterations: Int
    /// Seed of the Gaussian sketch: the same seed gives the same factors.
    public var seed: UInt64

    /// Defaults chosen by measurement (Benchmarks/baselines/README.md, Float, σ_i = 1/√(i+1)):
    /// p = max(10, r/4), q = 2. At rank 16 on 1024 × 1024, p = 10 gives an Eckart–Young ratio of
    /// 1.0013 and top-16 singular values within 2.1% in 6.3 ms on one thread; p = 16 buys 1.0006
    /// and 1.1% for 15% more time; q = 1 saves a quarter of the time but gives 1.005 and 4.4%;
    /// p = 8, q = 1 reaches the 1.01 limit. At rank 64, p = 10 gave 1.011 on 384 × 384 (over the
    /// limit) and p = 16 gives 1.007–1.009. (10, 2) at rank 16 is torch.svd_lowrank's
    /// configuration at q = r + 10.
    public init(rank: Int, oversampling: Int? = nil, powerIterations: Int = 2, seed: UInt64 = 0x5EED) {
        self.rank = rank
        self.oversampling = oversampling ?? max(10, rank / 4)
        self.powerIterations = powerIterations
        self.seed = seed
    }
}

/// The `randomized` variant: rank-r truncated SVD by a randomized range finder with subspace
/// iteration (Halko, Martinsson & Tropp 2011, Algorithms 4.4 and 5.1):
///
///     Ω ← n × ℓ Gaussian (ℓ = r + p, seeded)
///     Q ← orth(A·Ω)
///     repeat q times:  Q ← orth(A·orth(Aᵀ·Q))       // re-orthonormalized every time
///     B ← Qᵀ·A  (ℓ × n);  B = Ũ·Σ·Vᵀ  (LAPACK ?gesdd on the small matrix)
///     U ← Q·Ũ;  keep the first r triplets;  normalize signs
///
/// The products run on the project's GEMM engine with `threads` threads; orth is LAPACK's
/// Householder QR (?geqrf, ?orgqr; see `SVDScalar.orthonormalize`).
///
/// - Complexity: (4q + 4)·m·n·ℓ flops for the products plus O((m + n)·ℓ²) for QR and the small
///   SVD; O((m + n)·ℓ) extra memory.
/// - Error: in expectation ‖A − U_rΣ_rV_rᵀ‖ ≤ (1 + ε(p, q, spectrum))·(optimal rank-r error);
///   for σ decaying slowly the factor ε shrinks as σ_{r+p}/σ_r raised to 2q + 1.
/// - Throws: `LAPACKError` from the QR or the small SVD.
public func randomizedSVD<T: SVDScalar>(_ a: UnsafePointer<T>, m: Int, n: Int, options: RandomizedSVDOptions, threads: Int = 1) throws -> SVDResult<T> {
    try T.randomizedSVDEntry(a, m: m, n: n, options: options, threads: threads)
}

func runRandomizedSVD<T: SVDScalar>(_ a: UnsafePointer<T>, m: Int, n: Int, options: RandomizedSVDOptions, threads: Int) throws -> SVDResult<T> {
    let k = min(m, n)
    if options.rank < 0 || options.rank > k { fatalError("randomizedSVD: rank \(options.rank) outside 0...\(k) for a \(m) × \(n) matrix") }
    if options.oversampling < 0 || options.powerIterations < 0 { fatalError("randomizedSVD: negative oversampling or power iterations") }
    let width = min(k, options.rank + options.oversampling)
    if width == 0 { return SVDResult(m: m, n: n, rank: 0, u: [], singularValues: [], vt: []) }
    // LAPACK here only factors thin ℓ-wide matrices, where OpenBLAS's threads cost more than
    // they bring (its calls run on one); the products use the GEMM engine's `threads`.
    let matrix = MatrixOperand(a, ld: n)

    // The sketch Ω (n × ℓ): Gaussian from the seeded generator every kernel and suite shares.
    var generator = SeededGenerator(seed: options.seed)
    let sketch = [T].gaussian(count: n * width, using: &generator)

    var range = [T](repeating: 0, count: m * width)       // Y, then Q (m × ℓ)
    var coRange = [T](repeating: 0, count: n * width)     // Aᵀ·Q, then its Q (n × ℓ)
    func product(_ rows: Int, _ columns: Int, _ depth: Int, _ left: MatrixOperand<T>, _ right: MatrixOperand<T>, into out: inout [T]) {
        out.withUnsafeMutableBufferPointer { c in
            gemm(m: rows, n: columns, k: depth, alpha: 1, a: left, b: right, beta: 0, c: c.baseAddress!, ldc: columns, threads: threads)
        }
    }
    sketch.withUnsafeBufferPointer { omega in
        product(m, width, n, matrix, MatrixOperand(omega.baseAddress!, ld: width), into: &range)
    }
    try T.orthonormalize(m: m, n: width, a: &range)
    for _ in 0..<options.powerIterations {
        range.withUnsafeBufferPointer { q in
            product(n, width, m, MatrixOperand(a, ld: n, transposed: true), MatrixOperand(q.baseAddress!, ld: width), into: &coRange)
        }
        try T.orthonormalize(m: n, n: width, a: &coRange)
        coRange.withUnsafeBufferPointer { z in
            product(m, width, n, matrix, MatrixOperand(z.baseAddress!, ld: width), into: &range)
        }
        try T.orthonormalize(m: m, n: width, a: &range)
    }
    // B = Qᵀ·A (ℓ × n) and its SVD.
    var projected = [T](repeating: 0, count: width * n)
    range.withUnsafeBufferPointer { q in
        product(width, n, m, MatrixOperand(q.baseAddress!, ld: width, transposed: true), matrix, into: &projected)
    }
    let small = try projected.withUnsafeBufferPointer { try runLAPACKSVD($0.baseAddress!, m: width, n: n, threads: 1) }
    var u = [T](repeating: 0, count: m * width)
    range.withUnsafeBufferPointer { q in
        small.u.withUnsafeBufferPointer { smallU in
            product(m, width, width, MatrixOperand(q.baseAddress!, ld: width), MatrixOperand(smallU.baseAddress!, ld: width), into: &u)
        }
    }
    var result = SVDResult(m: m, n: n, rank: width, u: u, singularValues: small.singularValues, vt: small.vt)
        .truncated(to: options.rank)
    result.normalizeSigns()
    return result
}

#if canImport(Glibc)
import Glibc
#endif
