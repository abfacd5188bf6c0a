#if canImport(Glibc)
import Glibc
#endif

/// A LAPACK implementation loaded at run time with `dlopen` (OpenBLAS's, the reference LAPACK,
/// ATLAS's, or one the user names), whose own `sgesdd_`/`dgesdd_` (Fortran ABI, column-major) the
/// SVD family verifies and times side by side, as `BLASProvider` does for GEMM.
///
/// A library that reaches OpenBLAS (OpenBLAS itself, or the reference LAPACK on Debian's OpenBLAS
/// `libblas.so.3`) runs on OpenBLAS's threads, set through `OpenBLAS.withThreads`; any other runs
/// single-threaded.
public final class LAPACKProvider: @unchecked Sendable {
    typealias FortranSGESDD = @convention(c) (
        UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Float>, UnsafePointer<Int32>,
        UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafePointer<Int32>, UnsafeMutablePointer<Float>, UnsafePointer<Int32>,
        UnsafeMutablePointer<Float>, UnsafePointer<Int32>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, Int
    ) -> Void
    typealias FortranDGESDD = @convention(c) (
        UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
        UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
        UnsafeMutablePointer<Double>, UnsafePointer<Int32>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, Int
    ) -> Void

    public let name: String
    public let path: String
    public let resolvedPath: String
    let sgesdd: FortranSGESDD
    let dgesdd: FortranDGESDD
    /// Whether the library reaches OpenBLAS (it or a dependency exports its thread-count call):
    /// then its threads are OpenBLAS's, and so are the BLAS calls it makes.
    public let usesOpenBLASThreads: Bool

    /// The LAPACK libraries this project knows on Debian.
    public static let known: [(name: String, path: String)] = [
        ("openblas", "libopenblas.so.0"),
        ("netlib", "/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3"),
        ("atlas", "/usr/lib/x86_64-linux-gnu/atlas/liblapack.so.3"),
    ]

    public init(name: String, path: String) throws {
        let handle = try BLASProvider.open(name: name, path: path)
        guard let s = dlsym(handle, "sgesdd_"), let d = dlsym(handle, "dgesdd_") else {
            throw BLASProviderError.missingSymbol(name: name, path: path, symbol: dlsym(handle, "sgesdd_") == nil ? "sgesdd_" : "dgesdd_")
        }
        self.name = name
        self.path = path
        sgesdd = unsafeBitCast(s, to: FortranSGESDD.self)
        dgesdd = unsafeBitCast(d, to: FortranDGESDD.self)
        resolvedPath = BLASProvider.mappedFile(containing: s) ?? path
        // dlsym on a handle searches the library and its dependencies.
        usesOpenBLASThreads = dlsym(handle, "openblas_set_num_threads") != nil
    }

    /// Opens every candidate, keeping failures with their reasons.
    public static func load(_ candidates: [(name: String, path: String)] = known) -> [(name: String, provider: Result<LAPACKProvider, BLASProviderError>)] {
        candidates.map { candidate in
            (candidate.name, Result { try LAPACKProvider(name: candidate.name, path: candidate.path) }.mapError { $0 as! BLASProviderError })
        }
    }

    /// The thin SVD of row-major A (m × n) by the library's ?gesdd, as `lapackSVD` computes it
    /// through LAPACKE: column-major on Aᵀ = V·Σ·Uᵀ, so that LAPACK's U and Vᵀ buffers are the
    /// row-major Vᵀ and U. Signs normalized. O(m·n·min(m, n)).
    /// - Throws: `LAPACKError` (?gesdd's info), `BLASProviderError.fixedThreadCount`.
    public func svd<T: SVDScalar>(_ a: UnsafePointer<T>, m: Int, n: Int, threads: Int) throws -> SVDResult<T> {
        if m < 0 || n < 0 || threads < 1 { fatalError("LAPACKProvider.svd: negative dimension or thread count") }
        let k = min(m, n)
        if k == 0 { return SVDResult(m: m, n: n, rank: 0, u: [], singularValues: [], vt: []) }
        if !usesOpenBLASThreads && threads > 1 { throw BLASProviderError.fixedThreadCount(name: name) }
        var work = Array(UnsafeBufferPointer(start: a, count: m * n))
        var s = [T](repeating: 0, count: k), u = [T](repeating: 0, count: m * k), vt = [T](repeating: 0, count: k * n)
        var info: Int32 = 0
        let body = {
            var jobz = CChar(UInt8(ascii: "S"))
            var rows = Int32(n), columns = Int32(m), lda = Int32(max(1, n)), ldu = Int32(max(1, n)), ldvt = Int32(max(1, k))
            var iwork = [Int32](repeating: 0, count: 8 * k)
            var size = T(0), query: Int32 = -1
            // Workspace query, then the call: LAPACK's U (n × k) is row-major Vᵀ, its Vᵀ (k × m) row-major U.
            self.call(&jobz, &rows, &columns, &work, &lda, &s, &vt, &ldu, &u, &ldvt, &size, &query, &iwork, &info)
            if info != 0 { return }
            var lwork = Int32(max(1, Int(size)))
            var workspace = [T](repeating: 0, count: Int(lwork))
            self.call(&jobz, &rows, &columns, &work, &lda, &s, &vt, &ldu, &u, &ldvt, &workspace, &lwork, &iwork, &info)
        }
        if usesOpenBLASThreads { OpenBLAS.withThreads(threads, body) } else { body() }
        if info != 0 { throw LAPACKError(routine: (T.self == Float.self ? "sgesdd" : "dgesdd") + " (\(name))", info: Int(info)) }
        var result = SVDResult(m: m, n: n, rank: k, u: u, singularValues: s, vt: vt)
        result.normalizeSigns()
        return result
    }

    private func call<T>(
        _ jobz: UnsafePointer<CChar>, _ m: UnsafePointer<Int32>, _ n: UnsafePointer<Int32>, _ a: UnsafeMutablePointer<T>,
        _ lda: UnsafePointer<Int32>, _ s: UnsafeMutablePointer<T>, _ u: UnsafeMutablePointer<T>, _ ldu: UnsafePointer<Int32>,
        _ vt: UnsafeMutablePointer<T>, _ ldvt: UnsafePointer<Int32>, _ work: UnsafeMutablePointer<T>, _ lwork: UnsafePointer<Int32>,
        _ iwork: UnsafeMutablePointer<Int32>, _ info: UnsafeMutablePointer<Int32>
    ) {
        // The same memory as Float or Double: T is one of the two (SVDScalar).
        func view<U>(_ p: UnsafeMutablePointer<T>, as _: U.Type) -> UnsafeMutablePointer<U> {
            UnsafeMutableRawPointer(p).assumingMemoryBound(to: U.self)
        }
        if T.self == Float.self {
            sgesdd(jobz, m, n, view(a, as: Float.self), lda, view(s, as: Float.self), view(u, as: Float.self), ldu,
                   view(vt, as: Float.self), ldvt, view(work, as: Float.self), lwork, iwork, info, 1)
        } else {
            dgesdd(jobz, m, n, view(a, as: Double.self), lda, view(s, as: Double.self), view(u, as: Double.self), ldu,
                   view(vt, as: Double.self), ldvt, view(work, as: Double.self), lwork, iwork, info, 1)
        }
    }
}
