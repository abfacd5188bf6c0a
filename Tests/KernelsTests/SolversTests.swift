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

/// `choleskySolve` (LAPACK ?posv) on arrays.
func choleskySolve<T: SolverScalar>(_ a: [T], dimension n: Int, b: [T]) throws -> [T] {
    var x = [T](repeating: 0, count: n)
    try a.withUnsafeBufferPointer { a in
        try b.withUnsafeBufferPointer { b in
            try x.withUnsafeMutableBufferPointer { x in try choleskySolve(a.baseAddress!, dimension: n, ld: n, b: b, x: x) }
        }
    }
    return x
}

func norm(_ v: [Double]) -> Double { v.map { $0 * $0 }.reduce(0, +).squareRoot() }

/// The unit roundoff of T.
func unitRoundoff<T: BinaryFloatingPoint>(_: T.Type) -> Double { Double(T.ulpOfOne) / 2 }

/// The tolerance each type can be asked for (see CGErrorModel.swift: Float's floor is about
/// 1e-7·k on these problems, so 1e-8 is not attainable in Float).
func requestedTolerance<T: BinaryFloatingPoint>(_: T.Type) -> Double { T.self == Float.self ? 1e-5 : 1e-10 }

/// Checks a returned x against the error model: finite; the true relative residual of the
/// stored system (A_T, b_T) within the requested tolerance plus the attainable floor; the forward
/// error against x* within `forwardErrorBound`.
func checkSolution<T: SolverScalar>(_ x: [T], report: CGReport, tolerance: Double, storedProduct: ([Double]) -> [Double],
                                    storedB: [T], exactB: [Double], solution xStar: [Double], matrixNorm: Double,
                                    matrixPerturbation: Double, smallestEigenvalue: Double, nonzerosPerRow: Int, _ context: String) {
    let xDouble = x.map(Double.init), bStored = storedB.map(Double.init)
    #expect(xDouble.allSatisfy { $0.isFinite }, "\(context): x not finite")
    #expect(report.outcome == .converged, "\(context): \(report.outcome)")
    let u = unitRoundoff(T.self)
    let residual = relativeResidual(product: storedProduct, b: bStored, x: xDouble)
    let floor = attainableRelativeResidual(unitRoundoff: u, iterations: report.iterations, nonzerosPerRow: nonzerosPerRow,
                                           matrixNorm: matrixNorm, solutionNorm: norm(xDouble), rightHandSideNorm: norm(bStored))
    #expect(residual <= tolerance + floor, "\(context): relative residual \(residual) > \(tolerance) + \(floor)")
    let bPerturbation = norm(zip(bStored, exactB).map { $0 - $1 }) + Double(nonzerosPerRow) * unitRoundoff(Double.self) * matrixNorm * norm(xStar)
    let bound = forwardErrorBound(residualNorm: residual * norm(bStored), rightHandSidePerturbation: bPerturbation,
                                  matrixPerturbation: matrixPerturbation, smallestEigenvalue: smallestEigenvalue, solutionNorm: norm(xStar))
    let error = forwardError(xDouble, solution: xStar)
    #expect(error <= bound * 1.01, "\(context): forward error \(error) > bound \(bound)")
}

@Suite("Solvers: conjugate gradient variants")
struct SolversTests {
    static let grids = [(1, 1), (3, 5), (17, 9), (40, 33)]

    @Test(arguments: grids)
    func poissonVariantsMeetTheErrorModel(shape: (Int, Int)) throws {
        try poissonVariants(Double.self, shape)
        try poissonVariants(Float.self, shape)
    }

    func poissonVariants<T: SolverScalar>(_: T.Type, _ shape: (Int, Int)) throws {
        let grid = try PoissonGrid(rows: shape.0, columns: shape.1)
        let system = PoissonSystem(grid: grid, seed: 3)
        let b = system.rightHandSide.map { T($0) }
        let tolerance = requestedTolerance(T.self)
        let options = CGOptions.scipy(rtol: tolerance)
        func check(_ variant: String, _ run: (inout [T], Int) throws -> CGReport) throws {
            for threads in [1, 2] {
                var x = [T](repeating: .nan, count: grid.count)
                let report = try run(&x, threads)
                checkSolution(x, report: report, tolerance: tolerance, storedProduct: poissonProductReference(grid), storedB: b,
                              exactB: system.rightHandSide, solution: system.solution, matrixNorm: 8, matrixPerturbation: 0,
                              smallestEigenvalue: grid.extremeEigenvalues.smallest, nonzerosPerRow: 5, "poisson \(grid) \(T.self) \(variant) threads \(threads)")
            }
        }
        let stencil = PoissonStencil2D<T>(grid: grid)
        try check("stencil") { try solve(stencil, b: b, x: &$0, options: options, threads: $1) }
        try check("csr") { try solve(CSRMatrix<T>.poisson(grid), b: b, x: &$0, options: options, threads: $1) }
        try check("ssor") { try solve(stencil, preconditioner: PoissonSSORPreconditioner<T>(grid: grid), b: b, x: &$0, options: options, threads: $1) }
        let jacobi = try JacobiPreconditioner(diagonal: [T](repeating: 4, count: grid.count))
        try check("jacobi") { try solve(stencil, preconditioner: jacobi, b: b, x: &$0, options: options, threads: $1) }
        let closure = try ClosureOperator<T>(dimension: grid.count) { x, y, threads in stencil.apply(x, into: y, threads: threads) }
        try check("closure") { try solve(closure, b: b, x: &$0, options: options, threads: $1) }
    }

    /// Unpreconditioned Double variants take the reference's iterations (±1) and land within the
    /// error model of the direct solution (?posv on the Poisson matrix formed densely).
    @Test(arguments: [(3, 5), (17, 9)])
    func poissonAgreesWithReferenceAndPosv(shape: (Int, Int)) throws {
        let grid = try PoissonGrid(rows: shape.0, columns: shape.1)
        let system = PoissonSystem(grid: grid, seed: 4)
        let n = grid.count
        var reference = [Double](repeating: 0, count: n)
        let options = CGOptions.scipy(rtol: 1e-12)
        let expected = try conjugateGradientReference(product: poissonProductReference(grid), b: system.rightHandSide, x: &reference, options: options)
        var dense = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var unit = [Double](repeating: 0, count: n)
            unit[j] = 1
            for (i, value) in poissonProductReference(grid)(unit).enumerated() { dense[i * n + j] = value }
        }
        let direct = try choleskySolve(dense, dimension: n, b: system.rightHandSide)
        let kappa = grid.conditionNumber
        for (variant, a) in [("stencil", AnyDoubleOperator(PoissonStencil2D<Double>(grid: grid))), ("csr", AnyDoubleOperator(try CSRMatrix<Double>.poisson(grid)))] {
            var x = [Double](repeating: .nan, count: n)
            let report = try a.run(system.rightHandSide, &x, options)
            #expect(abs(report.iterations - expected.iterations) <= 1, "\(variant): \(report.iterations) vs reference \(expected.iterations)")
            #expect(forwardError(x, solution: reference) < 1e-10, "\(variant) vs reference")
            #expect(forwardError(x, solution: direct) <= kappa * (1e-12 + 1e-14), "\(variant) vs posv: \(forwardError(x, solution: direct))")
        }
    }

    static let spectra: [SPDSpectrum] = [.geometric(conditionNumber: 10), .geometric(conditionNumber: 1e3),
                                         .clustered(clusters: 4, conditionNumber: 1e3, relativeWidth: 1e-3)]

    @Test(arguments: [1, 7, 64, 130], spectra)
    func denseVariantsMeetTheErrorModel(n: Int, spectrum: SPDSpectrum) throws {
        if case .clustered(let clusters, _, _) = spectrum, clusters > n { return }
        let system = try SPDSystem(dimension: n, spectrum: spectrum, seed: UInt64(n))
        try denseVariants(Double.self, system)
        try denseVariants(Float.self, system)
    }

    func denseVariants<T: SolverScalar>(_: T.Type, _ system: SPDSystem) throws {
        let n = system.dimension
        let a = system.matrix.map { T($0) }, b = system.rightHandSide.map { T($0) }
        let stored = a.map(Double.init)
        let frobenius = norm(stored), perturbation = norm(zip(stored, system.matrix).map { $0 - $1 })
        let tolerance = requestedTolerance(T.self)
        let options = CGOptions.scipy(rtol: tolerance)
        let (smallest, largest) = system.extremeEigenvalues
        // ?posv in T on the stored system: the direct answer, within c·n·u·κ of the exact one.
        let direct = try choleskySolve(a, dimension: n, b: b).map(Double.init)
        let directError = 4 * Double(n) * unitRoundoff(T.self) * system.conditionNumber
        try a.withUnsafeBufferPointer { matrix in
            let simd = try DenseSymmetricOperator(matrix.baseAddress!, dimension: n, ld: n)
            let jacobi = try JacobiPreconditioner(matrix: matrix.baseAddress!, dimension: n, ld: n)
            let runs: [(String, (inout [T]) throws -> CGReport)] = [
                ("simd", { try solve(simd, b: b, x: &$0, options: options) }),
                ("blas", { try solve(BLASDenseOperator(matrix.baseAddress!, dimension: n, ld: n), b: b, x: &$0, options: options) }),
                ("jacobi", { try solve(simd, preconditioner: jacobi, b: b, x: &$0, options: options) }),
            ]
            for (variant, run) in runs {
                var x = [T](repeating: .nan, count: n)
                let report = try run(&x)
                let context = "dense \(n) \(system) \(T.self) \(variant)"
                checkSolution(x, report: report, tolerance: tolerance, storedProduct: denseProductReference(stored, dimension: n), storedB: b,
                              exactB: system.rightHandSide, solution: system.solution, matrixNorm: largest, matrixPerturbation: perturbation,
                              smallestEigenvalue: smallest, nonzerosPerRow: n, context)
                let floor = attainableRelativeResidual(unitRoundoff: unitRoundoff(T.self), iterations: report.iterations, nonzerosPerRow: n,
                                                       matrixNorm: frobenius, solutionNorm: norm(direct), rightHandSideNorm: norm(b.map(Double.init)))
                let againstDirect = forwardError(x.map(Double.init), solution: direct)
                #expect(againstDirect <= system.conditionNumber * (tolerance + floor) + directError, "\(context) vs posv: \(againstDirect)")
            }
        }
    }

    /// The dense operator reads the upper triangle only (the lower one is NaN here) and matches
    /// the full product within γ_{n+8}·|A||x|, on sizes around the four-row groups and vector
    /// widths, and with eight blocks on one and two threads (n = 1030).
    @Test(arguments: [1, 2, 3, 4, 5, 9, 17, 37, 1030])
    func symmetricProductReadsTheUpperTriangle(n: Int) throws {
        var generator = SeededGenerator(seed: UInt64(n))
        let values = [Double].uniform(count: n * n, using: &generator)
        var symmetric = [Double](repeating: 0, count: n * n), poisoned = symmetric
        for i in 0..<n {
            for j in i..<n {
                symmetric[i * n + j] = values[i * n + j]
                symmetric[j * n + i] = values[i * n + j]
                poisoned[i * n + j] = values[i * n + j]
                if j > i { poisoned[j * n + i] = .nan }
            }
        }
        let x = [Double].uniform(count: n, using: &generator)
        let expected = denseProductReference(symmetric, dimension: n)(x)
        let magnitude = denseProductReference(symmetric.map(abs), dimension: n)(x.map(abs))
        let allowed = Double(n + 8) * unitRoundoff(Double.self) * 1.01
        for threads in [1, 2] {
            var y = [Double](repeating: .nan, count: n)
            try poisoned.withUnsafeBufferPointer { a in
                try DenseSymmetricOperator(a.baseAddress!, dimension: n, ld: n).apply(x, into: &y, threads: threads)
            }
            for i in 0..<n {
                #expect(abs(y[i] - expected[i]) <= allowed * magnitude[i], "n \(n) threads \(threads): y[\(i)] = \(y[i]), expected \(expected[i])")
            }
        }
    }

    /// Threads split the passes; every reduction is summed in the same blocks, so the iterates
    /// are the same bits on one thread or two (grids large enough for two bands).
    @Test func threadsGiveTheSameBits() throws {
        let grid = try PoissonGrid(rows: 400, columns: 331)
        let system = PoissonSystem(grid: grid, seed: 5)
        let options = CGOptions(stoppingTest: .squaredResidualBelow(0), maximumIterations: 30)
        let stencil = PoissonStencil2D<Double>(grid: grid), csr = try CSRMatrix<Double>.poisson(grid)
        let ssor = try PoissonSSORPreconditioner<Double>(grid: grid)
        var results: [[Double]] = []
        for threads in [1, 2] {
            var x = [Double](repeating: 0, count: grid.count)
            var y = x, z = x
            _ = try solve(stencil, b: system.rightHandSide, x: &x, options: options, threads: threads)
            _ = try solve(csr, b: system.rightHandSide, x: &y, options: options, threads: threads)
            _ = try solve(stencil, preconditioner: ssor, b: system.rightHandSide, x: &z, options: options, threads: threads)
            results.append(x + y + z)
        }
        #expect(results[0] == results[1])

        let n = 1030
        let dense = try SPDSystem(dimension: n, spectrum: .geometric(conditionNumber: 100), seed: 6, threads: 2)
        var denseResults: [[Double]] = []
        try dense.matrix.withUnsafeBufferPointer { matrix in
            for threads in [1, 2] {
                var x = [Double](repeating: 0, count: n)
                _ = try solve(DenseSymmetricOperator(matrix.baseAddress!, dimension: n, ld: n), b: dense.rightHandSide, x: &x, options: options, threads: threads)
                denseResults.append(x)
            }
        }
        #expect(denseResults[0] == denseResults[1])
    }

    /// With κ known, ‖e_k‖_A ≤ 2((√κ−1)/(√κ+1))^k·‖e₀‖_A after k iterations (x₀ = 0, e₀ = −x*).
    @Test(arguments: [5, 10, 20, 40])
    func convergenceBoundHolds(iterations k: Int) throws {
        let options = CGOptions(stoppingTest: .squaredResidualBelow(0), maximumIterations: k)
        let grid = try PoissonGrid(rows: 30, columns: 30)
        let poisson = PoissonSystem(grid: grid, seed: 7)
        var x = [Double](repeating: 0, count: grid.count)
        _ = try solve(PoissonStencil2D<Double>(grid: grid), b: poisson.rightHandSide, x: &x, options: options)
        let product = poissonProductReference(grid)
        let initial = energyNormError(product: product, x: [Double](repeating: 0, count: grid.count), solution: poisson.solution)
        let achieved = energyNormError(product: product, x: x, solution: poisson.solution)
        #expect(achieved <= cgConvergenceBound(conditionNumber: grid.conditionNumber, iterations: k) * initial, "Poisson, \(k) iterations")

        let dense = try SPDSystem(dimension: 200, spectrum: .geometric(conditionNumber: 100), seed: 8)
        var y = [Double](repeating: 0, count: 200)
        try dense.matrix.withUnsafeBufferPointer { a in
            _ = try solve(DenseSymmetricOperator(a.baseAddress!, dimension: 200, ld: 200), b: dense.rightHandSide, x: &y, options: options)
        }
        let denseProduct = denseProductReference(dense.matrix, dimension: 200)
        let denseInitial = energyNormError(product: denseProduct, x: [Double](repeating: 0, count: 200), solution: dense.solution)
        let denseAchieved = energyNormError(product: denseProduct, x: y, solution: dense.solution)
        #expect(denseAchieved <= cgConvergenceBound(conditionNumber: dense.conditionNumber, iterations: k) * denseInitial, "dense κ = 100, \(k) iterations")
    }

    /// The SSOR sweeps (four-row wavefronts, any remainder of rows and columns) apply M⁻¹ for
    /// M = (D + ωL)·D⁻¹·(D + ωLᵀ)/(ω(2 − ω)), formed here from its definition with plain loops.
    @Test(arguments: [(1, 1), (2, 3), (3, 7), (5, 2), (7, 9), (8, 4), (9, 13)])
    func ssorAppliesTheInverseOfItsMatrix(shape: (Int, Int)) throws {
        let grid = try PoissonGrid(rows: shape.0, columns: shape.1)
        let n = grid.count, columns = grid.columns
        let ssor = try PoissonSSORPreconditioner<Double>(grid: grid, omega: 1.6)
        var generator = SeededGenerator(seed: 9)
        let r = [Double].uniform(count: n, using: &generator)
        var z = [Double](repeating: .nan, count: n)
        let rz = r.withUnsafeBufferPointer { r in z.withUnsafeMutableBufferPointer { ssor.apply(r.baseAddress!, into: $0.baseAddress!, threads: 1) } }
        // w = (D + ωLᵀ)z: Lᵀ holds the −1 couplings to the right and lower neighbors.
        let omega = 1.6
        var w = [Double](repeating: 0, count: n)
        for k in 0..<n {
            let (i, j) = (k / columns, k % columns)
            w[k] = 4 * z[k] - omega * ((j + 1 < columns ? z[k + 1] : 0) + (i + 1 < grid.rows ? z[k + columns] : 0))
        }
        // M·z = (D + ωL)·D⁻¹·w / (ω(2 − ω)).
        var mz = [Double](repeating: 0, count: n)
        for k in 0..<n {
            let (i, j) = (k / columns, k % columns)
            mz[k] = (w[k] - omega * ((j > 0 ? w[k - 1] : 0) + (i > 0 ? w[k - columns] : 0)) / 4) / (omega * (2 - omega))
        }
        let error = zip(mz, r).map { abs($0 - $1) }.max()!
        #expect(error < 1e-13, "grid \(grid): M·z − r = \(error)")
        #expect(abs(rz - zip(r, z).map(*).reduce(0, +)) < 1e-13 * Double(n), "rᵀz")
    }

    @Test func convergenceBoundFunctions() {
        #expect(cgConvergenceBound(conditionNumber: 1, iterations: 3) == 0)
        #expect(abs(cgConvergenceBound(conditionNumber: 9, iterations: 2) - 2 * 0.25) < 1e-15)
        let k = iterationsForConvergenceBound(conditionNumber: 1e4, reduction: 1e-8)
        #expect(cgConvergenceBound(conditionNumber: 1e4, iterations: k) <= 1e-8)
        #expect(cgConvergenceBound(conditionNumber: 1e4, iterations: k - 1) > 1e-8)
        #expect(iterationsForConvergenceBound(conditionNumber: 1, reduction: 1e-8) == 1)
    }
}

/// A Double operator of any kind, for looping over variants.
struct AnyDoubleOperator {
    let run: (_ b: [Double], _ x: inout [Double], _ options: CGOptions) throws -> CGReport

    init<Operator: LinearOperator>(_ a: Operator) where Operator.Scalar == Double {
        run = { b, x, options in try solve(a, b: b, x: &x, options: options) }
    }
}
