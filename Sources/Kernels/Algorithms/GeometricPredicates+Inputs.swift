import SeededRandom

#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// The input distributions the geometric predicates are checked and timed on. All but
/// `uniform` are near-degenerate on purpose: that is where rounding decides signs.
public enum PredicateInput: String, CaseIterable, Sendable {
    /// Independent points in [−1, 1)²: almost every sign is certified by the static filter.
    case uniform
    /// Orientation: half the queries put c on the line through a and b, rounded (and sometimes
    /// moved by a few ulps); half are Kettner et al.'s example, (0.5 + i·2⁻⁵³, 0.5 + j·2⁻⁵³)
    /// against (12, 12) and (24, 24). In-circle: four points of a circle, rounded.
    case nearlyDegenerate
    /// Integer points that are exactly collinear (or exactly cocircular: lattice points of the
    /// circle of radius 5), each coordinate moved by s·2⁻⁴⁰, s in −2…2: determinants of about
    /// 10⁻¹⁰, which floating point gets right and an EPS of 10⁻⁸ calls zero.
    case shiftedGrid
    /// Points of magnitude about 10⁸ on a rounded line (or circle of radius about 10⁸), the last
    /// point moved by a few ulps: determinants far below the rounding error of the plain formula.
    case largeCoordinates
}

/// `count` orientation queries of the distribution `kind`, from a generator seeded with `seed`.
/// O(count).
public func orientationQueries(_ kind: PredicateInput, count: Int, seed: UInt64) -> [OrientationQuery] {
    if count < 0 { fatalError("orientationQueries: count must not be negative, got \(count)") }
    var g = SeededGenerator(seed: seed)
    func point(scale: Double = 1) -> SIMD2<Double> { SIMD2(g.nextSigned(), g.nextSigned()) * scale }
    func nudge(_ x: Double, ulps: Int) -> Double {
        var y = x
        for _ in 0..<abs(ulps) { y = ulps > 0 ? y.nextUp : y.nextDown }
        return y
    }
    return (0..<count).map { index in
        switch kind {
        case .uniform:
            return OrientationQuery(point(), point(), point())
        case .nearlyDegenerate:
            if index % 2 == 0 {
                let a = point(), b = point()
                let t = 1.5 * g.nextSigned() + 0.5
                var c = a + t * (b - a)
                c.x = nudge(c.x, ulps: Int(g.next() % 7) - 3)
                return OrientationQuery(a, b, c)
            }
            let p = SIMD2(0.5 + Double(g.next() % 256) * 0x1p-53, 0.5 + Double(g.next() % 256) * 0x1p-53)
            return OrientationQuery(p, SIMD2(12, 12), SIMD2(24, 24))
        case .shiftedGrid:
            let a = SIMD2(Double(Int(g.next() % 101) - 50), Double(Int(g.next() % 101) - 50))
            var direction = SIMD2(Double(Int(g.next() % 11) - 5), Double(Int(g.next() % 11) - 5))
            if direction == .zero { direction = SIMD2(1, 2) }
            let b = a + Double(Int(g.next() % 21) - 10) * direction
            let c = a + Double(Int(g.next() % 21) - 10) * direction
            func shifted(_ p: SIMD2<Double>) -> SIMD2<Double> {
                p + SIMD2(Double(Int(g.next() % 5) - 2), Double(Int(g.next() % 5) - 2)) * 0x1p-40
            }
            return OrientationQuery(shifted(a), shifted(b), shifted(c))
        case .largeCoordinates:
            let a = point(scale: 1e8), b = point(scale: 1e8)
            let t = 1.5 * g.nextSigned() + 0.5
            var c = a + t * (b - a)
            c.y = nudge(c.y, ulps: Int(g.next() % 7) - 3)
            return OrientationQuery(a, b, c)
        }
    }
}

/// `count` in-circle queries of the distribution `kind`, from a generator seeded with `seed`.
/// O(count). (`.nearlyDegenerate` and `.largeCoordinates` use the C library's sin and cos, which
/// may differ in the last bit between C libraries.)
public func inCircleQueries(_ kind: PredicateInput, count: Int, seed: UInt64) -> [InCircleQuery] {
    if count < 0 { fatalError("inCircleQueries: count must not be negative, got \(count)") }
    var g = SeededGenerator(seed: seed)
    func point(scale: Double = 1) -> SIMD2<Double> { SIMD2(g.nextSigned(), g.nextSigned()) * scale }
    func onCircle(center: SIMD2<Double>, radius: Double) -> SIMD2<Double> {
        let angle = Double.pi * g.nextSigned()
        return center + radius * SIMD2(cos(angle), sin(angle))
    }
    // The lattice points of the circle x² + y² = 25.
    let lattice: [SIMD2<Double>] = [(5, 0), (4, 3), (3, 4), (0, 5), (-3, 4), (-4, 3), (-5, 0), (-4, -3), (-3, -4), (0, -5), (3, -4), (4, -3)]
        .map { SIMD2(Double($0.0), Double($0.1)) }
    return (0..<count).map { _ in
        switch kind {
        case .uniform:
            return InCircleQuery(point(), point(), point(), point())
        case .nearlyDegenerate:
            let center = point(), radius = 0.1 + 0.9 * abs(g.nextSigned())
            return InCircleQuery(onCircle(center: center, radius: radius), onCircle(center: center, radius: radius),
                                 onCircle(center: center, radius: radius), onCircle(center: center, radius: radius))
        case .shiftedGrid:
            let center = SIMD2(Double(Int(g.next() % 41) - 20), Double(Int(g.next() % 41) - 20))
            var chosen: [Int] = []
            while chosen.count < 4 {
                let k = Int(g.next() % UInt64(lattice.count))
                if !chosen.contains(k) { chosen.append(k) }
            }
            let points = chosen.map { k in
                center + lattice[k] + SIMD2(Double(Int(g.next() % 5) - 2), Double(Int(g.next() % 5) - 2)) * 0x1p-40
            }
            return InCircleQuery(points[0], points[1], points[2], points[3])
        case .largeCoordinates:
            let center = point(scale: 1e8), radius = 1e8 * (0.5 + 0.5 * abs(g.nextSigned()))
            var d = onCircle(center: center, radius: radius)
            d.x += Double(Int(g.next() % 7) - 3) * d.x.ulp
            return InCircleQuery(onCircle(center: center, radius: radius), onCircle(center: center, radius: radius),
                                 onCircle(center: center, radius: radius), d)
        }
    }
}
