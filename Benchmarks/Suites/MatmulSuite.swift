import Crosscheck
import Kernels

/// One matrix-multiply workload: C (m × n) ← α·op(A)·op(B) + β·C.
public struct MatmulSpec: Sendable, Hashable, CustomStringConvertible {
    public var m: Int, n: Int, k: Int
    public var transA = false, transB = false
    public var alpha = 1.0, beta = 0.0
    /// Extra elements at the end of every stored row of A, B and C, so that each operand is a
    /// sub-matrix of a larger buffer (leading dimension > row length).
    public var padding = 0
    public var seed: UInt64 = 42

    public init(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                alpha: Double = 1, beta: Double = 0, padding: Int = 0, seed: UInt64 = 42) {
        self.m = m
        self.n = n
        self.k = k
        self.transA = transA
        self.transB = transB
        self.alpha = alpha
        self.beta = beta
        self.padding = padding
        self.seed = seed
    }

    /// `m×n×k`, then `-tA`/`-tB` for transposes, `-ld+p` for padded rows, α and β when not 1, 0.
    public var description: String {
        var text = "\(m)x\(n)x\(k)"
        if transA { text += "-tA" }
        if transB { text += "-tB" }
        if padding > 0 { text += "-ld+\(padding)" }
        if alpha != 1 { text += "-a\(alpha)" }
        if beta != 0 { text += "-b\(beta)" }
        return text
    }
}

/// The matrix-multiply family: the reference loop, a vectorized loop, the packed and blocked
/// engine on one thread and on many, and OpenBLAS.
public enum MatmulSuite {
    public static let reference = Variant("naive")
    public static let variants = [
        reference, Variant("simd"), Variant("tiled"),
        Variant("parallel", isThreaded: true), Variant("blas", isThreaded: true),
    ]
    public static let defaultSizes = [64, 256, 512, 1024]
    public static let quickSizes = [64, 128, 256]
    /// `--preset shapes`: the shapes users run — squares, LoRA's low-rank products (rank 16 against
    /// 4096-wide weights), and transposed operands.
    public static let shapesPreset: [MatmulSpec] =
        [64, 128, 256, 512, 1000, 1023, 1024, 2048].map { MatmulSpec(m: $0, n: $0, k: $0) } + [
            MatmulSpec(m: 4096, n: 4096, k: 16), MatmulSpec(m: 4096, n: 16, k: 4096), MatmulSpec(m: 16, n: 4096, k: 4096),
            MatmulSpec(m: 1024, n: 1024, k: 1024, transA: true), MatmulSpec(m: 1024, n: 1024, k: 1024, transB: true),
        ]

    public static let family = Family(
        name: "matmul",
        summary: "C = alpha*op(A)*op(B) + beta*C, row-major; shape is m x n x k",
        variants: variants,
        defaultSizes: "square \(defaultSizes.map(String.init).joined(separator: ", ")) (--quick: \(quickSizes.map(String.init).joined(separator: ", ")))",
        presets: ["shapes"],
        makeCases: makeCases)

    static func makeCases(_ request: CaseRequest) throws -> [Case] {
        let specs: [MatmulSpec]
        if let sizes = request.sizes {
            specs = try sizes.map(parse)
        } else if request.preset == "shapes" {
            specs = shapesPreset
        } else {
            specs = (request.quick ? quickSizes : defaultSizes).map { MatmulSpec(m: $0, n: $0, k: $0) }
        }
        return try request.dtypes.flatMap { dtype in
            try specs.map { spec -> Case in
                switch dtype {
                case "f32": return makeCase(spec, Float.self)
                case "f64": return makeCase(spec, Double.self)
                default: throw CaseRequestError("--dtype: matmul has no dtype '\(dtype)' (it has f32, f64)")
                }
            }
        }
    }

    /// Parses `512` (square) or `MxNxK`, optionally followed by `-tA`, `-tB`.
    static func parse(_ text: String) throws -> MatmulSpec {
        var parts = text.lowercased().split(separator: "-").map(String.init)
        guard !parts.isEmpty else { throw CaseRequestError("--sizes: empty size") }
        let dims = parts.removeFirst().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard dims.allSatisfy({ $0 != nil && $0! >= 0 }), dims.count == 1 || dims.count == 3 else {
            throw CaseRequestError("--sizes: '\(text)' is not a size; use N (square) or MxNxK, optionally with -tA/-tB")
        }
        var spec = dims.count == 1 ? MatmulSpec(m: dims[0]!, n: dims[0]!, k: dims[0]!) : MatmulSpec(m: dims[0]!, n: dims[1]!, k: dims[2]!)
        for flag in parts {
            switch flag {
            case "ta": spec.transA = true
            case "tb": spec.transB = true
            default: throw CaseRequestError("--sizes: unknown flag '-\(flag)' in '\(text)' (known: -tA, -tB)")
            }
        }
        return spec
    }

    /// The case for `spec` in element type `T`.
    public static func makeCase<T: GEMMScalar>(_ spec: MatmulSpec, _: T.Type) -> Case {
        let size = Double(MemoryLayout<T>.size)
        let mn = Double(spec.m * spec.n)
        let workload = Workload(
            flops: 2 * mn * Double(spec.k),
            bytes: size * (Double(spec.m * spec.k + spec.k * spec.n) + mn * (spec.beta == 0 ? 1 : 2)))
        return Case(
            kernel: "matmul", dtype: T.self == Float.self ? "f32" : "f64", shape: spec.description,
            workload: workload, reference: reference, variants: variants,
            prepare: { MatmulInstance<T>(spec) })
    }

    /// The bound on `err_ratio` = max |Ĉ − C| / (u·(|α||A||B| + |β||C|)) for inner dimension k.
    ///
    /// A variant's result is within γ_{k+2}(u) of the exact product; the reference, summed in
    /// Double, is within γ_{k+2}(u_Double), which for Double inputs is the same size again.
    public static func errorBound<T: GEMMScalar>(k: Int, _: T.Type) -> Double {
        let u = Double(T.ulpOfOne) / 2, uDouble = Double.ulpOfOne / 2
        return ErrorModels.gammaRatio(k + 2, unitRoundoff: u)
            + ErrorModels.gammaRatio(k + 2, unitRoundoff: uDouble) * (uDouble / u)
    }
}

/// A matmul case with its inputs generated and its reference computed.
public final class MatmulInstance<T: GEMMScalar>: PreparedCase {
    let spec: MatmulSpec
    let a: UnsafeMutableBufferPointer<T>, b: UnsafeMutableBufferPointer<T>
    let initialC: UnsafeMutableBufferPointer<T>, c: UnsafeMutableBufferPointer<T>
    let lda: Int, ldb: Int, ldc: Int
    /// The reference result in Double, and the magnitude |α||op(A)||op(B)| + |β||C| it is
    /// compared relative to, both m × n dense.
    let reference: [Double], magnitude: [Double]

    /// Generates A, B and C from `spec.seed`, uniform in [-1, 1); C is NaN when β = 0.
    public convenience init(_ spec: MatmulSpec) {
        var generator = SeededGenerator(seed: spec.seed)
        let (lda, ldb, ldc) = Self.leadingDimensions(spec)
        func filled(_ count: Int) -> [T] { (0..<count).map { _ in T(generator.nextSigned()) } }
        let a = filled(Self.storedRows(spec).a * lda), b = filled(Self.storedRows(spec).b * ldb)
        // With β = 0, C must not be read: fill it with NaN so that a kernel that reads it fails.
        let c = spec.beta == 0 ? [T](repeating: .nan, count: spec.m * ldc) : filled(spec.m * ldc)
        self.init(spec, a: a, b: b, c: c, expected: nil)
    }

    /// A case on given buffers (row-major, leading dimensions as `spec.padding` implies). The
    /// reference is `expected` (m × n, dense) when given, for example products computed by NumPy;
    /// otherwise `gemmReferenceInDouble`.
    public init(_ spec: MatmulSpec, a: [T], b: [T], c: [T], expected: [Double]?) {
        self.spec = spec
        let (lda, ldb, ldc) = Self.leadingDimensions(spec)
        let rows = Self.storedRows(spec)
        precondition(a.count == rows.a * lda && b.count == rows.b * ldb && c.count == spec.m * ldc,
                     "matmul case \(spec): buffer sizes do not match the shape")
        self.lda = lda
        self.ldb = ldb
        self.ldc = ldc
        func copy(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
            _ = buffer.initialize(from: array)
            return buffer
        }
        self.a = copy(a)
        self.b = copy(b)
        initialC = copy(c)
        self.c = .allocate(capacity: max(c.count, 1))

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

    static func leadingDimensions(_ spec: MatmulSpec) -> (Int, Int, Int) {
        ((spec.transA ? spec.m : spec.k) + spec.padding, (spec.transB ? spec.k : spec.n) + spec.padding, spec.n + spec.padding)
    }

    /// Stored rows of A and B: op(A) is m × k, so A is k × m when transposed.
    static func storedRows(_ spec: MatmulSpec) -> (a: Int, b: Int) {
        (spec.transA ? spec.k : spec.m, spec.transB ? spec.n : spec.k)
    }

    deinit {
        a.deallocate(); b.deallocate(); initialC.deallocate(); c.deallocate()
    }

    static func dense<S: BinaryFloatingPoint>(_ array: UnsafeBufferPointer<S>, m: Int, n: Int, ld: Int) -> [Double] {
        var out = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { out[i * n + j] = Double(array[i * ld + j]) } }
        return out
    }

    public func verify(_ variant: Variant, threads: Int) throws -> Verification {
        c.baseAddress!.update(from: initialC.baseAddress!, count: initialC.count)
        try run(variant, threads: threads)
        let n = spec.n
        // The padding of each row of C (leading dimension > n) must be untouched.
        for i in 0..<spec.m {
            for j in n..<ldc {
                let now = c[i * ldc + j], before = initialC[i * ldc + j]
                if !(now == before || (now.isNaN && before.isNaN)) {
                    return Verification(
                        passed: false, model: "gamma_k|A||B|", errRatio: .infinity, errBound: MatmulSuite.errorBound(k: spec.k, T.self),
                        maxAbsError: .infinity, maxRelError: .infinity, worst: "C[\(i),\(j)] (padding)",
                        note: "wrote outside the m × n result, into the padding of row \(i)")
                }
            }
        }
        return ErrorModels.scaledForwardError(
            computed: Self.dense(UnsafeBufferPointer(c), m: spec.m, n: n, ld: ldc),
            reference: reference, scale: magnitude,
            unitRoundoff: Double(T.ulpOfOne) / 2, bound: MatmulSuite.errorBound(k: spec.k, T.self),
            model: "gamma_k|A||B|", describe: { "C[\($0 / n),\($0 % n)]" })
    }

    public func run(_ variant: Variant, threads: Int) throws {
        let a = MatrixOperand(UnsafePointer(self.a.baseAddress!), ld: lda, transposed: spec.transA)
        let b = MatrixOperand(UnsafePointer(self.b.baseAddress!), ld: ldb, transposed: spec.transB)
        let (m, n, k) = (spec.m, spec.n, spec.k)
        let alpha = T(spec.alpha), beta = T(spec.beta), c = self.c.baseAddress!
        switch variant.name {
        case "naive":
            gemmReference(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc)
        case "simd":
            gemmSIMD(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc)
        case "tiled":
            gemm(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc, threads: 1)
        case "parallel":
            gemm(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc, threads: threads)
        case "blas":
            gemmBLAS(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc, threads: threads)
        default:
            preconditionFailure("matmul has no variant \(variant.name)")
        }
        BlackHole.consume(UnsafeBufferPointer(self.c))
    }
}
