/// x ← tanh(x) for `count` values.
///
/// tanh|x| = −e / (2 + e) with e = expm1(−2|x|), the sign restored afterwards. expm1(y) for
/// y ∈ [−40, 0] (|x| is clamped to 20, beyond which tanh rounds to ±1 in Float and Double):
/// y = k·ln 2 + r with k = round(y / ln 2) ∈ [−58, 0] and |r| ≤ ln 2 / 2 (Cody–Waite: ln 2 split
/// into a 16-bit head, so k·head is exact, and a tail); expm1(r) by its Taylor polynomial
/// (degree 7 for Float, 13 for Double: the first omitted term is below u/4 relative on
/// |r| ≤ 0.347); then expm1(y) = 2ᵏ·expm1(r) + (2ᵏ − 1), 2ᵏ built exactly from the six bits of −k.
///
/// Written as scalar code without calls or data-dependent branches, so that the compiler
/// vectorizes the loop (16 Float lanes on AVX-512). Measured on 640 000 values in [−3, 3] (the
/// hidden activations of 5000 states): Float 0.6 ms, against 7 ms for the same formula written
/// on generic `T.Vector` (its generic SIMD operations were not lowered to vector instructions)
/// and 35 ms for Foundation's `tanh` per element; Double 1.4 ms against 14 ms.
///
/// - Complexity: O(count), about 40 operations per vector of lanes.
/// - Error: measured at most 2 ulps (Float) and 3 ulps (Double) against libm's tanh over [−20, 20]
///   (see `TRPOPolicyTests`); exact at 0; ±1 beyond |x| = 20. NaN stays NaN.
func tanhInPlace<T: BinaryFloatingPoint>(_ x: UnsafeMutablePointer<T>, count: Int) {
    let constants = TanhConstants<T>()
    for i in 0..<count { x[i] = tanh(x[i], constants) }
}

/// tanh's constants in T, converted from Double once, outside the loop.
struct TanhConstants<T: BinaryFloatingPoint> {
    let inverseLn2 = T(1 / 0.693147180559945309)
    let ln2Head: T = 0.693145751953125
    let ln2Tail = T(1.428606820309417232e-6)
    /// 1/n! for n = 1…13.
    let c1: T = 1, c2: T = 0.5, c3 = T(1.0 / 6), c4 = T(1.0 / 24), c5 = T(1.0 / 120), c6 = T(1.0 / 720), c7 = T(1.0 / 5040)
    let c8 = T(1.0 / 40320), c9 = T(1.0 / 362880), c10 = T(1.0 / 3628800), c11 = T(1.0 / 39916800)
    let c12 = T(1.0 / 479001600), c13 = T(1.0 / 6227020800)
}

@inline(__always)
func tanh<T: BinaryFloatingPoint>(_ x: T, _ k: TanhConstants<T>) -> T {
    // |x| clamped to 20; min keeps NaN (it returns its first argument unless the second is less).
    let y = -2 * min(abs(x), 20)
    // y = n·ln 2 + r.
    let n = (y * k.inverseLn2).rounded(.toNearestOrEven)
    let r = (y - n * k.ln2Head) - n * k.ln2Tail
    // expm1(r) = r·(1 + r·(1/2 + r·(1/6 + …))) by Horner; the degree is a constant per type.
    var p: T
    if T.significandBitCount > 30 {
        p = k.c13
        p = p * r + k.c12; p = p * r + k.c11; p = p * r + k.c10; p = p * r + k.c9; p = p * r + k.c8
        p = p * r + k.c7
    } else {
        p = k.c7
    }
    p = p * r + k.c6; p = p * r + k.c5; p = p * r + k.c4; p = p * r + k.c3; p = p * r + k.c2; p = p * r + k.c1
    let expm1R = p * r
    // 2ⁿ from the six bits of −n ∈ [0, 58]: the product of 2^(−2ʲ) over the set bits.
    var bits = -n, scale: T = 1, factor: T = 0.5
    for _ in 0..<6 {
        let half = (bits * 0.5).rounded(.down)
        scale = bits - 2 * half > 0.5 ? scale * factor : scale
        bits = half
        factor *= factor
    }
    let e = scale * expm1R + (scale - 1)
    let t = -e / (2 + e)
    return x < 0 ? -t : t
}
