/// Packing: copying blocks of op(A) and op(B) into the order the micro-kernel reads them, so that
/// it walks memory contiguously whatever the transposes and leading dimensions are. Edges are
/// padded with zeros to whole micro-tiles; the micro-kernel then never needs a partial loop.

extension GEMMEngine {
    /// Packs micro-panels `strips` of the `depth × columns` panel `b` of op(B): micro-panel s
    /// holds columns s·NR ..< s·NR + NR as `depth` rows of NR contiguous elements.
    func packPanelB(
        _ b: MatrixOperand<T>, depth kc: Int, columns: Int, strips: Range<Int>,
        into packed: UnsafeMutablePointer<T>
    ) {
        let nr = Self.nr
        for strip in strips {
            let j0 = strip * nr
            let width = min(nr, columns - j0)
            let destination = packed + strip * nr * kc
            let source = b.offset(row: 0, column: j0)
            if b.columnStride == 1 && width == nr {
                for p in 0..<kc {
                    let row = UnsafeRawPointer(source.base + p * source.rowStride)
                    let out = UnsafeMutableRawPointer(destination + p * nr)
                    out.storeBytes(of: row.loadUnaligned(as: T.Vector.self), as: T.Vector.self)
                    out.storeBytes(
                        of: row.loadUnaligned(fromByteOffset: MemoryLayout<T.Vector>.stride, as: T.Vector.self),
                        toByteOffset: MemoryLayout<T.Vector>.stride, as: T.Vector.self)
                }
            } else if b.columnStride == 1 {
                for p in 0..<kc {
                    let row = source.base + p * source.rowStride
                    let out = destination + p * nr
                    for j in 0..<width { out[j] = row[j] }
                    for j in width..<nr { out[j] = 0 }
                }
            } else {
                // Transposed B: column j of op(B) is contiguous in memory.
                for j in 0..<width {
                    let column = source.base + j * source.columnStride
                    for p in 0..<kc { destination[p * nr + j] = column[p] }
                }
                if width < nr {
                    for p in 0..<kc { for j in width..<nr { destination[p * nr + j] = 0 } }
                }
            }
        }
    }

    /// Packs the `rows × depth` block `a` of op(A): micro-panel s holds rows s·MR ..< s·MR + MR
    /// as `depth` columns of MR contiguous elements.
    func packBlockA(_ a: MatrixOperand<T>, rows: Int, depth kc: Int, into packed: UnsafeMutablePointer<T>) {
        let mr = Self.mr
        for i0 in stride(from: 0, to: rows, by: mr) {
            let height = min(mr, rows - i0)
            let destination = packed + i0 * kc
            let source = a.offset(row: i0, column: 0)
            if a.rowStride == 1 {
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
