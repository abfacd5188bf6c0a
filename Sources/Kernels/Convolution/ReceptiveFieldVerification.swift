// Verification of a network's receptive fields, shared by the tests, `rf --verify` and the
// verify-only bench family: the bottom-up and top-down recursions must agree on every layer, and
// for chosen layers the field must match the influence box of interior output elements.
//
// What "match" means. Without a transposed convolution or upsampling layer before it, a layer's
// field is exact: for an interior element (its field inside the input) the influence box equals
// the field. With one, the field is the translation-invariant envelope (see ReceptiveField.swift),
// and which inputs an element reads depends on its phase, which repeats every W elements, W the
// least common multiple of the denominators of j_L / j_T over the tensors T before the layer L.
// Then every element's box must lie inside its field; the smallest gaps at each end over one
// period are reported (zero means the envelope is reached).

/// The outcome of comparing one layer's field with influence boxes.
public enum InfluenceCheckResult: Equatable, Sendable {
    /// The box equals the field, for an interior element of a layer with integer geometry.
    case equal(element: Spatial<Int>)
    /// Every box of one period of W elements lies inside its field; the smallest gaps between box
    /// and field at the start and at the end over the period, per axis.
    case contained(firstElement: Spatial<Int>, period: Spatial<Int>, startGap: Spatial<Rational>, endGap: Spatial<Rational>)
    /// The box and the field disagree.
    case failed(String)
    /// Not checked (why: no interior element at this input size, a misaligned layer, ...).
    case skipped(String)
}

/// Bottom-up against top-down on every layer, and influence boxes on chosen layers.
public struct ReceptiveFieldVerification: Sendable {
    /// Layers where the two recursions disagree, each with both results.
    public var directionMismatches: [String]
    /// Layers compared bottom-up against top-down.
    public var layersCompared: Int
    /// Per chosen layer (by name), the influence-box comparison.
    public var influence: [(layer: String, result: InfluenceCheckResult)]

    /// True when nothing disagreed (skipped checks do not count as failures).
    public var passed: Bool {
        directionMismatches.isEmpty && !influence.contains { if case .failed = $0.result { true } else { false } }
    }
}

extension ResolvedNetwork {
    /// Compares bottom-up with top-down fields on every layer, and the bottom-up field with the
    /// influence boxes of interior elements of each layer in `influenceLayers` (indices). A layer
    /// whose masks would exceed 1 GiB is skipped, with the reason.
    ///
    /// - Complexity: O(L·(L + E)) rational operations for the two recursions, plus, per checked
    ///   layer, W influence propagations (see `influenceBox(of:element:)`), W ≤ 64.
    /// - Throws: `ReceptiveFieldError.overflow` if a field quantity does not fit.
    public func verifyReceptiveFields(influenceLayers: [Int]) throws(ReceptiveFieldError) -> ReceptiveFieldVerification {
        let bottomUp = try receptiveFieldsBottomUp()
        let topDown = try receptiveFieldsTopDown()
        var mismatches: [String] = []
        for (up, down) in zip(bottomUp, topDown) {
            let bothAligned = up.misalignment == nil && down.misalignment == nil
            if (up.misalignment == nil) != (down.misalignment == nil) || (bothAligned && up.field != down.field) {
                mismatches.append("'\(up.layer)': bottom-up \(summary(up)), top-down \(summary(down))")
            }
        }
        var influence: [(String, InfluenceCheckResult)] = []
        for index in influenceLayers {
            influence.append((layers[index].name, try checkInfluence(of: index, against: bottomUp)))
        }
        return ReceptiveFieldVerification(directionMismatches: mismatches, layersCompared: layers.count, influence: influence)
    }

    /// Compares the field of layer `index` in `fields` (one per layer, from either recursion) with
    /// the influence boxes of interior elements of that layer (see the file comment): equal when no
    /// transposed convolution or upsampling comes before it, inside the field otherwise.
    ///
    /// - Complexity: W ≤ 64 calls of `influenceBox(of:element:)`, W the phase period.
    /// - Throws: `ReceptiveFieldError.overflow` if a field quantity does not fit.
    public func checkInfluence(of index: Int, against fields: [LayerField]) throws(ReceptiveFieldError) -> InfluenceCheckResult {
        if fields.count != layers.count { fatalError("checkInfluence: \(fields.count) fields for \(layers.count) layers") }
        let layer = layers[index]
        if let misalignment = fields[index].misalignment { return .skipped("misaligned: \(misalignment)") }
        let ancestors = ancestors(of: index)
        let exact = !ancestors.contains { ancestor in
            switch layers[ancestor].operation {
            case .transposedConvolution, .upsampling: true
            default: false
            }
        }
        var period = Spatial(1, 1), first = Spatial(0, 0)
        // The masks hold about the field's extent in each tensor's positions, r / j_T per axis.
        for ancestor in ancestors {
            let extent = try fields[index].field.map { (axis, field) throws(ReceptiveFieldError) -> Int in
                try exactly(layer.name, "the \(axis.rawValue) mask size") { () throws(RationalOverflow) in
                    try field.size.divided(by: fields[ancestor].field[axis].jump).ceiling
                }
            }
            let area = extent.height.multipliedReportingOverflow(by: extent.width)
            if area.overflow || area.partialValue > 1 << 33 {
                return .skipped("the field spans \(extent.height)x\(extent.width) positions of '\(layers[ancestor].name)', too many for a mask of at most 1 GiB")
            }
        }
        for axis in SpatialAxis.allCases {
            let field = fields[index].field[axis]
            for ancestor in ancestors {
                let ratio = try exactly(layer.name, "the \(axis.rawValue) period") { () throws(RationalOverflow) in
                    try field.jump.divided(by: fields[ancestor].field[axis].jump)
                }
                // Both at most 64, so the least common multiple cannot overflow before the test.
                if ratio.denominator <= 64 { period[axis] = leastCommonMultiple(period[axis], ratio.denominator) }
                if ratio.denominator > 64 || period[axis] > 64 { return .skipped("the \(axis.rawValue) phase period exceeds 64 elements") }
            }
            // Interior elements o: c + o·j − h ≥ 0 and c + o·j + h ≤ n − 1, with h = (r − 1)/2.
            let (low, high) = try exactly(layer.name, "the \(axis.rawValue) interior") { () throws(RationalOverflow) -> (Int, Int) in
                let half = try field.size.subtracting(.one).divided(by: Rational(2))
                let low = try half.subtracting(field.centre).divided(by: field.jump).ceiling
                let high = try Rational(layers[0].axes[axis].outputSize - 1).subtracting(half).subtracting(field.centre).divided(by: field.jump).floor
                return (max(low, 0), min(high, layer.axes[axis].outputSize - 1))
            }
            let count = high - low + 1
            if count < period[axis] {
                return .skipped("no \(period[axis]) interior \(axis.rawValue) element(s) at this input size (field \(field.size.exactDecimal) against input \(layers[0].axes[axis].outputSize)); use a larger input")
            }
            first[axis] = low + (count - period[axis]) / 2
        }
        var startGap = Spatial(Rational(Int.max), Rational(Int.max)), endGap = startGap
        for step in 0..<max(period.height, period.width) {
            let element = Spatial(first.height + min(step, period.height - 1), first.width + min(step, period.width - 1))
            guard let box = influenceBox(of: index, element: element) else {
                return .failed("element (\(element.height), \(element.width)) of '\(layer.name)' reads no input, though its field lies inside the input")
            }
            for axis in SpatialAxis.allCases {
                let span = try exactly(layer.name, "the \(axis.rawValue) span") { () throws(RationalOverflow) in
                    try fields[index].field[axis].span(ofElement: element[axis])
                }
                let (start, end) = try exactly(layer.name, "the \(axis.rawValue) gap") { () throws(RationalOverflow) in
                    (try Rational(box[axis].lowerBound).subtracting(span.first), try span.last.subtracting(Rational(box[axis].upperBound)))
                }
                if start < .zero || end < .zero || (exact && (start != .zero || end != .zero)) {
                    return .failed("element (\(element.height), \(element.width)) of '\(layer.name)', \(axis.rawValue): inputs \(box[axis].lowerBound)...\(box[axis].upperBound), field \(span.first.exactDecimal)...\(span.last.exactDecimal)")
                }
                startGap[axis] = min(startGap[axis], start)
                endGap[axis] = min(endGap[axis], end)
            }
        }
        return exact ? .equal(element: first) : .contained(firstElement: first, period: period, startGap: startGap, endGap: endGap)
    }

    /// Indices of the layers whose output reaches layer `index`, itself and the input included.
    func ancestors(of index: Int) -> [Int] {
        var reached = [Bool](repeating: false, count: index + 1)
        reached[index] = true
        for node in stride(from: index, through: 1, by: -1) where reached[node] {
            for input in layers[node].inputs { reached[input] = true }
        }
        return reached.indices.filter { reached[$0] }
    }

    private func summary(_ field: LayerField) -> String {
        let axes = SpatialAxis.allCases.map { axis in
            let f = field.field[axis]
            return "\(axis.rawValue) r \(f.size.exactDecimal) j \(f.jump.exactDecimal) c \(f.centre.exactDecimal)"
        }
        return axes.joined(separator: ", ") + (field.misalignment == nil ? "" : " (misaligned)")
    }
}

extension ReceptiveFieldNetwork {
    /// An input size, at least `defaultInput`, at which each of the layers named `layers` has
    /// interior elements for the influence check: r + 24·j per axis, with (r, j) its field at the
    /// default input — about 24 elements whose fields lie inside the input, enough for phase
    /// periods up to about 20.
    ///
    /// - Complexity: that of `resolved(input:)` and `receptiveFieldsBottomUp()`.
    /// - Throws: `ReceptiveFieldError` if the network does not resolve at its default input, or a
    ///   size overflows.
    public func influenceCheckInput(layers names: [String]) throws(ReceptiveFieldError) -> Spatial<Int> {
        let resolved = try resolved()
        let fields = try resolved.receptiveFieldsBottomUp()
        var size = defaultInput
        for name in names {
            guard let index = resolved.index(of: name) else { continue }
            for axis in SpatialAxis.allCases {
                let field = fields[index].field[axis]
                let needed = try exactly(name, "the \(axis.rawValue) check input") { () throws(RationalOverflow) in
                    try field.size.adding(field.jump.multiplied(by: Rational(24))).ceiling
                }
                if size[axis] < needed { size[axis] = needed }
            }
        }
        return size
    }
}

/// lcm(a, b) for positive a, b ≤ 64.
private func leastCommonMultiple(_ a: Int, _ b: Int) -> Int {
    var (x, y) = (a, b)
    while y != 0 { (x, y) = (y, x % y) }
    return a / x * b
}
