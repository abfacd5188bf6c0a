import Testing
@testable import Kernels

/// BLAS semantics the error-model tests cannot see: what must not be read.
@Suite("GEMM semantics")
struct GEMMSemanticsTests {
    @Test(arguments: [1, 2])
    func betaZeroDoesNotReadC(threads: Int) {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: .nan, count: 4)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                gemm(m: 2, n: 2, k: 2, alpha: 1, a: MatrixOperand(a.baseAddress!, ld: 2),
                     b: MatrixOperand(b.baseAddress!, ld: 2), beta: 0, c: &c, ldc: 2, threads: threads)
            }
        }
        #expect(c == [19, 22, 43, 50])
    }

    @Test func alphaZeroDoesNotReadAOrB() {
        let nan = [Double](repeating: .nan, count: 6)
        var c: [Double] = [1, 2, 3, 4]
        nan.withUnsafeBufferPointer { x in
            gemm(m: 2, n: 2, k: 3, alpha: 0, a: MatrixOperand(x.baseAddress!, ld: 3),
                 b: MatrixOperand(x.baseAddress!, ld: 2), beta: 2, c: &c, ldc: 2)
        }
        #expect(c == [2, 4, 6, 8])
    }

    @Test func emptyInnerDimensionScalesC() {
        let empty: [Float] = [0]
        var c: [Float] = [1, .nan, 3]
        empty.withUnsafeBufferPointer { x in
            gemm(m: 1, n: 3, k: 0, alpha: 1, a: MatrixOperand(x.baseAddress!, ld: 1),
                 b: MatrixOperand(x.baseAddress!, ld: 3), beta: 0, c: &c, ldc: 3)
        }
        #expect(c == [0, 0, 0])
    }

    /// The split across threads never changes the order of an element's sum. The shapes are large
    /// enough (over 8·10⁶ flops per thread) for `gemm` to use the threads it is given: rows split,
    /// columns split with B read in place, A read in place.
    @Test(arguments: [(192, 700, 300), (40, 3000, 200), (300, 40, 700)])
    func resultIsIndependentOfThreadCount(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var state: UInt64 = 12345
        func next() -> Float { state = state &* 6364136223846793005 &+ 1442695040888963407; return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000 }
        let a = (0..<(m * k)).map { _ in next() }, b = (0..<(k * n)).map { _ in next() }
        var outputs: [[Float]] = []
        for threads in [1, 2, 3, 4] {
            var c = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    gemm(m: m, n: n, k: k, alpha: 1, a: MatrixOperand(a.baseAddress!, ld: k),
                         b: MatrixOperand(b.baseAddress!, ld: n), beta: 0, c: &c, ldc: n, threads: threads,
                         blocking: GEMMBlocking(mc: 48, kc: 64, nc: 128))
                }
            }
            outputs.append(c)
        }
        #expect(outputs.allSatisfy { $0 == outputs[0] })
    }
}
