import Foundation

/// One test a variant's output must pass: a measured value against the largest the error model
/// allows, both in the model's units.
public struct Criterion: Sendable, Equatable {
    /// How a bound was obtained.
    public enum Tier: String, Sendable {
        /// A worst-case bound from error analysis: exceeding it proves a fault.
        case hard
        /// A bound that holds with a stated probability (a confidence bound on a stochastic
        /// estimate, or a probabilistic rounding-error bound); the row's note states the probability.
        case statistical
    }

    public var name: String
    public var value: Double
    public var bound: Double
    public var tier: Tier

    public init(_ name: String, value: Double, bound: Double, tier: Tier = .hard) {
        self.name = name
        self.value = value
        self.bound = bound
        self.tier = tier
    }

    /// Whether `value ≤ bound`; NaN fails.
    public var passed: Bool { value <= bound }

    /// `name=value/bound`, with the tier when it is not `hard`: the form of the `criteria` column.
    public var summary: String {
        "\(name)=\(Criterion.format(value))/\(Criterion.format(bound))" + (tier == .hard ? "" : "(\(tier.rawValue))")
    }

    /// Enough digits to see a margin (1.0035 against 1.01), never an integer conversion that could trap.
    public static func format(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return String(format: "%.6g", x)
    }
}

/// The outcome of comparing one variant's output with the reference under an error model.
public struct Verification: Sendable, Equatable {
    public var passed: Bool
    /// The error model's name, written into the report (for example `gamma_k|A||B|`).
    public var model: String
    /// The decisive criterion's value: the one closest to (or furthest beyond) its bound.
    public var errRatio: Double
    /// The decisive criterion's bound.
    public var errBound: Double
    public var maxAbsError: Double
    public var maxRelError: Double
    /// Where the worst element is, for example `C[3,17]`.
    public var worst: String
    /// Anything else a reader needs: why a check failed, what was compared.
    public var note: String
    /// Every criterion checked, in the order the model states them.
    public var criteria: [Criterion]

    /// A verification with one hard criterion, `err_ratio ≤ errBound`.
    public init(
        passed: Bool, model: String, errRatio: Double, errBound: Double,
        maxAbsError: Double, maxRelError: Double, worst: String = "", note: String = ""
    ) {
        self.passed = passed
        self.model = model
        self.errRatio = errRatio
        self.errBound = errBound
        self.maxAbsError = maxAbsError
        self.maxRelError = maxRelError
        self.worst = worst
        self.note = note
        self.criteria = [Criterion("err_ratio", value: errRatio, bound: errBound)]
    }

    /// A verification that passes when every criterion does. `errRatio`/`errBound` are those of
    /// the decisive criterion: the largest value/bound.
    public init(
        model: String, criteria: [Criterion], maxAbsError: Double, maxRelError: Double,
        worst: String = "", note: String = ""
    ) {
        if criteria.isEmpty { fatalError("Verification(\(model)): no criteria") }
        func severity(_ c: Criterion) -> Double {
            if c.value.isNaN { return .infinity }
            if c.bound > 0 { return c.value / c.bound }
            return c.value > c.bound ? .infinity : 0
        }
        let decisive = criteria.max { severity($0) < severity($1) }!
        self.passed = criteria.allSatisfy(\.passed)
        self.model = model
        self.errRatio = decisive.value
        self.errBound = decisive.bound
        self.maxAbsError = maxAbsError
        self.maxRelError = maxRelError
        self.worst = worst
        self.note = note
        self.criteria = criteria
    }

    /// The criteria that failed, by name.
    public var failedCriteria: [String] { criteria.filter { !$0.passed }.map(\.name) }
}

/// Error models shared by kernel families. Each states the bound it checks; none has a free
/// tolerance parameter.
public enum ErrorModels {
    /// γ_n / u = n / (1 − n·u): the classic bound on the relative error of n accumulated
    /// roundings, in units of the unit roundoff u (Higham, *Accuracy and Stability*, §3.1).
    /// Infinite when n·u ≥ 1, where the bound says nothing.
    public static func gammaRatio(_ n: Int, unitRoundoff u: Double) -> Double {
        let nu = Double(n) * u
        return nu < 1 ? Double(n) / (1 - nu) : .infinity
    }

    /// Compares `computed` with `reference` element by element under a forward bound of the form
    /// |ĉ_i − c_i| ≤ bound · u · scale_i, where `scale_i` is the magnitude the bound is relative
    /// to (for C = AB it is (|A||B|)_i).
    ///
    /// `errRatio` is max_i |ĉ_i − c_i| / (u · scale_i); where `scale_i` is zero the element must
    /// match exactly. The check also fails on a NaN or infinity, and on an all-zero output when the
    /// reference is not all zero, so that a kernel that writes nothing cannot pass by accident.
    /// `describe` turns an element index into a location such as `C[3,17]`. O(n).
    public static func scaledForwardError(
        computed: [Double], reference: [Double], scale: [Double],
        unitRoundoff u: Double, bound: Double, model: String,
        describe: (Int) -> String
    ) -> Verification {
        if computed.count != reference.count || scale.count != reference.count {
            return lengthMismatch(model: model, computed: computed.count, reference: reference.count)
        }
        var worstRatio = 0.0, worstIndex = -1
        var maxAbs = 0.0, maxRel = 0.0
        var computedAllZero = true, referenceAllZero = true
        var nonFinite: Int? = nil
        for i in reference.indices {
            let c = computed[i], r = reference[i]
            if !c.isFinite { nonFinite = nonFinite ?? i; continue }
            if c != 0 { computedAllZero = false }
            if r != 0 { referenceAllZero = false }
            let error = abs(c - r)
            maxAbs = max(maxAbs, error)
            if r != 0 { maxRel = max(maxRel, error / abs(r)) }
            let ratio = error == 0 ? 0 : (scale[i] > 0 ? error / (u * scale[i]) : .infinity)
            if ratio > worstRatio || worstIndex < 0 { worstRatio = ratio; worstIndex = i }
        }
        if let i = nonFinite {
            return Verification(
                passed: false, model: model, errRatio: .infinity, errBound: bound,
                maxAbsError: .infinity, maxRelError: .infinity, worst: describe(i),
                note: "non-finite output \(computed[i]) where the reference is \(reference[i])")
        }
        var note = ""
        var passed = worstRatio <= bound
        if computedAllZero && !referenceAllZero {
            passed = false
            note = "output is all zero but the reference is not"
        } else if !passed {
            note = "error exceeds the bound"
        }
        return Verification(
            passed: passed, model: model, errRatio: worstRatio, errBound: bound,
            maxAbsError: maxAbs, maxRelError: maxRel,
            worst: worstIndex >= 0 ? describe(worstIndex) : "", note: note)
    }

    /// Exact agreement, for integer, combinatorial and bit-exact outputs: every element of
    /// `computed` must equal the reference's, compared with `==` in the elements' own type
    /// (integers as integers, never through Double). `errRatio` is the number of elements that
    /// differ, the bound 0; `worst` is the first that differs. O(n).
    public static func exact<C: Collection>(
        computed: C, reference: C, model: String = "exact", describe: (Int) -> String
    ) -> Verification where C.Element: Equatable {
        exact(computed: computed, reference: reference, model: model, describe: describe, equal: ==)
    }

    /// Bit-for-bit agreement of floating-point outputs (a shuffle or a nearest-neighbour copy):
    /// the bit patterns must be equal, so that −0 against +0 and a NaN payload count as different.
    public static func exactBits<T: BinaryFloatingPoint>(
        computed: [T], reference: [T], model: String = "exact(bits)", describe: (Int) -> String
    ) -> Verification where T.RawSignificand: FixedWidthInteger {
        exact(computed: computed, reference: reference, model: model, describe: describe) {
            $0.sign == $1.sign && $0.exponentBitPattern == $1.exponentBitPattern && $0.significandBitPattern == $1.significandBitPattern
        }
    }

    static func exact<C: Collection>(
        computed: C, reference: C, model: String, describe: (Int) -> String, equal: (C.Element, C.Element) -> Bool
    ) -> Verification {
        guard computed.count == reference.count else {
            return lengthMismatch(model: model, computed: computed.count, reference: reference.count)
        }
        var mismatches = 0, first: (Int, C.Element, C.Element)? = nil
        for (index, (c, r)) in zip(computed, reference).enumerated() where !equal(c, r) {
            mismatches += 1
            if first == nil { first = (index, c, r) }
        }
        let note = first.map { "\(mismatches) of \(reference.count) differ; first at \(describe($0.0)): got \($0.1), expected \($0.2)" } ?? ""
        return Verification(
            model: model, criteria: [Criterion("mismatches", value: Double(mismatches), bound: 0)],
            maxAbsError: mismatches == 0 ? 0 : .nan, maxRelError: mismatches == 0 ? 0 : .nan,
            worst: first.map { describe($0.0) } ?? "", note: note)
    }

    /// Distance in units in the last place of `T`: |ĉ − c| / ulp(c rounded to T), for kernels whose
    /// formula rounds a bounded number of times (a few ulps). `errRatio` is the largest distance,
    /// passing at ≤ `maxULPs`; NaN or infinity where the reference is finite fails. O(n).
    public static func ulps<T: BinaryFloatingPoint>(
        computed: [T], reference: [Double], maxULPs: Double, model: String? = nil, describe: (Int) -> String
    ) -> Verification {
        if computed.count != reference.count {
            return lengthMismatch(model: model ?? "ulps(\(T.self))", computed: computed.count, reference: reference.count)
        }
        var worst = 0.0, worstIndex = -1, maxAbs = 0.0, maxRel = 0.0
        for i in reference.indices {
            let c = Double(computed[i]), r = reference[i]
            let distance: Double
            if c == r || (c.isNaN && r.isNaN) {
                distance = 0
            } else if !c.isFinite || !r.isFinite {
                distance = .infinity
            } else {
                let ulp = Double(T(r).ulp)
                distance = abs(c - r) / ulp
                maxAbs = max(maxAbs, abs(c - r))
                if r != 0 { maxRel = max(maxRel, abs(c - r) / abs(r)) }
            }
            if distance > worst || worstIndex < 0 { worst = distance; worstIndex = i }
        }
        return Verification(
            model: model ?? "ulps(\(T.self))", criteria: [Criterion("ulps", value: worst, bound: maxULPs)],
            maxAbsError: maxAbs, maxRelError: maxRel, worst: worstIndex >= 0 ? describe(worstIndex) : "",
            note: worst <= maxULPs ? "" : "error exceeds \(Criterion.format(maxULPs)) ulps")
    }

    /// A seeded stochastic estimate against the exact value: each estimate must lie within its
    /// confidence half-width of the exact value, |x̂_i − x_i| ≤ h_i, where the family derives h_i
    /// from the number of samples and a stated failure probability (`confidence` names both, for
    /// example "Hoeffding, p = 1e-6 over 19 states"). `errRatio` = max |x̂_i − x_i| / h_i, passing
    /// at ≤ 1, in the statistical tier. O(n).
    public static func statistical(
        estimates: [Double], exact: [Double], halfWidths: [Double], confidence: String,
        model: String = "confidence-bound", describe: (Int) -> String
    ) -> Verification {
        if estimates.count != exact.count || halfWidths.count != exact.count {
            return lengthMismatch(model: model, computed: estimates.count, reference: exact.count)
        }
        var worst = 0.0, worstIndex = -1, maxAbs = 0.0, maxRel = 0.0
        for i in exact.indices {
            let error = abs(estimates[i] - exact[i])
            let ratio = error.isNaN ? .infinity : (halfWidths[i] > 0 ? error / halfWidths[i] : (error == 0 ? 0 : .infinity))
            maxAbs = max(maxAbs, error.isNaN ? .infinity : error)
            if exact[i] != 0 { maxRel = max(maxRel, error / abs(exact[i])) }
            if ratio > worst || worstIndex < 0 { worst = ratio; worstIndex = i }
        }
        return Verification(
            model: model, criteria: [Criterion("confidence_ratio", value: worst, bound: 1, tier: .statistical)],
            maxAbsError: maxAbs, maxRelError: maxRel, worst: worstIndex >= 0 ? describe(worstIndex) : "",
            note: confidence + (worst <= 1 ? "" : "; estimate outside the confidence bound"))
    }

    /// The two tiers of an inner product of length k (a dot product, a matrix product, a
    /// convolution with k = (C_in/groups)·kh·kw), both relative to (|a||b|)_i — the same sums as
    /// the reference with every term made non-negative, given as `magnitude`:
    ///
    /// - **hard:** |ĉ_i − c_i| ≤ γ_k·(|a||b|)_i, γ_k = k·u/(1 − k·u) (Higham, *Accuracy and
    ///   Stability*, §3.1): true for every order of summation, exceeded only by a fault;
    /// - **statistical:** |ĉ_i − c_i| ≤ γ̃_k(λ)·(|a||b|)_i, γ̃_k(λ) = exp(λ√k·u + k·u²/(1−u)) − 1 ≈ λ√k·u,
    ///   which Higham and Mary (SIAM J. Sci. Comput. 41(5), 2019, Thm. 3.1 with Thm. 2.4) prove
    ///   for any summation order when rounding errors are independent with mean zero, with
    ///   probability at least 1 − 2k·exp(−λ²(1−u)²/2) per inner product. λ is chosen so that all
    ///   `computed.count` inner products hold together with probability 1 − `failureProbability`
    ///   (a union bound), not fitted to observed errors. It grows like √k instead of k, so a
    ///   kernel with a few bits less precision than it claims fails it long before the hard bound.
    ///
    /// A reference accumulated in Double adds its own error (the same formulas in u_Double) to
    /// each tier. `errRatio` is in units of u·|a||b|; the row fails beyond either tier.
    ///
    ///     let v = ErrorModels.innerProduct(computed: y, reference: exact, magnitude: absSums,
    ///                                      k: n, unitRoundoff: 0x1p-24, describe: { "y[\($0)]" })
    public static func innerProduct(
        computed: [Double], reference: [Double], magnitude: [Double], k: Int, unitRoundoff u: Double,
        failureProbability: Double = 1e-6, describe: (Int) -> String
    ) -> Verification {
        let hardBound = innerProductBound(k: k, unitRoundoff: u)
        let v = scaledForwardError(
            computed: computed, reference: reference, scale: magnitude, unitRoundoff: u, bound: hardBound,
            model: "gamma_k|a||b|", describe: describe)
        let (statisticalBound, lambda) = probabilisticInnerProductBound(
            k: k, unitRoundoff: u, innerProducts: computed.count, failureProbability: failureProbability)
        let criteria = [
            Criterion("err_ratio", value: v.errRatio, bound: hardBound),
            Criterion("err_ratio", value: v.errRatio, bound: statisticalBound, tier: .statistical),
        ]
        var tiered = Verification(
            model: "gamma_k|a||b| (k=\(k)); probabilistic lambda=\(Criterion.format(lambda)) p=\(Criterion.format(failureProbability))",
            criteria: criteria, maxAbsError: v.maxAbsError, maxRelError: v.maxRelError, worst: v.worst, note: v.note)
        // The non-finite and all-zero checks of scaledForwardError stand whatever the ratios say.
        tiered.passed = v.passed && criteria[1].passed
        if v.passed && !criteria[1].passed {
            tiered.note = "error beyond the statistical bound (failure probability \(Criterion.format(failureProbability)) for a correct kernel)"
        }
        return tiered
    }

    /// γ_k(u)/u plus a Double reference's own γ_k(u_Double) in units of u: the hard tier of
    /// `innerProduct`.
    public static func innerProductBound(k: Int, unitRoundoff u: Double) -> Double {
        let uDouble = 0x1p-53
        return gammaRatio(k, unitRoundoff: u) + gammaRatio(k, unitRoundoff: uDouble) * (uDouble / u)
    }

    /// γ̃_k(λ)/u plus the Double reference's own γ̃_k(λ) in units of u, with λ chosen so that
    /// `innerProducts` inner products of length k all stay within it except with probability at most
    /// `failureProbability`: 2k·exp(−λ²(1−u)²/2)·innerProducts = failureProbability (Higham & Mary
    /// 2019, Thm. 2.4). Returns the bound and λ.
    public static func probabilisticInnerProductBound(
        k: Int, unitRoundoff u: Double, innerProducts: Int, failureProbability: Double
    ) -> (bound: Double, lambda: Double) {
        let n = Double(max(k, 1))
        let events = 2 * n * Double(max(innerProducts, 1))
        let lambda = (2 * log(events / failureProbability)).squareRoot() / (1 - u)
        func gammaTilde(_ unit: Double) -> Double { expm1(lambda * n.squareRoot() * unit + n * unit * unit / (1 - unit)) }
        return (gammaTilde(u) / u + gammaTilde(0x1p-53) / u, lambda)
    }

    /// An elementwise tolerance, |ĉ − c| ≤ atol + rtol·|c|, for a kernel with no derived bound. Say
    /// where the numbers come from in `source` (for example "torch.testing defaults"); prefer a
    /// derived bound. `errRatio` is max |ĉ − c| / (atol + rtol·|c|), passing at ≤ 1; NaN and
    /// infinity fail. O(n).
    public static func tolerance(
        computed: [Double], reference: [Double], rtol: Double, atol: Double, source: String, describe: (Int) -> String
    ) -> Verification {
        let scale = reference.map { (atol + rtol * abs($0)) }
        // Expressed through scaledForwardError with u = 1 so that ratio = error / allowance.
        var v = scaledForwardError(
            computed: computed, reference: reference, scale: scale, unitRoundoff: 1, bound: 1,
            model: "tolerance(rtol=\(Criterion.format(rtol)),atol=\(Criterion.format(atol)))", describe: describe)
        if v.note.isEmpty { v.note = source }
        return v
    }

    /// A failed verification for an output of the wrong length: a wrong kernel's output must fail
    /// its row, never stop the process.
    static func lengthMismatch(model: String, computed: Int, reference: Int) -> Verification {
        Verification(
            model: model, criteria: [Criterion("length_mismatch", value: Double(abs(computed - reference)), bound: 0)],
            maxAbsError: .infinity, maxRelError: .infinity, worst: "length",
            note: "\(computed) elements where the reference has \(reference)")
    }

    /// The fallback for families without an error model of their own: torch.testing's defaults,
    /// |ĉ − c| ≤ atol + rtol·|c| with (rtol, atol) = (1.3e-6, 1e-5) for Float and (1e-7, 1e-7) for
    /// Double. `errRatio` is max |ĉ − c| / (atol + rtol·|c|), passing at ≤ 1. O(n).
    public static func torchDefault(
        computed: [Double], reference: [Double], isDouble: Bool, describe: (Int) -> String
    ) -> Verification {
        let (rtol, atol) = isDouble ? (1e-7, 1e-7) : (1.3e-6, 1e-5)
        var v = tolerance(computed: computed, reference: reference, rtol: rtol, atol: atol,
                          source: "no family error model; torch.testing defaults", describe: describe)
        v.model = isDouble ? "torch-default(f64 rtol=1e-7,atol=1e-7)" : "torch-default(f32 rtol=1.3e-6,atol=1e-5)"
        return v
    }
}
