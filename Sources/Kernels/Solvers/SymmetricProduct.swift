/// y ← A·x for symmetric A from its upper triangle only (row-major, aᵢⱼ for j ≥ i; the lower
/// triangle is not read): each row i is read once and used twice, as a dot product for yᵢ and as
/// an axpy into y_{i+1…n−1}:
///
///     yᵢ += aᵢᵢxᵢ + Σ_{j>i} aᵢⱼxⱼ        yⱼ += aᵢⱼxᵢ  (j > i)
///
/// so the product streams n²/2 matrix elements instead of n². Four rows go together: each
/// vector of x and of y is loaded once for them (eight fused multiply-adds per five loads).
///
/// Threads: the rows are cut into `symmetricBlocks(n)` blocks of about equal area, a number that
/// depends on n only; each block accumulates into its own partial y (the axpy parts of
/// different blocks touch the same yⱼ), and the partial vectors are added in block order. So the
/// result is the same bits on any thread count.
///
/// - Complexity: 2n² flops; n²/2 + O(n·blocks) values streamed.
/// - Error: each yᵢ is a sum of n products in a fixed order with fused multiply-adds (and the
///   blocks' partial sums): |ŷ − y| ≤ γ_{n+8}·(|A||x|)ᵢ.
func symmetricProduct<T: SolverScalar>(_ a: UnsafePointer<T>, ld: Int, n: Int, x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, threads: Int) {
    let blocks = symmetricBlocks(n)
    if blocks == 1 {
        zeroFill(y, count: n)
        symmetricRows(a, ld: ld, n: n, x: x, into: y, first: 0, end: n)
        return
    }
    let area = n * (n + 1) / 2
    let parts = max(1, min(threads, blocks, area / minimumMatrixElementsPerThread))
    let boundaries = (0...blocks).map { symmetricBlockStart($0, of: blocks, n: n) }
    withUnsafeTemporaryAllocation(of: T.self, capacity: blocks * n) { partials in
        let partial = partials.baseAddress!
        parallelFor(parts) { part in
            let (firstBlock, endBlock) = share(of: blocks, part: part, parts: parts)
            for block in firstBlock..<endBlock {
                let (first, end) = (boundaries[block], boundaries[block + 1])
                zeroFill(partial + block * n + first, count: n - first)
                symmetricRows(a, ld: ld, n: n, x: x, into: partial + block * n, first: first, end: end)
            }
        }
        // y = Σ_b partial_b in block order; block b touched only y[boundaries[b]...].
        copyValues(from: partial, to: y, count: n)
        for block in 1..<blocks {
            let first = boundaries[block]
            accumulate(partial + block * n + first, into: y + first, count: n - first)
        }
    }
}

/// Blocks of rows of a symmetric product: 8 when the triangle has at least 2¹⁸ elements (enough
/// for more than one thread), 1 otherwise. Depends on n only, so results do not depend on threads.
func symmetricBlocks(_ n: Int) -> Int {
    n * (n + 1) / 2 >= minimumMatrixElementsPerThread ? 8 : 1
}

/// The first row of block `block` of `blocks`: the rows before it hold about block/blocks of the
/// triangle's area (row i has n − i elements), so blocks cost about the same.
func symmetricBlockStart(_ block: Int, of blocks: Int, n: Int) -> Int {
    if block == 0 { return 0 }
    if block == blocks { return n }
    // Rows 0..<r hold r·n − r(r−1)/2 elements; find the first r reaching the share.
    let target = Double(block) / Double(blocks) * Double(n) * Double(n + 1) / 2
    var r = 0
    while r < n && Double(r) * Double(n) - Double(r) * Double(r - 1) / 2 < target { r += 1 }
    return r
}

/// y ← y + v on `count` values.
func accumulate<T: SolverScalar>(_ v: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, count: Int) {
    let width = T.Vector.scalarCount
    var j = 0
    while j + width <= count {
        storeVector(loadVector(y + j) + loadVector(v + j), y + j)
        j += width
    }
    while j < count {
        y[j] += v[j]
        j += 1
    }
}

/// Rows first..<end of the symmetric product, accumulated into w (which holds the contributions
/// of earlier rows): four rows at a time, then one at a time.
@inline(never)
func symmetricRows<T: SolverScalar>(_ a: UnsafePointer<T>, ld: Int, n: Int, x: UnsafePointer<T>, into w: UnsafeMutablePointer<T>, first: Int, end: Int) {
    var i = first
    while i + 4 <= end {
        symmetricFourRows(a, ld: ld, n: n, x: x, into: w, row: i)
        i += 4
    }
    while i < end {
        symmetricRow(a + i * ld, n: n, x: x, into: w, row: i)
        i += 1
    }
}

/// Row i: wᵢ += aᵢᵢxᵢ + Σ_{j>i} aᵢⱼxⱼ and wⱼ += aᵢⱼxᵢ for j > i.
@inline(__always)
func symmetricRow<T: SolverScalar>(_ row: UnsafePointer<T>, n: Int, x: UnsafePointer<T>, into w: UnsafeMutablePointer<T>, row i: Int) {
    let width = T.Vector.scalarCount
    let xi = x[i], broadcast = T.Vector(repeating: xi)
    var dot = T.Vector(), tail: T = 0
    var j = i + 1
    while j + width <= n {
        let element: T.Vector = loadVector(row + j)
        dot = dot.addingProduct(element, loadVector(x + j))
        storeVector(loadVector(w + j).addingProduct(element, broadcast), w + j)
        j += width
    }
    while j < n {
        tail = tail.addingProduct(row[j], x[j])
        w[j] = w[j].addingProduct(row[j], xi)
        j += 1
    }
    w[i] += row[i] * xi + (dot.sum() + tail)
}

/// Rows i…i+3 together: their 4 × 4 corner element by element, then every vector of columns
/// j ≥ i + 4 loaded once from x and w for the four rows.
@inline(__always)
func symmetricFourRows<T: SolverScalar>(_ a: UnsafePointer<T>, ld: Int, n: Int, x: UnsafePointer<T>, into w: UnsafeMutablePointer<T>, row i: Int) {
    let width = T.Vector.scalarCount
    let (row0, row1, row2, row3) = (a + i * ld, a + (i + 1) * ld, a + (i + 2) * ld, a + (i + 3) * ld)
    let (x0, x1, x2, x3) = (x[i], x[i + 1], x[i + 2], x[i + 3])
    // The corner: row i+k against columns i+k…i+3.
    var s0 = row0[i] * x0, s1 = row1[i + 1] * x1, s2 = row2[i + 2] * x2, s3 = row3[i + 3] * x3
    s0 = s0.addingProduct(row0[i + 1], x1); w[i + 1] = w[i + 1].addingProduct(row0[i + 1], x0)
    s0 = s0.addingProduct(row0[i + 2], x2); w[i + 2] = w[i + 2].addingProduct(row0[i + 2], x0)
    s0 = s0.addingProduct(row0[i + 3], x3); w[i + 3] = w[i + 3].addingProduct(row0[i + 3], x0)
    s1 = s1.addingProduct(row1[i + 2], x2); w[i + 2] = w[i + 2].addingProduct(row1[i + 2], x1)
    s1 = s1.addingProduct(row1[i + 3], x3); w[i + 3] = w[i + 3].addingProduct(row1[i + 3], x1)
    s2 = s2.addingProduct(row2[i + 3], x3); w[i + 3] = w[i + 3].addingProduct(row2[i + 3], x2)
    let (b0, b1, b2, b3) = (T.Vector(repeating: x0), T.Vector(repeating: x1), T.Vector(repeating: x2), T.Vector(repeating: x3))
    var d0 = T.Vector(), d1 = T.Vector(), d2 = T.Vector(), d3 = T.Vector()
    var j = i + 4
    while j + width <= n {
        let xj: T.Vector = loadVector(x + j)
        let a0: T.Vector = loadVector(row0 + j), a1: T.Vector = loadVector(row1 + j)
        let a2: T.Vector = loadVector(row2 + j), a3: T.Vector = loadVector(row3 + j)
        d0 = d0.addingProduct(a0, xj); d1 = d1.addingProduct(a1, xj)
        d2 = d2.addingProduct(a2, xj); d3 = d3.addingProduct(a3, xj)
        let wj = loadVector(w + j).addingProduct(a0, b0).addingProduct(a1, b1).addingProduct(a2, b2).addingProduct(a3, b3)
        storeVector(wj, w + j)
        j += width
    }
    while j < n {
        let xj = x[j]
        s0 = s0.addingProduct(row0[j], xj); s1 = s1.addingProduct(row1[j], xj)
        s2 = s2.addingProduct(row2[j], xj); s3 = s3.addingProduct(row3[j], xj)
        w[j] = w[j].addingProduct(row0[j], x0).addingProduct(row1[j], x1).addingProduct(row2[j], x2).addingProduct(row3[j], x3)
        j += 1
    }
    w[i] += s0 + d0.sum()
    w[i + 1] += s1 + d1.sum()
    w[i + 2] += s2 + d2.sum()
    w[i + 3] += s3 + d3.sum()
}
