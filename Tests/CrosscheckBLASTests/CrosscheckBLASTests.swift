import Foundation
import Kernels
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The BLAS interface of the GEMM engine: the reference argument checks, and the column-major
/// and CBLAS entry points against a plain loop. (scripts/blas-reference-tests.sh runs the
/// reference BLAS test suite on the built library.)
///
/// The library is loaded from the build directory with `dlopen`, never linked: linked into the
/// test process, its `sgemm_`/`cblas_sgemm` would replace OpenBLAS's for every other test (the
/// `blas` variants and LAPACK's own products would run on the engine they are meant to check).
@Suite("CrosscheckBLAS")
struct CrosscheckBLASTests {
    let n = UInt8(ascii: "N"), t = UInt8(ascii: "T")

    typealias CBLASSGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>, Int32,
                                           UnsafePointer<Float>, Int32, Float, UnsafeMutablePointer<Float>, Int32) -> Void

    /// The library's entry points, from `libCrosscheckBLAS.so` beside the test executable (SwiftPM
    /// builds every product before it runs the tests).
    static let loaded: (library: (sgemm: BLASProvider.FortranSGEMM, cblasSGEMM: CBLASSGEMM)?, error: String) = {
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let path = directory.appendingPathComponent("libCrosscheckBLAS.so").path
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return (nil, dlerror().map { String(cString: $0) } ?? path) }
        guard let s = dlsym(handle, "sgemm_"), let c = dlsym(handle, "cblas_sgemm") else { return (nil, "\(path) lacks sgemm_ or cblas_sgemm") }
        return ((unsafeBitCast(s, to: BLASProvider.FortranSGEMM.self), unsafeBitCast(c, to: CBLASSGEMM.self)), "")
    }()
    static var library: (sgemm: BLASProvider.FortranSGEMM, cblasSGEMM: CBLASSGEMM)? { loaded.library }
    /// A library built with ThreadSanitizer cannot be loaded into a sanitized test executable,
    /// which does not export the runtime's `__tsan_*` entry points to libraries it opens: under
    /// `swift test --sanitize=thread` these tests are skipped, saying so (the reference BLAS
    /// test suite checks the library, unsanitized, in CI).
    static var sanitizerBlocksLoading: Bool { loaded.library == nil && (loaded.error.contains("__tsan_") || loaded.error.contains("__asan_")) }

    /// Calls the library's sgemm_ (its two hidden character lengths are 1).
    static func sgemm_(_ ta: UnsafePointer<CChar>, _ tb: UnsafePointer<CChar>, _ m: UnsafePointer<Int32>, _ n: UnsafePointer<Int32>,
                       _ k: UnsafePointer<Int32>, _ alpha: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ lda: UnsafePointer<Int32>,
                       _ b: UnsafePointer<Float>, _ ldb: UnsafePointer<Int32>, _ beta: UnsafePointer<Float>,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: UnsafePointer<Int32>) {
        library!.sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1, 1)
    }

    /// The test process does not define the GEMM symbols itself: only OpenBLAS's can be found.
    @Test func gemmSymbolsInTheTestProcessAreOpenBLASs() throws {
        let own = dlopen(nil, RTLD_NOW)
        let found = try #require(dlsym(own, "cblas_sgemm"))
        let file = BLASProvider.mappedFile(containing: found) ?? "?"
        #expect(file.contains("openblas"), "cblas_sgemm in the test process resolves to \(file), not OpenBLAS")
    }

    @Test(.disabled(if: sanitizerBlocksLoading, "a sanitized test executable cannot load the sanitized library"))
    func theLibraryLoads() {
        #expect(Self.library != nil, "libCrosscheckBLAS.so beside the test executable (swift build builds it): \(Self.loaded.error)")
    }

    /// The reference SGEMM's order of checks and positions.
    @Test func argumentErrorsAsTheReference() {
        func error(_ ta: UInt8, _ tb: UInt8, _ m: Int32, _ n: Int32, _ k: Int32, _ lda: Int32, _ ldb: Int32, _ ldc: Int32) -> Int32 {
            gemmArgumentError(transA: ta, transB: tb, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        }
        #expect(error(UInt8(ascii: "X"), n, 1, 1, 1, 1, 1, 1) == 1)
        #expect(error(n, UInt8(ascii: "/"), 1, 1, 1, 1, 1, 1) == 2)
        #expect(error(n, n, -1, 1, 1, 1, 1, 1) == 3)
        #expect(error(n, n, 1, -1, 1, 1, 1, 1) == 4)
        #expect(error(n, n, 1, 1, -1, 1, 1, 1) == 5)
        #expect(error(n, n, 2, 1, 1, 1, 1, 2) == 8)        // LDA < M for op(A) = A
        #expect(error(t, n, 2, 1, 3, 2, 3, 2) == 8)        // LDA < K for op(A) = Aᵀ
        #expect(error(n, n, 1, 1, 2, 1, 1, 1) == 10)       // LDB < K
        #expect(error(n, t, 1, 3, 1, 1, 2, 1) == 10)       // LDB < N for op(B) = Bᵀ
        #expect(error(n, n, 3, 1, 1, 3, 1, 2) == 13)       // LDC < M
        #expect(error(UInt8(ascii: "c"), UInt8(ascii: "t"), 0, 0, 0, 1, 1, 1) == 0)
    }

    /// Column-major C = α·op(A)·op(B) + β·C through sgemm_ and cblas_sgemm (both storage orders),
    /// against a loop in Double, with leading dimensions larger than the matrices.
    @Test(.disabled(if: sanitizerBlocksLoading, "a sanitized test executable cannot load the sanitized library"),
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func productsAgreeWithALoop(transposes: (Bool, Bool)) throws {
        try #require(Self.library != nil, "\(Self.loaded.error)")
        let (m, n, k) = (7, 5, 9)
        let (transA, transB) = transposes
        let lda = (transA ? k : m) + 2, ldb = (transB ? n : k) + 1, ldc = m + 3
        let a = (0..<(lda * (transA ? m : k))).map { Float(($0 * 37) % 17) / 8 - 1 }
        let b = (0..<(ldb * (transB ? k : n))).map { Float(($0 * 53) % 13) / 6 - 1 }
        let initialC = (0..<(ldc * n)).map { Float($0 % 7) / 3 - 1 }
        let (alpha, beta): (Float, Float) = (1.5, -0.5)
        func opA(_ i: Int, _ p: Int) -> Double { Double(transA ? a[p + i * lda] : a[i + p * lda]) }
        func opB(_ p: Int, _ j: Int) -> Double { Double(transB ? b[j + p * ldb] : b[p + j * ldb]) }
        var expected = initialC.map(Double.init)
        for j in 0..<n { for i in 0..<m {
            var sum = 0.0
            for p in 0..<k { sum += opA(i, p) * opB(p, j) }
            expected[i + j * ldc] = Double(alpha) * sum + Double(beta) * Double(initialC[i + j * ldc])
        } }
        // Fortran entry point.
        var c = initialC
        var ta = CChar(UInt8(ascii: transA ? "T" : "N")), tb = CChar(UInt8(ascii: transB ? "T" : "N"))
        var (mm, nn, kk, la, lb, lc) = (Int32(m), Int32(n), Int32(k), Int32(lda), Int32(ldb), Int32(ldc))
        var (al, be) = (alpha, beta)
        Self.sgemm_(&ta, &tb, &mm, &nn, &kk, &al, a, &la, b, &lb, &be, &c, &lc)
        // CBLAS column-major, and row-major on the transposed problem (Cᵀ = op(B)ᵀ·op(A)ᵀ).
        var cblasColumn = initialC, cblasRow = initialC
        Self.library!.cblasSGEMM(102, transA ? 112 : 111, transB ? 112 : 111, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, &cblasColumn, Int32(ldc))
        // Row-major, B's column-major storage is Bᵀ, so op(B)ᵀ is that matrix as stored when B is not transposed.
        Self.library!.cblasSGEMM(101, transB ? 112 : 111, transA ? 112 : 111, Int32(n), Int32(m), Int32(k), alpha, b, Int32(ldb), a, Int32(lda), beta, &cblasRow, Int32(ldc))
        for (name, result) in [("sgemm_", c), ("cblas column-major", cblasColumn), ("cblas row-major", cblasRow)] {
            for j in 0..<n { for i in 0..<m {
                let error = abs(Double(result[i + j * ldc]) - expected[i + j * ldc])
                #expect(error <= 1e-5, "\(name) C(\(i),\(j)) of \(transposes): \(result[i + j * ldc]) against \(expected[i + j * ldc])")
            } }
            // The rows of C beyond m (leading dimension padding) are untouched.
            for j in 0..<n { for i in m..<ldc { #expect(result[i + j * ldc] == initialC[i + j * ldc]) } }
        }
    }

    /// α = 0 or k = 0 still scales C by β (only β = 1 returns at once), as the reference does.
    @Test(.disabled(if: sanitizerBlocksLoading, "a sanitized test executable cannot load the sanitized library"))
    func zeroAlphaOrDepthScalesByBeta() throws {
        try #require(Self.library != nil, "\(Self.loaded.error)")
        for (alpha, k): (Float, Int32) in [(0, 3), (2, 0)] {
            var c: [Float] = [1, 2, 3, 4]
            let a: [Float] = [1, 1, 1, 1, 1, 1], b: [Float] = [1, 1, 1, 1, 1, 1]
            var ta = CChar(UInt8(ascii: "N")), tb = CChar(UInt8(ascii: "N"))
            var (m, n, kk, lda, ldb, ldc) = (Int32(2), Int32(2), k, Int32(2), max(Int32(1), k), Int32(2))
            var (al, be): (Float, Float) = (alpha, -0.5)
            Self.sgemm_(&ta, &tb, &m, &n, &kk, &al, a, &lda, b, &ldb, &be, &c, &ldc)
            #expect(c == [-0.5, -1, -1.5, -2], "alpha \(alpha), k \(k)")
        }
    }
}
