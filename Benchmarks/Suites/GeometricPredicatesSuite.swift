import Crosscheck
import Kernels

/// The geometric-predicate families, `orient` (orientation of three points) and `incircle` (is
/// the fourth point inside the circle through three): the exact sign in BigInt rationals (the
/// reference), Shewchuk's adaptive predicates, the plain floating-point determinant, and — with
/// `--preset epsilon` only — the competitive-programming version with EPS = 1e-8, an expected
/// failure. Every row reports the signs it got wrong against the exact ones (`wrong_signs`).
/// Error model: the exact variants get no sign wrong; the plain one none where Shewchuk's static
/// filter certifies its sign (|det̂| ≥ errboundA·permanent); the EPS one breaks that on
/// near-degenerate inputs by design. See `Sources/Kernels/Algorithms/GeometricPredicates.swift`.
public enum GeometricPredicatesSuite {
    public static let orientation = family(OrientationKind.self, count: 100_000, quick: 10_000)
    public static let inCircle = family(InCircleKind.self, count: 20_000, quick: 2000)

    /// A family for one predicate: every input distribution at `count` queries.
    static func family<Kind: PredicateKind>(_: Kind.Type, count: Int, quick: Int) -> Family {
        let kinds = PredicateInput.allCases
        func specs(_ n: Int, epsilon: Bool = false) -> [PredicateSpec] { kinds.map { PredicateSpec(SizedInput(n, $0), epsilon: epsilon) } }
        return Family(
            name: Kind.name,
            summary: Kind.summary,
            elementTypes: [.f64],
            sizes: Sizes(
                notation: SizedInput<PredicateInput>.notation,
                parse: { PredicateSpec(try SizedInput.parse($0, minimum: 1), epsilon: false) },
                defaults: specs(count), quick: specs(quick), test: specs(300, epsilon: true),
                presets: [("epsilon", "the default sizes with the EPS = 1e-8 variant, an expected failure", specs(count, epsilon: true))]),
            counters: [Counter("predicates", unit: "predicate evaluations"), Counter("wrong_signs", unit: "signs that differ from the exact sign")],
            cases: { spec, _ in [makeCase(spec, Kind.self)] })
    }

    /// The variants; `rational` is the reference, `epsilon` only when the spec asks for it.
    static func variants<Kind: PredicateKind>(_ spec: PredicateSpec, _: Kind.Type) -> [Variant<PredicateInstance<Kind>>] {
        var variants: [Variant<PredicateInstance<Kind>>] = [
            Variant("rational", complexity: .linear) { c, _ in try c.evaluate(.exactRational) },
            Variant("adaptive", complexity: .linear) { c, _ in try c.evaluate(.adaptive) },
            Variant("plain", complexity: .linear, check: { c, _ in c.verify(requireAll: false) }) { c, _ in try c.evaluate(.plain) },
        ]
        if spec.epsilon {
            variants.append(Variant("epsilon", expectedFailure: "EPS = 1e-8 reports certified near-degenerate signs as 0 by design",
                                    complexity: .linear, check: { c, _ in c.verify(requireAll: false) }) { c, _ in try c.evaluate(.epsilon) })
        }
        return variants
    }

    static func makeCase<Kind: PredicateKind>(_ spec: PredicateSpec, _: Kind.Type) -> Case {
        let variants = variants(spec, Kind.self)
        let n = spec.sized.count
        return Case(
            kernel: Kind.name, dtype: .f64, shape: spec.sized.description, sizeN: Double(n),
            workload: Workload(flops: Kind.flopsPerQuery * Double(n), bytes: Double(MemoryLayout<Kind.Query>.size) * Double(n)),
            memoryBytes: SizeArithmetic.bytes([(n, MemoryLayout<Kind.Query>.size + 3)]),
            reference: variants[0], variants: variants,
            prepare: { try PredicateInstance<Kind>(spec) })
    }
}

/// One predicate workload: queries of one input distribution, and whether the EPS variant runs.
public struct PredicateSpec: Sendable, Hashable, CustomStringConvertible {
    public var sized: SizedInput<PredicateInput>
    public var epsilon: Bool
    public init(_ sized: SizedInput<PredicateInput>, epsilon: Bool) {
        self.sized = sized
        self.epsilon = epsilon
    }
    public var description: String { sized.description }
}

/// What distinguishes the two predicate families.
public protocol PredicateKind {
    associatedtype Query
    static var name: String { get }
    static var summary: String { get }
    /// Flops of the plain determinant.
    static var flopsPerQuery: Double { get }
    static func queries(_ input: PredicateInput, count: Int, seed: UInt64) -> [Query]
    static func signs(_ queries: UnsafeBufferPointer<Query>, _ arithmetic: PredicateArithmetic, into: UnsafeMutableBufferPointer<Int8>) throws
    static func certified(_ queries: UnsafeBufferPointer<Query>) throws -> [Bool]
}

public enum OrientationKind: PredicateKind {
    public static let name = "orient"
    public static let summary = "sign of the orientation of three points (exact, adaptive, plain, EPS); shape is N-distribution"
    public static let flopsPerQuery = 7.0
    public static func queries(_ input: PredicateInput, count: Int, seed: UInt64) -> [OrientationQuery] {
        orientationQueries(input, count: count, seed: seed)
    }
    public static func signs(_ queries: UnsafeBufferPointer<OrientationQuery>, _ arithmetic: PredicateArithmetic,
                             into signs: UnsafeMutableBufferPointer<Int8>) throws {
        try orientationSigns(queries, arithmetic: arithmetic, into: signs)
    }
    public static func certified(_ queries: UnsafeBufferPointer<OrientationQuery>) throws -> [Bool] { try orientationCertified(queries) }
}

public enum InCircleKind: PredicateKind {
    public static let name = "incircle"
    public static let summary = "sign of the in-circle test of four points (exact, adaptive, plain, EPS); shape is N-distribution"
    public static let flopsPerQuery = 29.0
    public static func queries(_ input: PredicateInput, count: Int, seed: UInt64) -> [InCircleQuery] {
        inCircleQueries(input, count: count, seed: seed)
    }
    public static func signs(_ queries: UnsafeBufferPointer<InCircleQuery>, _ arithmetic: PredicateArithmetic,
                             into signs: UnsafeMutableBufferPointer<Int8>) throws {
        try inCircleSigns(queries, arithmetic: arithmetic, into: signs)
    }
    public static func certified(_ queries: UnsafeBufferPointer<InCircleQuery>) throws -> [Bool] { try inCircleCertified(queries) }
}

/// A predicate case: the seeded queries, their exact signs, which signs the static filter
/// certifies, and the buffer the variants write their signs into.
public final class PredicateInstance<Kind: PredicateKind>: PreparedCase {
    let queries: [Kind.Query]
    let exact: [Int8]
    let certified: [Bool]
    var signs: [Int8]

    init(_ spec: PredicateSpec) throws {
        queries = Kind.queries(spec.sized.input, count: spec.sized.count, seed: 20261128)
        var exact = [Int8](repeating: 0, count: queries.count)
        try queries.withUnsafeBufferPointer { q in try exact.withUnsafeMutableBufferPointer { try Kind.signs(q, .exactRational, into: $0) } }
        self.exact = exact
        certified = try queries.withUnsafeBufferPointer { try Kind.certified($0) }
        signs = [Int8](repeating: 0, count: queries.count)
    }

    /// Evaluates every query with `arithmetic` into `signs`.
    func evaluate(_ arithmetic: PredicateArithmetic) throws {
        try queries.withUnsafeBufferPointer { q in try signs.withUnsafeMutableBufferPointer { try Kind.signs(q, arithmetic, into: $0) } }
    }

    public func resetForVerification() { signs = [Int8](repeating: 9, count: queries.count) }

    public func check(_: Void) -> Verification { verify(requireAll: true) }

    /// Exact variants (`requireAll`): no wrong sign. Floating-point variants: no wrong sign where
    /// the static filter certifies the floating-point sign; the wrong signs elsewhere are
    /// reported, not failed.
    func verify(requireAll: Bool) -> Verification {
        let result = checkPredicateSigns(signs, exact: exact, certified: certified)
        let first = signs.indices.first { signs[$0] != exact[$0] && (requireAll || certified[$0]) }
        let criterion = requireAll ? Criterion("wrong_signs", value: Double(result.wrong), bound: 0)
                                   : Criterion("wrong_where_certified", value: Double(result.wrongWhereCertified), bound: 0)
        return Verification(
            model: requireAll ? "exact-sign" : "sign-where-certified(errboundA*permanent)", criteria: [criterion],
            maxAbsError: result.wrong == 0 ? 0 : .nan, maxRelError: result.wrong == 0 ? 0 : .nan,
            worst: first.map { "query \($0)" } ?? "",
            note: "\(result.wrong) of \(signs.count) signs wrong, \(result.wrongWhereCertified) of them where the filter certifies the sign")
    }

    public func report(_: Void) -> CallReport {
        CallReport(counters: ["predicates": Double(queries.count), "wrong_signs": Double(checkPredicateSigns(signs, exact: exact, certified: certified).wrong)])
    }
}
