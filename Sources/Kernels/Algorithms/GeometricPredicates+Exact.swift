import BigInt

/// The reference predicates in exact integer arithmetic (attaswift/BigInt), independent of the
/// expansion code: every finite Double is m·2^k with an integer m, |m| < 2⁵³; the coordinates of
/// one query, all multiplied by 2^(−k_min) (k_min the smallest k among them), become integers,
/// and a homogeneous determinant of degree d changes by the positive factor 2^(−d·k_min) only,
/// so its sign is the sign of the integer determinant. Exact for every finite input.

/// The coordinates as integers over the common scale 2^k_min (zero stays zero).
func scaledIntegers(_ values: [Double]) -> [BigInt] {
    func integerAndExponent(_ x: Double) -> (BigInt, Int) {
        if x == 0 { return (0, Int.max) }
        let significand: UInt64, exponent: Int
        if x.exponentBitPattern == 0 {
            (significand, exponent) = (x.significandBitPattern, -1074)
        } else {
            (significand, exponent) = (x.significandBitPattern | (1 << 52), Int(x.exponent) - 52)
        }
        let m = BigInt(significand)
        return (x < 0 ? -m : m, exponent)
    }
    let parts = values.map(integerAndExponent)
    let smallest = parts.map(\.1).min() ?? 0
    return parts.map { m, k in k == Int.max ? 0 : m << (k - smallest) }
}

func exactSign(_ x: BigInt) -> Int8 { x.isZero ? 0 : (x.sign == .minus ? -1 : 1) }

/// (ax−cx)(by−cy) − (ay−cy)(bx−cx), exactly.
func orientationExactRational(_ q: OrientationQuery) -> Int8 {
    let v = scaledIntegers([q.a.x, q.a.y, q.b.x, q.b.y, q.c.x, q.c.y])
    let (ax, ay, bx, by, cx, cy) = (v[0], v[1], v[2], v[3], v[4], v[5])
    return exactSign((ax - cx) * (by - cy) - (ay - cy) * (bx - cx))
}

/// The lifted 3 × 3 determinant relative to d, exactly.
func inCircleExactRational(_ q: InCircleQuery) -> Int8 {
    let v = scaledIntegers([q.a.x, q.a.y, q.b.x, q.b.y, q.c.x, q.c.y, q.d.x, q.d.y])
    let adx = v[0] - v[6], ady = v[1] - v[7]
    let bdx = v[2] - v[6], bdy = v[3] - v[7]
    let cdx = v[4] - v[6], cdy = v[5] - v[7]
    let aLift = adx * adx + ady * ady, bLift = bdx * bdx + bdy * bdy, cLift = cdx * cdx + cdy * cdy
    let det = aLift * (bdx * cdy - cdx * bdy) + bLift * (cdx * ady - adx * cdy) + cLift * (adx * bdy - bdx * ady)
    return exactSign(det)
}
