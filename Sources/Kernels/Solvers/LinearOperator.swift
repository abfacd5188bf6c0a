/// A square linear operator y = A·x applied without forming A: what conjugate gradient needs of
/// a matrix. For CG, A must be symmetric positive definite; the solver detects pᵀAp ≤ 0.
///
/// Contract (one call of each, n = `dimension`):
///
///     apply(x, into: y, threads)       y ← A·x          x: n values read, y: n values written
///                                                       (y is not read; x and y do not overlap)
///
///     conjugateGradientDirection       p ← z + β·p      (β = 0: p ← z, p not read)
///       (z, beta, p, q, threads)       q ← A·p          q is scratch the step may leave unused
///                                      returns pᵀ(A·p), in Double
///
///     conjugateGradientUpdate          x ← x + α·p
///       (alpha, p, q, x, r, threads)   r ← r − α·(A·p)  A·p is whatever the direction step left
///                                      returns rᵀr        in q, or recomputed from p
///
/// The two `conjugateGradient…` steps have default implementations: three passes for the first
/// (the direction, reading z and p and writing p; `apply`; the dot product, reading p and q) and
/// one fused pass for the second (reading x, p, r, q, writing x, r), 11 vectors of n values
/// streamed per iteration besides the product's own traffic. An operator that can fuse better
/// overrides both together: `PoissonStencil2D` updates p and computes pᵀAp in one pass without
/// storing A·p, and recomputes A·p from p in the update, 8 vectors per iteration in all, product
/// included. `threads` is how many threads the call may use; implementations decide how many are
/// worth waking for their size.
public protocol LinearOperator {
    associatedtype Scalar: SolverScalar

    /// n: the operator maps vectors of n values to vectors of n values.
    var dimension: Int { get }

    /// y ← A·x.
    func apply(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, threads: Int)

    /// p ← z + β·p, then A·p (into q, or kept implicit); returns pᵀA·p. See the contract above.
    func conjugateGradientDirection(from z: UnsafePointer<Scalar>, beta: Scalar, direction p: UnsafeMutablePointer<Scalar>,
                                    product q: UnsafeMutablePointer<Scalar>, threads: Int) -> Double

    /// x ← x + α·p, r ← r − α·A·p; returns rᵀr of the new r. See the contract above.
    func conjugateGradientUpdate(alpha: Scalar, direction p: UnsafePointer<Scalar>, product q: UnsafePointer<Scalar>,
                                 solution x: UnsafeMutablePointer<Scalar>, residual r: UnsafeMutablePointer<Scalar>, threads: Int) -> Double
}

extension LinearOperator {
    /// p ← z + β·p; q ← A·p (`apply`); returns pᵀq. Streams 2n + (the product) + 2n values.
    public func conjugateGradientDirection(from z: UnsafePointer<Scalar>, beta: Scalar, direction p: UnsafeMutablePointer<Scalar>,
                                           product q: UnsafeMutablePointer<Scalar>, threads: Int) -> Double {
        Scalar.solverDirection(z, beta: beta, direction: p, count: dimension, threads: threads)
        apply(p, into: q, threads: threads)
        return Scalar.solverDot(p, q, count: dimension, threads: threads)
    }

    /// x ← x + α·p, r ← r − α·q, returns rᵀr: one pass reading 4n values and writing 2n.
    public func conjugateGradientUpdate(alpha: Scalar, direction p: UnsafePointer<Scalar>, product q: UnsafePointer<Scalar>,
                                        solution x: UnsafeMutablePointer<Scalar>, residual r: UnsafeMutablePointer<Scalar>, threads: Int) -> Double {
        Scalar.solverUpdate(alpha: alpha, direction: p, product: q, solution: x, residual: r, count: dimension, threads: threads)
    }
}

/// A linear operator given by a closure `(x, y, threads)` that writes y ← A·x: the matrix-free
/// form for products computed by other code (a Fisher-vector product, a Hessian-vector product).
/// The closure must not read y and may use up to `threads` threads.
public struct ClosureOperator<Scalar: SolverScalar>: LinearOperator {
    public let dimension: Int
    private let product: (UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, Int) -> Void

    /// - Throws: `SolverError.invalidArgument` when `dimension` is negative.
    public init(dimension: Int, _ product: @escaping (_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, _ threads: Int) -> Void) throws {
        if dimension < 0 { throw SolverError.invalidArgument(name: "dimension", value: "\(dimension)", expected: "at least 0") }
        self.dimension = dimension
        self.product = product
    }

    /// y ← A·x by the closure.
    public func apply(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, threads: Int) {
        product(x, y, threads)
    }
}

/// A symmetric positive definite preconditioner M ≈ A, applied as its inverse: z ← M⁻¹·r.
/// Preconditioned CG converges at the rate of κ(M⁻¹A) instead of κ(A).
public protocol Preconditioner {
    associatedtype Scalar: SolverScalar

    /// n, which must equal the operator's.
    var dimension: Int { get }

    /// z ← M⁻¹·r (z not read; r and z do not overlap); returns rᵀz in Double, which is positive
    /// for r ≠ 0 when M is symmetric positive definite.
    func apply(_ r: UnsafePointer<Scalar>, into z: UnsafeMutablePointer<Scalar>, threads: Int) -> Double
}
