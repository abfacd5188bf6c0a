import SeededRandom

/// # Soft target update (Polyak averaging)
///
/// DDPG's update of a target network θ′ towards the online network θ, element by element:
///
///     θ′ ← τ·θ + (1 − τ)·θ′,   0 ≤ τ ≤ 1,
///
/// over Float parameter vectors of 10⁴ to 10⁸ elements. It reads θ, reads and writes θ′:
/// 12 bytes and 3 flops per element, so it is memory-bound and judged in GB/s against the
/// machine's triad bandwidth.
///
/// - `softUpdateReference` — the exact value in Double (the check's reference).
/// - `softUpdateNaive` — the textbook formula in a scalar loop: fl(fl(τθ) + fl(fl(1 − τ)·θ′)).
/// - `softUpdateSIMD` — two fused multiply-adds per element, 16 lanes at a time:
///   fma(τ, θ, fma(−τ, θ′, θ′)).
/// - `softUpdateParallel` — `softUpdateSIMD` on contiguous shares, one per thread.
///
/// ## Error (u = 2⁻²⁴, M = τ|θ| + (1 − τ)|θ′|)
///
/// Cancellation (θ ≈ θ′ of opposite-signed parts, or a result near zero) means the error is not
/// small relative to the result, so the bound is relative to M, the sum of the magnitudes:
///
/// - Textbook: with c = (1 − τ)(1 + δ₀), fl(τθ) = τθ(1 + δ₁), fl(cθ′) = cθ′(1 + δ₂), and the sum
///   rounded with (1 + δ₃), |δ| ≤ u:  |θ̂′ − y| ≤ uτ|θ| + (2u + u²)(1 − τ)|θ′| + u(1 + 2u + u²)M
///   ≤ (3 + 3u + u²)·u·M.
/// - Fused: inner = (1 − τ)θ′(1 + δ₁) (one rounding: fma(−τ, θ′, θ′) is θ′ − τθ′ rounded once),
///   θ̂′ = (τθ + inner)(1 + δ₂):  |θ̂′ − y| ≤ u|y| + u(1 + u)(1 − τ)|θ′| ≤ (2 + u)·u·M, for
///   every τ in [0, 1] (τ = 1 gives θ exactly, τ = 0 gives θ′). Unlike fma(τ, θ − θ′, θ′),
///   whose constant 1 + (1 + u)·max(1, τ/(1 − τ)) grows as τ → 1 and whose θ − θ′ can
///   overflow, no intermediate exceeds max(|θ|, |θ′|).
/// - Results in the subnormal range add an absolute error of at most 2⁻¹⁴⁹ (an addition whose
///   result is subnormal is exact; one product or fma rounds there).
/// - The Double reference is within 3·2⁻⁵³·M of y, 2⁻²⁷ of the Float unit: `softUpdateErrorRatio`
///   measures |θ̂′ − y| / (u·M + 2⁻¹⁴⁹), which must stay below the form's constant plus 2⁻²⁶.
///
/// NaN and ±∞ in θ or θ′ propagate as IEEE arithmetic makes them (they are not searched for,
/// which would double the memory traffic).

/// Bad input to a soft target update.
public enum SoftUpdateError: Error, CustomStringConvertible, Equatable {
    case countMismatch(target: Int, online: Int)
    /// τ must be a number in [0, 1].
    case rateOutOfRange(tau: Float)

    public var description: String {
        switch self {
        case .countMismatch(let target, let online):
            "soft update: target has \(target) elements but online has \(online)"
        case .rateOutOfRange(let tau):
            "soft update: tau must lie in [0, 1], got \(tau)"
        }
    }
}

/// How a variant evaluates τθ + (1 − τ)θ′, which decides its error constant.
public enum SoftUpdateEvaluation: Sendable {
    /// fl(fl(τθ) + fl(fl(1 − τ)·θ′)): `softUpdateNaive`.
    case textbook
    /// fma(τ, θ, fma(−τ, θ′, θ′)): `softUpdateSIMD`, `softUpdateParallel`.
    case fused

    /// The constant c of |θ̂′ − y| ≤ c·(u·M + 2⁻¹⁴⁹), including the Double reference's own error
    /// (2⁻²⁶ in these units, generously).
    public var errorConstant: Double {
        let u = 0x1p-24
        return switch self {
        case .textbook: 3 + 3 * u + u * u + 0x1p-26
        case .fused: 2 + u + 0x1p-26
        }
    }
}

func validateSoftUpdate(targetCount: Int, onlineCount: Int, tau: Float) throws {
    if targetCount != onlineCount { throw SoftUpdateError.countMismatch(target: targetCount, online: onlineCount) }
    if !(tau >= 0 && tau <= 1) { throw SoftUpdateError.rateOutOfRange(tau: tau) }
}

/// τθ + (1 − τ)θ′ in Double, from the Float inputs — the reference the variants are checked
/// against (within 3·2⁻⁵³·M of the exact value).
///
/// - Complexity: O(n).
/// - Throws: `SoftUpdateError` for mismatched counts or τ outside [0, 1].
public func softUpdateReference(target: UnsafeBufferPointer<Float>, online: UnsafeBufferPointer<Float>, tau: Float) throws -> [Double] {
    try validateSoftUpdate(targetCount: target.count, onlineCount: online.count, tau: tau)
    let t = Double(tau)
    return (0..<target.count).map { i in t * Double(online[i]) + (1 - t) * Double(target[i]) }
}

/// θ′ ← τθ + (1 − τ)θ′ as written, in a scalar loop. Error ≤ (3 + 3u + u²)·u·M + 2⁻¹⁴⁹
/// elementwise (`SoftUpdateEvaluation.textbook`).
///
/// - Complexity: O(n); 12 bytes and 3 flops per element (plus one for 1 − τ).
/// - Throws: `SoftUpdateError` for mismatched counts or τ outside [0, 1].
public func softUpdateNaive(target: UnsafeMutableBufferPointer<Float>, online: UnsafeBufferPointer<Float>, tau: Float) throws {
    try validateSoftUpdate(targetCount: target.count, onlineCount: online.count, tau: tau)
    let keep = 1 - tau
    for i in 0..<target.count {
        target[i] = tau * online[i] + keep * target[i]
    }
}

/// θ′ ← fma(τ, θ, fma(−τ, θ′, θ′)), 16 Float lanes at a time (two vectors per iteration), the
/// remainder scalar with the same two fused multiply-adds, so that every element gets the same
/// result whichever path computes it. Error ≤ (2 + u)·u·M + 2⁻¹⁴⁹ elementwise
/// (`SoftUpdateEvaluation.fused`).
///
/// - Complexity: O(n); 12 bytes and 4 flops (two FMAs) per element.
/// - Throws: `SoftUpdateError` for mismatched counts or τ outside [0, 1].
public func softUpdateSIMD(target: UnsafeMutableBufferPointer<Float>, online: UnsafeBufferPointer<Float>, tau: Float) throws {
    try validateSoftUpdate(targetCount: target.count, onlineCount: online.count, tau: tau)
    if target.isEmpty { return }
    fusedSoftUpdate(target.baseAddress!, online.baseAddress!, count: target.count, tau: tau)
}

/// `softUpdateSIMD` on `threads` contiguous shares of the vectors (`parallelFor`), each at
/// least 2¹⁸ elements (3 MB of traffic, about 100 µs): below that, waking a second thread
/// costs more than it saves. Same results as `softUpdateSIMD`, bit for bit.
///
/// - Complexity: O(n/threads) per thread.
/// - Throws: `SoftUpdateError` for mismatched counts or τ outside [0, 1].
public func softUpdateParallel(target: UnsafeMutableBufferPointer<Float>, online: UnsafeBufferPointer<Float>, tau: Float, threads: Int) throws {
    if threads < 1 { fatalError("softUpdateParallel: threads must be at least 1, got \(threads)") }
    try validateSoftUpdate(targetCount: target.count, onlineCount: online.count, tau: tau)
    if target.isEmpty { return }
    let n = target.count
    let parts = max(1, min(threads, n >> 18))
    let targetBase = target.baseAddress!, onlineBase = online.baseAddress!
    parallelFor(parts) { part in
        let (first, end) = share(of: n, part: part, parts: parts)
        fusedSoftUpdate(targetBase + first, onlineBase + first, count: end - first, tau: tau)
    }
}

/// The fused loop of `softUpdateSIMD` on one contiguous range.
@inline(__always)
func fusedSoftUpdate(_ target: UnsafeMutablePointer<Float>, _ online: UnsafePointer<Float>, count: Int, tau: Float) {
    typealias Vector = SIMD16<Float>
    let lanes = Vector.scalarCount
    let tauVector = Vector(repeating: tau), minusTau = Vector(repeating: -tau)
    let targetRaw = UnsafeMutableRawPointer(target), onlineRaw = UnsafeRawPointer(online)
    let stride = MemoryLayout<Float>.stride
    var i = 0
    while i + 2 * lanes <= count {
        let t0 = targetRaw.loadUnaligned(fromByteOffset: i * stride, as: Vector.self)
        let t1 = targetRaw.loadUnaligned(fromByteOffset: (i + lanes) * stride, as: Vector.self)
        let o0 = onlineRaw.loadUnaligned(fromByteOffset: i * stride, as: Vector.self)
        let o1 = onlineRaw.loadUnaligned(fromByteOffset: (i + lanes) * stride, as: Vector.self)
        targetRaw.storeBytes(of: t0.addingProduct(minusTau, t0).addingProduct(tauVector, o0), toByteOffset: i * stride, as: Vector.self)
        targetRaw.storeBytes(of: t1.addingProduct(minusTau, t1).addingProduct(tauVector, o1), toByteOffset: (i + lanes) * stride, as: Vector.self)
        i += 2 * lanes
    }
    while i < count {
        target[i] = target[i].addingProduct(-tau, target[i]).addingProduct(tau, online[i])
        i += 1
    }
}

/// The check of a soft update: the worst |θ̂′ᵢ − yᵢ| / (u·Mᵢ + 2⁻¹⁴⁹) over all elements, with
/// yᵢ from `softUpdateReference`, Mᵢ = τ|θᵢ| + (1 − τ)|θ′ᵢ| from the inputs before the update,
/// and u = 2⁻²⁴, and the index where it occurs (0 for empty vectors). A correct variant stays
/// at or below its `SoftUpdateEvaluation.errorConstant`; NaN in the result gives an infinite
/// ratio.
///
/// - Complexity: O(n).
public func softUpdateErrorRatio(updated: UnsafeBufferPointer<Float>, reference: UnsafeBufferPointer<Double>,
                                 target: UnsafeBufferPointer<Float>, online: UnsafeBufferPointer<Float>,
                                 tau: Float) -> (ratio: Double, index: Int) {
    let n = updated.count
    if reference.count != n || target.count != n || online.count != n {
        fatalError("softUpdateErrorRatio: counts differ: \(n), \(reference.count), \(target.count), \(online.count)")
    }
    let t = Double(tau)
    var worst = (ratio: 0.0, index: 0)
    for i in 0..<n {
        let magnitude = t * Double(online[i]).magnitude + (1 - t) * Double(target[i]).magnitude
        let error = (Double(updated[i]) - reference[i]).magnitude
        let ratio = error.isNaN ? Double.infinity : error / (0x1p-24 * magnitude + 0x1p-149)
        if ratio > worst.ratio { worst = (ratio, i) }
    }
    return worst
}

/// Inputs for a soft update: θ uniform in [−1, 1), θ′ = θ + 0.01·(uniform in [−1, 1)) — a target
/// close to its online network, as in training, which makes θ − θ′ cancel. Seeded. O(n).
public func softUpdateInputs(count: Int, seed: UInt64) -> (target: [Float], online: [Float]) {
    if count < 0 { fatalError("softUpdateInputs: count must not be negative, got \(count)") }
    var generator = SeededGenerator(seed: seed)
    let online: [Float] = .uniform(count: count, using: &generator)
    let target = online.map { $0 + 0.01 * Float(generator.nextSigned()) }
    return (target, online)
}
