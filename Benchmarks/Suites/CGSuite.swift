import Crosscheck
import Foundation
import Kernels

/// One conjugate-gradient workload: a 2-D Poisson grid or a dense SPD matrix with a known spectrum,
/// b = A·x* for a seeded x*.
public struct CGSpec: Sendable, Hashable, CustomStringConvertible {
    /// The spectra of the dense cases (`SPDSpectrum`), as the size notation names them.
    public enum DenseSpectrum: String, Sendable, Hashable, CaseIterable {
        case k10, k1e3, k1e6, clustered

        public var spectrum: SPDSpectrum {
            switch self {
            case .k10: return .geometric(conditionNumber: 10)
            case .k1e3: return .geometric(conditionNumber: 1e3)
            case .k1e6: return .geometric(conditionNumber: 1e6)
            case .clustered: return .clustered(clusters: 8, conditionNumber: 1e3, relativeWidth: 1e-3)
            }
        }
    }

    /// A Poisson grid (rows × columns unknowns) or a dense n × n matrix with a spectrum.
    public enum Problem: Sendable, Hashable {
        case poisson(rows: Int, columns: Int)
        case dense(n: Int, spectrum: DenseSpectrum)
    }

    public var problem: Problem
    public var seed: UInt64

    /// Seeds 10 (Poisson) and 20 (dense), which `Benchmarks/peers/scipy_cg.py` uses too.
    public init(_ problem: Problem, seed: UInt64? = nil) {
        self.problem = problem
        if case .poisson = problem { self.seed = seed ?? 10 } else { self.seed = seed ?? 20 }
    }

    /// The Poisson problem on a rows × columns grid (square by default), seed 10.
    public static func poisson(_ rows: Int, _ columns: Int? = nil) -> CGSpec { CGSpec(.poisson(rows: rows, columns: columns ?? rows)) }
    /// A dense n × n SPD matrix (κ = 10³ by default), seed 20.
    public static func dense(_ n: Int, _ spectrum: DenseSpectrum = .k1e3) -> CGSpec { CGSpec(.dense(n: n, spectrum: spectrum)) }

    /// `poissonRxC` or `denseN-SPECTRUM`.
    public var description: String {
        switch problem {
        case .poisson(let rows, let columns): return "poisson\(rows)x\(columns)"
        case .dense(let n, let spectrum): return "dense\(n)-\(spectrum.rawValue)"
        }
    }

    /// Unknowns.
    public var dimension: Int {
        switch problem {
        case .poisson(let rows, let columns): return SizeArithmetic.saturatingProduct(rows, columns)
        case .dense(let n, _): return n
        }
    }
}

/// The conjugate-gradient family (`Sources/Kernels/Solvers`): A·x = b for the 2-D Poisson matrix
/// (matrix-free stencil, CSR, SSOR-preconditioned) and dense SPD matrices Q·Λ·Qᵀ (SIMD GEMV,
/// Jacobi-preconditioned, OpenBLAS level-2/1 calls, LAPACK's Cholesky solve), under SciPy's
/// stopping rule ‖r‖ < rtol·‖b‖ with rtol 1e-8 in Double and 1e-5 in Float (1e-8 is below what
/// Float can attain: see `CGErrorModel.swift`).
///
/// Error model (`CGInstance.verify`), every criterion hard:
/// - `converged`: the outcome is `converged` (0) rather than anything else (1);
/// - `residual`: ‖b − A·x̂‖/‖b‖ recomputed in Double from x̂ on the stored (rounded) system, in
///   units of rtol, at most 1 + ρ_floor/rtol with ρ_floor = u·(k + m + 2)·‖A‖·‖x̂‖/‖b‖
///   (Greenbaum's attainable accuracy);
/// - `forward`: ‖x̂ − x*‖/‖x*‖ in units of its bound (‖r̂‖ + ‖e‖ + ‖E‖‖x*‖)/((λ_min − ‖E‖)‖x*‖),
///   at most 1, with E and e the rounding of A and b to the element type (and of b = A·x* itself);
/// - `iterations` (unpreconditioned CG): k at most the textbook bound's count for a residual
///   reduction of rtol: 2((√κ−1)/(√κ+1))^k·√κ ≤ rtol, since ‖r_k‖/‖r₀‖ ≤ √κ·‖e_k‖_A/‖e₀‖_A.
/// The note reports the outcome, the iterations and, where the case computed it, the distance to
/// LAPACK's ?posv solution.
public enum CGSuite {
    /// The targets (Poisson 100² and 1000², dense n = 2000) and the spectra at n = 1024.
    public static let defaultSpecs: [CGSpec] = [
        .poisson(100), .poisson(1000),
        .dense(2000, .k1e3), .dense(1024, .k10), .dense(1024, .k1e6), .dense(1024, .clustered),
    ]
    /// `--quick`: the small Poisson grid and a small dense matrix.
    public static let quickSpecs: [CGSpec] = [.poisson(100), .dense(256, .k1e3)]
    /// What `swift test` walks: edge grids (one unknown; rows not a multiple of the vector
    /// width), dense sizes with SIMD and row-group tails, and one large enough for two threads in
    /// the symmetric matrix-vector product (n²/2 ≥ 2·2¹⁸), with a remainder of two rows. A grid
    /// with two thread bands needs 2·2¹⁶ unknowns
    /// and about 700 iterations to converge, with several parallel regions each (237 s for the
    /// walk on a loaded machine): Tests/KernelsTests/SolversTests.swift runs it for 30 iterations
    /// instead and checks that one and two threads give the same bits.
    public static let testSpecs: [CGSpec] = [
        .poisson(1), .poisson(7, 9), .poisson(33, 17),
        .dense(1, .k10), .dense(37, .k1e3), .dense(64, .clustered), .dense(37, .k1e6), .dense(1030, .k10),
    ]
    /// `--preset dense-sweep`: the dense matrices from 256 to 4096 at κ = 10³.
    public static let denseSweep: [CGSpec] = [256, 512, 1024, 2048, 4096].map { .dense($0, .k1e3) }
    /// `--preset spectra`: every spectrum at n = 1024.
    public static let spectra: [CGSpec] = CGSpec.DenseSpectrum.allCases.map { .dense(1024, $0) }

    /// The family as `bench` and the walker see it.
    public static let family = Family(
        name: "cg",
        summary: "conjugate gradient on A x = b to rtol 1e-8 (f64) / 1e-5 (f32): 2-D Poisson (shape poissonRxC) and dense SPD Q.Lambda.Q^T (shape denseN-SPECTRUM)",
        elementTypes: [.f64, .f32],
        sizes: Sizes(
            notation: "poissonN | poissonRxC | denseN[-k10|-k1e3|-k1e6|-clustered]",
            parse: parse,
            defaults: defaultSpecs, quick: quickSpecs, test: testSpecs,
            presets: [("dense-sweep", "dense n = 256...4096 at kappa 1e3", denseSweep),
                      ("spectra", "dense n = 1024, every spectrum", spectra)]),
        counters: [Counter("solver_iterations", unit: "CG iterations")],
        context: { ["openblas_corename": OpenBLAS.coreName, "openblas_config": OpenBLAS.config] },
        cases: { spec, dtype in
            switch dtype {
            case .f64: return [makeCase(spec, Double.self)]
            case .f32: return [makeCase(spec, Float.self)]
            default: throw CaseRequestError("cg has no element type \(dtype.rawValue)")
            }
        })

    /// Parses `poissonN`, `poissonRxC`, `denseN` (κ = 10³) or `denseN-SPECTRUM`.
    static func parse(_ text: String) throws -> CGSpec {
        let entry = text.lowercased()
        if entry.hasPrefix("poisson") {
            let parts = entry.dropFirst("poisson".count).split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 1 || parts.count == 2 else { throw CaseRequestError("--sizes: '\(text)' is not a grid; use poissonN or poissonRxC") }
            let sides = try parts.map { try SizeArithmetic.integer($0, in: text, minimum: 1) }
            // The unknowns are rows × columns (N² for poissonN), each with 64 bytes and more of work.
            _ = try SizeArithmetic.product([sides[0], sides.count == 2 ? sides[1] : sides[0], 8 * 8], entry: text)
            return .poisson(sides[0], sides.count == 2 ? sides[1] : sides[0])
        }
        if entry.hasPrefix("dense") {
            let parts = entry.dropFirst("dense".count).split(separator: "-", maxSplits: 1)
            guard let first = parts.first else { throw CaseRequestError("--sizes: '\(text)': give the dimension, as in dense2000-k1e3") }
            let n = try SizeArithmetic.integer(first, in: text, minimum: 1)
            _ = try SizeArithmetic.product([n, n, 8 * 4], entry: text)
            guard parts.count == 2 else { return .dense(n) }
            guard let spectrum = CGSpec.DenseSpectrum(rawValue: String(parts[1])) else {
                throw CaseRequestError("--sizes: '\(text)': spectrum '\(parts[1])' is not one of \(CGSpec.DenseSpectrum.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .dense(n, spectrum)
        }
        throw CaseRequestError("--sizes: '\(text)' is not a cg size; use poissonN, poissonRxC or denseN[-k10|-k1e3|-k1e6|-clustered]")
    }

    /// The tolerance of each element type: 1e-8, the issue's, in Double; 1e-5 (SciPy's default)
    /// in Float, whose attainable floor on these problems is about 1e-7·k.
    public static func tolerance<T: SolverScalar>(_: T.Type) -> Double { T.self == Float.self ? 1e-5 : 1e-8 }

    /// Largest problem the Double reference (plain loops, an array per product) runs on.
    static let referenceLimit = (poisson: 200_000, dense: 1024)
    /// Largest Poisson problem whose dense matrix is formed for ?posv.
    static let directPoissonLimit = 1024

    /// The variants for `spec`, declared once with their bodies. Work per iteration (n unknowns,
    /// s bytes per value; `CGCall.perIteration`): the default vector steps 10n flops and 11n·s
    /// bytes (`LinearOperator`) plus the product's own — the stencil's 5n flops and 2n·s bytes,
    /// CSR's 10n flops and 5n·(s + 4) + 4n + 2n·s bytes, a dense matrix's 2n² flops and
    /// (n² + 2n)·s bytes through BLAS's ?gemv, (n(n + 1)/2 + 2n)·s through the upper triangle
    /// (`simd`, `jacobi`); the fused stencil 20n flops and 8n·s bytes in all; SSOR 12n flops and
    /// 5n·s bytes more; Jacobi 3n flops and 3n·s bytes more; ?posv n³/3 + 2n² flops and n²·s
    /// bytes per call.
    public static func variants<T: SolverScalar>(for spec: CGSpec, _: T.Type) -> [Variant<CGInstance<T>>] {
        let n = Double(spec.dimension), s = Double(MemoryLayout<T>.size)
        func perIteration(flops: Double, bytes: Double) -> Workload { Workload(flops: flops, bytes: bytes, isMemoryBound: true) }
        let unfusedVectors = perIteration(flops: 10 * n, bytes: 11 * n * s)
        switch spec.problem {
        case .poisson:
            let stencilProduct = perIteration(flops: 5 * n, bytes: 2 * n * s)
            let csrProduct = perIteration(flops: 10 * n, bytes: 5 * n * (s + 4) + 4 * n + 2 * n * s)
            let fused = perIteration(flops: 20 * n, bytes: 8 * n * s), ssorWork = perIteration(flops: 32 * n, bytes: 13 * n * s)
            var variants: [Variant<CGInstance<T>>] = []
            if spec.dimension <= referenceLimit.poisson {
                variants.append(Variant("reference", check: { c, call in c.verify(call, solution: c.referenceSolution, boundsIterations: true, unitRoundoff: 0x1p-53) }) { c, _ in
                    try c.solveReference(perIteration: unfusedVectors + stencilProduct)
                })
            }
            variants += [
                Variant("stencil", threaded: true) { c, threads in
                    try c.solve(PoissonStencil2D<T>(grid: c.grid!), threads: threads, perIteration: fused)
                },
                Variant("stencil-apply", threaded: true, check: { c, _ in c.verifyProduct() }) { c, threads in
                    c.applyStencil(threads: threads, perCall: stencilProduct)
                },
                Variant("stencil-unfused", threaded: true) { c, threads in
                    let stencil = PoissonStencil2D<T>(grid: c.grid!)
                    let product = try ClosureOperator<T>(dimension: stencil.dimension) { x, y, threads in stencil.apply(x, into: y, threads: threads) }
                    return try c.solve(product, threads: threads, perIteration: unfusedVectors + stencilProduct)
                },
                Variant("csr", threaded: true) { c, threads in try c.solve(c.csr!, threads: threads, perIteration: unfusedVectors + csrProduct) },
                Variant("ssor", threaded: true, check: { c, call in c.verify(call, solution: c.x.map(Double.init), boundsIterations: false, unitRoundoff: c.unitRoundoff) }) { c, threads in
                    try c.solve(PoissonStencil2D<T>(grid: c.grid!), preconditioner: c.ssor!, threads: threads,
                                perIteration: ssorWork)
                },
            ]
            return variants
        case .dense(let size, _):
            let gemv = perIteration(flops: 2 * n * n, bytes: (n * n + 2 * n) * s)
            let symmetric = perIteration(flops: 2 * n * n, bytes: (n * (n + 1) / 2 + 2 * n) * s)
            let iteration = unfusedVectors + symmetric, jacobiWork = iteration + perIteration(flops: 3 * n, bytes: 3 * n * s)
            var variants: [Variant<CGInstance<T>>] = []
            if size <= referenceLimit.dense {
                variants.append(Variant("reference", check: { c, call in c.verify(call, solution: c.referenceSolution, boundsIterations: true, unitRoundoff: 0x1p-53) }) { c, _ in
                    try c.solveReference(perIteration: unfusedVectors + gemv)
                })
            }
            variants += [
                Variant("simd", threaded: true) { c, threads in
                    try c.solve(try DenseSymmetricOperator(c.matrix!.baseAddress!, dimension: size, ld: size), threads: threads, perIteration: iteration)
                },
                Variant("jacobi", threaded: true, check: { c, call in c.verify(call, solution: c.x.map(Double.init), boundsIterations: false, unitRoundoff: c.unitRoundoff) }) { c, threads in
                    try c.solve(try DenseSymmetricOperator(c.matrix!.baseAddress!, dimension: size, ld: size), preconditioner: c.jacobi!, threads: threads,
                                perIteration: jacobiWork)
                },
                Variant("blas", threaded: true) { c, threads in
                    try c.solve(try BLASDenseOperator(c.matrix!.baseAddress!, dimension: size, ld: size), threads: threads, perIteration: unfusedVectors + gemv)
                },
                Variant("posv", threaded: true, check: { c, call in c.verify(call, solution: c.x.map(Double.init), boundsIterations: false, unitRoundoff: c.unitRoundoff) }) { c, threads in
                    try c.solveDirect(threads: threads)
                },
            ]
            return variants
        }
    }

    /// The case of `spec` in T: its variants, work estimate (one iteration; each call reports its
    /// own) and memory estimate. Allocates nothing.
    public static func makeCase<T: SolverScalar>(_ spec: CGSpec, _: T.Type) -> Case {
        let n = spec.dimension
        let variants = variants(for: spec, T.self)
        let size = MemoryLayout<T>.size
        let memory: Int
        switch spec.problem {
        case .poisson:
            // x*, b (Double, twice for the stored copy), CSR (5 values and indices a row), the
            // solution, the solver's four work vectors, the reference's arrays.
            memory = SizeArithmetic.bytes([(n, 6 * 8 + 5 * (size + 4) + 6 * size)])
        case .dense:
            // Q and A in Double during construction, A in T, its Double copy, ?posv's factor.
            memory = SizeArithmetic.bytes([(SizeArithmetic.saturatingProduct(n, n), 4 * 8 + 2 * size), (n, 12 * 8)])
        }
        let firstIteration = Workload(flops: 2 * Double(n), bytes: Double(n * size), isMemoryBound: true)
        return Case(
            kernel: "cg", dtype: .of(T.self), shape: spec.description, sizeN: Double(n), workload: firstIteration, memoryBytes: memory,
            reference: variants.first { $0.name == "reference" }, variants: variants,
            prepare: { try CGInstance<T>(spec) })
    }
}

extension Workload {
    /// The sum of two workloads (memory-bound if either is).
    static func + (a: Workload, b: Workload) -> Workload {
        Workload(flops: a.flops + b.flops, bytes: a.bytes + b.bytes, isMemoryBound: a.isMemoryBound || b.isMemoryBound)
    }
}

/// One call's result: CG's report (nil for the direct solve) and the variant's work per iteration
/// (per call for the direct solve).
public struct CGCall {
    public let report: CGReport?
    public let perIteration: Workload
}

/// A CG case: the system in T (and as stored, in Double), x*, the operators and preconditioners
/// the variants share, the direct solution where it is affordable, and the checks of the model.
public final class CGInstance<T: SolverScalar>: PreparedCase {
    public typealias Output = CGCall

    let spec: CGSpec
    let n: Int
    let options: CGOptions
    let tolerance: Double
    let unitRoundoff = Double(T.ulpOfOne) / 2
    /// The Poisson grid and its CSR matrix and SSOR preconditioner, or nil for a dense case.
    let grid: PoissonGrid?
    let csr: CSRMatrix<T>?
    let ssor: PoissonSSORPreconditioner<T>?
    /// The dense matrix in T (row-major, owned here so that operators may keep its address), or nil.
    let matrix: UnsafeMutableBufferPointer<T>?
    let jacobi: JacobiPreconditioner<T>?
    let b: [T]
    /// A·v in Double on the stored (rounded) matrix.
    let storedProduct: ([Double]) -> [Double]
    let storedB: [Double], solution: [Double]
    /// ‖b_T − A_T·x*‖ plus the rounding of computing it in Double: what x* leaves of the stored
    /// system's residual (the rounding of b to T, of b = A·x* itself, and E·x*; counting E·x*
    /// here and again in `forwardErrorBound` is conservative).
    let rightHandSidePerturbation: Double
    /// ‖A_T − A‖₂ (bound), λ_min and λ_max of the exact A (widened by the construction's rounding).
    let matrixPerturbation: Double, smallestEigenvalue: Double, largestEigenvalue: Double
    let nonzerosPerRow: Int
    /// ‖|A|‖₂ (bound): 8 for the stencil, ‖A‖_F for a dense matrix.
    let absoluteNorm: Double
    /// ?posv's solution in Double on the stored system, where affordable.
    let direct: [Double]?
    /// Why Float cannot be asked this case, or nil.
    let skipReason: String?
    /// The iterative variants' solution (T), and the reference's (Double).
    var x: [T]
    var referenceSolution: [Double] = []
    /// x* rounded to T, and the `stencil-apply` variant's A·x* (Poisson only).
    let solutionT: [T]
    var product: [T]

    /// Builds the system (`PoissonSystem` or `SPDSystem`), rounds it to T, and computes ?posv's
    /// solution where affordable. Poisson: O(n), plus O(n³) for ?posv up to 1024 unknowns; dense:
    /// O(n³).
    public init(_ spec: CGSpec) throws {
        self.spec = spec
        n = spec.dimension
        tolerance = CGSuite.tolerance(T.self)
        options = .scipy(rtol: tolerance)
        x = [T](repeating: .nan, count: n)
        product = [T](repeating: .nan, count: n)
        switch spec.problem {
        case .poisson(let rows, let columns):
            let grid = try PoissonGrid(rows: rows, columns: columns)
            let system = PoissonSystem(grid: grid, seed: spec.seed)
            self.grid = grid
            csr = try CSRMatrix<T>.poisson(grid)
            ssor = try PoissonSSORPreconditioner<T>(grid: grid)
            matrix = nil
            jacobi = nil
            b = system.rightHandSide.map { T($0) }
            storedProduct = poissonProductReference(grid)
            solution = system.solution
            (smallestEigenvalue, largestEigenvalue) = grid.extremeEigenvalues
            matrixPerturbation = 0
            nonzerosPerRow = 5
            absoluteNorm = 8
            direct = n <= CGSuite.directPoissonLimit ? try Self.directSolution(of: storedProduct, n: n, b: system.rightHandSide.map { T($0) }) : nil
            skipReason = nil
        case .dense(let size, let spectrum):
            let system = try SPDSystem(dimension: size, spectrum: spectrum.spectrum, seed: spec.seed, threads: 2)
            grid = nil
            csr = nil
            ssor = nil
            let stored = UnsafeMutableBufferPointer<T>.allocate(capacity: size * size)
            for i in 0..<(size * size) { stored[i] = T(system.matrix[i]) }
            matrix = stored
            jacobi = try JacobiPreconditioner(matrix: stored.baseAddress!, dimension: size, ld: size)
            b = system.rightHandSide.map { T($0) }
            let storedMatrix = stored.map(Double.init)
            storedProduct = denseProductReference(storedMatrix, dimension: size)
            solution = system.solution
            let (smallest, largest) = system.extremeEigenvalues
            smallestEigenvalue = smallest - system.constructionError
            largestEigenvalue = largest + system.constructionError
            matrixPerturbation = zip(storedMatrix, system.matrix).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            nonzerosPerRow = size
            absoluteNorm = Self.norm(storedMatrix)
            direct = try Self.directSolution(of: storedProduct, n: size, b: b, matrix: storedMatrix)
            skipReason = matrixPerturbation >= 0.1 * smallestEigenvalue
                ? "rounding A to \(T.self) moves its eigenvalues by up to \(matrixPerturbation), within a tenth of lambda_min = \(smallest): not a definite system in \(T.self)"
                : nil
        }
        storedB = b.map(Double.init)
        solutionT = solution.map { T($0) }
        let storedBOfSolution = storedProduct(solution)
        rightHandSidePerturbation = zip(storedB, storedBOfSolution).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            + Double(nonzerosPerRow + 2) * 0x1p-53 * absoluteNorm * Self.norm(solution)
    }

    deinit { matrix?.deallocate() }

    static func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    /// ?posv in Double on the stored system (its matrix formed from `product` when not given).
    static func directSolution(of product: ([Double]) -> [Double], n: Int, b: [T], matrix: [Double]? = nil) throws -> [Double] {
        var dense = matrix ?? []
        if matrix == nil {
            dense = [Double](repeating: 0, count: n * n)
            for j in 0..<n {
                var unit = [Double](repeating: 0, count: n)
                unit[j] = 1
                for (i, value) in product(unit).enumerated() { dense[i * n + j] = value }
            }
        }
        var x = [Double](repeating: 0, count: n)
        let rightHandSide = b.map(Double.init)
        try dense.withUnsafeBufferPointer { a in
            try rightHandSide.withUnsafeBufferPointer { b in
                try x.withUnsafeMutableBufferPointer { x in try choleskySolve(a.baseAddress!, dimension: n, ld: n, b: b, x: x, threads: 2) }
            }
        }
        return x
    }

    /// x is filled with NaN before a verifying call: a solver must not read it (start zero).
    public func resetForVerification() {
        x = [T](repeating: .nan, count: n)
        product = [T](repeating: .nan, count: n)
        referenceSolution = []
    }

    /// Conjugate gradient on `operator`, into `x`.
    func solve<Operator: LinearOperator>(_ a: Operator, threads: Int, perIteration: Workload) throws -> CGCall where Operator.Scalar == T {
        if let skipReason { throw Skip(skipReason) }
        let report = try b.withUnsafeBufferPointer { b in
            try x.withUnsafeMutableBufferPointer { x in try conjugateGradient(a, b: b, x: x, options: options, threads: threads) }
        }
        return CGCall(report: report, perIteration: perIteration)
    }

    /// Preconditioned conjugate gradient, into `x`.
    func solve<Operator: LinearOperator, M: Preconditioner>(_ a: Operator, preconditioner: M, threads: Int, perIteration: Workload) throws -> CGCall
    where Operator.Scalar == T, M.Scalar == T {
        if let skipReason { throw Skip(skipReason) }
        let report = try b.withUnsafeBufferPointer { b in
            try x.withUnsafeMutableBufferPointer { x in try conjugateGradient(a, preconditioner: preconditioner, b: b, x: x, options: options, threads: threads) }
        }
        return CGCall(report: report, perIteration: perIteration)
    }

    /// The Double reference on the stored system, into `referenceSolution`.
    func solveReference(perIteration: Workload) throws -> CGCall {
        if let skipReason { throw Skip(skipReason) }
        var solution = [Double](repeating: 0, count: n)
        let report = try conjugateGradientReference(product: storedProduct, b: storedB, x: &solution, options: options)
        referenceSolution = solution
        return CGCall(report: report, perIteration: perIteration)
    }

    /// One product y = A·x* by the stencil, into `product`: the matrix-vector product alone, whose
    /// GB/s the issue compares with the triad bandwidth.
    func applyStencil(threads: Int, perCall: Workload) -> CGCall {
        let stencil = PoissonStencil2D<T>(grid: grid!)
        solutionT.withUnsafeBufferPointer { x in
            product.withUnsafeMutableBufferPointer { y in stencil.apply(x.baseAddress!, into: y.baseAddress!, threads: threads) }
        }
        return CGCall(report: nil, perIteration: perCall)
    }

    /// The product of x* rounded to T against A·x* computed in Double: each element within
    /// (γ₄ + u + γ₄(Double))·(|A||x*|)ᵢ — four roundings in the stencil, one in rounding x*, and
    /// the Double reference's own four (which matter when T is Double) — in units of u·(|A||x*|)ᵢ.
    /// For the 5-point matrix (diagonal 4, off-diagonal −1), |A|·|x| = 8|x| − A·|x|.
    func verifyProduct() -> Verification {
        let product = self.product.map(Double.init)
        let exact = storedProduct(solution)
        let magnitude = solution.map(abs)
        let scale = zip(magnitude, storedProduct(magnitude)).map { 8 * $0 - $1 }
        let bound = ErrorModels.gammaRatio(4, unitRoundoff: unitRoundoff) + 1 + ErrorModels.gammaRatio(4, unitRoundoff: 0x1p-53) * 0x1p-53 / unitRoundoff
        return ErrorModels.scaledForwardError(computed: product, reference: exact, scale: scale, unitRoundoff: unitRoundoff,
                                              bound: bound, model: "(gamma_4+u)|A||x|", describe: { "y[\($0)]" })
    }

    /// LAPACK's ?posv on the stored dense matrix, into `x`.
    func solveDirect(threads: Int) throws -> CGCall {
        if let skipReason { throw Skip(skipReason) }
        guard let matrix else { throw Skip("no dense matrix") }
        try b.withUnsafeBufferPointer { b in
            try x.withUnsafeMutableBufferPointer { x in try choleskySolve(matrix.baseAddress!, dimension: n, ld: n, b: b, x: x, threads: threads) }
        }
        let size = Double(n)
        return CGCall(report: nil, perIteration: Workload(flops: size * size * size / 3 + 2 * size * size, bytes: size * size * Double(MemoryLayout<T>.size)))
    }

    /// The error model on the iterative variants' x, with the iteration bound.
    public func check(_ output: CGCall) -> Verification {
        verify(output, solution: x.map(Double.init), boundsIterations: true, unitRoundoff: unitRoundoff)
    }

    /// The family's error model (see `CGSuite`) on `solution`, the call's x in Double.
    func verify(_ call: CGCall, solution xHat: [Double], boundsIterations: Bool, unitRoundoff u: Double) -> Verification {
        let k = call.report?.iterations ?? 0
        let residual = relativeResidual(product: storedProduct, b: storedB, x: xHat)
        let floor = attainableRelativeResidual(unitRoundoff: u, iterations: k, nonzerosPerRow: nonzerosPerRow, matrixNorm: largestEigenvalue,
                                               solutionNorm: Self.norm(xHat), rightHandSideNorm: Self.norm(storedB))
        let forward = forwardError(xHat, solution: solution)
        let forwardBound = forwardErrorBound(residualNorm: residual * Self.norm(storedB), rightHandSidePerturbation: rightHandSidePerturbation,
                                             matrixPerturbation: matrixPerturbation, smallestEigenvalue: smallestEigenvalue, solutionNorm: Self.norm(solution))
        // In units that read at a glance: the residual in units of rtol, the forward error in
        // units of its bound.
        var criteria = [
            Criterion("residual", value: residual / tolerance, bound: (tolerance + floor) / tolerance),
            Criterion("forward", value: forwardBound.isFinite ? forward / forwardBound : 0, bound: 1),
        ]
        var note = ""
        if let report = call.report {
            criteria.insert(Criterion("converged", value: report.outcome == .converged ? 0 : 1, bound: 0), at: 0)
            note = "\(report.outcome), \(k) iterations"
            if boundsIterations {
                let kappa = largestEigenvalue / smallestEigenvalue
                let bound = iterationsForConvergenceBound(conditionNumber: kappa, reduction: tolerance / kappa.squareRoot())
                criteria.append(Criterion("iterations", value: Double(k), bound: Double(bound)))
            }
        } else {
            note = "direct solve"
        }
        if let direct { note += "; vs posv \(Criterion.format(forwardError(xHat, solution: direct)))" }
        var maxAbs = 0.0, maxRel = 0.0, worst = 0
        for i in 0..<n {
            let error = abs(xHat[i] - solution[i])
            if !(error <= maxAbs) { maxAbs = error; worst = i }
            if solution[i] != 0 { maxRel = max(maxRel, error / abs(solution[i])) }
        }
        return Verification(model: "cg-residual-forward(rtol=\(Criterion.format(tolerance)))", criteria: criteria,
                            maxAbsError: maxAbs, maxRelError: maxRel, worst: "x[\(worst)]", note: note)
    }

    /// Each call reports its iterations (they decide its work).
    public static var reportsPerCall: Bool { true }

    /// `solver_iterations`, and the work the call did: its iterations times the variant's work per
    /// iteration (the direct solve's per call).
    public func report(_ output: CGCall) -> CallReport {
        guard let report = output.report else { return CallReport(counters: ["solver_iterations": 0], workload: output.perIteration) }
        let k = Double(report.iterations)
        let work = output.perIteration
        return CallReport(counters: ["solver_iterations": k],
                          workload: Workload(flops: k * work.flops, bytes: k * work.bytes, isMemoryBound: work.isMemoryBound))
    }
}
