import Testing
@testable import Kernels

@Suite("Algorithms: geometric predicates")
struct AlgorithmsPredicateTests {
    func signs(_ queries: [OrientationQuery], _ arithmetic: PredicateArithmetic) throws -> [Int8] {
        var signs = [Int8](repeating: 9, count: queries.count)
        try queries.withUnsafeBufferPointer { q in
            try signs.withUnsafeMutableBufferPointer { try orientationSigns(q, arithmetic: arithmetic, into: $0) }
        }
        return signs
    }

    func signs(_ queries: [InCircleQuery], _ arithmetic: PredicateArithmetic) throws -> [Int8] {
        var signs = [Int8](repeating: 9, count: queries.count)
        try queries.withUnsafeBufferPointer { q in
            try signs.withUnsafeMutableBufferPointer { try inCircleSigns(q, arithmetic: arithmetic, into: $0) }
        }
        return signs
    }

    @Test func goldenSignsFromExactFractions() throws {
        let golden = try #require(AlgorithmsGolden.shared)
        let orientation = golden.orientation.map { let p = $0.parsed; return OrientationQuery(p[0], p[1], p[2]) }
        let inCircle = golden.inCircle.map { let p = $0.parsed; return InCircleQuery(p[0], p[1], p[2], p[3]) }
        for arithmetic in [PredicateArithmetic.adaptive, .exactRational] {
            #expect(try signs(orientation, arithmetic) == golden.orientation.map(\.sign), "orientation \(arithmetic)")
            #expect(try signs(inCircle, arithmetic) == golden.inCircle.map(\.sign), "in-circle \(arithmetic)")
        }
    }

    /// The error model on every input kind: the exact variants never wrong, the plain one wrong
    /// only where the static filter did not certify its sign.
    @Test(arguments: PredicateInput.allCases)
    func exactVariantsAgreeAndPlainRespectsTheFilter(kind: PredicateInput) throws {
        let orientation = orientationQueries(kind, count: 2000, seed: 11)
        let exactOrientation = try signs(orientation, .exactRational)
        let orientationCertain = try orientation.withUnsafeBufferPointer { try orientationCertified($0) }
        #expect(try signs(orientation, .adaptive) == exactOrientation)
        let plain = checkPredicateSigns(try signs(orientation, .plain), exact: exactOrientation, certified: orientationCertain)
        #expect(plain.wrongWhereCertified == 0)

        let inCircle = inCircleQueries(kind, count: 500, seed: 12)
        let exactInCircle = try signs(inCircle, .exactRational)
        let inCircleCertain = try inCircle.withUnsafeBufferPointer { try inCircleCertified($0) }
        #expect(try signs(inCircle, .adaptive) == exactInCircle)
        let plainInCircle = checkPredicateSigns(try signs(inCircle, .plain), exact: exactInCircle, certified: inCircleCertain)
        #expect(plainInCircle.wrongWhereCertified == 0)
        if kind == .nearlyDegenerate || kind == .largeCoordinates {
            // The inputs are hard on purpose: the filter must fail on many, and the plain sign
            // must then be wrong on some.
            #expect(orientationCertain.filter { !$0 }.count > 100)
            #expect(plain.wrong > 0 && plainInCircle.wrong > 0, "plain wrong: \(plain.wrong), \(plainInCircle.wrong)")
        }
    }

    /// The EPS version is wrong by design on near-degenerate grids: signs that floating point
    /// certifies are reported as 0. Its rows are expected failures.
    @Test func epsilonVersionGetsCertifiedSignsWrong() throws {
        let orientation = orientationQueries(.shiftedGrid, count: 2000, seed: 5)
        let check = checkPredicateSigns(try signs(orientation, .epsilon), exact: try signs(orientation, .exactRational),
                                        certified: try orientation.withUnsafeBufferPointer { try orientationCertified($0) })
        #expect(check.wrongWhereCertified > 0, "EPS wrong signs: \(check)")
        let inCircle = inCircleQueries(.shiftedGrid, count: 500, seed: 6)
        let inCircleCheck = checkPredicateSigns(try signs(inCircle, .epsilon), exact: try signs(inCircle, .exactRational),
                                                certified: try inCircle.withUnsafeBufferPointer { try inCircleCertified($0) })
        #expect(inCircleCheck.wrongWhereCertified > 0, "EPS wrong signs: \(inCircleCheck)")
    }

    /// Exact zeros: collinear and cocircular points that floating point represents exactly.
    @Test func exactZerosAndAntisymmetry() throws {
        let collinear = OrientationQuery(SIMD2(0.1, 0.1), SIMD2(0.3, 0.3), SIMD2(0.7, 0.7))
        #expect(try signs([collinear], .adaptive) == [0])
        #expect(try signs([collinear], .exactRational) == [0])
        let cocircular = InCircleQuery(SIMD2(5, 0), SIMD2(0, 5), SIMD2(-5, 0), SIMD2(3, -4))
        #expect(try signs([cocircular], .adaptive) == [0])
        let queries = orientationQueries(.nearlyDegenerate, count: 500, seed: 3)
        let swapped = queries.map { OrientationQuery($0.b, $0.a, $0.c) }
        #expect(try signs(queries, .adaptive) == signs(swapped, .adaptive).map { -$0 })
        #expect(try signs([OrientationQuery(SIMD2(0, 0), SIMD2(1, 0), SIMD2(0, 1))], .adaptive) == [1])
        #expect(try signs([InCircleQuery(SIMD2(1, 0), SIMD2(0, 1), SIMD2(-1, 0), SIMD2(0, 0))], .adaptive) == [1])
    }

    @Test func coordinatesOutOfRangeAreRejected() {
        for bad in [Double.nan, .infinity, 1e300, 1e-300] {
            #expect(throws: PredicateError.self) {
                try signs([OrientationQuery(SIMD2(0, 0), SIMD2(bad, 1), SIMD2(1, 1))], .plain)
            }
        }
    }
}
