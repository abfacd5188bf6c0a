// Top-down: from one output layer back to the input, as google-research/receptive_field computes
// it (receptive_field_computation.py). At every tensor on the way, (r, j, P) is the field of one
// output element measured in that tensor's positions. Going back through a window layer (effective
// kernel K — that is, k replaced by d(k − 1) + 1 —, stride s, padding before p):
//     r_in = s·r + (K − s),   j_in = s·j,   P_in = s·P + p.
// A transposed window is a stride-1 window of K with padding K − 1 − p over its input spread s
// apart, and spreading is a window of one tap with stride 1/s:
//     r₁ = r + K − 1,   P₁ = P + K − 1 − p,   then   r_in = (r₁ − 1)/s + 1,   j_in = j/s,   P_in = P₁/s.
// A tensor that several paths reach keeps the largest r; paths that disagree on j or on the
// centre shift (r − 1)/2 − P make the graph misaligned.

extension ResolvedNetwork {
    /// The receptive field of layer `output` (an index into `layers`), computed from that layer
    /// back to the input.
    ///
    /// - Complexity: O(L + E) exact rational operations for the L layers and E input references
    ///   up to `output`. Exact.
    /// - Throws: `ReceptiveFieldError.overflow` if a field quantity does not fit.
    public func receptiveFieldTopDown(of output: Int) throws(ReceptiveFieldError) -> LayerField {
        guard layers.indices.contains(output) else { fatalError("receptiveFieldTopDown: layer index \(output) is not in 0..<\(layers.count)") }
        var misalignment: String?
        func field(along axis: SpatialAxis) throws(ReceptiveFieldError) -> AxisField {
            // fieldAt[n]: the output's field in tensor n's positions, once some path reached n.
            var fieldAt = [Backward?](repeating: nil, count: output + 1)
            fieldAt[output] = Backward(size: .one, jump: .one, padding: .zero)
            for index in stride(from: output, through: 1, by: -1) {
                guard let here = fieldAt[index] else { continue }
                let layer = layers[index]
                let back = try exactly(layer.name, "the \(axis.rawValue) field") { () throws(RationalOverflow) in
                    try Self.backward(here, through: layer.axes[axis].geometry)
                }
                for input in layer.inputs {
                    guard let seen = fieldAt[input] else {
                        fieldAt[input] = back
                        continue
                    }
                    let (seenShift, backShift) = try exactly(layer.name, "the \(axis.rawValue) centre") { () throws(RationalOverflow) in
                        (try seen.centreShift(), try back.centreShift())
                    }
                    if misalignment == nil, seen.jump != back.jump || seenShift != backShift {
                        misalignment = "paths from '\(layers[input].name)' to '\(layers[output].name)' disagree (\(axis.rawValue)): one has jump \(seen.jump.exactDecimal) and centre shift \(seenShift.exactDecimal), the path through '\(layer.name)' jump \(back.jump.exactDecimal) and centre shift \(backShift.exactDecimal)"
                    }
                    if back.size > seen.size { fieldAt[input] = back }
                }
            }
            guard let atInput = fieldAt[0] else { fatalError("unreachable: every layer descends from the input") }
            return try exactly(layers[output].name, "the \(axis.rawValue) field") { () throws(RationalOverflow) in
                try AxisField(size: atInput.size, jump: atInput.jump, effectivePadding: atInput.padding)
            }
        }
        let field = Spatial(try field(along: .height), try field(along: .width))
        return LayerField(layer: layers[output].name, field: field, misalignment: misalignment)
    }

    /// `receptiveFieldTopDown(of:)` for every layer, input included.
    ///
    /// - Complexity: O(L·(L + E)) exact rational operations. Exact.
    /// - Throws: `ReceptiveFieldError.overflow` if a field quantity does not fit.
    public func receptiveFieldsTopDown() throws(ReceptiveFieldError) -> [LayerField] {
        var fields: [LayerField] = []
        for index in layers.indices { fields.append(try receptiveFieldTopDown(of: index)) }
        return fields
    }

    /// One output element's field in some tensor's positions, seen from the output.
    struct Backward {
        var size: Rational
        var jump: Rational
        var padding: Rational

        /// (r − 1)/2 − P: where the field's centre sits relative to the tensor's element 0.
        func centreShift() throws(RationalOverflow) -> Rational {
            try size.subtracting(.one).divided(by: Rational(2)).subtracting(padding)
        }
    }

    /// The field before one layer, from the field after it.
    static func backward(_ field: Backward, through geometry: AxisGeometry) throws(RationalOverflow) -> Backward {
        switch geometry {
        case .identity:
            return field
        case .window(let kernel, let stride, let offset):
            return try windowBackward(field, kernel: Rational(kernel), stride: Rational(stride), offset: Rational(offset))
        case .transposedWindow(let kernel, let stride, let offset):
            let spread = try windowBackward(field, kernel: Rational(kernel), stride: .one, offset: Rational(kernel - 1 - offset))
            return try windowBackward(spread, kernel: .one, stride: Rational(1, stride), offset: .zero)
        }
    }

    /// r_in = s·r + (k − s), j_in = s·j, P_in = s·P + p: google-research/receptive_field's
    /// `_get_rf_size_node_input`, `_get_effective_stride_node_input` and
    /// `_get_effective_padding_node_input`, with a rational stride.
    private static func windowBackward(_ field: Backward, kernel: Rational, stride: Rational, offset: Rational) throws(RationalOverflow) -> Backward {
        Backward(size: try stride.multiplied(by: field.size).adding(kernel.subtracting(stride)),
                 jump: try stride.multiplied(by: field.jump),
                 padding: try stride.multiplied(by: field.padding).adding(offset))
    }
}
