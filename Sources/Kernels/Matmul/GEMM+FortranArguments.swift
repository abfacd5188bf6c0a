// The reference BLAS's argument checks for ?GEMM, shared by the project's BLAS interface
// (`CrosscheckBLAS`) and its tests. They live here, not in that library, so that the tests can
// check them without linking the library's exported `sgemm_`/`cblas_sgemm`, which would replace
// OpenBLAS's for every test in the process.

/// ?GEMM's argument checks, in the reference BLAS's order; 0, or the position of the first bad
/// argument (Fortran numbering: TRANSA 1, TRANSB 2, M 3, N 4, K 5, LDA 8, LDB 10, LDC 13).
public func gemmArgumentError(transA: UInt8, transB: UInt8, m: Int32, n: Int32, k: Int32, lda: Int32, ldb: Int32, ldc: Int32) -> Int32 {
    func isTranspose(_ c: UInt8) -> Bool? {
        switch c {
        case UInt8(ascii: "N"), UInt8(ascii: "n"): return false
        case UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: "C"), UInt8(ascii: "c"): return true
        default: return nil
        }
    }
    guard let transposeA = isTranspose(transA) else { return 1 }
    guard let transposeB = isTranspose(transB) else { return 2 }
    if m < 0 { return 3 }
    if n < 0 { return 4 }
    if k < 0 { return 5 }
    let rowsA = transposeA ? k : m, rowsB = transposeB ? n : k
    if lda < max(1, rowsA) { return 8 }
    if ldb < max(1, rowsB) { return 10 }
    if ldc < max(1, m) { return 13 }
    return 0
}
