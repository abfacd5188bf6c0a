import Kernels
#if canImport(Glibc)
import Glibc
#endif

// The project's GEMM engine as a BLAS: `sgemm_`/`dgemm_` (Fortran ABI, column-major, as the
// reference BLAS defines them) and `cblas_sgemm`/`cblas_dgemm` (as netlib's CBLAS defines them),
// in a shared library that can replace any BLAS's GEMM by preloading:
//
//     LD_PRELOAD=.build/debug/libCrosscheckBLAS.so program
//
// Argument errors are reported the reference way: through `xerbla_` (or `cblas_xerbla`) looked
// up at run time, so that a test program's own handler runs (the reference test suite's error
// exits need that). Threads: CROSSCHECK_BLAS_THREADS, or every logical CPU. With
// CROSSCHECK_BLAS_TRACE=1 every call prints one line to standard error, to prove a program reached
// this library.

/// Column-major C (m × n, ldc) ← α·op(A)·op(B) + β·C on the engine: the same memory read
/// row-major is Cᵀ = op(B)ᵀ·op(A)ᵀ. Arguments already checked.
func columnMajorGEMM<T: GEMMScalar>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T, a: UnsafePointer<T>, lda: Int,
    b: UnsafePointer<T>, ldb: Int, beta: T, c: UnsafeMutablePointer<T>, ldc: Int
) {
    // Reference quick return: nothing to do, and C is not touched.
    if m == 0 || n == 0 || ((alpha == 0 || k == 0) && beta == 1) { return }
    gemm(m: n, n: m, k: k, alpha: alpha,
         a: MatrixOperand(b, ld: ldb, transposed: transB), b: MatrixOperand(a, ld: lda, transposed: transA),
         beta: beta, c: c, ldc: ldc, threads: libraryThreads)
}

/// Threads the library's products may use.
let libraryThreads: Int = {
    if let text = getenv("CROSSCHECK_BLAS_THREADS").map({ String(cString: $0) }), let value = Int(text), value >= 1 { return value }
    return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
}()

let tracing = getenv("CROSSCHECK_BLAS_TRACE").map { String(cString: $0) == "1" } ?? false

func trace(_ routine: String, _ m: Int32, _ n: Int32, _ k: Int32) {
    guard tracing else { return }
    let line = "crosscheck-blas: \(routine) m=\(m) n=\(n) k=\(k)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// Calls the first `xerbla_` in the process's global scope (a test program's own, or the
/// BLAS's), or prints the reference message when there is none.
func reportFortranError(_ routine: String, _ info: Int32) {
    typealias Xerbla = @convention(c) (UnsafePointer<CChar>, UnsafePointer<Int32>, Int) -> Void
    let name = routine.padding(toLength: 6, withPad: " ", startingAt: 0)
    var position = info
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "xerbla_") {
        name.withCString { unsafeBitCast(symbol, to: Xerbla.self)($0, &position, 6) }
    } else {
        let line = " ** On entry to \(routine) parameter number \(info) had an illegal value\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}

/// `cblas_xerbla(info, routine, "")` of the program or CBLAS in the global scope, or a message.
func reportCBLASError(_ routine: String, _ info: Int32) {
    typealias Xerbla = @convention(c) (Int32, UnsafePointer<CChar>, UnsafePointer<CChar>) -> Void
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "cblas_xerbla") {
        routine.withCString { unsafeBitCast(symbol, to: Xerbla.self)(info, $0, "") }
    } else {
        let line = "Parameter \(info) to routine \(routine) was incorrect\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}

func fortranGEMM<T: GEMMScalar>(
    _ routine: String, _ transA: UnsafePointer<CChar>, _ transB: UnsafePointer<CChar>,
    _ m: UnsafePointer<Int32>, _ n: UnsafePointer<Int32>, _ k: UnsafePointer<Int32>,
    _ alpha: UnsafePointer<T>, _ a: UnsafePointer<T>, _ lda: UnsafePointer<Int32>,
    _ b: UnsafePointer<T>, _ ldb: UnsafePointer<Int32>, _ beta: UnsafePointer<T>,
    _ c: UnsafeMutablePointer<T>, _ ldc: UnsafePointer<Int32>
) {
    let ta = UInt8(bitPattern: transA.pointee), tb = UInt8(bitPattern: transB.pointee)
    trace(routine.lowercased() + "_", m.pointee, n.pointee, k.pointee)
    let info = gemmArgumentError(transA: ta, transB: tb, m: m.pointee, n: n.pointee, k: k.pointee,
                                 lda: lda.pointee, ldb: ldb.pointee, ldc: ldc.pointee)
    if info != 0 { reportFortranError(routine, info); return }
    columnMajorGEMM(
        transA: ta != UInt8(ascii: "N") && ta != UInt8(ascii: "n"), transB: tb != UInt8(ascii: "N") && tb != UInt8(ascii: "n"),
        m: Int(m.pointee), n: Int(n.pointee), k: Int(k.pointee), alpha: alpha.pointee, a: a, lda: Int(lda.pointee),
        b: b, ldb: Int(ldb.pointee), beta: beta.pointee, c: c, ldc: Int(ldc.pointee))
}

@_cdecl("sgemm_")
public func sgemm_(
    _ transA: UnsafePointer<CChar>, _ transB: UnsafePointer<CChar>,
    _ m: UnsafePointer<Int32>, _ n: UnsafePointer<Int32>, _ k: UnsafePointer<Int32>,
    _ alpha: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ lda: UnsafePointer<Int32>,
    _ b: UnsafePointer<Float>, _ ldb: UnsafePointer<Int32>, _ beta: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: UnsafePointer<Int32>
) {
    fortranGEMM("SGEMM", transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

@_cdecl("dgemm_")
public func dgemm_(
    _ transA: UnsafePointer<CChar>, _ transB: UnsafePointer<CChar>,
    _ m: UnsafePointer<Int32>, _ n: UnsafePointer<Int32>, _ k: UnsafePointer<Int32>,
    _ alpha: UnsafePointer<Double>, _ a: UnsafePointer<Double>, _ lda: UnsafePointer<Int32>,
    _ b: UnsafePointer<Double>, _ ldb: UnsafePointer<Int32>, _ beta: UnsafePointer<Double>,
    _ c: UnsafeMutablePointer<Double>, _ ldc: UnsafePointer<Int32>
) {
    fortranGEMM("DGEMM", transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

/// netlib's `cblas_?gemm`: the order and transposes checked here (positions 1–3); row-major
/// calls the column-major routine on the transposed problem, so, as netlib's does, its
/// dimension errors carry the positions of the swapped arguments (the reference CBLAS tester
/// swaps them back).
func cblasGEMM<T: GEMMScalar>(
    _ routine: String, _ order: Int32, _ transA: Int32, _ transB: Int32, _ m: Int32, _ n: Int32, _ k: Int32,
    _ alpha: T, _ a: UnsafePointer<T>?, _ lda: Int32, _ b: UnsafePointer<T>?, _ ldb: Int32,
    _ beta: T, _ c: UnsafeMutablePointer<T>?, _ ldc: Int32
) {
    trace(routine, m, n, k)
    func letter(_ trans: Int32) -> UInt8? {
        switch trans {
        case 111: return UInt8(ascii: "N")
        case 112: return UInt8(ascii: "T")
        case 113: return UInt8(ascii: "C")
        default: return nil
        }
    }
    guard order == 101 || order == 102 else { reportCBLASError(routine, 1); return }
    guard let ta = letter(transA) else { reportCBLASError(routine, 2); return }
    guard let tb = letter(transB) else { reportCBLASError(routine, 3); return }
    // Column-major arguments: as given (102), or the transposed problem (101).
    let (fa, fb, fm, fn, flda, fldb) = order == 102 ? (ta, tb, m, n, lda, ldb) : (tb, ta, n, m, ldb, lda)
    let info = gemmArgumentError(transA: fa, transB: fb, m: fm, n: fn, k: k, lda: flda, ldb: fldb, ldc: ldc)
    if info != 0 { reportCBLASError(routine, info + 1); return }
    guard fm > 0, fn > 0, let c else { return }
    let dummy = UnsafeMutablePointer<T>.allocate(capacity: 1)
    defer { dummy.deallocate() }
    let (left, right) = order == 102 ? (a, b) : (b, a)
    columnMajorGEMM(
        transA: fa != UInt8(ascii: "N"), transB: fb != UInt8(ascii: "N"), m: Int(fm), n: Int(fn), k: Int(k),
        alpha: alpha, a: left ?? UnsafePointer(dummy), lda: Int(flda), b: right ?? UnsafePointer(dummy), ldb: Int(fldb),
        beta: beta, c: c, ldc: Int(ldc))
}

@_cdecl("cblas_sgemm")
public func cblas_sgemm(
    _ order: Int32, _ transA: Int32, _ transB: Int32, _ m: Int32, _ n: Int32, _ k: Int32,
    _ alpha: Float, _ a: UnsafePointer<Float>?, _ lda: Int32, _ b: UnsafePointer<Float>?, _ ldb: Int32,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>?, _ ldc: Int32
) {
    cblasGEMM("cblas_sgemm", order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

@_cdecl("cblas_dgemm")
public func cblas_dgemm(
    _ order: Int32, _ transA: Int32, _ transB: Int32, _ m: Int32, _ n: Int32, _ k: Int32,
    _ alpha: Double, _ a: UnsafePointer<Double>?, _ lda: Int32, _ b: UnsafePointer<Double>?, _ ldb: Int32,
    _ beta: Double, _ c: UnsafeMutablePointer<Double>?, _ ldc: Int32
) {
    cblasGEMM("cblas_dgemm", order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
