// Receptive fields: which input positions an element of a layer's output depends on.
//
// Along one axis, the field of every output element of a layer has the same size r, and
// neighbouring elements' fields are j input positions apart (the jump, or effective stride), so
// one more number places them all: the centre c of element 0's field. Element o's field is then
// centred at c + o·j and spans [c + o·j − (r − 1)/2, c + o·j + (r − 1)/2] in input coordinates
// (element i of the input sits at coordinate i). google-research/receptive_field reports the same
// field as an effective padding P = (r − 1)/2 − c: element o's field starts at o·j − P.
//
// Two independent recursions compute it (ReceptiveFieldBottomUp.swift from the input forward,
// ReceptiveFieldTopDown.swift from the output back, as google-research/receptive_field does), and
// ReceptiveFieldInfluence.swift checks both against the positions an output actually reads. With
// transposed convolutions or upsampling the jump becomes a fraction and the formulas give the
// tightest interval of that translation-invariant form that contains every element's inputs; an
// element may then read a strict subset of it (which elements do depends on o mod the stride).

/// The receptive field of a layer's output along one axis, in input coordinates.
public struct AxisField: Equatable, Sendable {
    /// r: the extent of one output element's field, in input positions (centres of the first and
    /// last input positions it reads, plus one).
    public var size: Rational
    /// j: input positions between the fields of neighbouring output elements (effective stride).
    public var jump: Rational
    /// c: the centre of output element 0's field, in input coordinates (negative when the field
    /// reaches into the padding).
    public var centre: Rational
    /// P = (r − 1)/2 − c: google-research/receptive_field's effective padding; element o's field
    /// starts at o·j − P.
    public var effectivePadding: Rational

    /// The field of the input itself: every element reads only itself.
    public static let identity = AxisField(size: .one, jump: .one, centre: .zero, effectivePadding: .zero)

    /// A field given by its size, jump and centre; the effective padding follows.
    /// - Throws: `RationalOverflow` if (r − 1)/2 − c does not fit.
    public init(size: Rational, jump: Rational, centre: Rational) throws(RationalOverflow) {
        self.init(size: size, jump: jump, centre: centre,
                  effectivePadding: try size.subtracting(.one).divided(by: Rational(2)).subtracting(centre))
    }

    /// A field given by its size, jump and effective padding; the centre follows.
    /// - Throws: `RationalOverflow` if (r − 1)/2 − P does not fit.
    public init(size: Rational, jump: Rational, effectivePadding: Rational) throws(RationalOverflow) {
        self.init(size: size, jump: jump, centre: try size.subtracting(.one).divided(by: Rational(2)).subtracting(effectivePadding),
                  effectivePadding: effectivePadding)
    }

    private init(size: Rational, jump: Rational, centre: Rational, effectivePadding: Rational) {
        self.size = size
        self.jump = jump
        self.centre = centre
        self.effectivePadding = effectivePadding
    }

    /// The interval [first, last] of input coordinates spanned by the field of output element
    /// `index`: c + index·j ∓ (r − 1)/2.
    /// - Throws: `RationalOverflow` if a bound does not fit.
    public func span(ofElement index: Int) throws(RationalOverflow) -> (first: Rational, last: Rational) {
        let centreOfElement = try centre.adding(jump.multiplied(by: Rational(index)))
        let halfWidth = try size.subtracting(.one).divided(by: Rational(2))
        return (try centreOfElement.subtracting(halfWidth), try centreOfElement.adding(halfWidth))
    }
}

/// The receptive field of one layer's output, on both axes.
public struct LayerField: Equatable, Sendable {
    public var layer: String
    public var field: Spatial<AxisField>
    /// Nil when every path from the input to this layer agrees on jump and centre; otherwise which
    /// paths disagree, where. The field is then that of the path with the largest field.
    public var misalignment: String?

    public init(layer: String, field: Spatial<AxisField>, misalignment: String?) {
        self.layer = layer
        self.field = field
        self.misalignment = misalignment
    }
}

/// Runs an exact rational computation for `layer`, turning an overflow into a
/// `ReceptiveFieldError` that names the layer and the quantity.
func exactly<T>(_ layer: String, _ quantity: String, _ body: () throws(RationalOverflow) -> T) throws(ReceptiveFieldError) -> T {
    do {
        return try body()
    } catch {
        throw .overflow(layer: layer, quantity: quantity)
    }
}
