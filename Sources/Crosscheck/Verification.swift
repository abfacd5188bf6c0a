/// The outcome of comparing one variant's output with the reference under an error model.
public struct Verification: Sendable, Equatable {
    public var passed: Bool
    /// The error model's name, written into the report (for example `gamma_k|A||B|`).
    public var model: String
    /// The worst error seen, in the model's units (for products: multiples of u·(|A||B|)_ij).
    public var errRatio: Double
    /// The largest `errRatio` the model allows for this input.
    public var errBound: Double
    public var maxAbsError: Double
    public var maxRelError: Double
    /// Where the worst element is, for example `C[3,17]`.
    public var worst: String
    /// Anything else a reader needs: why a check failed, iteration counts, and so on.
    public var note: String

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
    }
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
        precondition(computed.count == reference.count && scale.count == reference.count)
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

    /// The fallback for families without an error model of their own: torch.testing's defaults,
    /// |ĉ − c| ≤ atol + rtol·|c| with (rtol, atol) = (1.3e-6, 1e-5) for Float and (1e-7, 1e-7) for
    /// Double. `errRatio` is max |ĉ − c| / (atol + rtol·|c|), passing at ≤ 1. O(n).
    public static func torchDefault(
        computed: [Double], reference: [Double], isDouble: Bool, describe: (Int) -> String
    ) -> Verification {
        let (rtol, atol) = isDouble ? (1e-7, 1e-7) : (1.3e-6, 1e-5)
        let scale = reference.map { (atol + rtol * abs($0)) }
        // Expressed through scaledForwardError with u = 1 so that ratio = error / allowance.
        var v = scaledForwardError(
            computed: computed, reference: reference, scale: scale, unitRoundoff: 1, bound: 1,
            model: isDouble ? "torch-default(f64 rtol=1e-7,atol=1e-7)" : "torch-default(f32 rtol=1.3e-6,atol=1e-5)",
            describe: describe)
        if v.note.isEmpty { v.note = "no family error model; torch.testing defaults" }
        return v
    }
}
