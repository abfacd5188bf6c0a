import Crosscheck
import Foundation
import Kernels

/// One matrix-multiply workload: C (m × n) ← α·op(A)·op(B) + β·C.
public struct MatmulSpec: Sendable, Hashable, CustomStringConvertible {
    public var m: Int, n: Int, k: Int
    public var transA = false, transB = false
    public var alpha = 1.0, beta = 0.0
    /// Extra elements at the end of every stored row of A, B and C, so that each operand is a
    /// sub-matrix of a larger buffer (leading dimension > row length).
    public var padding = 0
    /// Inputs uniform in [0, 1) instead of [−1, 1): every product adds up with the same sign, so
    /// rounding errors accumulate and the error model's statistical tier is at its tightest.
    public var nonnegative = false
    public var seed: UInt64 = 42

    public init(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                alpha: Double = 1, beta: Double = 0, padding: Int = 0, nonnegative: Bool = false, seed: UInt64 = 42) {
        self.m = m
        self.n = n
        self.k = k
        self.transA = transA
        self.transB = transB
        self.alpha = alpha
        self.beta = beta
        self.padding = padding
        self.nonnegative = nonnegative
        self.seed = seed
    }

    /// `m×n×k`, then `-tA`/`-tB` for transposes, `-ld+p` for padded rows, α and β when not 1, 0,
    /// `-pos` for nonnegative inputs.
    public var description: String {
        var text = "\(m)x\(n)x\(k)"
        if transA { text += "-tA" }
        if transB { text += "-tB" }
        if padding > 0 { text += "-ld+\(padding)" }
        if alpha != 1 { text += "-a\(alpha)" }
        if beta != 0 { text += "-b\(beta)" }
        if nonnegative { text += "-pos" }
        return text
    }

    /// Leading dimensions of the stored A, B and C.
    var leadingDimensions: (a: Int, b: Int, c: Int) {
        ((transA ? m : k) + padding, (transB ? k : n) + padding, n + padding)
    }

    /// Stored rows of A and B: op(A) is m × k, so A is k × m when transposed.
    var storedRows: (a: Int, b: Int) { (transA ? k : m, transB ? n : k) }
}

/// The matrix-multiply family: the reference loop, a vectorized loop, the packed and blocked
/// engine on one thread and on many, and every BLAS on the machine.
public enum MatmulSuite {
    public static let defaultSizes = [64, 256, 512, 1024]
    /// `--quick` (what CI runs): whole tiles and every seam — sizes that are multiples of no tile
    /// (primes, micro-tile and kc ± 1), transposes, β ≠ 0 with padded operands, each threaded split
    /// (shared panel of B, B read in place split by columns, A read in place split by rows), and
    /// nonnegative inputs, where the statistical tier of the error model is tightest.
    public static let quickSizes: [MatmulSpec] = [
        MatmulSpec(m: 64, n: 64, k: 64), MatmulSpec(m: 128, n: 128, k: 128), MatmulSpec(m: 256, n: 256, k: 256),
        MatmulSpec(m: 127, n: 131, k: 137), MatmulSpec(m: 7, n: 33, k: 513), MatmulSpec(m: 73, n: 31, k: 511),
        MatmulSpec(m: 97, n: 89, k: 101, transA: true), MatmulSpec(m: 61, n: 67, k: 71, transB: true, alpha: 0.5, beta: -2, padding: 3),
        MatmulSpec(m: 200, n: 2100, k: 520), MatmulSpec(m: 40, n: 3000, k: 200, padding: 1), MatmulSpec(m: 300, n: 40, k: 700, transB: true, beta: 1),
        MatmulSpec(m: 256, n: 256, k: 256, nonnegative: true), MatmulSpec(m: 16, n: 1024, k: 1024, nonnegative: true),
    ]
    /// `--preset shapes`: the shapes users run — small products where call overhead is all that is
    /// left (8³ to 64³, a batched-sized 96 × 64 × 80), squares, LoRA's low-rank products (rank 16
    /// against 4096-wide weights), and transposed operands.
    public static let shapesPreset: [MatmulSpec] =
        [8, 16, 32, 48, 64].map { MatmulSpec(m: $0, n: $0, k: $0) } + [MatmulSpec(m: 96, n: 64, k: 80)]
        + [128, 256, 512, 1000, 1023, 1024, 2048].map { MatmulSpec(m: $0, n: $0, k: $0) } + [
            MatmulSpec(m: 4096, n: 4096, k: 16), MatmulSpec(m: 4096, n: 16, k: 4096), MatmulSpec(m: 16, n: 4096, k: 4096),
            MatmulSpec(m: 1024, n: 1024, k: 1024, transA: true), MatmulSpec(m: 1024, n: 1024, k: 1024, transB: true),
        ]

    /// What `swift test` walks: the edge shapes of the engine's blocking (micro-tile 8 × 32 Float,
    /// 8 × 16 Double on AVX-512, 6 × 16 and 6 × 8 on AVX2; mc 72/48, kc 512) ± 1, the in-place
    /// path's narrow column tails, empty products, transposes, padded operands, α and β,
    /// and products large enough to take every threaded path.
    public static let testShapes: [MatmulSpec] = [
        MatmulSpec(m: 1, n: 1, k: 1),
        MatmulSpec(m: 7, n: 13, k: 17),
        MatmulSpec(m: 5, n: 31, k: 511), MatmulSpec(m: 6, n: 32, k: 512), MatmulSpec(m: 7, n: 33, k: 513),
        MatmulSpec(m: 8, n: 32, k: 512), MatmulSpec(m: 9, n: 16, k: 513), MatmulSpec(m: 17, n: 31, k: 9),
        MatmulSpec(m: 71, n: 15, k: 47), MatmulSpec(m: 73, n: 17, k: 49), MatmulSpec(m: 47, n: 65, k: 515),
        MatmulSpec(m: 49, n: 100, k: 3), MatmulSpec(m: 97, n: 16, k: 1),
        MatmulSpec(m: 1000, n: 16, k: 1000), MatmulSpec(m: 16, n: 1000, k: 16),
        MatmulSpec(m: 0, n: 5, k: 3), MatmulSpec(m: 5, n: 0, k: 3), MatmulSpec(m: 5, n: 3, k: 0),
        MatmulSpec(m: 5, n: 3, k: 0, beta: 0.5),
        MatmulSpec(m: 23, n: 41, k: 37, transA: true),
        MatmulSpec(m: 23, n: 41, k: 37, transB: true),
        MatmulSpec(m: 23, n: 41, k: 37, transA: true, transB: true),
        MatmulSpec(m: 50, n: 70, k: 300, transA: true, transB: true, padding: 5),
        MatmulSpec(m: 29, n: 35, k: 40, padding: 3),
        MatmulSpec(m: 29, n: 35, k: 40, alpha: 2.5),
        MatmulSpec(m: 29, n: 35, k: 40, alpha: -1, beta: 1),
        MatmulSpec(m: 29, n: 35, k: 40, transB: true, alpha: 0.5, beta: -2, padding: 2),
        MatmulSpec(m: 29, n: 35, k: 40, alpha: 0, beta: 1.5),
        MatmulSpec(m: 300, n: 290, k: 600, transA: true, alpha: 1, beta: 1),
        // Multi-threaded paths (products large enough to get threads): a shared panel of B
        // (over 4 MB per thread, with n > NR·2), B read in place with the column split (m ≤ 48),
        // A read in place with the row split (n ≤ 2·NR), with padded operands.
        MatmulSpec(m: 200, n: 2100, k: 520),
        MatmulSpec(m: 40, n: 3000, k: 200, padding: 3),
        MatmulSpec(m: 300, n: 40, k: 700, transB: true, beta: 1, padding: 1),
    ]

    public static let family = Family(
        name: "matmul",
        summary: "C = alpha*op(A)*op(B) + beta*C, row-major; shape is m x n x k",
        elementTypes: [.f32, .f64],
        sizes: Sizes(
            notation: "N (square) or MxNxK, optionally -tA/-tB/-pos",
            parse: parse,
            defaults: defaultSizes.map { MatmulSpec(m: $0, n: $0, k: $0) },
            quick: quickSizes,
            test: testShapes,
            presets: [("shapes", "small products 8³…64³ and 96x64x80, squares 128…2048, LoRA's 4096x4096x16 / 4096x16x4096 / 16x4096x4096, transposed A and B", shapesPreset)]),
        context: {
            var facts = ["openblas_corename": OpenBLAS.coreName, "openblas_config": OpenBLAS.config]
            for (name, provider) in providers {
                switch provider {
                case let .success(library): facts["blas_\(name)"] = "\(library.resolvedPath); \(library.version)"
                case let .failure(error): facts["blas_\(name)"] = "not available: \(error)"
                }
            }
            return facts
        },
        details: {
            providers.map { name, provider in
                switch provider {
                case let .success(library):
                    return "provider:  blas-\(name): \(library.resolvedPath) (\(library.version))\(library.canSetThreads ? "" : "; single-threaded")"
                case let .failure(error): return "provider:  blas-\(name): not available (\(error))"
                }
            }
        },
        casesFor: { spec, dtype, request in
            let chosen = providers + (try userProviders(request.libraries, kind: "blas", known: providers.map(\.name)) { try BLASProvider(name: $0, path: $1) })
            switch dtype {
            case .f32: return [makeCase(spec, Float.self, providers: chosen)]
            case .f64: return [makeCase(spec, Double.self, providers: chosen)]
            default: throw CaseRequestError("matmul has no element type \(dtype.rawValue)")
            }
        })

    /// The libraries of `kind` the user named (`--blas NAME=PATH`), loaded: a name that a built-in
    /// provider has, or a library that cannot be loaded, is a usage error — the user asked for it.
    static func userProviders<P>(
        _ libraries: [LibraryChoice], kind: String, known: [String], load: (String, String) throws -> P
    ) throws -> [(name: String, provider: Result<P, BLASProviderError>)] {
        try libraries.filter { $0.kind == kind }.map { choice in
            if known.contains(choice.name) {
                throw CaseRequestError("--\(kind) \(choice.name)=\(choice.path): '\(choice.name)' is already the name of a provider here (\(known.joined(separator: ", "))); choose another")
            }
            do { return (choice.name, .success(try load(choice.name, choice.path))) } catch {
                throw CaseRequestError("--\(kind) \(choice.name)=\(choice.path): \(error)")
            }
        }
    }

    /// The BLAS libraries this machine has, each opened once per process (`BLASProvider.known`).
    public static let providers = BLASProvider.load()

    /// The variants, declared once with their bodies: `naive` (the reference), `simd`, the
    /// engine on one thread (`tiled`) and on many (`parallel`), and `blas-NAME` for every BLAS
    /// provider — a provider that did not load, or cannot run on the threads asked for, gives
    /// `skipped` rows with the reason. Each costs O(m·n·k), cubic in the size parameter
    /// n = (m·n·k)^(1/3).
    public static func variants<T: GEMMScalar>(
        _: T.Type, providers: [(name: String, provider: Result<BLASProvider, BLASProviderError>)] = providers
    ) -> [Variant<MatmulInstance<T>>] {
        [
            Variant("naive", complexity: .cubic) { p, _ in
                gemmReference(m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: p.a, b: p.b, beta: p.beta, c: p.c, ldc: p.ldc)
            },
            Variant("simd", complexity: .cubic) { p, _ in
                gemmSIMD(m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: p.a, b: p.b, beta: p.beta, c: p.c, ldc: p.ldc)
            },
            Variant("tiled", complexity: .cubic) { p, _ in
                gemm(m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: p.a, b: p.b, beta: p.beta, c: p.c, ldc: p.ldc, threads: 1)
            },
            Variant("parallel", threaded: true, complexity: .cubic) { p, threads in
                gemm(m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: p.a, b: p.b, beta: p.beta, c: p.c, ldc: p.ldc, threads: threads)
            },
        ] + providers.map { name, provider in
            Variant("blas-\(name)", threaded: true, complexity: .cubic) { p, threads in
                do {
                    try provider.get().gemm(m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: p.a, b: p.b, beta: p.beta, c: p.c, ldc: p.ldc, threads: threads)
                } catch let error as BLASProviderError {
                    throw Skip(error.description)
                }
            }
        }
    }

    /// Parses `512` (square) or `MxNxK`, optionally followed by `-tA`, `-tB`, `-pos`. Dimensions are
    /// non-negative integers whose product must not overflow.
    static func parse(_ text: String) throws -> MatmulSpec {
        var parts = text.split(separator: "-", omittingEmptySubsequences: false)
        let dimensions = parts.removeFirst().lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard dimensions.count == 1 || dimensions.count == 3, dimensions.allSatisfy({ !$0.isEmpty }) else {
            throw CaseRequestError("--sizes: '\(text)' is not a matmul size; use N (square) or MxNxK, optionally with -tA/-tB")
        }
        let values = try dimensions.map { try SizeArithmetic.integer($0, in: text) }
        var spec = values.count == 1
            ? MatmulSpec(m: values[0], n: values[0], k: values[0])
            : MatmulSpec(m: values[0], n: values[1], k: values[2])
        _ = try SizeArithmetic.product([2, spec.m, spec.n, spec.k], entry: text)
        for flag in parts {
            switch flag.lowercased() {
            case "ta": spec.transA = true
            case "tb": spec.transB = true
            case "pos": spec.nonnegative = true
            default: throw CaseRequestError("--sizes: unknown flag '-\(flag)' in '\(text)' (known: -tA, -tB, -pos)")
            }
        }
        return spec
    }

    /// The case for `spec` in element type `T`, with a `blas-NAME` variant for each provider.
    public static func makeCase<T: GEMMScalar>(
        _ spec: MatmulSpec, _: T.Type, providers: [(name: String, provider: Result<BLASProvider, BLASProviderError>)] = providers
    ) -> Case {
        let size = MemoryLayout<T>.size
        let mn = Double(spec.m) * Double(spec.n)
        let workload = Workload(
            flops: 2 * mn * Double(spec.k),
            bytes: Double(size) * (Double(spec.m) * Double(spec.k) + Double(spec.k) * Double(spec.n) + mn * (spec.beta == 0 ? 1 : 2)))
        let (lda, ldb, ldc) = spec.leadingDimensions
        let (rowsA, rowsB) = spec.storedRows
        // Inputs generated, copied and their absolute values (3 copies of A and B), C four times,
        // and the reference and magnitude in Double, dense and with C's leading dimension.
        let memory = SizeArithmetic.bytes([
            (SizeArithmetic.saturatingProduct(rowsA, lda), 3 * size), (SizeArithmetic.saturatingProduct(rowsB, ldb), 3 * size),
            (SizeArithmetic.saturatingProduct(spec.m, ldc), 4 * size + 4 * 8),
        ])
        let variants = variants(T.self, providers: providers)
        return Case(
            kernel: "matmul", dtype: .of(T.self), shape: spec.description,
            sizeN: cbrt(Double(spec.m) * Double(spec.n) * Double(spec.k)), workload: workload, memoryBytes: memory,
            reference: variants[0], variants: variants,
            prepare: { MatmulInstance<T>(spec) })
    }

    /// The bound on `err_ratio` = max |Ĉ − C| / (u·(|α||A||B| + |β||C|)) for inner dimension k.
    ///
    /// A variant's result is within γ_{k+2}(u) of the exact product; the reference, summed in
    /// Double, is within γ_{k+2}(u_Double), which for Double inputs is the same size again.
    public static func errorBound<T: GEMMScalar>(k: Int, _: T.Type) -> Double {
        ErrorModels.innerProductBound(k: k + 2, unitRoundoff: Double(T.ulpOfOne) / 2)
    }
}

/// A matmul case with its inputs generated and its reference computed. Variants write C in place.
public final class MatmulInstance<T: GEMMScalar>: PreparedCase {
    let spec: MatmulSpec
    let storedA: UnsafeMutableBufferPointer<T>, storedB: UnsafeMutableBufferPointer<T>
    let initialC: UnsafeMutableBufferPointer<T>, storedC: UnsafeMutableBufferPointer<T>
    /// The reference result in Double, and the magnitude |α||op(A)||op(B)| + |β||C| it is
    /// compared relative to, both m × n dense.
    let reference: [Double], magnitude: [Double]

    // The operands as the kernels take them.
    public var m: Int { spec.m }
    public var n: Int { spec.n }
    public var k: Int { spec.k }
    public var alpha: T { T(spec.alpha) }
    public var beta: T { T(spec.beta) }
    public var a: MatrixOperand<T> { MatrixOperand(UnsafePointer(storedA.baseAddress!), ld: spec.leadingDimensions.a, transposed: spec.transA) }
    public var b: MatrixOperand<T> { MatrixOperand(UnsafePointer(storedB.baseAddress!), ld: spec.leadingDimensions.b, transposed: spec.transB) }
    public var c: UnsafeMutablePointer<T> { storedC.baseAddress! }
    public var ldc: Int { spec.leadingDimensions.c }

    /// Generates A, B and C from `spec.seed`, uniform in [-1, 1) (in [0, 1) when
    /// `spec.nonnegative`); C is NaN when β = 0.
    public convenience init(_ spec: MatmulSpec) {
        var generator = SeededGenerator(seed: spec.seed)
        let (lda, ldb, ldc) = spec.leadingDimensions
        func filled(_ count: Int) -> [T] {
            (0..<count).map { _ in T(spec.nonnegative ? (generator.nextSigned() + 1) / 2 : generator.nextSigned()) }
        }
        let a = filled(spec.storedRows.a * lda), b = filled(spec.storedRows.b * ldb)
        // With β = 0, C must not be read: fill it with NaN so that a kernel that reads it fails.
        let c = spec.beta == 0 ? [T](repeating: .nan, count: spec.m * ldc) : filled(spec.m * ldc)
        self.init(spec, a: a, b: b, c: c, expected: nil)
    }

    /// A case on given buffers (row-major, leading dimensions as `spec.padding` implies). The
    /// reference is `expected` (m × n, dense) when given, for example products computed by NumPy;
    /// otherwise `gemmReferenceInDouble`.
    public init(_ spec: MatmulSpec, a: [T], b: [T], c: [T], expected: [Double]?) {
        self.spec = spec
        let (lda, ldb, ldc) = spec.leadingDimensions
        let rows = spec.storedRows
        precondition(a.count == rows.a * lda && b.count == rows.b * ldb && c.count == spec.m * ldc,
                     "matmul case \(spec): buffer sizes do not match the shape")
        func copy(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
            _ = buffer.initialize(from: array)
            return buffer
        }
        storedA = copy(a)
        storedB = copy(b)
        initialC = copy(c)
        storedC = copy(c)

        let (m, n, k) = (spec.m, spec.n, spec.k)
        var referenceC = c.map(Double.init)
        var magnitudeC = c.map { abs(Double($0)) }
        let absA = a.map(abs), absB = b.map(abs)
        if expected == nil {
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    gemmReferenceInDouble(
                        m: m, n: n, k: k, alpha: T(spec.alpha),
                        a: MatrixOperand(a.baseAddress!, ld: lda, transposed: spec.transA),
                        b: MatrixOperand(b.baseAddress!, ld: ldb, transposed: spec.transB),
                        beta: T(spec.beta), c: &referenceC, ldc: ldc)
                }
            }
        }
        absA.withUnsafeBufferPointer { absA in
            absB.withUnsafeBufferPointer { absB in
                gemmReferenceInDouble(
                    m: m, n: n, k: k, alpha: T(abs(spec.alpha)),
                    a: MatrixOperand(absA.baseAddress!, ld: lda, transposed: spec.transA),
                    b: MatrixOperand(absB.baseAddress!, ld: ldb, transposed: spec.transB),
                    beta: T(abs(spec.beta)), c: &magnitudeC, ldc: ldc)
            }
        }
        reference = expected ?? referenceC.withUnsafeBufferPointer { Self.dense($0, m: m, n: n, ld: ldc) }
        magnitude = magnitudeC.withUnsafeBufferPointer { Self.dense($0, m: m, n: n, ld: ldc) }
        precondition(reference.count == m * n, "matmul case \(spec): expected has \(reference.count) values, not m·n")
    }

    deinit {
        storedA.deallocate(); storedB.deallocate(); initialC.deallocate(); storedC.deallocate()
    }

    static func dense<S: BinaryFloatingPoint>(_ array: UnsafeBufferPointer<S>, m: Int, n: Int, ld: Int) -> [Double] {
        var out = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { out[i * n + j] = Double(array[i * ld + j]) } }
        return out
    }

    /// C back to its generated state, for kernels that read it (β ≠ 0) and for the NaN check.
    public func resetForVerification() {
        storedC.baseAddress!.update(from: initialC.baseAddress!, count: initialC.count)
    }

    /// C against the reference under both tiers of an inner product of length k + 2 (the hard
    /// γ_{k+2} and the probabilistic λ√(k+2) bound; see `ErrorModels.innerProduct`); the padding of
    /// each row of C must be untouched.
    public func check(_: Void) -> Verification {
        let bound = MatmulSuite.errorBound(k: spec.k, T.self)
        for i in 0..<spec.m {
            for j in spec.n..<ldc {
                let now = storedC[i * ldc + j], before = initialC[i * ldc + j]
                if !(now == before || (now.isNaN && before.isNaN)) {
                    return Verification(
                        passed: false, model: "gamma_k|A||B|", errRatio: .infinity, errBound: bound,
                        maxAbsError: .infinity, maxRelError: .infinity, worst: "C[\(i),\(j)] (padding)",
                        note: "wrote outside the m × n result, into the padding of row \(i)")
                }
            }
        }
        let n = spec.n
        // k products and the scalings by α and β: an inner product of length k + 2.
        return ErrorModels.innerProduct(
            computed: Self.dense(UnsafeBufferPointer(storedC), m: spec.m, n: n, ld: ldc),
            reference: reference, magnitude: magnitude, k: spec.k + 2,
            unitRoundoff: Double(T.ulpOfOne) / 2, describe: { "C[\($0 / n),\($0 % n)]" })
    }
}
