import Foundation
import Kernels
import SafeTensors

/// A LoRA pair as an adapter file stores it, decoded to Float: A (r × `columns`), B (`rows` × r)
/// and the scale, with the layout that says which weight their product is:
/// ΔW = scale·B·A (a linear layer, `rows` × `columns`), or ΔW = scale·(B·A)ᵀ (an embedding, and a
/// linear layer under `fan_in_fan_out`: `columns` × `rows`).
///
/// The one place where an adapter's factors become a delta: merge applies it, and the extraction
/// report, `--verify` and `resize` measure their errors with it, so every number printed is
/// computed from what was written, after the dtype's rounding and the layout's transposition.
public struct StoredPair: Sendable {
    public let a: [Float]
    public let b: [Float]
    public let rank: Int
    /// Rows of B.
    public let rows: Int
    /// Columns of A.
    public let columns: Int
    public let scale: Double
    public let transposed: Bool

    public init(a: [Float], b: [Float], rank: Int, rows: Int, columns: Int, scale: Double, transposed: Bool) {
        if a.count != rank * columns || b.count != rows * rank {
            fatalError("StoredPair: A has \(a.count) values and B \(b.count) for rank \(rank), \(rows) × \(columns)")
        }
        self.a = a
        self.b = b
        self.rank = rank
        self.rows = rows
        self.columns = columns
        self.scale = scale
        self.transposed = transposed
    }

    /// The pair from its two stored tensors (A and B as written, any floating-point dtype).
    public init(a: TensorData, b: TensorData, scale: Double, transposed: Bool) throws {
        guard a.shape.count == 2, b.shape.count == 2, a.shape[0] == b.shape[1] else {
            throw AdapterError.invalidAdapter(a.name, problem: "A is \(a.shape) and B is \(b.shape): not a LoRA pair")
        }
        self.init(a: try Self.decode(a), b: try Self.decode(b), rank: a.shape[0], rows: b.shape[0], columns: a.shape[1],
                  scale: scale, transposed: transposed)
    }

    static func decode(_ tensor: TensorData) throws -> [Float] {
        var values = [Float](repeating: 0, count: tensor.shape.reduce(1, *))
        try tensor.bytes.withUnsafeBytes { raw in
            try values.withUnsafeMutableBufferPointer { try tensor.dtype.decode(raw, into: $0) }
        }
        return values
    }

    /// The shape of ΔW.
    public var deltaShape: [Int] { transposed ? [columns, rows] : [rows, columns] }

    /// c = beta·c + alpha·ΔW[rows `range`], c with row stride `ldc`: one product on the GEMM
    /// engine (2·|range|·width·r flops), reading A and B in place (transposed operands, no copy).
    public func accumulateDelta(rows range: Range<Int>, alpha: Float, beta: Float, into c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = 1) {
        let width = deltaShape[1]
        guard rank > 0 else {
            if beta != 1 { for i in 0..<range.count { for j in 0..<width { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } } }
            return
        }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                let left: MatrixOperand<Float>, right: MatrixOperand<Float>
                if transposed {
                    // Rows of (B·A)ᵀ = Aᵀ[range, :]·Bᵀ.
                    left = MatrixOperand(ap.baseAddress! + range.lowerBound, ld: columns, transposed: true)
                    right = MatrixOperand(bp.baseAddress!, ld: rank, transposed: true)
                } else {
                    left = MatrixOperand(bp.baseAddress! + range.lowerBound * rank, ld: rank)
                    right = MatrixOperand(ap.baseAddress!, ld: columns)
                }
                gemm(m: range.count, n: width, k: rank, alpha: alpha * Float(scale), a: left, b: right, beta: beta, c: c, ldc: ldc, threads: threads)
            }
        }
    }

    /// ΔW, row-major in `deltaShape`.
    public func delta(threads: Int = 1) -> [Float] {
        let (height, width) = (deltaShape[0], deltaShape[1])
        var out = [Float](repeating: 0, count: height * width)
        out.withUnsafeMutableBufferPointer { accumulateDelta(rows: 0..<height, alpha: 1, beta: 0, into: $0.baseAddress!, ldc: width, threads: threads) }
        return out
    }

    /// ‖target − ΔW‖_F / ‖target‖_F for `target` in `deltaShape` (0 when both are zero):
    /// 1024-row blocks of the residual in a reused buffer, summed in Double. The residual's own
    /// rounding, about u·|B||A| per element, is far below any error worth reporting.
    /// - Complexity: 2·height·width·r flops; O(1024·width) extra memory.
    public func relativeError(against target: UnsafeBufferPointer<Float>, threads: Int = 1) -> Double {
        let (height, width) = (deltaShape[0], deltaShape[1])
        if target.count != height * width { fatalError("StoredPair.relativeError: \(target.count) values for \(deltaShape)") }
        var errorSquared = 0.0, normSquared = 0.0
        let blockRows = 1024
        var residual = [Float](repeating: 0, count: min(height, blockRows) * width)
        for start in stride(from: 0, to: height, by: blockRows) {
            let count = min(blockRows, height - start)
            residual.withUnsafeMutableBufferPointer { out in
                out.baseAddress!.update(from: target.baseAddress! + start * width, count: count * width)
                normSquared += sumOfSquares(UnsafeBufferPointer(rebasing: out[0..<(count * width)]))
                accumulateDelta(rows: start..<(start + count), alpha: -1, beta: 1, into: out.baseAddress!, ldc: width, threads: threads)
                errorSquared += sumOfSquares(UnsafeBufferPointer(rebasing: out[0..<(count * width)]))
            }
        }
        if normSquared == 0 { return errorSquared == 0 ? 0 : .infinity }
        return (errorSquared / normSquared).squareRoot()
    }
}
