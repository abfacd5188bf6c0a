/// An exact rational number p/q in lowest terms with q > 0, for receptive-field quantities that
/// stop being integers: the jump after a transposed convolution or an upsampling layer (1/2 after
/// a ×2 upsampling), and field centres such as (k − 1)/2 for an even kernel.
///
/// Arithmetic is exact and overflow-checked: an operation whose numerator or denominator would
/// not fit in `Int` throws `RationalOverflow` instead of wrapping (the kernels are compiled with
/// `-Ounchecked`, so Swift's own traps are gone). Comparison is exact for every representable
/// value (it compares the 128-bit cross products).
public struct Rational: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The numerator p (any sign).
    public let numerator: Int
    /// The denominator q ≥ 1, coprime with p.
    public let denominator: Int

    public static let zero = Rational(0)
    public static let one = Rational(1)

    /// The integer n as n/1.
    public init(_ integer: Int) {
        numerator = integer
        denominator = 1
    }

    /// p/q reduced to lowest terms with a positive denominator.
    ///
    /// - Complexity: O(log min(|p|, |q|)) (Euclid). Exact.
    /// - Throws: `RationalOverflow` if q is 0, or if p or q is `Int.min` and its sign cannot be moved.
    public init(_ numerator: Int, _ denominator: Int) throws(RationalOverflow) {
        if denominator == 0 { throw RationalOverflow() }
        let divisor = greatestCommonDivisor(numerator.magnitude, denominator.magnitude)
        let p = numerator.magnitude / divisor, q = denominator.magnitude / divisor   // p = 0 gives q = 1
        guard p <= UInt(Int.max), q <= UInt(Int.max) else { throw RationalOverflow() }
        self.numerator = (numerator < 0) != (denominator < 0) ? -Int(p) : Int(p)
        self.denominator = Int(q)
    }

    /// Whether the value is an integer (denominator 1).
    public var isInteger: Bool { denominator == 1 }

    /// a + b, exact.
    /// - Throws: `RationalOverflow` when the result does not fit.
    public func adding(_ other: Rational) throws(RationalOverflow) -> Rational {
        let divisor = greatestCommonDivisor(denominator.magnitude, other.denominator.magnitude)
        let left = denominator / Int(divisor), right = other.denominator / Int(divisor)
        let numerator = try Rational.checked(self.numerator.multipliedReportingOverflow(by: right))
        let otherNumerator = try Rational.checked(other.numerator.multipliedReportingOverflow(by: left))
        let sum = try Rational.checked(numerator.addingReportingOverflow(otherNumerator))
        let commonDenominator = try Rational.checked(left.multipliedReportingOverflow(by: other.denominator))
        return try Rational(sum, commonDenominator)
    }

    /// a − b, exact.
    /// - Throws: `RationalOverflow` when the result does not fit.
    public func subtracting(_ other: Rational) throws(RationalOverflow) -> Rational {
        if other.numerator == Int.min { throw RationalOverflow() }
        return try adding(Rational(unreducedNumerator: -other.numerator, denominator: other.denominator))
    }

    /// a · b, exact (cross-reduced first, so intermediate products stay as small as the result).
    /// - Throws: `RationalOverflow` when the result does not fit.
    public func multiplied(by other: Rational) throws(RationalOverflow) -> Rational {
        let a = Int(greatestCommonDivisor(numerator.magnitude, other.denominator.magnitude))
        let b = Int(greatestCommonDivisor(other.numerator.magnitude, denominator.magnitude))
        let p = try Rational.checked((numerator / a).multipliedReportingOverflow(by: other.numerator / b))
        let q = try Rational.checked((denominator / b).multipliedReportingOverflow(by: other.denominator / a))
        return try Rational(p, q)
    }

    /// a / b, exact.
    /// - Throws: `RationalOverflow` when b is 0 or the result does not fit.
    public func divided(by other: Rational) throws(RationalOverflow) -> Rational {
        if other.numerator == 0 || other.numerator == Int.min { throw RationalOverflow() }
        let reciprocal = Rational(unreducedNumerator: other.numerator < 0 ? -other.denominator : other.denominator,
                                  denominator: abs(other.numerator))
        return try multiplied(by: reciprocal)
    }

    /// ⌊a⌋, the largest integer not above the value.
    public var floor: Int { floorDivide(numerator, denominator) }

    /// ⌈a⌉, the smallest integer not below the value.
    public var ceiling: Int { -floorDivide(-numerator, denominator) }

    /// The value as a Double (rounded; for display and plotting only).
    public var doubleValue: Double { Double(numerator) / Double(denominator) }

    /// "3", "-1/2": the exact value as a fraction.
    public var description: String {
        denominator == 1 ? String(numerator) : "\(numerator)/\(denominator)"
    }

    /// The exact value as a terminating decimal ("0.25", "-1.5") when the denominator has no prime
    /// factor other than 2 and 5, and as a fraction ("1/3") otherwise.
    public var exactDecimal: String {
        var twos = 0, fives = 0, rest = denominator
        while rest % 2 == 0 { rest /= 2; twos += 1 }
        while rest % 5 == 0 { rest /= 5; fives += 1 }
        guard rest == 1 else { return description }
        let digits = max(twos, fives)
        var scale = 1
        for _ in 0..<digits {
            let (next, overflow) = scale.multipliedReportingOverflow(by: 10)
            if overflow { return description }
            scale = next
        }
        let (scaled, overflow) = numerator.magnitude.multipliedReportingOverflow(by: UInt(scale / denominator))
        if overflow { return description }
        let whole = scaled / UInt(scale), fraction = scaled % UInt(scale)
        let sign = numerator < 0 ? "-" : ""
        guard digits > 0 else { return sign + String(whole) }
        let fractionDigits = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: digits - fractionDigits.count) + fractionDigits
    }

    public static func < (a: Rational, b: Rational) -> Bool {
        // a.p·b.q < b.p·a.q, compared on 128-bit products (denominators are positive).
        let left = a.numerator.multipliedFullWidth(by: b.denominator)
        let right = b.numerator.multipliedFullWidth(by: a.denominator)
        return left.high != right.high ? left.high < right.high : left.low < right.low
    }

    private init(unreducedNumerator: Int, denominator: Int) {
        numerator = unreducedNumerator
        self.denominator = denominator
    }

    private static func checked(_ result: (partialValue: Int, overflow: Bool)) throws(RationalOverflow) -> Int {
        if result.overflow { throw RationalOverflow() }
        return result.partialValue
    }
}

/// A rational operation whose exact result does not fit in `Int` (or a division by zero).
public struct RationalOverflow: Error, Equatable, Sendable {
    public init() {}
}

/// gcd(a, b) by Euclid's algorithm; gcd(0, 0) = 1 so that it can always divide.
private func greatestCommonDivisor(_ a: UInt, _ b: UInt) -> UInt {
    var (x, y) = (a, b)
    while y != 0 { (x, y) = (y, x % y) }
    return x == 0 ? 1 : x
}
