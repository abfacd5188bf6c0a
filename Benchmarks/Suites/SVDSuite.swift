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
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
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
    public var includesJacobi: Bool { m * n * min(m, n) <= 384 * 384 * 384 }
}

/// The SVD family: the one-sided Jacobi reference, LAPACK's thin SVD, the randomized truncated
/// SVD and the exact top-r route through the Gram matrix.
public enum SVDSuite {
    public static let reference = Variant("jacobi")
    public static let lapack = Variant("lapack", isThreaded: true)
    public static let defaultShapes = [(384, 384), (384, 1536), (1536, 384), (1024, 1024), (2048, 2048)]
    public static let quickShapes = [(128, 128), (96, 256), (256, 96)]
    public static let largeShapes = defaultShapes + [(4096, 4096)]
    public static let defaultRanks = [8, 16, 64]

    static func randomized(_ r: Int) -> Variant { Variant("randomized-r\(r)", isThreaded: true) }
    static func gram(_ r: Int) -> Variant { Variant("gram-r\(r)", isThreaded: true) }

    public static func variants(for spec: SVDSpec) -> [Variant] {
        (spec.includesJacobi ? [reference] : []) + [lapack] + spec.ranks.map(randomized) + spec.ranks.map(gram)
    }

    public static let family = Family(
        name: "svd",
        summary: "thin and rank-r truncated SVD of m x n matrices with a known spectrum (sigma_i = 1/sqrt(i+1)); shape is m x n",
        variants: [reference, lapack] + defaultRanks.map(randomized) + defaultRanks.map(gram),
        defaultSizes: "\(defaultShapes.map { "\($0.0)x\($0.1)" }.joined(separator: ", ")), ranks 8, 16, 64; jacobi only up to 384x384 (--quick: \(quickShapes.map { "\($0.0)x\($0.1)" }.joined(separator: ", ")))",
        presets: ["large"],
        makeCases: makeCases)

    static func makeCases(_ request: CaseRequest) throws -> [Case] {
        let shapes: [(Int, Int)]
        if let sizes = request.sizes {
            shapes = try sizes.map(parse)
        } else if request.preset == "large" {
            shapes = largeShapes
        } else {
            shapes = request.quick ? quickShapes : defaultShapes
        }
        let ranks = request.quick ? [8, 16] : defaultRanks
        return try request.dtypes.flatMap { dtype in
            try shapes.map { shape -> Case in
                let spec = SVDSpec(m: shape.0, n: shape.1, ranks: ranks)
                switch dtype {
                case "f32": return makeCase(spec, Float.self)
                case "f64": return makeCase(spec, Double.self)
                default: throw CaseRequestError("--dtype: svd has no dtype '\(dtype)' (it has f32, f64)")
                }
            }
        }
    }

    /// Parses `MxN` or `N` (square).
    static func parse(_ text: String) throws -> (Int, Int) {
        let dims = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard dims.allSatisfy({ ($0 ?? 0) >= 1 }), dims.count == 1 || dims.count == 2 else {
            throw CaseRequestError("--sizes: '\(text)' is not an SVD shape; use N (square) or MxN")
        }
        return dims.count == 1 ? (dims[0]!, dims[0]!) : (dims[0]!, dims[1]!)
    }

    public static func makeCase<T: SVDScalar>(_ spec: SVDSpec, _: T.Type) -> Case {
        let (m, n) = (Double(spec.m), Double(spec.n))
        let small = min(m, n), large = max(m, n)
        let bytes = Double(MemoryLayout<T>.size) * m * n
        // Thin SVD with vectors: 6·M·k² + 20·k³ (Golub & Van Loan, Table 5.5.1, R-SVD), for both
        // full variants; truncated variants count their own products.
        let full = Workload(flops: 6 * large * small * small + 20 * small * small * small, bytes: bytes)
        var perVariant: [String: Workload] = [:]
        for r in spec.ranks {
            let options = RandomizedSVDOptions(rank: r)
            let width = Double(min(spec.m, spec.n, r + options.oversampling))
            perVariant[randomized(r).name] = Workload(flops: Double(4 * options.powerIterations + 4) * m * n * width, bytes: bytes)
            perVariant[gram(r).name] = Workload(flops: 2 * small * small * large + 4 * small * small * small / 3 + 2 * large * small * Double(r), bytes: bytes)
        }
        let variants = variants(for: spec)
        return Case(
            kernel: "svd", dtype: T.self == Float.self ? "f32" : "f64", shape: spec.description,
            workload: full, variantWorkloads: perVariant,
            reference: spec.includesJacobi ? reference : nil, variants: variants,
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

    public func run(_ variant: Variant, threads: Int) throws {
        BlackHole.consume(try compute(variant, threads: threads).singularValues.first ?? 0)
    }

    func compute(_ variant: Variant, threads: Int) throws -> SVDResult<T> {
        let (m, n) = (spec.m, spec.n)
        return try a.withUnsafeBufferPointer { a in
            let pointer = a.baseAddress!
            let name = variant.name
            if name == "jacobi" { return jacobiSVD(pointer, m: m, n: n) }
            if name == "lapack" { return try lapackSVD(pointer, m: m, n: n, threads: threads) }
            if name.hasPrefix("randomized-r"), let r = Int(name.dropFirst("randomized-r".count)) {
                return try randomizedSVD(pointer, m: m, n: n, options: RandomizedSVDOptions(rank: r), threads: threads)
            }
            if name.hasPrefix("gram-r"), let r = Int(name.dropFirst("gram-r".count)) {
                return try gramSVD(pointer, m: m, n: n, rank: r, threads: threads)
            }
            preconditionFailure("svd has no variant \(name)")
        }
    }

    public func verify(_ variant: Variant, threads: Int) throws -> Verification {
        let result = try compute(variant, threads: threads)
        let truncated = variant.name != "jacobi" && variant.name != "lapack"
        if truncated, let requested = Int(variant.name.split(separator: "r").last ?? ""), result.rank != requested {
            return Verification(passed: false, model: "eckart-young(frobenius)", errRatio: .infinity, errBound: SVDSuite.optimalityBound,
                                maxAbsError: .infinity, maxRelError: .infinity, worst: "rank",
                                note: "returned rank \(result.rank), asked for \(requested)")
        }
        return truncated ? checkTruncated(result) : checkFull(result)
    }

    var u: Double { Double(T.ulpOfOne) / 2 }
    var scale: Double { Double(max(spec.m, spec.n)) * u }

    /// LAPACK's checks for a full thin SVD: scaled residual ‖A − UΣVᵀ‖_F / (‖A‖_F·max(m,n)·u),
    /// orthogonality ‖I − UᵀU‖_F / (max(m,n)·u) and the same for V, and the singular values
    /// against the known ones, max|σ̂ − σ| / (‖A‖_F·max(m,n)·u). All must be ≤ 30.
    func checkFull(_ r: SVDResult<T>) -> Verification {
        let residual = ratio(residualNorm(r), normA * scale)
        let orthU = orthogonalityError(r.u, rows: spec.m, columns: r.rank, transposed: false) / scale
        let orthV = orthogonalityError(r.vt, rows: r.rank, columns: spec.n, transposed: true) / scale
        let (maxAbs, maxRel) = singularValueErrors(r)
        let sigmaRatio = ratio(maxAbs, normA * scale)
        let worst = [("residual", residual), ("orthU", orthU), ("orthV", orthV), ("sigma", sigmaRatio)].max { $0.1 < $1.1 }!
        let passed = worst.1 <= SVDSuite.lapackThreshold
        return Verification(
            passed: passed, model: "lapack-svd-residual", errRatio: worst.1, errBound: SVDSuite.lapackThreshold,
            maxAbsError: maxAbs, maxRelError: maxRel, worst: worst.0,
            note: "residual=\(short(residual)) orthU=\(short(orthU)) orthV=\(short(orthV)) sigma=\(short(sigmaRatio))"
                + (passed ? "" : "; \(worst.0) exceeds the bound"))
    }

    /// The checks for a rank-r truncated SVD: the Eckart–Young ratio ‖A − U_rΣ_rV_rᵀ‖_F divided by
    /// the optimal √(Σ_{i>r} σ_i²), at most 1.01 (plus the rounding floor 30·max(m,n)·u·‖A‖_F,
    /// which matters only when the optimum is near zero); orthogonality of U_r and V_r as for the
    /// full SVD; the relative error of the top r singular values is reported.
    func checkTruncated(_ r: SVDResult<T>) -> Verification {
        let achieved = residualNorm(r)
        let optimal = sigma.dropFirst(r.rank).reduce(0) { $0 + $1 * $1 }.squareRoot()
        let floor = SVDSuite.lapackThreshold * scale * normA
        let orthU = orthogonalityError(r.u, rows: spec.m, columns: r.rank, transposed: false) / scale
        let orthV = orthogonalityError(r.vt, rows: r.rank, columns: spec.n, transposed: true) / scale
        let (maxAbs, maxRel) = singularValueErrors(r)
        let allowed = SVDSuite.optimalityBound * optimal + floor
        let orthogonal = max(orthU, orthV) <= SVDSuite.lapackThreshold
        let passed = achieved <= allowed && orthogonal
        let eyRatio = optimal > 0 ? achieved / optimal : (achieved == 0 ? 1 : .infinity)
        let bound = optimal > 0 ? allowed / optimal : (floor > 0 ? .infinity : 1)
        var note = "eckart_young=\(short(eyRatio)) sigma_rel_err=\(short(maxRel)) orthU=\(short(orthU)) orthV=\(short(orthV))"
        if !passed { note += achieved > allowed ? "; error exceeds 1.01 x optimal" : "; factors not orthonormal" }
        return Verification(
            passed: passed, model: "eckart-young(frobenius)", errRatio: eyRatio, errBound: bound,
            maxAbsError: maxAbs, maxRelError: maxRel, worst: achieved > allowed ? "A-U_rS_rV_r^T" : (orthU > orthV ? "U" : "V"),
            note: note)
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

    func short(_ x: Double) -> String {
        x.isFinite ? String(Double(String(format: "%.3g", x)) ?? x) : String(x)
    }
}
