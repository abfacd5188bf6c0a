/// Exact floating-point arithmetic on expansions (Shewchuk, "Adaptive Precision Floating-Point
/// Arithmetic and Fast Robust Geometric Predicates", 1997): a number held exactly as a sum of
/// Doubles, stored smallest magnitude first, no two of which overlap. The routines below are
/// the paper's error-free transformations (Two-Sum, Two-Product) and its zero-eliminating
/// expansion sum and scale, which the exact geometric predicates are built from.
///
/// Exact as long as nothing overflows or underflows (see `validatePredicateCoordinates`).
/// Round-to-nearest-even Double arithmetic is assumed, as IEEE 754 gives it; Two-Product uses a
/// fused multiply-add (`addingProduct`) in place of the paper's splitting.

/// a + b = x + y exactly, x = fl(a + b) (Knuth's Two-Sum, no condition on the magnitudes).
@inline(__always)
func twoSum(_ a: Double, _ b: Double) -> (Double, Double) {
    let x = a + b
    let bVirtual = x - a
    let aVirtual = x - bVirtual
    return (x, (a - aVirtual) + (b - bVirtual))
}

/// a + b = x + y exactly, x = fl(a + b), provided |a| ≥ |b| (Dekker's Fast-Two-Sum).
@inline(__always)
func fastTwoSum(_ a: Double, _ b: Double) -> (Double, Double) {
    let x = a + b
    return (x, b - (x - a))
}

/// The rounding error of x = fl(a − b): a − b = x + y exactly.
@inline(__always)
func twoDifferenceTail(_ a: Double, _ b: Double, _ x: Double) -> Double {
    let bVirtual = a - x
    let aVirtual = x + bVirtual
    return (a - aVirtual) + (bVirtual - b)
}

/// a · b = x + y exactly, x = fl(a · b): the error y is one fused multiply-add.
@inline(__always)
func twoProduct(_ a: Double, _ b: Double) -> (Double, Double) {
    let x = a * b
    return (x, (-x).addingProduct(a, b))
}

/// (a1 + a0) − (b1 + b0) as a four-component expansion, smallest first (the paper's
/// Two-Two-Diff), for two two-component expansions.
@inline(__always)
func twoTwoDifference(_ a1: Double, _ a0: Double, _ b1: Double, _ b0: Double) -> (Double, Double, Double, Double) {
    // (a1 + a0) − b0 → j + z + x0
    let (i0, x0) = twoSum(a0, -b0)
    let (j, z) = twoSum(a1, i0)
    // (j + z) − b1 → x3 + x2 + x1
    let (i1, x1) = twoSum(z, -b1)
    let (x3, x2) = twoSum(j, i1)
    return (x0, x1, x2, x3)
}

/// a·d − c·b exactly, as a four-component expansion written to `h` (smallest first).
@inline(__always)
func crossProduct(_ a: Double, _ b: Double, _ c: Double, _ d: Double, into h: UnsafeMutablePointer<Double>) {
    let (s1, s0) = twoProduct(a, d)
    let (t1, t0) = twoProduct(c, b)
    (h[0], h[1], h[2], h[3]) = twoTwoDifference(s1, s0, t1, t0)
}

/// h = e + f (the paper's Fast-Expansion-Sum with zero elimination): the components of e and
/// f merged by increasing magnitude and summed with Two-Sum, keeping the nonzero errors. (The
/// paper's Fast-Two-Sum for the second component gives the same result as Two-Sum there.) e
/// and f are non-overlapping expansions, smallest first; h must hold elen + flen components and
/// may not alias e or f. Returns h's length (at least 1: zero is the expansion [0]).
func expansionSum(_ e: UnsafePointer<Double>, _ elen: Int, _ f: UnsafePointer<Double>, _ flen: Int,
                  into h: UnsafeMutablePointer<Double>) -> Int {
    var eindex = 0, findex = 0
    /// The next component of the merge: e's unless f's is smaller in magnitude.
    func smallest() -> Double {
        if findex == flen || (eindex < elen && (f[findex] > e[eindex]) == (f[findex] > -e[eindex])) {
            eindex += 1
            return e[eindex - 1]
        }
        findex += 1
        return f[findex - 1]
    }
    var hindex = 0
    var q = smallest()
    for _ in 1..<(elen + flen) {
        let (sum, error) = twoSum(q, smallest())
        q = sum
        if error != 0 { h[hindex] = error; hindex += 1 }
    }
    if q != 0 || hindex == 0 { h[hindex] = q; hindex += 1 }
    return hindex
}

/// h = b · e (the paper's Scale-Expansion with zero elimination). h must hold 2·elen
/// components and may not alias e. Returns h's length (at least 1).
func scaleExpansion(_ e: UnsafePointer<Double>, _ elen: Int, by b: Double, into h: UnsafeMutablePointer<Double>) -> Int {
    var (q, hh) = twoProduct(e[0], b)
    var hindex = 0
    if hh != 0 { h[hindex] = hh; hindex += 1 }
    for i in 1..<elen {
        let (product1, product0) = twoProduct(e[i], b)
        let (sum, low) = twoSum(q, product0)
        if low != 0 { h[hindex] = low; hindex += 1 }
        (q, hh) = fastTwoSum(product1, sum)
        if hh != 0 { h[hindex] = hh; hindex += 1 }
    }
    if q != 0 || hindex == 0 { h[hindex] = q; hindex += 1 }
    return hindex
}

/// Scratch space for the exact predicates' expansions: one buffer, handed out front to back
/// and reset before each predicate. One workspace per thread.
struct ExpansionWorkspace {
    private let storage: UnsafeMutablePointer<Double>
    private let capacity: Int
    private var used = 0

    /// Enough for the exact in-circle test (its largest intermediate has 1536 components).
    static let defaultCapacity = 16384

    init(capacity: Int = defaultCapacity) {
        storage = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    func deallocate() { storage.deallocate() }

    mutating func reset() { used = 0 }

    /// `count` fresh components.
    mutating func allocate(_ count: Int) -> UnsafeMutablePointer<Double> {
        if used + count > capacity { fatalError("ExpansionWorkspace: \(count) more components exceed the capacity \(capacity)") }
        defer { used += count }
        return storage + used
    }

    /// e · f exactly: the sum over f's components of e scaled by each. Returns the expansion
    /// (in this workspace) and its length, at most 2·elen·flen.
    mutating func product(_ e: UnsafePointer<Double>, _ elen: Int, _ f: UnsafePointer<Double>, _ flen: Int) -> (UnsafeMutablePointer<Double>, Int) {
        let bound = 2 * elen * flen
        var accumulator = allocate(bound), spare = allocate(bound)
        let scaled = allocate(2 * elen)
        var length = scaleExpansion(e, elen, by: f[0], into: accumulator)
        for j in 1..<flen {
            let scaledLength = scaleExpansion(e, elen, by: f[j], into: scaled)
            length = expansionSum(accumulator, length, scaled, scaledLength, into: spare)
            swap(&accumulator, &spare)
        }
        return (accumulator, length)
    }

    /// e + f exactly, in this workspace.
    mutating func sum(_ e: UnsafePointer<Double>, _ elen: Int, _ f: UnsafePointer<Double>, _ flen: Int) -> (UnsafeMutablePointer<Double>, Int) {
        let h = allocate(elen + flen)
        return (h, expansionSum(e, elen, f, flen, into: h))
    }
}
