/// A row-major matrix operand of a product, read through an optional transpose:
/// element (i, j) of op(X) is `base[i * ld + j]`, or `base[j * ld + i]` when transposed.
///
/// `ld` (the leading dimension) is the distance between consecutive stored rows, so a
/// sub-matrix of a larger buffer is an operand with the larger buffer's row length as `ld`.
public struct MatrixOperand<T>: @unchecked Sendable {
    public let base: UnsafePointer<T>
    public let ld: Int
    public let isTransposed: Bool

    public init(_ base: UnsafePointer<T>, ld: Int, transposed: Bool = false) {
        self.base = base
        self.ld = ld
        self.isTransposed = transposed
    }

    /// Element (i, j) of op(X).
    @inline(__always)
    public subscript(i: Int, j: Int) -> T {
        isTransposed ? base[j &* ld &+ i] : base[i &* ld &+ j]
    }

    /// Distance between op(X)(i, j) and op(X)(i + 1, j).
    @inline(__always) public var rowStride: Int { isTransposed ? 1 : ld }
    /// Distance between op(X)(i, j) and op(X)(i, j + 1).
    @inline(__always) public var columnStride: Int { isTransposed ? ld : 1 }

    /// The operand starting at op(X)(i, j).
    @inline(__always)
    public func offset(row i: Int, column j: Int) -> MatrixOperand {
        MatrixOperand(base + (i &* rowStride &+ j &* columnStride), ld: ld, transposed: isTransposed)
    }
}
