import Testing
import Kernels
import SeededRandom

/// Runs `conjugateGradient` on arrays (the buffers' counts are checked by the solver).
func solve<Operator: LinearOperator>(_ a: Operator, b: [Operator.Scalar], x: inout [Operator.Scalar],
                                     options: CGOptions, threads: Int = 1) throws -> CGReport {
    try b.withUnsafeBufferPointer { b in
        try x.withUnsafeMutableBufferPointer { x in try conjugateGradient(a, b: b, x: x, options: options, threads: threads) }
    }
}

/// Preconditioned `conjugateGradient` on arrays.
func solve<Operator: LinearOperator, M: Preconditioner>(_ a: Operator, preconditioner: M, b: [Operator.Scalar], x: inout [Operator.Scalar],
                                                         options: CGOptions, threads: Int = 1) throws -> CGReport where M.Scalar == Operator.Scalar {
    try b.withUnsafeBufferPointer { b in
        try x.withUnsafeMutableBufferPointer { x in try conjugateGradient(a, preconditioner: preconditioner, b: b, x: x, options: options, threads: threads) }
    }
}

@Suite("Solvers: conjugate gradient")
struct SolversTests {
    @Test(arguments: [(1, 1), (3, 5), (17, 9), (40, 33)])
    func poissonStencilMatchesReference(shape: (Int, Int)) throws {
        let grid = try PoissonGrid(rows: shape.0, columns: shape.1)
        var generator = SeededGenerator(seed: 11)
        let xStar = [Double].uniform(count: grid.count, using: &generator)
        let b = poissonProductReference(grid)(xStar)
        var reference = [Double](repeating: 0, count: grid.count)
        let options = CGOptions.scipy(rtol: 1e-10)
        let expected = try conjugateGradientReference(product: poissonProductReference(grid), b: b, x: &reference, options: options)
        #expect(expected.outcome == .converged)
        for threads in [1, 2] {
            var x = [Double](repeating: .nan, count: grid.count)
            let report = try solve(PoissonStencil2D<Double>(grid: grid), b: b, x: &x, options: options, threads: threads)
            #expect(report.outcome == .converged)
            #expect(abs(report.iterations - expected.iterations) <= 1, "\(report.iterations) vs \(expected.iterations)")
            let error = zip(x, xStar).map { abs($0 - $1) }.max()!
            #expect(error < 1e-8, "grid \(grid) threads \(threads): error \(error)")
        }
    }
}
