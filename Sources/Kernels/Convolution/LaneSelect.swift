/// Lane selections on the kernels' register vectors, compiled to vector compares and masked
/// moves. Generic code over `T.Vector` would call the `SIMD` protocol's lane-by-lane defaults
/// (measured: 1 GFLOP/s for the NCHW depthwise kernel, against 30 with these), so each function
/// forwards to the concrete type's operators for the vector types `GEMMScalar` uses (the type
/// test folds away once specialized), and keeps the lane loop for any other.

/// x in the lanes where low ≤ columns < high, and 0 in the others, exactly (an infinite or NaN x
/// in a dropped lane does not show).
@inline(__always)
func keepInside<V: SIMD>(_ x: V, columns: V, low: V, high: V) -> V where V.Scalar: BinaryFloatingPoint {
    @inline(__always) func on<S: SIMD>(_: S.Type, _ body: (S, S, S, S) -> S) -> V {
        unsafeBitCast(body(unsafeBitCast(x, to: S.self), unsafeBitCast(columns, to: S.self), unsafeBitCast(low, to: S.self),
                           unsafeBitCast(high, to: S.self)), to: V.self)
    }
    if V.self == SIMD16<Float>.self { return on(SIMD16<Float>.self) { x, c, l, h in .init().replacing(with: x, where: (c .>= l) .& (c .< h)) } }
    if V.self == SIMD8<Double>.self { return on(SIMD8<Double>.self) { x, c, l, h in .init().replacing(with: x, where: (c .>= l) .& (c .< h)) } }
    if V.self == SIMD8<Float>.self { return on(SIMD8<Float>.self) { x, c, l, h in .init().replacing(with: x, where: (c .>= l) .& (c .< h)) } }
    if V.self == SIMD4<Double>.self { return on(SIMD4<Double>.self) { x, c, l, h in .init().replacing(with: x, where: (c .>= l) .& (c .< h)) } }
    return V().replacing(with: x, where: (columns .>= low) .& (columns .< high))
}

/// x − width in the lanes where x ≥ width, x in the others.
@inline(__always)
func wrapped<V: SIMD>(_ x: V, width: V) -> V where V.Scalar: BinaryFloatingPoint {
    @inline(__always) func on<S: SIMD>(_: S.Type, _ body: (S, S) -> S) -> V {
        unsafeBitCast(body(unsafeBitCast(x, to: S.self), unsafeBitCast(width, to: S.self)), to: V.self)
    }
    if V.self == SIMD16<Float>.self { return on(SIMD16<Float>.self) { x, w in x.replacing(with: x - w, where: x .>= w) } }
    if V.self == SIMD8<Double>.self { return on(SIMD8<Double>.self) { x, w in x.replacing(with: x - w, where: x .>= w) } }
    if V.self == SIMD8<Float>.self { return on(SIMD8<Float>.self) { x, w in x.replacing(with: x - w, where: x .>= w) } }
    if V.self == SIMD4<Double>.self { return on(SIMD4<Double>.self) { x, w in x.replacing(with: x - w, where: x .>= w) } }
    return x.replacing(with: x - width, where: x .>= width)
}
