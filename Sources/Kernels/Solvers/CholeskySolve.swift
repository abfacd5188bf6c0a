import CLAPACKE

/// The direct answer: x = A⁻¹·b for symmetric positive definite A by Cholesky, LAPACK's ?posv
/// (A = LLᵀ, then two triangular solves), on `threads` OpenBLAS threads.
///
/// A (row-major n × n, leading dimension ld; its upper triangle is read, which is the lower one
/// LAPACK sees in column-major order) is copied first, so the caller's matrix is left intact.
///
/// - Complexity: n³/3 + 2n² flops; n² values copied.
/// - Error: backward stable: (A + ΔA)x̂ = b with ‖ΔA‖ ≤ c·n·u·‖A‖ (Higham, Thm 10.4), so
///   ‖x̂ − x‖/‖x‖ ≲ c·n·u·κ(A).
/// - Throws: `SolverError.invalidArgument` when A is not positive definite (LAPACK's info > 0:
///   a leading minor is not positive), when A or b hold NaN or infinity (checked first: a sum of
///   squares that overflows counts as infinity), or for mismatched sizes; `LAPACKError` for an
///   argument LAPACK rejects. x is zeroed on failure.
public func choleskySolve<T: SolverScalar>(_ a: UnsafePointer<T>, dimension n: Int, ld: Int,
                                           b: UnsafeBufferPointer<T>, x: UnsafeMutableBufferPointer<T>, threads: Int = 1) throws {
    try checkDenseShape(dimension: n, ld: ld)
    if b.count != n { throw SolverError.dimensionMismatch(name: "b", count: b.count, expected: n) }
    if x.count != n { throw SolverError.dimensionMismatch(name: "x", count: x.count, expected: n) }
    if threads < 1 { throw SolverError.invalidArgument(name: "threads", value: "\(threads)", expected: "at least 1") }
    if n > Int(Int32.max) / max(1, n) { throw SolverError.invalidArgument(name: "dimension", value: "\(n)", expected: "n² within LAPACK's 32-bit sizes") }
    guard n > 0, let bBase = b.baseAddress, let xBase = x.baseAddress else { return }
    var factor = [T](repeating: 0, count: n * n)
    factor.withUnsafeMutableBufferPointer { factor in
        for i in 0..<n { copyValues(from: a + i * ld, to: factor.baseAddress! + i * n, count: n) }
    }
    copyValues(from: bBase, to: xBase, count: n)
    // Checked here, because LAPACKE's own NaN check (when compiled in) reports an illegal argument.
    let finite = T.solverDot(xBase, xBase, count: n, threads: 1).isFinite
        && factor.withUnsafeBufferPointer { T.solverDot($0.baseAddress!, $0.baseAddress!, count: n * n, threads: threads).isFinite }
    if !finite {
        zeroFill(xBase, count: n)
        throw SolverError.invalidArgument(name: "a or b", value: "NaN or infinity", expected: "finite values")
    }
    let info = OpenBLAS.withThreads(threads) {
        T.lapack.posv(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), 1, &factor, Int32(n), xBase, Int32(n))
    }
    if info > 0 {
        zeroFill(xBase, count: n)
        throw SolverError.invalidArgument(name: "a", value: "leading minor of order \(info) not positive",
                                          expected: "symmetric positive definite (\(T.lapack.prefix)posv)")
    }
    try LAPACKError.check(T.lapack.prefix + "posv", info)
}
