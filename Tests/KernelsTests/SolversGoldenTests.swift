import Testing
import TestSupport
import Kernels
import SeededRandom

/// reference/solvers/golden.json, made by reference/solvers/make_golden.py.
struct SolverGolden: Decodable {
    struct GeneratorValues: Decodable {
        let seed: UInt64
        let uniform: [Double]
        let gaussian: [Double]
    }
    struct Run: Decodable {
        let rule: String
        let iterations_limit: Int?
        let tolerance: Double?
        let seed: UInt64?
        let scale: Double?
        let x0: [Double]?
        let rtol: Double?
        let atol: Double?
        let iterations: Int
        let residual_norm: Double
        let x: [Double]
    }
    struct System: Decodable {
        let name: String
        let n: Int
        let grid: [Int]?
        /// A dense system's matrix, or nil when it is `matrix_of`'s (or a Poisson grid's).
        let matrix: [Double]?
        let matrix_of: String?
        let b: [Double]
        let runs: [Run]
    }
    let generator: GeneratorValues
    let systems: [System]

    static let shared = loadReference("reference/solvers/golden.json", as: SolverGolden.self)

    /// A dense system's matrix, row-major.
    func matrix(of system: System) -> [Double]? {
        system.matrix ?? systems.first { $0.name == system.matrix_of }?.matrix
    }
}

extension SolverGolden.Run {
    var options: CGOptions {
        switch rule {
        case "baselines": return .baselines(iterations: iterations_limit!, residualTolerance: tolerance!)
        case "sb3": return .stableBaselines3(iterations: iterations_limit!, residualTolerance: tolerance!, startScale: scale!, seed: seed!)
        default: return .scipy(rtol: rtol!, atol: atol!)
        }
    }
    var label: String { rule + (rtol.map { " rtol \($0)" } ?? "") }
}

/// One variant's answer to a golden run, as the test compares it.
struct SolverAnswer {
    let variant: String
    let report: CGReport
    let x: [Double]
}

/// Every variant the system's kind has (dense: reference, simd, blas, closure; Poisson:
/// reference, stencil, csr, closure), on the system's b with the run's options, in Double.
func answers(_ system: SolverGolden.System, matrix: [Double]?, _ run: SolverGolden.Run) throws -> [SolverAnswer] {
    let n = system.n, options = run.options
    let jacobi = run.rule == "scipy-jacobi"
    var results: [SolverAnswer] = []
    func record<Operator: LinearOperator>(_ variant: String, _ a: Operator) throws where Operator.Scalar == Double {
        var x = [Double](repeating: .nan, count: n)
        let report: CGReport
        if jacobi {
            let diagonal = (0..<n).map { matrix![$0 * n + $0] }
            let preconditioner = try JacobiPreconditioner(diagonal: diagonal)
            report = try solve(a, preconditioner: preconditioner, b: system.b, x: &x, options: options)
        } else {
            report = try solve(a, b: system.b, x: &x, options: options)
        }
        results.append(SolverAnswer(variant: variant, report: report, x: x))
    }
    let product: ([Double]) -> [Double]
    if let grid = system.grid {
        let poisson = try PoissonGrid(rows: grid[0], columns: grid[1])
        product = poissonProductReference(poisson)
        try record("stencil", PoissonStencil2D<Double>(grid: poisson))
        try record("csr", CSRMatrix<Double>.poisson(poisson))
    } else {
        let matrix = matrix!
        product = denseProductReference(matrix, dimension: n)
        try matrix.withUnsafeBufferPointer { a in
            try record("simd", DenseSymmetricOperator(a.baseAddress!, dimension: n, ld: n))
            try record("blas", BLASDenseOperator(a.baseAddress!, dimension: n, ld: n))
        }
    }
    try record("closure", ClosureOperator<Double>(dimension: n) { x, y, _ in
        let result = product(Array(UnsafeBufferPointer(start: x, count: n)))
        for i in 0..<n { y[i] = result[i] }
    })
    var x = [Double](repeating: .nan, count: n)
    var preconditioner: (([Double]) -> [Double])? = nil
    if jacobi {
        let inverseDiagonal = (0..<n).map { 1 / matrix![$0 * n + $0] }
        preconditioner = { r in zip(r, inverseDiagonal).map { $0 * $1 } }
    }
    let report = try conjugateGradientReference(product: product, preconditioner: preconditioner, b: system.b, x: &x, options: options)
    results.append(SolverAnswer(variant: "reference", report: report, x: x))
    return results
}

@Suite("Solvers: stopping rules against baselines, SB3-contrib and SciPy")
struct SolversGoldenTests {
    /// The Python copy of SeededGenerator (Benchmarks/peers/seeded_generator.py) gives the same values.
    @Test func pythonGeneratorMatchesSwift() throws {
        let golden = try #require(SolverGolden.shared)
        var generator = SeededGenerator(seed: golden.generator.seed)
        #expect(golden.generator.uniform.map { _ in generator.nextSigned() } == golden.generator.uniform)
        #expect(golden.generator.gaussian.map { _ in generator.nextGaussian() } == golden.generator.gaussian)
    }

    /// SB3's seeded start: 1e-4 · nextGaussian, in order.
    @Test func stableBaselines3StartIsTheSeededStream() throws {
        let golden = try #require(SolverGolden.shared)
        for system in golden.systems {
            for run in system.runs where run.rule == "sb3" {
                var generator = SeededGenerator(seed: run.seed!)
                let start = (0..<system.n).map { _ in run.scale! * generator.nextGaussian() }
                #expect(start == run.x0!, "\(system.name)")
            }
        }
    }

    /// Every variant takes the iterations the real implementation takes, ends with its recurrence
    /// residual, and returns its x, on every golden system.
    @Test(arguments: SolverGolden.shared?.systems.map(\.name) ?? [])
    func variantsReproduceTheRules(systemName: String) throws {
        let golden = try #require(SolverGolden.shared)
        let system = try #require(golden.systems.first { $0.name == systemName })
        for run in system.runs {
            let xNorm = run.x.map { $0 * $0 }.reduce(0, +).squareRoot()
            for answer in try answers(system, matrix: golden.matrix(of: system), run) {
                let context = "\(system.name) \(run.label) \(answer.variant)"
                #expect(answer.report.iterations == run.iterations, "\(context): \(answer.report.iterations) iterations, expected \(run.iterations)")
                let residualError = abs(answer.report.residualNorm - run.residual_norm) / max(run.residual_norm, 1e-300)
                #expect(residualError < 1e-5, "\(context): residual \(answer.report.residualNorm), expected \(run.residual_norm)")
                let xError = zip(answer.x, run.x).map { abs($0 - $1) }.max()! / xNorm
                #expect(xError < 1e-9, "\(context): x differs by \(xError) relative")
            }
        }
    }
}
