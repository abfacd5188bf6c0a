#if canImport(Glibc)
import Glibc
#endif

/// A BLAS implementation loaded at run time with `dlopen`, so that one process can verify and
/// time OpenBLAS, BLIS, the reference BLAS, ATLAS or a library the user names, side by side.
///
/// Each library's own `sgemm_`/`dgemm_` (Fortran ABI, column-major) is called through its own
/// handle (`dlsym` on it, the library opened with `RTLD_LOCAL | RTLD_DEEPBIND`): the reference
/// BLAS's and BLIS's CBLAS wrappers call `sgemm_` through the PLT and would land in the OpenBLAS
/// this process already links. Thread counts are set the way each library expects
/// (`openblas_set_num_threads`, `bli_thread_set_num_threads`); a library without such a call runs
/// single-threaded, and asking it for more threads throws `BLASProviderError.fixedThreadCount`.
public final class BLASProvider: @unchecked Sendable {
    /// `sgemm_` in the Fortran ABI gfortran uses (LP64 integers; the two trailing arguments are
    /// the hidden lengths of the character arguments).
    public typealias FortranSGEMM = @convention(c) (
        UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>,
        UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Int32>, UnsafePointer<Float>, UnsafePointer<Int32>,
        UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafePointer<Int32>, Int, Int
    ) -> Void
    public typealias FortranDGEMM = @convention(c) (
        UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>,
        UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Int32>, UnsafePointer<Double>, UnsafePointer<Int32>,
        UnsafePointer<Double>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>, Int, Int
    ) -> Void

    /// The variant suffix (`blas-NAME`).
    public let name: String
    /// The path as given, and the file it resolved to.
    public let path: String
    public let resolvedPath: String
    /// A version or build configuration, where the library tells it.
    public let version: String
    let sgemm: FortranSGEMM
    let dgemm: FortranDGEMM
    let threadCount: LibraryThreadCount?

    /// The providers this project knows on Debian, in the order they are reported.
    public static let known: [(name: String, path: String)] = [
        ("openblas", "libopenblas.so.0"),
        ("blis", "/usr/lib/x86_64-linux-gnu/blis-pthread/libblis.so.4"),
        ("netlib", "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"),
        ("atlas", "/usr/lib/x86_64-linux-gnu/atlas/libblas.so.3"),
    ]

    /// How providers (BLAS and LAPACK) are opened: `RTLD_DEEPBIND`, so that a library's calls
    /// to its own symbols stay inside it, except in a process built with AddressSanitizer or
    /// ThreadSanitizer, whose runtimes abort on `RTLD_DEEPBIND` (google/sanitizers#611). There
    /// `dlsym` on the handle still returns each library's own GEMM; only the library's internal
    /// calls may then bind to the process's OpenBLAS.
    static let openFlags: Int32 = {
        let sanitized = dlsym(nil, "__asan_init") != nil || dlsym(nil, "__tsan_init") != nil
        return RTLD_NOW | RTLD_LOCAL | (sanitized ? 0 : RTLD_DEEPBIND)
    }()

    /// Opens the library `path` for provider `name` (BLAS or LAPACK), or throws
    /// `BLASProviderError.cannotLoad` with the reason. A file path is first checked for an ELF
    /// file cut short (`truncation`): `dlopen` maps such a file without complaint, and the
    /// loader's first read past its end kills the process with SIGBUS.
    static func open(name: String, path: String) throws -> UnsafeMutableRawPointer {
        if path.contains("/"), let problem = truncation(ofELFAt: path) {
            throw BLASProviderError.cannotLoad(name: name, path: path, reason: problem)
        }
        guard let handle = dlopen(path, openFlags) else {
            throw BLASProviderError.cannotLoad(name: name, path: path, reason: dlerror().map { String(cString: $0) } ?? "unknown")
        }
        return handle
    }

    /// Why the 64-bit little-endian ELF file at `path` is cut short — its program headers or a
    /// loadable segment extend past its end — or nil (a whole file, or one that is not such an
    /// ELF file, which `dlopen` refuses with its own reason). O(program headers).
    static func truncation(ofELFAt path: String) -> String? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        let size = UInt64(info.st_size)
        func read(_ count: Int, at offset: UInt64) -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count)
            let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
            return got == count ? bytes : nil
        }
        func integer(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> UInt64 {
            (0..<width).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
        }
        // e_ident: magic, ELFCLASS64, ELFDATA2LSB.
        guard let header = read(64, at: 0), header[0..<4] == [0x7F, 0x45, 0x4C, 0x46], header[4] == 2, header[5] == 1 else { return nil }
        let tableOffset = integer(header, 0x20, 8), entrySize = integer(header, 0x36, 2), entries = integer(header, 0x38, 2)
        guard entrySize >= 56, tableOffset <= size, entries * entrySize <= size - tableOffset else {
            return "the ELF file is cut short: its program headers end past its \(size) bytes"
        }
        for index in 0..<entries {
            guard let entry = read(56, at: tableOffset + index * entrySize) else { return "the ELF file's program headers cannot be read" }
            let type = integer(entry, 0, 4), offset = integer(entry, 8, 8), fileSize = integer(entry, 32, 8)
            if type == 1 /* PT_LOAD */, offset > size || fileSize > size - offset {
                return "the ELF file is cut short: a loadable segment ends at byte \(offset &+ fileSize), past its \(size) bytes"
            }
        }
        return nil
    }

    /// Opens `path` and looks up its GEMMs and thread-count call. Throws a
    /// `BLASProviderError` naming the library when it cannot be opened or lacks a symbol.
    public init(name: String, path: String) throws {
        let handle = try Self.open(name: name, path: path)
        func symbol(_ symbolName: String) -> UnsafeMutableRawPointer? { dlsym(handle, symbolName) }
        guard let s = symbol("sgemm_"), let d = symbol("dgemm_") else {
            throw BLASProviderError.missingSymbol(name: name, path: path, symbol: symbol("sgemm_") == nil ? "sgemm_" : "dgemm_")
        }
        self.name = name
        self.path = path
        sgemm = unsafeBitCast(s, to: FortranSGEMM.self)
        dgemm = unsafeBitCast(d, to: FortranDGEMM.self)
        resolvedPath = Self.mappedFile(containing: s) ?? path
        typealias GetString = @convention(c) () -> UnsafePointer<CChar>?
        typealias SetThreads = @convention(c) (Int32) -> Void
        if symbol("openblas_set_num_threads") != nil {
            // The OpenBLAS this process links (dlopen returns the same library): share its guard.
            threadCount = OpenBLAS.threadCount
            version = OpenBLAS.config
        } else if let set = symbol("bli_thread_set_num_threads") {
            let setThreads = unsafeBitCast(set, to: SetThreads.self)
            threadCount = LibraryThreadCount(library: name) { setThreads($0) }
            version = symbol("bli_info_get_version_str")
                .flatMap { unsafeBitCast($0, to: GetString.self)() }.map { "BLIS " + String(cString: $0) } ?? "BLIS"
        } else {
            threadCount = nil
            // The reference BLAS and ATLAS do not report a version; the file name carries it.
            let real = realpath(path, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) } ?? resolvedPath
            version = "file \(real)"
        }
    }

    /// Opens every provider of `candidates` (by default `known`), keeping the failures with their
    /// reasons so that a run can report each once and skip its rows.
    public static func load(_ candidates: [(name: String, path: String)] = known) -> [(name: String, provider: Result<BLASProvider, BLASProviderError>)] {
        candidates.map { candidate in
            (candidate.name, Result { try BLASProvider(name: candidate.name, path: candidate.path) }.mapError { $0 as! BLASProviderError })
        }
    }

    /// The file mapped at `address` in this process (/proc/self/maps): which library a symbol
    /// really came from.
    public static func mappedFile(containing address: UnsafeMutableRawPointer) -> String? {
        guard let file = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(file) }
        let target = UInt(bitPattern: address)
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            let bounds = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            if bounds.count == 2 && bounds[0] <= target && target < bounds[1] {
                return String(fields[5...].joined(separator: " ").filter { $0 != "\n" })
            }
        }
        return nil
    }

    /// Whether the library can be given a thread count at run time.
    public var canSetThreads: Bool { threadCount != nil }

    /// C (m × n, row-major) ← α·op(A)·op(B) + β·C through the library's own `?gemm_`, as the
    /// column-major product Cᵀ = op(B)ᵀ·op(A)ᵀ on the same memory. Same contract as `gemm`.
    /// - Throws: `BLASProviderError.fixedThreadCount` when `threads > 1` and the library cannot
    ///   change its thread count.
    public func gemm<T: GEMMScalar>(
        m: Int, n: Int, k: Int, alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>,
        beta: T, c: UnsafeMutablePointer<T>, ldc: Int, threads: Int
    ) throws {
        if m < 0 || n < 0 || k < 0 || threads < 1 { fatalError("BLASProvider.gemm: negative dimension or thread count") }
        guard let threadCount else {
            if threads > 1 { throw BLASProviderError.fixedThreadCount(name: name) }
            call(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc)
            return
        }
        threadCount.with(threads) { call(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, ldc: ldc) }
    }

    private func call<T: GEMMScalar>(
        m: Int, n: Int, k: Int, alpha: T, a: MatrixOperand<T>, b: MatrixOperand<T>,
        beta: T, c: UnsafeMutablePointer<T>, ldc: Int
    ) {
        var transB = CChar(UInt8(ascii: b.isTransposed ? "T" : "N")), transA = CChar(UInt8(ascii: a.isTransposed ? "T" : "N"))
        var rows = Int32(n), columns = Int32(m), depth = Int32(k)
        var ldb = Int32(max(1, b.ld)), lda = Int32(max(1, a.ld)), ldcValue = Int32(max(1, ldc))
        var alphaValue = alpha, betaValue = beta
        withUnsafePointer(to: &alphaValue) { alphaPointer in
            withUnsafePointer(to: &betaValue) { betaPointer in
                // The same memory as Float or Double: T is one of the two (GEMMScalar).
                func view<U>(_ pointer: UnsafePointer<T>, as _: U.Type) -> UnsafePointer<U> {
                    UnsafeRawPointer(pointer).assumingMemoryBound(to: U.self)
                }
                if T.self == Float.self {
                    sgemm(&transB, &transA, &rows, &columns, &depth,
                          view(alphaPointer, as: Float.self), view(b.base, as: Float.self), &ldb, view(a.base, as: Float.self), &lda,
                          view(betaPointer, as: Float.self), UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), &ldcValue, 1, 1)
                } else {
                    dgemm(&transB, &transA, &rows, &columns, &depth,
                          view(alphaPointer, as: Double.self), view(b.base, as: Double.self), &ldb, view(a.base, as: Double.self), &lda,
                          view(betaPointer, as: Double.self), UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), &ldcValue, 1, 1)
                }
            }
        }
    }
}

/// Why a BLAS or LAPACK provider cannot be used here.
public enum BLASProviderError: Error, CustomStringConvertible, Equatable {
    case cannotLoad(name: String, path: String, reason: String)
    case missingSymbol(name: String, path: String, symbol: String)
    case fixedThreadCount(name: String)

    public var description: String {
        switch self {
        case let .cannotLoad(name, path, reason): return "provider \(name): cannot load \(path): \(reason)"
        case let .missingSymbol(name, path, symbol): return "provider \(name): \(path) has no \(symbol)"
        case let .fixedThreadCount(name):
            return "provider \(name) cannot change its thread count at run time (it runs single-threaded)"
        }
    }
}
