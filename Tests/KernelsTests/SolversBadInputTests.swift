import Testing
import Kernels

/// A preconditioner that is not positive definite: z = −r.
struct NegatingPreconditioner: Preconditioner {
    let dimension: Int

    func apply(_ r: UnsafePointer<Double>, into z: UnsafeMutablePointer<Double>, threads: Int) -> Double {
        var sum = 0.0
        for i in 0..<dimension {
            z[i] = -r[i]
            sum += r[i] * z[i]
        }
        return sum
    }
}

/// Each dense Double variant (simd, blas, closure) and the reference on `matrix`, with `x`
/// starting as `start` (for `.given`).
func denseOutcomes(_ matrix: [Double], b: [Double], start: [Double]? = nil, options: CGOptions) throws -> [(String, CGReport, [Double])] {
    let n = b.count
    var results: [(String, CGReport, [Double])] = []
    try matrix.withUnsafeBufferPointer { a in
        let operators: [(String, AnyDoubleOperator)] = [
            ("simd", AnyDoubleOperator(try DenseSymmetricOperator(a.baseAddress!, dimension: n, ld: n))),
            ("blas", AnyDoubleOperator(try BLASDenseOperator(a.baseAddress!, dimension: n, ld: n))),
            ("closure", AnyDoubleOperator(try ClosureOperator<Double>(dimension: n) { x, y, threads in
                Double.solverSymmetricProduct(a.baseAddress!, ld: n, n: n, x: x, into: y, threads: threads)
            })),
        ]
        for (name, a) in operators {
            var x = start ?? [Double](repeating: .nan, count: n)
            let report = try a.run(b, &x, options)
            results.append((name, report, x))
        }
    }
    var x = start ?? [Double](repeating: .nan, count: n)
    let report = try conjugateGradientReference(product: denseProductReference(matrix, dimension: n), b: b, x: &x, options: options)
    results.append(("reference", report, x))
    return results
}

@Suite("Solvers: bad input gives a typed outcome, never NaN")
struct SolversBadInputTests {
    /// diag(2, 1, −1, 3): p₀ = b = e₃ gives pᵀAp = −1 at once.
    static let indefinite: [Double] = [2, 0, 0, 0, 0, 1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 3]

    @Test func indefiniteMatrixIsNotPositiveDefinite() throws {
        for (variant, report, x) in try denseOutcomes(Self.indefinite, b: [0, 0, 1, 0], options: .scipy()) {
            #expect(report.outcome == .notPositiveDefinite(curvature: -1), "\(variant): \(report.outcome)")
            #expect(report.iterations == 0 && x == [0, 0, 0, 0], "\(variant): the last iterate is x₀ = 0")
        }
        // Found after some progress: the second direction has negative curvature.
        for (variant, report, x) in try denseOutcomes(Self.indefinite, b: [1, 1, 1, 1], options: .scipy()) {
            guard case .notPositiveDefinite(let curvature) = report.outcome else {
                Issue.record("\(variant): \(report.outcome)")
                continue
            }
            #expect(curvature <= 0 && x.allSatisfy { $0.isFinite }, "\(variant)")
        }
        // The Poisson operator negated: a closure operator, matrix-free.
        let grid = try PoissonGrid(rows: 4, columns: 4)
        let stencil = PoissonStencil2D<Double>(grid: grid)
        let negated = try ClosureOperator<Double>(dimension: 16) { x, y, threads in
            stencil.apply(x, into: y, threads: threads)
            for i in 0..<16 { y[i] = -y[i] }
        }
        var x = [Double](repeating: .nan, count: 16)
        let report = try solve(negated, b: [Double](repeating: 1, count: 16), x: &x, options: .baselines())
        #expect(report.outcome == .notPositiveDefinite(curvature: -16), "1ᵀA1 counts the 16 missing neighbors of a 4 × 4 grid")
    }

    @Test func zeroRightHandSideReturnsZero() throws {
        let spd: [Double] = [4, 1, 1, 3]
        for options in [CGOptions.scipy(), .baselines(), .stableBaselines3(seed: 1)] {
            for (variant, report, x) in try denseOutcomes(spd, b: [0, 0], start: [5, 5], options: options) {
                #expect(report.outcome == .zeroRightHandSide && report.iterations == 0 && x == [0, 0], "\(variant) \(options): \(report)")
            }
        }
        let grid = try PoissonGrid(rows: 3, columns: 3)
        var x = [Float](repeating: .nan, count: 9)
        let report = try solve(PoissonStencil2D<Float>(grid: grid), b: [Float](repeating: 0, count: 9), x: &x, options: .scipy())
        #expect(report.outcome == .zeroRightHandSide && x == [Float](repeating: 0, count: 9))
    }

    @Test func nonFiniteInputsAreReportedAndXIsZero() throws {
        let spd: [Double] = [4, 1, 1, 3]
        for bad in [Double.nan, .infinity] {
            for (variant, report, x) in try denseOutcomes(spd, b: [1, bad], options: .scipy()) {
                #expect(report.outcome == .nonFinite(.rightHandSide) && x == [0, 0], "\(variant): \(report.outcome)")
            }
            for (variant, report, x) in try denseOutcomes([4, 1, 1, bad], b: [1, 1], options: .scipy()) {
                #expect(report.outcome == .nonFinite(.curvature) && x == [0, 0], "\(variant): \(report.outcome)")
            }
            for (variant, report, x) in try denseOutcomes([4, 1, 1, bad], b: [1, 1], start: [1, 1], options: CGOptions(stoppingTest: .squaredResidualBelow(1e-10), maximumIterations: 10, start: .given)) {
                #expect(report.outcome == .nonFinite(.startingResidual) && x == [0, 0], "\(variant): \(report.outcome)")
            }
            for (variant, report, x) in try denseOutcomes(spd, b: [1, 1], start: [bad, 0], options: CGOptions(stoppingTest: .squaredResidualBelow(1e-10), maximumIterations: 10, start: .given)) {
                #expect(report.outcome == .nonFinite(.startingResidual) && x == [0, 0], "\(variant): \(report.outcome)")
            }
        }
        // NaN only from the second product on: the finite first iterate is not returned either.
        final class Calls { var count = 0 }
        let calls = Calls()
        let nanLater = try ClosureOperator<Float>(dimension: 2) { v, y, _ in
            calls.count += 1
            y[0] = calls.count == 1 ? 2 * v[0] : .nan
            y[1] = 3 * v[1]
        }
        var x = [Float](repeating: .nan, count: 2)
        let report = try solve(nanLater, b: [1, 1], x: &x, options: .scipy())
        #expect(report.outcome == .nonFinite(.curvature) && report.iterations == 1 && x == [0, 0], "\(report)")
    }

    @Test func nonConvergenceReachesTheLimit() throws {
        let grid = try PoissonGrid(rows: 20, columns: 20)
        let system = PoissonSystem(grid: grid, seed: 1)
        var x = [Double](repeating: .nan, count: grid.count)
        let report = try solve(PoissonStencil2D<Double>(grid: grid), b: system.rightHandSide, x: &x, options: .scipy(rtol: 1e-12, maximumIterations: 3))
        #expect(report.outcome == .reachedMaximumIterations && report.iterations == 3 && report.products == 3)
        #expect(report.residualNorm > 1e-12 * report.rightHandSideNorm && x.allSatisfy { $0.isFinite })
        var y = x
        let none = try solve(PoissonStencil2D<Double>(grid: grid), b: system.rightHandSide, x: &y, options: .scipy(maximumIterations: 0))
        #expect(none.outcome == .reachedMaximumIterations && none.iterations == 0 && y == [Double](repeating: 0, count: grid.count))
    }

    @Test func preconditionerNotPositiveDefinite() throws {
        let grid = try PoissonGrid(rows: 3, columns: 3)
        var x = [Double](repeating: .nan, count: 9)
        let report = try solve(PoissonStencil2D<Double>(grid: grid), preconditioner: NegatingPreconditioner(dimension: 9),
                               b: [Double](repeating: 1, count: 9), x: &x, options: .scipy())
        #expect(report.outcome == .preconditionerNotPositiveDefinite(value: -9) && x == [Double](repeating: 0, count: 9))
    }

    @Test func invalidArgumentsThrow() throws {
        let grid = try PoissonGrid(rows: 2, columns: 2)
        let stencil = PoissonStencil2D<Double>(grid: grid)
        var x = [Double](repeating: 0, count: 4)
        #expect(throws: SolverError.invalidArgument(name: "threads", value: "0", expected: "at least 1")) {
            try solve(stencil, b: [1, 1, 1, 1], x: &x, options: .scipy(), threads: 0)
        }
        #expect(throws: SolverError.dimensionMismatch(name: "b", count: 3, expected: 4)) {
            try solve(stencil, b: [1, 1, 1], x: &x, options: .scipy())
        }
        #expect(throws: SolverError.self) { try solve(stencil, b: [1, 1, 1, 1], x: &x, options: .scipy(rtol: .nan)) }
        #expect(throws: SolverError.self) { try solve(stencil, b: [1, 1, 1, 1], x: &x, options: .scipy(maximumIterations: -1)) }
        #expect(throws: SolverError.self) { try solve(stencil, b: [1, 1, 1, 1], x: &x, options: .baselines(residualTolerance: -1)) }
        #expect(throws: SolverError.self) {
            try solve(stencil, preconditioner: IdentityPreconditioner<Double>(dimension: 3), b: [1, 1, 1, 1], x: &x, options: .scipy())
        }
        #expect(throws: SolverError.self) { try PoissonGrid(rows: 0, columns: 3) }
        #expect(throws: SolverError.self) { try PoissonGrid(rows: Int.max, columns: 2) }
        #expect(throws: SolverError.self) { try PoissonSSORPreconditioner<Double>(grid: grid, omega: 2) }
        #expect(throws: SolverError.invalidArgument(name: "diagonal[1]", value: "0.0", expected: "positive and finite (A symmetric positive definite)")) {
            try JacobiPreconditioner<Double>(diagonal: [1, 0])
        }
        #expect(throws: SolverError.self) { try CSRMatrix<Double>(dimension: 2, rowStarts: [0, 1, 2], columnIndices: [0, 2], values: [1, 1]) }
        #expect(throws: SolverError.self) { try CSRMatrix<Double>(dimension: 2, rowStarts: [0, 2, 1], columnIndices: [0, 1], values: [1, 1]) }
        #expect(throws: SolverError.self) { try ClosureOperator<Float>(dimension: -1) { _, _, _ in } }
        #expect(throws: SolverError.self) { try SPDSystem(dimension: 4, spectrum: .geometric(conditionNumber: 0.5), seed: 1) }
        let identity: [Double] = [1, 0, 0, 1]
        try identity.withUnsafeBufferPointer { a in
            #expect(throws: SolverError.self) { try DenseSymmetricOperator(a.baseAddress!, dimension: 2, ld: 1) }
        }
        // ?posv on an indefinite matrix: a typed error, x zeroed.
        #expect(throws: SolverError.self) { try choleskySolve(SolversBadInputTests.indefinite, dimension: 4, b: [1, 1, 1, 1]) }
        #expect(throws: SolverError.self) { try choleskySolve([4, 1, 1, Double.nan], dimension: 2, b: [1, 1]) }
    }
}
