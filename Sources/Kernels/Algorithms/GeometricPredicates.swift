/// # Geometric predicates: orientation and in-circle
///
/// - orientation(a, b, c) = sign of | ax−cx  ay−cy ; bx−cx  by−cy |: +1 when a, b, c turn
///   counterclockwise, −1 clockwise, 0 collinear.
/// - inCircle(a, b, c, d) = sign of | adx ady adx²+ady² ; bdx bdy … ; cdx cdy … | with
///   adx = ax − dx etc.: for a, b, c counterclockwise, +1 when d lies inside their circle, −1
///   outside, 0 on it.
///
/// Four ways to evaluate them (`PredicateArithmetic`):
///
/// - `.epsilon` — the textbook double version of competitive programming: the determinant in
///   Double, |det| < 1e-8 taken as 0. Wrong by design on near-degenerate input: a determinant
///   of 1e-10 is known exactly yet reported as 0, and one of ±1e-20 that rounding got wrong is
///   reported with whatever sign it came out. Not for the default variant set.
/// - `.plain` — the same determinant as Shewchuk's first stage, sign taken as is. Its sign is
///   right whenever |det̂| ≥ errbound·permanent (Shewchuk's static filter: ccwerrboundA =
///   (3 + 16ε)ε, iccerrboundA = (10 + 96ε)ε, ε = 2⁻⁵³, times the sum of the magnitudes of the
///   determinant's terms); below that it may be wrong.
/// - `.adaptive` — Shewchuk's adaptive-precision predicates: that filter first; then the
///   determinant of the rounded differences computed exactly with expansions (stage B, with its
///   own bound); orientation adds Shewchuk's first-order correction (stage C) and his exact final
///   stage; in-circle goes from stage B to the exact determinant of the unrounded differences
///   (each difference as a two-component expansion). Exact.
/// - `.exactRational` — the reference: every coordinate is an integer times 2^e, so after
///   scaling by the smallest such power the determinant is an integer, computed with BigInt.
///   Exact, independent of the expansion code, slow.
///
/// Coordinates must be finite and either 0 or of magnitude in [2⁻²⁰⁰, 2²⁰⁰]
/// (`PredicateError`): then no difference, product or expansion component can overflow or lose
/// bits to underflow (all are multiples of 2⁻¹⁰⁰⁸ below 2⁸¹⁰), which the error bounds and the
/// exactness of the expansions assume.

/// Three points whose orientation is asked.
public struct OrientationQuery: Sendable, Equatable {
    public var a: SIMD2<Double>, b: SIMD2<Double>, c: SIMD2<Double>
    public init(_ a: SIMD2<Double>, _ b: SIMD2<Double>, _ c: SIMD2<Double>) {
        (self.a, self.b, self.c) = (a, b, c)
    }
}

/// Four points: is d inside the circle through a, b, c?
public struct InCircleQuery: Sendable, Equatable {
    public var a: SIMD2<Double>, b: SIMD2<Double>, c: SIMD2<Double>, d: SIMD2<Double>
    public init(_ a: SIMD2<Double>, _ b: SIMD2<Double>, _ c: SIMD2<Double>, _ d: SIMD2<Double>) {
        (self.a, self.b, self.c, self.d) = (a, b, c, d)
    }
}

/// How a predicate's determinant is evaluated.
public enum PredicateArithmetic: String, CaseIterable, Sendable {
    case epsilon, plain, adaptive, exactRational
}

/// Bad input to a geometric predicate.
public enum PredicateError: Error, CustomStringConvertible, Equatable {
    /// A coordinate is not finite, or nonzero outside [2⁻²⁰⁰, 2²⁰⁰] in magnitude.
    case coordinateOutOfRange(query: Int, value: Double)

    public var description: String {
        switch self {
        case .coordinateOutOfRange(let query, let value):
            "geometric predicate: query \(query) has the coordinate \(value); coordinates must be 0 or of magnitude in [2^-200, 2^200]"
        }
    }
}

/// The competitive-programming tolerance of `.epsilon`.
public let predicateEpsilon = 1e-8

let machineEpsilon = 0x1p-53
let ccwErrorBoundA = (3 + 16 * machineEpsilon) * machineEpsilon
let ccwErrorBoundB = (2 + 12 * machineEpsilon) * machineEpsilon
let ccwErrorBoundC = (9 + 64 * machineEpsilon) * machineEpsilon * machineEpsilon
let resultErrorBound = (3 + 8 * machineEpsilon) * machineEpsilon
let iccErrorBoundA = (10 + 96 * machineEpsilon) * machineEpsilon
let iccErrorBoundB = (4 + 48 * machineEpsilon) * machineEpsilon
let iccErrorBoundC = (44 + 576 * machineEpsilon) * machineEpsilon * machineEpsilon

@inline(__always)
func sign(_ x: Double) -> Int8 { x > 0 ? 1 : (x < 0 ? -1 : 0) }

/// The sign of an expansion: that of its largest nonzero component (components may be zero
/// where no zero elimination was done).
func sign(ofExpansion e: UnsafePointer<Double>, _ length: Int) -> Int8 {
    for i in stride(from: length - 1, through: 0, by: -1) where e[i] != 0 { return sign(e[i]) }
    return 0
}

// MARK: - Batch entry points

/// The orientation sign of every query, evaluated with `arithmetic`, into `signs`.
///
/// - Complexity: O(n); `.plain` and `.epsilon` a few flops per query; `.adaptive` the same
///   unless the filter fails (near-degenerate input), then up to a few hundred flops;
///   `.exactRational` big-integer arithmetic on every query.
/// - Error: `.adaptive` and `.exactRational` exact; `.plain` exact wherever
///   `orientationCertified` is true; `.epsilon` no guarantee.
/// - Throws: `PredicateError` for a coordinate out of range.
public func orientationSigns(_ queries: UnsafeBufferPointer<OrientationQuery>, arithmetic: PredicateArithmetic,
                             into signs: UnsafeMutableBufferPointer<Int8>) throws {
    if signs.count != queries.count { fatalError("orientationSigns: \(queries.count) queries but room for \(signs.count) signs") }
    try validatePredicateCoordinates(queries)
    switch arithmetic {
    case .epsilon:
        for i in queries.indices { signs[i] = orientationWithEpsilon(queries[i]) }
    case .plain:
        for i in queries.indices { signs[i] = sign(orientationFilter(queries[i]).determinant) }
    case .adaptive:
        for i in queries.indices { signs[i] = orientationAdaptive(queries[i]) }
    case .exactRational:
        for i in queries.indices { signs[i] = orientationExactRational(queries[i]) }
    }
}

/// The in-circle sign of every query, evaluated with `arithmetic`, into `signs`.
///
/// - Complexity: O(n); as `orientationSigns`, with larger constants (the exact in-circle
///   determinant has up to 1536 components).
/// - Error: as `orientationSigns`, with `inCircleCertified`.
/// - Throws: `PredicateError` for a coordinate out of range.
public func inCircleSigns(_ queries: UnsafeBufferPointer<InCircleQuery>, arithmetic: PredicateArithmetic,
                          into signs: UnsafeMutableBufferPointer<Int8>) throws {
    if signs.count != queries.count { fatalError("inCircleSigns: \(queries.count) queries but room for \(signs.count) signs") }
    try validatePredicateCoordinates(queries)
    switch arithmetic {
    case .epsilon:
        for i in queries.indices {
            let det = inCircleFilter(queries[i]).determinant
            signs[i] = abs(det) < predicateEpsilon ? 0 : sign(det)
        }
    case .plain:
        for i in queries.indices { signs[i] = sign(inCircleFilter(queries[i]).determinant) }
    case .adaptive:
        var workspace = ExpansionWorkspace()
        defer { workspace.deallocate() }
        for i in queries.indices { signs[i] = inCircleAdaptive(queries[i], workspace: &workspace) }
    case .exactRational:
        for i in queries.indices { signs[i] = inCircleExactRational(queries[i]) }
    }
}

/// For each query, whether Shewchuk's static filter certifies the sign of the plain
/// determinant (|det̂| ≥ ccwerrboundA·permanent, or its two terms of opposite signs): where it
/// does, every variant but `.epsilon` must give the exact sign.
///
/// - Throws: `PredicateError` for a coordinate out of range.
public func orientationCertified(_ queries: UnsafeBufferPointer<OrientationQuery>) throws -> [Bool] {
    try validatePredicateCoordinates(queries)
    return queries.map { orientationFilter($0).certain }
}

/// For each query, whether Shewchuk's static filter certifies the sign of the plain in-circle
/// determinant (|det̂| > iccerrboundA·permanent).
///
/// - Throws: `PredicateError` for a coordinate out of range.
public func inCircleCertified(_ queries: UnsafeBufferPointer<InCircleQuery>) throws -> [Bool] {
    try validatePredicateCoordinates(queries)
    return queries.map { inCircleFilter($0).certain }
}

/// How a variant's signs compare with the exact ones.
public struct PredicateSignCheck: Equatable, Sendable {
    /// Signs that differ from the exact sign.
    public var wrong: Int
    /// Of those, the ones where the static filter certified the floating-point sign: a wrong
    /// sign there is a fault of the variant, not of floating point.
    public var wrongWhereCertified: Int
}

/// Counts the signs that differ from `exact`, and those among them where `certified` holds.
public func checkPredicateSigns(_ signs: [Int8], exact: [Int8], certified: [Bool]) -> PredicateSignCheck {
    if signs.count != exact.count || certified.count != exact.count {
        fatalError("checkPredicateSigns: counts differ: \(signs.count), \(exact.count), \(certified.count)")
    }
    var check = PredicateSignCheck(wrong: 0, wrongWhereCertified: 0)
    for i in signs.indices where signs[i] != exact[i] {
        check.wrong += 1
        if certified[i] { check.wrongWhereCertified += 1 }
    }
    return check
}

/// A query whose coordinates can be checked in one vector (unused lanes zero).
protocol PredicateQuery {
    var coordinates: SIMD8<Double> { get }
}

extension OrientationQuery: PredicateQuery {
    var coordinates: SIMD8<Double> { SIMD8(a.x, a.y, b.x, b.y, c.x, c.y, 0, 0) }
}

extension InCircleQuery: PredicateQuery {
    var coordinates: SIMD8<Double> { SIMD8(a.x, a.y, b.x, b.y, c.x, c.y, d.x, d.y) }
}

/// Throws unless every coordinate is 0 or of magnitude in [2⁻²⁰⁰, 2²⁰⁰] (NaN fails every
/// comparison, so it is caught too).
func validatePredicateCoordinates<Q: PredicateQuery>(_ queries: UnsafeBufferPointer<Q>) throws {
    for (index, query) in queries.enumerated() {
        let c = query.coordinates
        let magnitude = c.replacing(with: -c, where: c .< 0)
        let valid = (magnitude .== 0) .| ((magnitude .>= 0x1p-200) .& (magnitude .<= 0x1p200))
        if !all(valid) {
            let lane = (0..<8).first { !valid[$0] }!
            throw PredicateError.coordinateOutOfRange(query: index, value: c[lane])
        }
    }
}

// MARK: - Orientation

/// The textbook form: cross(b − a, c − a), |det| < 1e-8 taken as collinear.
@inline(__always)
func orientationWithEpsilon(_ q: OrientationQuery) -> Int8 {
    let det = (q.b.x - q.a.x) * (q.c.y - q.a.y) - (q.b.y - q.a.y) * (q.c.x - q.a.x)
    return abs(det) < predicateEpsilon ? 0 : sign(det)
}

/// Shewchuk's first stage: det̂ = (ax−cx)(by−cy) − (ay−cy)(bx−cx), the sum of its terms'
/// magnitudes, and whether the sign of det̂ is certain (terms of opposite signs, or
/// |det̂| ≥ ccwerrboundA·detsum).
@inline(__always)
func orientationFilter(_ q: OrientationQuery) -> (determinant: Double, detsum: Double, certain: Bool) {
    let detLeft = (q.a.x - q.c.x) * (q.b.y - q.c.y)
    let detRight = (q.a.y - q.c.y) * (q.b.x - q.c.x)
    let det = detLeft - detRight
    if (detLeft > 0 && detRight <= 0) || (detLeft < 0 && detRight >= 0) || detLeft == 0 {
        return (det, 0, true)
    }
    let detsum = abs(detLeft) + abs(detRight)
    return (det, detsum, abs(det) >= ccwErrorBoundA * detsum)
}

/// Shewchuk's orient2d: the filter, then orient2dadapt's stages B (the determinant of the
/// rounded differences, exactly), C (first-order correction for their rounding errors) and the
/// exact expansion.
@inline(__always)
func orientationAdaptive(_ q: OrientationQuery) -> Int8 {
    let filter = orientationFilter(q)
    return filter.certain ? sign(filter.determinant) : orientationAdaptiveStages(q, detsum: filter.detsum)
}

/// Stages B, C and the exact stage of `orientationAdaptive`.
@inline(never)
func orientationAdaptiveStages(_ q: OrientationQuery, detsum: Double) -> Int8 {
    let acx = q.a.x - q.c.x, bcx = q.b.x - q.c.x
    let acy = q.a.y - q.c.y, bcy = q.b.y - q.c.y
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: 4 + 8 + 12 + 16 + 4) { scratch in
        let b = scratch.baseAddress!, c1 = b + 4, c2 = c1 + 8, d = c2 + 12, u = d + 16
        crossProduct(acx, bcx, acy, bcy, into: b)
        var det = b[0] + b[1] + b[2] + b[3]
        var errorBound = ccwErrorBoundB * detsum
        if det >= errorBound || -det >= errorBound { return sign(det) }

        let acxTail = twoDifferenceTail(q.a.x, q.c.x, acx), bcxTail = twoDifferenceTail(q.b.x, q.c.x, bcx)
        let acyTail = twoDifferenceTail(q.a.y, q.c.y, acy), bcyTail = twoDifferenceTail(q.b.y, q.c.y, bcy)
        // The differences were exact: B is the exact determinant.
        if acxTail == 0 && acyTail == 0 && bcxTail == 0 && bcyTail == 0 { return sign(ofExpansion: b, 4) }

        errorBound = ccwErrorBoundC * detsum + resultErrorBound * abs(det)
        det += (acx * bcyTail + bcy * acxTail) - (acy * bcxTail + bcx * acyTail)
        if det >= errorBound || -det >= errorBound { return sign(det) }

        crossProduct(acxTail, bcx, acyTail, bcy, into: u)
        let c1Length = expansionSum(b, 4, u, 4, into: c1)
        crossProduct(acx, bcxTail, acy, bcyTail, into: u)
        let c2Length = expansionSum(c1, c1Length, u, 4, into: c2)
        crossProduct(acxTail, bcxTail, acyTail, bcyTail, into: u)
        let dLength = expansionSum(c2, c2Length, u, 4, into: d)
        return sign(ofExpansion: d, dLength)
    }
}

// MARK: - In-circle

/// Shewchuk's first stage: the determinant of the rounded differences in floating point, its
/// permanent, and whether the sign is certain (|det̂| > iccerrboundA·permanent).
@inline(__always)
func inCircleFilter(_ q: InCircleQuery) -> (determinant: Double, permanent: Double, certain: Bool) {
    let adx = q.a.x - q.d.x, bdx = q.b.x - q.d.x, cdx = q.c.x - q.d.x
    let ady = q.a.y - q.d.y, bdy = q.b.y - q.d.y, cdy = q.c.y - q.d.y
    let bdxcdy = bdx * cdy, cdxbdy = cdx * bdy, aLift = adx * adx + ady * ady
    let cdxady = cdx * ady, adxcdy = adx * cdy, bLift = bdx * bdx + bdy * bdy
    let adxbdy = adx * bdy, bdxady = bdx * ady, cLift = cdx * cdx + cdy * cdy
    let det = aLift * (bdxcdy - cdxbdy) + bLift * (cdxady - adxcdy) + cLift * (adxbdy - bdxady)
    let permanent = (abs(bdxcdy) + abs(cdxbdy)) * aLift + (abs(cdxady) + abs(adxcdy)) * bLift + (abs(adxbdy) + abs(bdxady)) * cLift
    let errorBound = iccErrorBoundA * permanent
    return (det, permanent, det > errorBound || -det > errorBound)
}

/// Shewchuk's incircle: the filter; then stage B, the determinant of the rounded differences
/// computed exactly (decisive if its estimate clears iccerrboundB·permanent, or if every
/// difference was exact); stage C, its first-order correction for the differences' rounding
/// errors (decisive if it clears iccerrboundC·permanent + resulterrbound·|det|); then the
/// exact determinant of the unrounded differences (where Shewchuk's incircleadapt adds the
/// remaining tail products one by one, this computes the whole expansion at once: slower on
/// the rare inputs that get there, and much shorter).
@inline(__always)
func inCircleAdaptive(_ q: InCircleQuery, workspace: inout ExpansionWorkspace) -> Int8 {
    let filter = inCircleFilter(q)
    return filter.certain ? sign(filter.determinant) : inCircleAdaptiveStages(q, permanent: filter.permanent, workspace: &workspace)
}

/// Stages B, C and the exact stage of `inCircleAdaptive`.
@inline(never)
func inCircleAdaptiveStages(_ q: InCircleQuery, permanent: Double, workspace: inout ExpansionWorkspace) -> Int8 {
    workspace.reset()
    let adx = q.a.x - q.d.x, bdx = q.b.x - q.d.x, cdx = q.c.x - q.d.x
    let ady = q.a.y - q.d.y, bdy = q.b.y - q.d.y, cdy = q.c.y - q.d.y

    // Stage B: Σ lift · cross over the rounded differences, each term exactly.
    let bc = workspace.allocate(4), ca = workspace.allocate(4), ab = workspace.allocate(4)
    crossProduct(bdx, bdy, cdx, cdy, into: bc)
    crossProduct(cdx, cdy, adx, ady, into: ca)
    crossProduct(adx, ady, bdx, bdy, into: ab)
    func liftedTerm(_ cross: UnsafeMutablePointer<Double>, _ x: Double, _ y: Double) -> (UnsafeMutablePointer<Double>, Int) {
        let x1 = workspace.allocate(8), x2 = workspace.allocate(16), y1 = workspace.allocate(8), y2 = workspace.allocate(16)
        let x2Length = scaleExpansion(x1, scaleExpansion(cross, 4, by: x, into: x1), by: x, into: x2)
        let y2Length = scaleExpansion(y1, scaleExpansion(cross, 4, by: y, into: y1), by: y, into: y2)
        return workspace.sum(x2, x2Length, y2, y2Length)
    }
    let termA = liftedTerm(bc, adx, ady), termB = liftedTerm(ca, bdx, bdy), termC = liftedTerm(ab, cdx, cdy)
    let termsAB = workspace.sum(termA.0, termA.1, termB.0, termB.1)
    let stageB = workspace.sum(termsAB.0, termsAB.1, termC.0, termC.1)
    var estimate = 0.0
    for i in 0..<stageB.1 { estimate += stageB.0[i] }
    let errorBound = iccErrorBoundB * permanent
    if estimate >= errorBound || -estimate >= errorBound { return sign(estimate) }

    let adxTail = twoDifferenceTail(q.a.x, q.d.x, adx), bdxTail = twoDifferenceTail(q.b.x, q.d.x, bdx)
    let cdxTail = twoDifferenceTail(q.c.x, q.d.x, cdx), adyTail = twoDifferenceTail(q.a.y, q.d.y, ady)
    let bdyTail = twoDifferenceTail(q.b.y, q.d.y, bdy), cdyTail = twoDifferenceTail(q.c.y, q.d.y, cdy)
    if adxTail == 0 && bdxTail == 0 && cdxTail == 0 && adyTail == 0 && bdyTail == 0 && cdyTail == 0 {
        return sign(ofExpansion: stageB.0, stageB.1)
    }

    // Stage C: the first-order terms of the differences' rounding errors.
    let correctedBound = iccErrorBoundC * permanent + resultErrorBound * abs(estimate)
    estimate += ((adx * adx + ady * ady) * ((bdx * cdyTail + cdy * bdxTail) - (bdy * cdxTail + cdx * bdyTail))
                 + 2 * (adx * adxTail + ady * adyTail) * (bdx * cdy - bdy * cdx))
        + ((bdx * bdx + bdy * bdy) * ((cdx * adyTail + ady * cdxTail) - (cdy * adxTail + adx * cdyTail))
           + 2 * (bdx * bdxTail + bdy * bdyTail) * (cdx * ady - cdy * adx))
        + ((cdx * cdx + cdy * cdy) * ((adx * bdyTail + bdy * adxTail) - (ady * bdxTail + bdx * adyTail))
           + 2 * (cdx * cdxTail + cdy * cdyTail) * (adx * bdy - ady * bdx))
    if estimate >= correctedBound || -estimate >= correctedBound { return sign(estimate) }

    // Exact: every difference as the expansion tail + head.
    func difference(_ head: Double, _ tail: Double) -> (UnsafeMutablePointer<Double>, Int) {
        let e = workspace.allocate(2)
        if tail == 0 {
            e[0] = head
            return (e, 1)
        }
        (e[0], e[1]) = (tail, head)
        return (e, 2)
    }
    let ax = difference(adx, adxTail), ay = difference(ady, adyTail)
    let bx = difference(bdx, bdxTail), by = difference(bdy, bdyTail)
    let cx = difference(cdx, cdxTail), cy = difference(cdy, cdyTail)
    func lift(_ x: (UnsafeMutablePointer<Double>, Int), _ y: (UnsafeMutablePointer<Double>, Int)) -> (UnsafeMutablePointer<Double>, Int) {
        let xx = workspace.product(x.0, x.1, x.0, x.1), yy = workspace.product(y.0, y.1, y.0, y.1)
        return workspace.sum(xx.0, xx.1, yy.0, yy.1)
    }
    /// p·s − r·q for the points (p, q) and (r, s).
    func cross(_ p: (UnsafeMutablePointer<Double>, Int), _ q: (UnsafeMutablePointer<Double>, Int),
               _ r: (UnsafeMutablePointer<Double>, Int), _ s: (UnsafeMutablePointer<Double>, Int)) -> (UnsafeMutablePointer<Double>, Int) {
        let ps = workspace.product(p.0, p.1, s.0, s.1), rq = workspace.product(r.0, r.1, q.0, q.1)
        for i in 0..<rq.1 { rq.0[i] = -rq.0[i] }
        return workspace.sum(ps.0, ps.1, rq.0, rq.1)
    }
    func term(_ lift: (UnsafeMutablePointer<Double>, Int), _ cross: (UnsafeMutablePointer<Double>, Int)) -> (UnsafeMutablePointer<Double>, Int) {
        workspace.product(lift.0, lift.1, cross.0, cross.1)
    }
    let exactA = term(lift(ax, ay), cross(bx, by, cx, cy))
    let exactB = term(lift(bx, by), cross(cx, cy, ax, ay))
    let exactC = term(lift(cx, cy), cross(ax, ay, bx, by))
    let exactAB = workspace.sum(exactA.0, exactA.1, exactB.0, exactB.1)
    let exact = workspace.sum(exactAB.0, exactAB.1, exactC.0, exactC.1)
    return sign(ofExpansion: exact.0, exact.1)
}
