import Foundation
import Crosscheck
import Kernels

/// Singular value spectra with known values, for matrices A = U·diag(σ)·Vᵀ built from random
/// orthonormal U and V.
public enum Spectrum: String, CaseIterable, Sendable {
    /// σ_i = e^(−i/4): the top few carry almost everything.
    case fastDecay
    /// σ_i = 1/√(i+1): the hard case for low-rank approximation, and the bench default.
    case slowDecay
    /// σ_i = 1: no gap anywhere.
    case flat
    /// Plateaus of ten equal values, 10 down to 1: ties across every cut at a multiple of ten.
    case repeated
    /// σ_i = 1/(i+1) for the first half, then exact zeros.
    case rankDeficient
    /// σ₀ = 1000, then 1/√(i+1).
    case outlier
    /// A = 0.
    case zero
    /// σ_i = 10^(−5·i/(k−1)): down to 1e-5 of σ₁, the steepest a Float matrix holds well.
    case steep5
    /// σ_i = 10^(−10·i/(k−1)): down to 1e-10 of σ₁. Power iterations without re-orthonormalization
    /// lose every direction but the first few to rounding here.
    case steep10
    /// Two tight clusters: σ_i = 1 − 1e-7·i for the first half, 0.5 − 1e-7·i for the second.
    case clustered

    /// The k singular values, descending.
    public func values(_ k: Int) -> [Double] {
        (0..<k).map { i in
            switch self {
            case .fastDecay: return _exp(-Double(i) / 4)
            case .slowDecay: return 1 / Double(i + 1).squareRoot()
            case .flat: return 1
            case .repeated: return Double(max(1, 10 - i / 10))
            case .rankDeficient: return i < k / 2 ? 1 / Double(i + 1) : 0
            case .outlier: return i == 0 ? 1000 : 1 / Double(i + 1).squareRoot()
            case .zero: return 0
            case .steep5: return pow(10, -5 * Double(i) / Double(max(k - 1, 1)))
            case .steep10: return pow(10, -10 * Double(i) / Double(max(k - 1, 1)))
            case .clustered: return (i < k / 2 ? 1 : 0.5) - 1e-7 * Double(i)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
private func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#endif

/// One SVD workload: an m × n matrix with a known spectrum, and the ranks truncated variants
/// are asked for.
public struct SVDSpec: Sendable, Hashable, CustomStringConvertible {
    public var m: Int, n: Int
    public var spectrum: Spectrum
    public var ranks: [Int]
    public var seed: UInt64

    public init(m: Int, n: Int, spectrum: Spectrum = .slowDecay, ranks: [Int] = [8, 16, 64], seed: UInt64 = 7) {
        self.m = m
        self.n = n
        self.spectrum = spectrum
        self.ranks = ranks.filter { $0 <= min(m, n) }
        self.seed = seed
    }

    public var description: String { "\(m)x\(n)" + (spectrum == .slowDecay ? "" : "-\(spectrum.rawValue)") }

    /// The one-sided Jacobi reference runs where m·n·min(m, n) ≤ 384³ (about 6.5 s per call at 384 × 384).
    public var includesJacobi: Bool {
        SizeArithmetic.saturatingProduct(SizeArithmetic.saturatingProduct(m, n), min(m, n)) <= 384 * 384 * 384
    }
}

/// The SVD family: the one-sided Jacobi reference, LAPACK's thin SVD, the randomized truncated
/// SVD and the exact top-r route through the Gram matrix.
public enum SVDSuite {
    public static let defaultShapes = [(384, 384), (384, 1536), (1536, 384), (1024, 1024), (2048, 2048)]
    public static let quickShapes = [(128, 128), (96, 256), (256, 96)]
    /// Quick cases on spectra that punish lost orthogonality (power iterations without
    /// re-orthonormalization fail on them in Float).
    public static let quickHardSpectra = [SVDSpec(m: 256, n: 96, spectrum: .steep10, ranks: quickRanks),
                                          SVDSpec(m: 96, n: 256, spectrum: .outlier, ranks: quickRanks),
                                          SVDSpec(m: 40, n: 24, spectrum: .steep10, ranks: [4, 8]),
                                          SVDSpec(m: 24, n: 40, spectrum: .outlier, ranks: [4, 8])]
    public static let largeShapes = defaultShapes + [(4096, 4096)]
    public static let defaultRanks = [8, 16, 64]
    public static let quickRanks = [8, 16]

    /// What `swift test` walks: both orientations of a small matrix under every known spectrum.
    public static let testSpecs: [SVDSpec] = Spectrum.allCases.flatMap { spectrum in
        [(40, 24), (24, 40)].map { SVDSpec(m: $0.0, n: $0.1, spectrum: spectrum, ranks: [4, 8]) }
    } + [SVDSpec(m: 128, n: 128, ranks: quickRanks)]   // slow decay at a quick size: one power iteration fewer shows

    public static let family = Family(
        name: "svd",
        summary: "thin and rank-r truncated SVD of m x n matrices with a known spectrum (sigma_i = 1/sqrt(i+1)); shape is m x n",
        elementTypes: [.f32, .f64],
        sizes: Sizes(
            notation: "N (square) or MxN, optionally -SPECTRUM",
            parse: parse,
            defaults: defaultShapes.map { SVDSpec(m: $0.0, n: $0.1) },
            quick: quickShapes.map { SVDSpec(m: $0.0, n: $0.1, ranks: quickRanks) } + quickHardSpectra,
            test: testSpecs,
            presets: [("large", "the default shapes and 4096x4096", largeShapes.map { SVDSpec(m: $0.0, n: $0.1) })]),
        context: {
            var facts = ["openblas_corename": OpenBLAS.coreName, "openblas_config": OpenBLAS.config]
            for (name, provider) in providers {
                facts["lapack_\(name)"] = (try? provider.get().resolvedPath) ?? "not available: \(provider)"
            }
            return facts
        },
        details: {
            providers.map { name, provider in
                switch provider {
                case let .success(library):
                    return "provider:  lapack-\(name): \(library.resolvedPath)\(library.usesOpenBLASThreads ? " (on OpenBLAS's threads; its BLAS calls reach OpenBLAS)" : "; single-threaded")"
                case let .failure(error): return "provider:  lapack-\(name): not available (\(error))"
                }
            }
        },
        casesFor: { spec, dtype, request in
            let named = try MatmulSuite.userProviders(request.libraries, kind: "lapack", known: providers.map(\.name)) {
                try LAPACKProvider(name: $0, path: $1)
            }
            switch dtype {
            case .f32: return [makeCase(spec, Float.self, providers: providers + named)]
            case .f64: return [makeCase(spec, Double.self, providers: providers + named)]
            default: throw CaseRequestError("svd has no element type \(dtype.rawValue)")
            }
        })

    /// The LAPACK libraries this machine has, each opened once per process.
    public static let providers = LAPACKProvider.load()

    /// Parses `MxN` or `N` (square), optionally followed by `-SPECTRUM` (`-steep10`; the default
    /// is σ_i = 1/√(i+1)): positive dimensions whose product (in bytes) does not overflow.
    static func parse(_ text: String) throws -> SVDSpec {
        var pieces = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        var spectrum = Spectrum.slowDecay
        if pieces.count == 2 {
            guard let named = Spectrum(rawValue: String(pieces[1])) else {
                throw CaseRequestError("--sizes: '\(text)': unknown spectrum '\(pieces[1])' (known: \(Spectrum.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            spectrum = named
            pieces.removeLast()
        }
        let parts = pieces[0].lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else {
            throw CaseRequestError("--sizes: '\(text)' is not an SVD shape; use N (square) or MxN")
        }
        let dims = try parts.map { try SizeArithmetic.integer($0, in: text, minimum: 1) }
        let (m, n) = dims.count == 1 ? (dims[0], dims[0]) : (dims[0], dims[1])
        _ = try SizeArithmetic.product([m, n, 8], entry: text)
        return SVDSpec(m: m, n: n, spectrum: spectrum)
    }

    /// The variants for `spec`, declared once with their bodies: `jacobi` (the reference, where
    /// it runs in seconds), `lapack-NAME` for every LAPACK on the machine (its own ?gesdd), and
    /// per rank `randomized-rN` and `gram-rN`. In the size
    /// parameter n = √(m·n): the full SVDs and the Gram route cost O(n³) on square matrices, the
    /// randomized one O(n²) at a fixed rank.
    public static func variants<T: SVDScalar>(
        for spec: SVDSpec, _: T.Type, providers: [(name: String, provider: Result<LAPACKProvider, BLASProviderError>)] = providers
    ) -> [Variant<SVDInstance<T>>] {
        let (m, n) = (Double(spec.m), Double(spec.n))
        let small = min(m, n), large = max(m, n)
        let bytes = Double(MemoryLayout<T>.size) * m * n
        var variants: [Variant<SVDInstance<T>>] = []
        if spec.includesJacobi {
            variants.append(Variant("jacobi", complexity: .cubic) { c, _ in SVDOutput(c.withMatrix { jacobiSVD($0, m: spec.m, n: spec.n) }) })
        }
        for (name, provider) in providers {
            variants.append(Variant("lapack-\(name)", threaded: true, complexity: .cubic) { c, threads in
                do {
                    return SVDOutput(try c.withMatrix { try provider.get().svd($0, m: spec.m, n: spec.n, threads: threads) })
                } catch let error as BLASProviderError {
                    throw Skip(error.description)
                }
            })
        }
        for r in spec.ranks {
            let options = RandomizedSVDOptions(rank: r)
            let width = Double(min(spec.m, spec.n, r + options.oversampling))
            variants.append(Variant(
                "randomized-r\(r)", threaded: true,
                workload: Workload(flops: Double(4 * options.powerIterations + 4) * m * n * width, bytes: bytes),
                complexity: .quadratic
            ) { c, threads in
                SVDOutput(requestedRank: r, try c.withMatrix { try randomizedSVD($0, m: spec.m, n: spec.n, options: options, threads: threads) })
            })
        }
        for r in spec.ranks {
            variants.append(Variant(
                "gram-r\(r)", threaded: true,
                workload: Workload(flops: 2 * small * small * large + 4 * small * small * small / 3 + 2 * large * small * Double(r), bytes: bytes),
                complexity: .cubic
            ) { c, threads in
                if let reason = c.gramRouteInapplicable(rank: r) { throw Skip(reason) }
                return SVDOutput(requestedRank: r, try c.withMatrix { try gramSVD($0, m: spec.m, n: spec.n, rank: r, threads: threads) })
            })
        }
        return variants
    }

    public static func makeCase<T: SVDScalar>(
        _ spec: SVDSpec, _: T.Type, providers: [(name: String, provider: Result<LAPACKProvider, BLASProviderError>)] = providers
    ) -> Case {
        let (m, n) = (Double(spec.m), Double(spec.n))
        let small = min(m, n), large = max(m, n)
        // Thin SVD with vectors: 6·M·k² + 20·k³ (Golub & Van Loan, Table 5.5.1, R-SVD), for both
        // full variants; truncated variants count their own products.
        let full = Workload(flops: 6 * large * small * small + 20 * small * small * small, bytes: Double(MemoryLayout<T>.size) * m * n)
        let mn = SizeArithmetic.saturatingProduct(spec.m, spec.n)
        let factors = SizeArithmetic.saturatingProduct(spec.m + spec.n, min(spec.m, spec.n))
        // The generated matrix and its factors in Double, A in T and in Double, the residual, and
        // LAPACK's copies and workspace (about three m × n arrays of T).
        let memory = SizeArithmetic.bytes([(mn, 4 * 8 + 4 * MemoryLayout<T>.size), (factors, 3 * 8 + MemoryLayout<T>.size)])
        let variants = variants(for: spec, T.self, providers: providers)
        return Case(
            kernel: "svd", dtype: .of(T.self), shape: spec.description, sizeN: (m * n).squareRoot(), workload: full, memoryBytes: memory,
            reference: spec.includesJacobi ? variants[0] : nil, variants: variants,
            prepare: { try SVDInstance<T>(spec) })
    }

    /// Threshold of LAPACK's own tests for scaled residuals and orthogonality ratios.
    public static let lapackThreshold = 30.0
    /// Largest Eckart–Young ratio accepted from a truncated SVD: within 1% of optimal.
    public static let optimalityBound = 1.01
}

/// A matrix A = U·diag(σ)·Vᵀ with random orthonormal U (m × k) and V (n × k), built in Double.
public struct KnownSpectrumMatrix: Sendable {
    public let m: Int, n: Int
    public let a: [Double]
    public let sigma: [Double]

    public init(_ spec: SVDSpec) throws {
        let (m, n) = (spec.m, spec.n)
        self.m = m
        self.n = n
        let k = min(m, n)
        let sigma = spec.spectrum.values(k)
        self.sigma = sigma
        var generator = SeededGenerator(seed: spec.seed)
        var u = [Double].gaussian(count: m * k, using: &generator)
        var v = [Double].gaussian(count: n * k, using: &generator)
        try Double.orthonormalize(m: m, n: k, a: &u)
        try Double.orthonormalize(m: n, n: k, a: &v)
        for i in 0..<m { for j in 0..<k { u[i * k + j] *= sigma[j] } }
        var a = [Double](repeating: 0, count: m * n)
        u.withUnsafeBufferPointer { u in
            v.withUnsafeBufferPointer { v in
                gemm(m: m, n: n, k: k, alpha: 1.0, a: MatrixOperand(u.baseAddress!, ld: k),
                     b: MatrixOperand(v.baseAddress!, ld: k, transposed: true), beta: 0, c: &a, ldc: n, threads: 2)
            }
        }
        self.a = a
    }
}

/// One call's result, and the rank it was asked for (nil for a full SVD).
public struct SVDOutput<T: SVDScalar> {
    public let requestedRank: Int?
    public let result: SVDResult<T>

    public init(requestedRank: Int? = nil, _ result: SVDResult<T>) {
        self.requestedRank = requestedRank
        self.result = result
    }
}

/// An SVD case: the matrix in T, its known spectrum, and the checks of the SVD error models.
public final class SVDInstance<T: SVDScalar>: PreparedCase {
    let spec: SVDSpec
    let a: [T]
    /// A as stored (rounded to T), in Double, for residuals.
    let storedA: [Double]
    /// The exact singular values (of the Double matrix before rounding to T, or given).
    let sigma: [Double]
    let normA: Double

    public convenience init(_ spec: SVDSpec) throws {
        let matrix = try KnownSpectrumMatrix(spec)
        self.init(spec, a: matrix.a.map { T($0) }, sigma: matrix.sigma)
    }

    /// A case on a given matrix (row-major m × n) whose singular values are `sigma` (descending),
    /// for example computed by NumPy.
    public init(_ spec: SVDSpec, a: [T], sigma: [Double]) {
        precondition(a.count == spec.m * spec.n && sigma.count == min(spec.m, spec.n), "SVD case \(spec): sizes do not match")
        self.spec = spec
        self.a = a
        let storedA = a.map { Double($0) }
        self.storedA = storedA
        self.sigma = sigma
        normA = storedA.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    /// Calls `body` with A (row-major m × n).
    func withMatrix<R>(_ body: (UnsafePointer<T>) throws -> R) rethrows -> R {
        try a.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Why the Gram route cannot be expected to pass on this spectrum, or nil. It squares the
    /// condition number: u_i = A·v_i/σ_i inherits an orthogonality error of about u·(σ₁/σ_i)²
    /// (measured: 1.35·u·(σ₁/σ_r)² on the 40 × 24 steep5 matrix), against the 30·max(m,n)·u that
    /// LAPACK's test allows. So it is run only where (σ₁/σ_r)² ≤ 3·max(m,n), an expected error
    /// of a tenth of the threshold, and where σ_r > 0 (otherwise u_r is undefined).
    func gramRouteInapplicable(rank r: Int) -> String? {
        guard r >= 1, r <= sigma.count, let largest = sigma.first else { return nil }
        let wanted = sigma[r - 1], limit = 3 * Double(max(spec.m, spec.n))
        if wanted > 0 && (largest / wanted) * (largest / wanted) <= limit { return nil }
        return "the Gram route squares the condition number; it needs (sigma_1/sigma_r)^2 <= 3 max(m,n) = \(Criterion.format(limit)) and this spectrum has \(wanted > 0 ? Criterion.format((largest / wanted) * (largest / wanted)) : "sigma_r = 0")"
    }

    /// A truncated result must have the rank asked for; then the Eckart–Young checks, or LAPACK's
    /// checks for a full SVD.
    public func check(_ output: SVDOutput<T>) -> Verification {
        if let requested = output.requestedRank {
            guard output.result.rank == requested else {
                return Verification(passed: false, model: "eckart-young(frobenius)", errRatio: .infinity, errBound: SVDSuite.optimalityBound,
                                    maxAbsError: .infinity, maxRelError: .infinity, worst: "rank",
                                    note: "returned rank \(output.result.rank), asked for \(requested)")
            }
            return checkTruncated(output.result)
        }
        // A full SVD has min(m, n) triplets, zero singular values included: dropping them (or
        // returning nothing on A = 0, where every residual is zero) is not a thin SVD.
        let full = min(spec.m, spec.n)
        guard output.result.rank == full else {
            return Verification(passed: false, model: "lapack-svd-residual", errRatio: .infinity, errBound: SVDSuite.lapackThreshold,
                                maxAbsError: .infinity, maxRelError: .infinity, worst: "rank",
                                note: "returned \(output.result.rank) singular triplets, a thin SVD of \(spec.m) x \(spec.n) has \(full)")
        }
        return checkFull(output.result)
    }

    var u: Double { Double(T.ulpOfOne) / 2 }
    var scale: Double { Double(max(spec.m, spec.n)) * u }

    /// LAPACK's checks for a full thin SVD: scaled residual ‖A − UΣVᵀ‖_F / (‖A‖_F·max(m,n)·u),
    /// orthogonality ‖I − UᵀU‖_F / (max(m,n)·u) and the same for V, and the singular values
    /// against the known ones, max|σ̂ − σ| / (‖A‖_F·max(m,n)·u). All must be ≤ 30.
    func checkFull(_ r: SVDResult<T>) -> Verification {
        let bound = SVDSuite.lapackThreshold
        let (maxAbs, maxRel) = singularValueErrors(r)
        let criteria = [
            Criterion("residual", value: ratio(residualNorm(r), normA * scale), bound: bound),
            Criterion("orthU", value: orthogonalityError(r.u, rows: spec.m, columns: r.rank, transposed: false) / scale, bound: bound),
            Criterion("orthV", value: orthogonalityError(r.vt, rows: r.rank, columns: spec.n, transposed: true) / scale, bound: bound),
            Criterion("sigma", value: ratio(maxAbs, normA * scale), bound: bound),
        ]
        let verification = Verification(model: "lapack-svd-residual", criteria: criteria, maxAbsError: maxAbs, maxRelError: maxRel)
        var result = verification
        result.worst = criteria.max { $0.value < $1.value }!.name
        if !verification.passed { result.note = "\(verification.failedCriteria.joined(separator: ", ")) exceeds the bound" }
        return result
    }

    /// The checks for a rank-r truncated SVD: the Eckart–Young ratio ‖A − U_rΣ_rV_rᵀ‖_F divided by
    /// the optimal √(Σ_{i>r} σ_i²), at most 1.01 (plus the rounding floor 30·max(m,n)·u·‖A‖_F,
    /// which matters only when the optimum is near zero); orthogonality of U_r and V_r as for the
    /// full SVD; the relative error of the top r singular values is reported.
    func checkTruncated(_ r: SVDResult<T>) -> Verification {
        let achieved = residualNorm(r)
        let optimal = sigma.dropFirst(r.rank).reduce(0) { $0 + $1 * $1 }.squareRoot()
        let floor = SVDSuite.lapackThreshold * scale * normA
        let allowed = SVDSuite.optimalityBound * optimal + floor
        let (maxAbs, maxRel) = singularValueErrors(r)
        let criteria = [
            Criterion("eckart_young", value: optimal > 0 ? achieved / optimal : (achieved == 0 ? 1 : .infinity),
                      bound: optimal > 0 ? allowed / optimal : (floor > 0 ? .infinity : 1)),
            Criterion("orthU", value: orthogonalityError(r.u, rows: spec.m, columns: r.rank, transposed: false) / scale, bound: SVDSuite.lapackThreshold),
            Criterion("orthV", value: orthogonalityError(r.vt, rows: r.rank, columns: spec.n, transposed: true) / scale, bound: SVDSuite.lapackThreshold),
        ]
        var result = Verification(
            model: "eckart-young(frobenius)", criteria: criteria, maxAbsError: maxAbs, maxRelError: maxRel,
            note: "sigma_rel_err=\(Criterion.format(maxRel))")
        let failed = result.failedCriteria
        result.worst = achieved > allowed ? "A-U_rS_rV_r^T" : (criteria[1].value > criteria[2].value ? "U" : "V")
        if !failed.isEmpty { result.note += failed.contains("eckart_young") ? "; error exceeds 1.01 x optimal" : "; factors not orthonormal" }
        return result
    }

    func ratio(_ x: Double, _ unit: Double) -> Double { unit > 0 ? x / unit : (x == 0 ? 0 : .infinity) }

    /// ‖A − U·diag(s)·Vᵀ‖_F, in Double on the GEMM engine.
    func residualNorm(_ r: SVDResult<T>) -> Double {
        let (m, n, k) = (spec.m, spec.n, r.rank)
        var scaledU = [Double](repeating: 0, count: m * k)
        for i in 0..<m { for j in 0..<k { scaledU[i * k + j] = Double(r.u[i * k + j]) * Double(r.singularValues[j]) } }
        let vt = r.vt.map { Double($0) }
        var difference = storedA
        if k > 0 {
            scaledU.withUnsafeBufferPointer { us in
                vt.withUnsafeBufferPointer { vt in
                    gemm(m: m, n: n, k: k, alpha: -1.0, a: MatrixOperand(us.baseAddress!, ld: k),
                         b: MatrixOperand(vt.baseAddress!, ld: n), beta: 1, c: &difference, ldc: n, threads: 2)
                }
            }
        }
        return difference.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    /// ‖I − XᵀX‖_F for X (rows × columns), or ‖I − XXᵀ‖_F when `transposed` (X = Vᵀ).
    func orthogonalityError(_ x: [T], rows: Int, columns: Int, transposed: Bool) -> Double {
        let size = transposed ? rows : columns
        if size == 0 { return 0 }
        let values = x.map { Double($0) }
        var gram = [Double](repeating: 0, count: size * size)
        values.withUnsafeBufferPointer { x in
            gemm(m: size, n: size, k: transposed ? columns : rows, alpha: 1.0,
                 a: MatrixOperand(x.baseAddress!, ld: columns, transposed: !transposed),
                 b: MatrixOperand(x.baseAddress!, ld: columns, transposed: transposed),
                 beta: 0, c: &gram, ldc: size, threads: 2)
        }
        for i in 0..<size { gram[i * size + i] -= 1 }
        return gram.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    /// Largest absolute and relative error of the computed singular values against the known ones.
    func singularValueErrors(_ r: SVDResult<T>) -> (Double, Double) {
        var maxAbs = 0.0, maxRel = 0.0
        for (computed, exact) in zip(r.singularValues.map { Double($0) }, sigma) {
            let error = abs(computed - exact)
            maxAbs = max(maxAbs, error)
            if exact > 0 { maxRel = max(maxRel, error / exact) }
        }
        return (maxAbs, maxRel)
    }

}
