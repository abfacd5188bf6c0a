// Bottom-up: from the input forward, each layer's field from its input's field.
//
// A window layer (effective kernel K, stride s, padding before p) over an input with field
// (r, j, c):
//     r' = r + (K − 1)·j,   j' = j·s,   c' = c + ((K − 1)/2 − p)·j.
// A transposed window (transposed convolution, upsampling) first spreads its input s apart, so
// positions move by j' = j/s, then sums K of them starting p before:
//     j' = j/s,   r' = r + (K − 1)·j',   c' = c + (p − (K − 1)/2)·j'.
// A merge (add, concat) takes the field of its input with the largest r; its inputs must agree on
// j and c, or the graph is misaligned (google-research/receptive_field's check, seen from the
// other end).

extension ResolvedNetwork {
    /// The receptive field of every layer (index 0, the input, included), computed from the input
    /// forward.
    ///
    /// - Complexity: O(L + E) exact rational operations for L layers and E input references.
    ///   Exact.
    /// - Throws: `ReceptiveFieldError.overflow` if a field quantity does not fit in a fraction of
    ///   64-bit integers.
    public func receptiveFieldsBottomUp() throws(ReceptiveFieldError) -> [LayerField] {
        var fields: [LayerField] = []
        fields.reserveCapacity(layers.count)
        for layer in layers {
            guard !layer.inputs.isEmpty else {
                fields.append(LayerField(layer: layer.name, field: Spatial(square: .identity), misalignment: nil))
                continue
            }
            var misalignment = layer.inputs.lazy.compactMap { fields[$0].misalignment }.first
            let field = try layer.axes.map { (axis, resolved) throws(ReceptiveFieldError) -> AxisField in
                var chosen = fields[layer.inputs[0]].field[axis]
                for input in layer.inputs.dropFirst() {
                    let candidate = fields[input].field[axis]
                    if misalignment == nil, candidate.jump != chosen.jump || candidate.centre != chosen.centre {
                        misalignment = "inputs of '\(layer.name)' disagree (\(axis.rawValue)): '\(layers[input].name)' has jump \(candidate.jump.exactDecimal) and centre \(candidate.centre.exactDecimal), the larger field so far jump \(chosen.jump.exactDecimal) and centre \(chosen.centre.exactDecimal)"
                    }
                    if candidate.size > chosen.size { chosen = candidate }
                }
                return try exactly(layer.name, "the \(axis.rawValue) field") { () throws(RationalOverflow) in
                    try Self.forward(chosen, through: resolved.geometry)
                }
            }
            fields.append(LayerField(layer: layer.name, field: field, misalignment: misalignment))
        }
        return fields
    }

    /// The field after one layer, from the field before it.
    static func forward(_ field: AxisField, through geometry: AxisGeometry) throws(RationalOverflow) -> AxisField {
        let (r, j, c) = (field.size, field.jump, field.centre)
        switch geometry {
        case .identity:
            return field
        case .window(let kernel, let stride, let offset):
            let span = Rational(kernel - 1)
            let shift = try span.divided(by: Rational(2)).subtracting(Rational(offset))
            return try AxisField(size: r.adding(span.multiplied(by: j)), jump: j.multiplied(by: Rational(stride)),
                                 centre: c.adding(shift.multiplied(by: j)))
        case .transposedWindow(let kernel, let stride, let offset):
            let span = Rational(kernel - 1)
            let jump = try j.divided(by: Rational(stride))
            let shift = try Rational(offset).subtracting(span.divided(by: Rational(2)))
            return try AxisField(size: r.adding(span.multiplied(by: jump)), jump: jump, centre: c.adding(shift.multiplied(by: jump)))
        }
    }
}
