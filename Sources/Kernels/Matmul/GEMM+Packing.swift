/// Packing: copying blocks of op(A) and op(B) into the order the micro-kernel reads them, so that
/// it walks memory contiguously whatever the transposes and leading dimensions are. Edges are
/// padded with zeros to whole micro-tiles; the micro-kernel then never needs a partial loop.
/// An operand given as a packing routine (`GEMMMicroPanelPacker`) writes the same order itself.

extension GEMMEngine {
    /// Packs micro-panels `strips` of the `depth × columns` panel of op(B) that starts at
    /// (`row`, `column`): micro-panel s holds columns s·NR ..< s·NR + NR as `depth` rows of NR
    /// contiguous elements, at `panel` + (s − firstInPanel)·NR·depth.
    func packPanelB(
        _ b: GEMMOperandSource<T>, row: Int, column: Int, depth kc: Int, columns: Int, strips: Range<Int>,
        firstInPanel: Int, into panel: UnsafeMutablePointer<T>
    ) {
        let nr = Self.nr
        let matrix: MatrixOperand<T>
        switch b {
        case .packer(let packer):
            for strip in strips {
                packer.pack(row, column + strip * nr, kc, min(nr, columns - strip * nr), panel + (strip - firstInPanel) * nr * kc)
            }
            return
        case .matrix(let whole):
            matrix = whole.offset(row: row, column: column)
        }
        for strip in strips {
            let j0 = strip * nr
            let width = min(nr, columns - j0)
            let destination = panel + (strip - firstInPanel) * nr * kc
            let source = matrix.offset(row: 0, column: j0)
            if matrix.columnStride == 1 && width == nr {
                let vectorBytes = MemoryLayout<T.Vector>.stride
                for p in 0..<kc {
                    let row = UnsafeRawPointer(source.base + p * source.rowStride)
                    let out = UnsafeMutableRawPointer(destination + p * nr)
                    for offset in stride(from: 0, to: nr * MemoryLayout<T>.stride, by: vectorBytes) {
                        out.storeBytes(of: row.loadUnaligned(fromByteOffset: offset, as: T.Vector.self), toByteOffset: offset, as: T.Vector.self)
                    }
                }
            } else if matrix.columnStride == 1 {
                for p in 0..<kc {
                    let row = source.base + p * source.rowStride
                    let out = destination + p * nr
                    for j in 0..<width { out[j] = row[j] }
                    for j in width..<nr { out[j] = 0 }
                }
            } else {
                // Transposed B: column j of op(B) is contiguous in memory. Sixteen rows of the
                // micro-panel at a time, so that the rows written (2 KB) stay in L1 while every
                // column is read a cache line at a time (the whole kc-deep micro-panel, 64 KB,
                // does not fit).
                for p0 in stride(from: 0, to: kc, by: 16) {
                    let rows = p0..<min(p0 + 16, kc)
                    for j in 0..<width {
                        let column = source.base + j * source.columnStride
                        for p in rows { destination[p * nr + j] = column[p] }
                    }
                }
                if width < nr {
                    for p in 0..<kc { for j in width..<nr { destination[p * nr + j] = 0 } }
                }
            }
        }
    }

    /// Packs the `rows × depth` block of op(A) that starts at (`row`, `column`): micro-panel s
    /// holds rows s·MR ..< s·MR + MR as `depth` columns of MR contiguous elements.
    func packBlockA(_ a: GEMMOperandSource<T>, row: Int, column: Int, rows: Int, depth kc: Int, into packed: UnsafeMutablePointer<T>) {
        let mr = Self.mr
        let matrix: MatrixOperand<T>
        switch a {
        case .packer(let packer):
            for i0 in stride(from: 0, to: rows, by: mr) {
                packer.pack(row + i0, column, min(mr, rows - i0), kc, packed + i0 * kc)
            }
            return
        case .matrix(let whole):
            matrix = whole.offset(row: row, column: column)
        }
        for i0 in stride(from: 0, to: rows, by: mr) {
            let height = min(mr, rows - i0)
            let destination = packed + i0 * kc
            let source = matrix.offset(row: i0, column: 0)
            if matrix.rowStride == 1 {
                // Transposed A: a column of op(A) is contiguous.
                for p in 0..<kc {
                    let column = source.base + p * source.columnStride
                    let out = destination + p * mr
                    for i in 0..<height { out[i] = column[i] }
                    for i in height..<mr { out[i] = 0 }
                }
            } else {
                for i in 0..<height {
                    let row = source.base + i * source.rowStride
                    for p in 0..<kc { destination[p * mr + i] = row[p] }
                }
                if height < mr {
                    for p in 0..<kc { for i in height..<mr { destination[p * mr + i] = 0 } }
                }
            }
        }
    }
}
