import CLAPACKE
import COpenBLAS
import Testing

/// The shims declare LAPACKE's and CBLAS's complex types as structs so that their complex-typed
/// functions import into Swift; these calls would not compile otherwise.
@Suite("Complex-typed C functions import")
struct ComplexImportTests {
    @Test func lapackeComplexSolve() {
        // (2 + 0i)·x = (4 + 2i)  ⇒  x = 2 + 1i
        var a = [_lapack_complex_float(real: 2, imag: 0)]
        var b = [_lapack_complex_float(real: 4, imag: 2)]
        var pivots: [Int32] = [0]
        let info = LAPACKE_cgesv(LAPACK_ROW_MAJOR, 1, 1, &a, 1, &pivots, &b, 1)
        #expect(info == 0)
        #expect(b[0].real == 2 && b[0].imag == 1)
    }

    @Test func cblasComplexDot() {
        // (1 + 2i)·(3 − 1i) = 3 − i + 6i − 2i² = 5 + 5i
        let x: [Float] = [1, 2], y: [Float] = [3, -1]
        var result: [Float] = [0, 0]
        cblas_cdotu_sub(1, x, 1, y, 1, &result)
        #expect(result == [5, 5])
    }
}
