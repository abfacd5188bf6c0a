/// The vector passes of conjugate gradient, fused so that each touches every vector it needs
/// once: SIMD over `T.Vector` (16 Float or 8 Double on AVX-512), split across threads for long
/// vectors.
///
/// Reductions are summed in blocks of `reductionBlock` elements: within a block in T, with four
/// vector accumulators; each block's sum is rounded to Double and the blocks are added in order.
/// The blocks do not depend on the thread count, so a reduction gives the same bits on one thread
/// or two, and its error is |ŝ − s| ≤ γ_{b/(4w) + log₂(4w)}(T)·Σ|xᵢyᵢ| + γ_{n/b}(Double)·Σ|xᵢyᵢ|
/// with b = 2048, w the vector width: about 40 roundings of T per term, whatever n.

/// Elements per block of a reduction (see above).
let reductionBlock = 2048

/// Fewest elements of a vector pass worth a second thread: at 20 GB/s a thread streams 2¹⁶
/// Double pairs in about 50 µs, against tens of µs to wake it (see `Threading/Parallel.swift`).
let minimumElementsPerThread = 1 << 16

/// Threads worth using for a pass over `count` elements, at most `threads`.
@inline(__always)
func usefulThreads(count: Int, threads: Int) -> Int {
    max(1, min(threads, count / minimumElementsPerThread))
}

@inline(__always)
func loadVector<T: SolverScalar>(_ pointer: UnsafePointer<T>) -> T.Vector {
    UnsafeRawPointer(pointer).loadUnaligned(as: T.Vector.self)
}

@inline(__always)
func storeVector<T: SolverScalar>(_ value: T.Vector, _ pointer: UnsafeMutablePointer<T>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: T.Vector.self)
}

/// Σ over blocks of `block(first, end)`, each block `reductionBlock` long (the last shorter),
/// blocks split across threads and summed in order in Double.
@inline(__always)
func reduceInBlocks(count: Int, threads: Int, _ block: (Int, Int) -> Double) -> Double {
    let blocks = (count + reductionBlock - 1) / reductionBlock
    let parts = usefulThreads(count: count, threads: threads)
    if parts == 1 {
        var total = 0.0
        for index in 0..<blocks { total += block(index * reductionBlock, min(count, (index + 1) * reductionBlock)) }
        return total
    }
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: blocks) { partial in
        parallelFor(parts) { part in
            let (first, end) = share(of: blocks, part: part, parts: parts)
            for index in first..<end { partial[index] = block(index * reductionBlock, min(count, (index + 1) * reductionBlock)) }
        }
        var total = 0.0
        for index in 0..<blocks { total += partial[index] }
        return total
    }
}

/// Runs `body(first, end)` on `parts` contiguous shares of `0..<count`.
@inline(__always)
func forEachShare(count: Int, threads: Int, _ body: (Int, Int) -> Void) {
    let parts = usefulThreads(count: count, threads: threads)
    parallelFor(parts) { part in
        let (first, end) = share(of: count, part: part, parts: parts)
        body(first, end)
    }
}

/// The sum of `term(i)` over `first..<end` for a vector term and its scalar tail, in T with four
/// accumulators, rounded to Double once.
@inline(__always)
func blockSum<T: SolverScalar>(_ first: Int, _ end: Int, vector term: (Int) -> T.Vector, scalar scalarTerm: (Int) -> T) -> Double {
    let width = T.Vector.scalarCount
    var sum0 = T.Vector(), sum1 = T.Vector(), sum2 = T.Vector(), sum3 = T.Vector()
    var i = first
    while i + 4 * width <= end {
        sum0 += term(i); sum1 += term(i + width); sum2 += term(i + 2 * width); sum3 += term(i + 3 * width)
        i += 4 * width
    }
    while i + width <= end {
        sum0 += term(i)
        i += width
    }
    var total = ((sum0 + sum1) + (sum2 + sum3)).sum()
    while i < end {
        total += scalarTerm(i)
        i += 1
    }
    return Double(total)
}

/// xᵀy. Reads 2n values; 2n flops.
func vectorDot<T: SolverScalar>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>, count: Int, threads: Int) -> Double {
    reduceInBlocks(count: count, threads: threads) { first, end in
        blockSum(first, end, vector: { (i: Int) -> T.Vector in loadVector(x + i) * loadVector(y + i) }, scalar: { x[$0] * y[$0] })
    }
}

/// p ← z + β·p (p ← z when β = 0, so that p is not read). Reads 2n values, writes n.
func vectorDirection<T: SolverScalar>(_ z: UnsafePointer<T>, beta: T, direction p: UnsafeMutablePointer<T>, count: Int, threads: Int) {
    forEachShare(count: count, threads: threads) { first, end in
        directionRange(z, beta: beta, from: p, into: p, first, end)
    }
}

/// out ← z + β·old on `first..<end` (out ← z when β = 0, old not read); `out` may be `old`.
@inline(__always)
func directionRange<T: SolverScalar>(_ z: UnsafePointer<T>, beta: T, from old: UnsafePointer<T>, into out: UnsafeMutablePointer<T>,
                                     _ first: Int, _ end: Int) {
    if beta == 0 {
        copyValues(from: z + first, to: out + first, count: end - first)
        return
    }
    let width = T.Vector.scalarCount
    let betaVector = T.Vector(repeating: beta)
    var i = first
    while i + width <= end {
        storeVector(loadVector(z + i).addingProduct(betaVector, loadVector(old + i)), out + i)
        i += width
    }
    while i < end {
        out[i] = z[i].addingProduct(beta, old[i])
        i += 1
    }
}

/// x ← x + α·p, r ← r − α·q, and returns rᵀr (of the updated r), in one pass: reads 4n values,
/// writes 2n; 6n flops.
func vectorUpdate<T: SolverScalar>(alpha: T, direction p: UnsafePointer<T>, product q: UnsafePointer<T>,
                                   solution x: UnsafeMutablePointer<T>, residual r: UnsafeMutablePointer<T>, count: Int, threads: Int) -> Double {
    let alphaVector = T.Vector(repeating: alpha), minusAlphaVector = T.Vector(repeating: -alpha)
    return reduceInBlocks(count: count, threads: threads) { first, end in
        blockSum(first, end, vector: { (i: Int) -> T.Vector in
            storeVector(loadVector(x + i).addingProduct(alphaVector, loadVector(p + i)), x + i)
            let updated = loadVector(r + i).addingProduct(minusAlphaVector, loadVector(q + i))
            storeVector(updated, r + i)
            return updated * updated
        }, scalar: { i in
            x[i] = x[i].addingProduct(alpha, p[i])
            r[i] = r[i].addingProduct(-alpha, q[i])
            return r[i] * r[i]
        })
    }
}

/// r ← b − q and returns rᵀr. Reads 2n values, writes n.
func vectorResidual<T: SolverScalar>(_ b: UnsafePointer<T>, product q: UnsafePointer<T>, residual r: UnsafeMutablePointer<T>, count: Int, threads: Int) -> Double {
    reduceInBlocks(count: count, threads: threads) { first, end in
        blockSum(first, end, vector: { (i: Int) -> T.Vector in
            let difference = loadVector(b + i) - loadVector(q + i)
            storeVector(difference, r + i)
            return difference * difference
        }, scalar: { i in
            r[i] = b[i] - q[i]
            return r[i] * r[i]
        })
    }
}

/// z ← d ⊙ r (elementwise) and returns rᵀz. Reads 2n values, writes n.
func vectorDiagonalScale<T: SolverScalar>(_ r: UnsafePointer<T>, by d: UnsafePointer<T>, into z: UnsafeMutablePointer<T>, count: Int, threads: Int) -> Double {
    reduceInBlocks(count: count, threads: threads) { first, end in
        blockSum(first, end, vector: { (i: Int) -> T.Vector in
            let residual = loadVector(r + i)
            let scaled = residual * loadVector(d + i)
            storeVector(scaled, z + i)
            return residual * scaled
        }, scalar: { i in
            z[i] = r[i] * d[i]
            return r[i] * z[i]
        })
    }
}
