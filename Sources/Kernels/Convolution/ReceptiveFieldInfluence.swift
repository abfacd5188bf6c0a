// The independent check: which input positions does one output element actually read?
//
// A boolean mask starts with the one output element set and goes back through the layers: each
// set element of a layer's output marks every input element it reads, found from the layer's own
// definition (convolution: input o·s − p + m·d for each tap m; transposed convolution: the inputs
// i with i·s − p + m·d = o; nearest and bilinear upsampling: PyTorch's source-index formulas;
// pad and crop: a shift). Positions in the padding are dropped (clipped at the borders). This is
// the support of the gradient of that output element for generic weights. None of the
// receptive-field recursions is used, so agreement with them is evidence, not a tautology.
//
// Dilation leaves holes in the set, so what is compared with the formulas is its bounding box.

extension ResolvedNetwork {
    /// The bounding box, in input coordinates, of the input elements that element `element` of
    /// layer `output` depends on; nil if it depends on none (its window lies in the padding).
    ///
    /// For an element whose field lies inside the input (no padding or border effects), the box
    /// equals the field of `receptiveFieldsBottomUp()` when no transposed convolution or upsampling
    /// comes before the layer, and lies inside it otherwise (see `checkInfluence(of:against:)`).
    ///
    /// - Complexity: O(Σ over the layers up to `output` of (marked output elements) × (column taps
    ///   per element) + (marked rows) × (row taps) × (marked width)/64) — about Σ (r/j_T)²·k for
    ///   the output's field r in each tensor T of jump j_T — and about (r/j_T)² bits of memory per
    ///   tensor still to be visited. Exact.
    public func influenceBox(of output: Int, element: Spatial<Int>) -> Spatial<ClosedRange<Int>>? {
        guard layers.indices.contains(output) else { fatalError("influenceBox: layer index \(output) is not in 0..<\(layers.count)") }
        let size = layers[output].outputSize
        guard (0..<size.height).contains(element.height), (0..<size.width).contains(element.width) else {
            fatalError("influenceBox: element (\(element.height), \(element.width)) is outside layer '\(layers[output].name)' of size \(size.height)x\(size.width)")
        }
        var masks = [InfluenceMask?](repeating: nil, count: output + 1)
        var start = InfluenceMask(rows: element.height...element.height, columns: element.width...element.width)
        start.set(element.height, element.width)
        masks[output] = start
        for index in stride(from: output, through: 1, by: -1) {
            guard let mask = masks[index], let marked = mask.marked else { continue }
            masks[index] = nil   // every reader of this tensor comes later, so its mask is complete
            let layer = layers[index]
            let rowTaps = Self.taps(of: layer, along: .height, outputs: marked.rows)
            let columnTaps = Self.taps(of: layer, along: .width, outputs: marked.columns)
            guard let sourceRows = Self.hull(rowTaps), let sourceColumns = Self.hull(columnTaps) else { continue }
            for input in layer.inputs {
                var inputMask = masks[input] ?? InfluenceMask(rows: sourceRows, columns: sourceColumns)
                masks[input] = nil   // so that marking does not copy the storage
                inputMask.include(rows: sourceRows, columns: sourceColumns)
                // Row by row: the columns read by the marked elements of an output row, then those
                // columns in each input row that output row reads.
                var columnsRead = inputMask.emptyRow()
                for row in marked.rows {
                    for word in columnsRead.indices { columnsRead[word] = 0 }
                    var any = false
                    mask.forEachMarkedColumn(inRow: row) { column in
                        any = true
                        for source in columnTaps[column - marked.columns.lowerBound] { inputMask.mark(column: source, in: &columnsRead) }
                    }
                    if any {
                        for sourceRow in rowTaps[row - marked.rows.lowerBound] { inputMask.merge(columnsRead, intoRow: sourceRow) }
                    }
                }
                masks[input] = inputMask
            }
        }
        return masks[0]?.marked.map { Spatial($0.rows, $0.columns) }
    }

    /// The smallest range holding every position in `taps`; nil if there is none.
    static func hull(_ taps: [[Int]]) -> ClosedRange<Int>? {
        let all = taps.joined()
        guard let low = all.min(), let high = all.max() else { return nil }
        return low...high
    }

    /// For each output position in `outputs` along `axis`, the input positions it reads, inside
    /// the input (padding dropped).
    static func taps(of layer: ResolvedLayer, along axis: SpatialAxis, outputs: ClosedRange<Int>) -> [[Int]] {
        let resolved = layer.axes[axis]
        let inputs = 0..<resolved.inputSize
        return outputs.map { o -> [Int] in
            switch layer.operation {
            case .input, .add, .concat:
                return [o]
            case .convolution(let kernel, let stride, let dilation, _), .pooling(let kernel, let stride, let dilation, _, _):
                return (0..<kernel[axis]).map { o * stride[axis] - resolved.paddingBefore + $0 * dilation[axis] }.filter(inputs.contains)
            case .pad, .crop:
                return [o - resolved.paddingBefore].filter(inputs.contains)
            case .transposedConvolution(let kernel, let stride, let dilation, _, _):
                // Input i reaches o when i·s − p + m·d = o for a tap m.
                return (0..<kernel[axis]).compactMap { tap -> Int? in
                    let numerator = o + resolved.paddingBefore - tap * dilation[axis]
                    return numerator >= 0 && numerator % stride[axis] == 0 ? numerator / stride[axis] : nil
                }.filter(inputs.contains)
            case .upsampling(let scale, .nearest):
                return [o / scale[axis]]
            case .upsampling(let scale, .bilinear):
                // PyTorch, align_corners=False: source = max((o + ½)/s − ½, 0) = max((2o + 1 − s)/(2s), 0);
                // reads ⌊source⌋ and, when the fraction λ is not 0, the next input (clamped).
                let numerator = 2 * o + 1 - scale[axis], denominator = 2 * scale[axis]
                if numerator <= 0 { return [0] }
                let first = numerator / denominator
                return numerator % denominator != 0 && first + 1 < resolved.inputSize ? [first, first + 1] : [first]
            }
        }
    }
}

/// A boolean image of a rectangle of one tensor (grown as needed), one bit per element, rows of
/// 64-bit words: its storage follows the marks, not the tensor, so a field of r × r positions in a
/// large input costs r²/8 bytes.
struct InfluenceMask {
    private var rows: ClosedRange<Int>
    private var columns: ClosedRange<Int>
    private let wordsPerRow: Int
    private var words: [UInt64]

    init(rows: ClosedRange<Int>, columns: ClosedRange<Int>) {
        self.rows = rows
        self.columns = columns
        wordsPerRow = (columns.count + 63) / 64
        words = [UInt64](repeating: 0, count: rows.count * wordsPerRow)
    }

    /// Grows the stored rectangle to cover `rows` × `columns` too, keeping the marks.
    mutating func include(rows newRows: ClosedRange<Int>, columns newColumns: ClosedRange<Int>) {
        guard !(rows.contains(newRows.lowerBound) && rows.contains(newRows.upperBound)
                && columns.contains(newColumns.lowerBound) && columns.contains(newColumns.upperBound)) else { return }
        var grown = InfluenceMask(rows: min(rows.lowerBound, newRows.lowerBound)...max(rows.upperBound, newRows.upperBound),
                                  columns: min(columns.lowerBound, newColumns.lowerBound)...max(columns.upperBound, newColumns.upperBound))
        for row in rows { forEachMarkedColumn(inRow: row) { grown.set(row, $0) } }
        self = grown
    }

    /// Marks (row, column), which must lie in the stored rectangle.
    mutating func set(_ row: Int, _ column: Int) {
        let offset = column - columns.lowerBound
        words[(row - rows.lowerBound) * wordsPerRow + offset / 64] |= 1 << UInt64(offset % 64)
    }

    /// A row of this mask's width with no mark.
    func emptyRow() -> [UInt64] { [UInt64](repeating: 0, count: wordsPerRow) }

    /// Marks `column` in `row`, a row of this mask's width.
    func mark(column: Int, in row: inout [UInt64]) {
        let offset = column - columns.lowerBound
        row[offset / 64] |= 1 << UInt64(offset % 64)
    }

    /// Marks in stored row `row` every column marked in `marks`, a row of this mask's width.
    mutating func merge(_ marks: [UInt64], intoRow row: Int) {
        let start = (row - rows.lowerBound) * wordsPerRow
        for word in 0..<wordsPerRow { words[start + word] |= marks[word] }
    }

    /// Calls `body` with each marked column of `row`, in increasing order.
    func forEachMarkedColumn(inRow row: Int, _ body: (Int) -> Void) {
        guard rows.contains(row) else { return }
        let start = (row - rows.lowerBound) * wordsPerRow
        for word in 0..<wordsPerRow {
            var bits = words[start + word]
            while bits != 0 {
                body(columns.lowerBound + word * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
    }

    /// The rows and columns spanned by the marks; nil if there is none.
    var marked: (rows: ClosedRange<Int>, columns: ClosedRange<Int>)? {
        var firstRow: Int?, lastRow = 0
        var union = emptyRow()
        for row in rows {
            let start = (row - rows.lowerBound) * wordsPerRow
            var any: UInt64 = 0
            for word in 0..<wordsPerRow {
                any |= words[start + word]
                union[word] |= words[start + word]
            }
            if any != 0 {
                if firstRow == nil { firstRow = row }
                lastRow = row
            }
        }
        guard let firstRow, let firstWord = union.firstIndex(where: { $0 != 0 }), let lastWord = union.lastIndex(where: { $0 != 0 }) else { return nil }
        let firstColumn = columns.lowerBound + firstWord * 64 + union[firstWord].trailingZeroBitCount
        let lastColumn = columns.lowerBound + lastWord * 64 + 63 - union[lastWord].leadingZeroBitCount
        return (firstRow...lastRow, firstColumn...lastColumn)
    }
}
