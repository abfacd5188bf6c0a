import Crosscheck
import Kernels

/// One receptive-field workload: a built-in network at an input size (nil: its own default).
public struct ReceptiveFieldSpec: Sendable, Hashable, CustomStringConvertible {
    public var network: String
    public var input: Spatial<Int>?

    public init(network: String, input: Spatial<Int>? = nil) {
        self.network = network
        self.input = input
    }

    /// `name`, or `name@HxW` with an input size.
    public var description: String { network + (input.map { "@\($0.height)x\($0.width)" } ?? "") }

    /// The case that checks the output-size arithmetic against PyTorch's shape table.
    public static let pyTorchShapes = "pytorch-shapes"

    /// `NETWORK`, `NETWORK@N` or `NETWORK@HxW`, NETWORK a built-in network; or `pytorch-shapes`.
    public static func parse(_ entry: String) throws -> ReceptiveFieldSpec {
        if entry == pyTorchShapes { return ReceptiveFieldSpec(network: pyTorchShapes) }
        let parts = entry.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard ReceptiveFieldNetwork.builtins.contains(where: { $0.name == name }) else {
            throw CaseRequestError("--sizes: '\(entry)': '\(name)' is not a built-in network (\(ReceptiveFieldNetwork.builtins.map(\.name).joined(separator: ", ")))")
        }
        guard parts.count == 2 else { return ReceptiveFieldSpec(network: name) }
        let sides = parts[1].split(separator: "x", omittingEmptySubsequences: false)
        guard (1...2).contains(sides.count) else { throw CaseRequestError("--sizes: '\(entry)': the input is N or HxW after '@'") }
        let height = try SizeArithmetic.integer(sides[0], in: entry, minimum: 1)
        let width = try SizeArithmetic.integer(sides[sides.count - 1], in: entry, minimum: 1)
        // The network must resolve at that input (every layer's output non-empty): a usage error
        // now rather than a failed case later.
        do {
            _ = try ReceptiveFieldNetwork.builtin(name, input: Spatial(height, width))?.resolved()
        } catch {
            throw CaseRequestError("--sizes: '\(entry)': \(name) does not fit a \(height)x\(width) input: \(error)")
        }
        return ReceptiveFieldSpec(network: name, input: Spatial(height, width))
    }
}

/// A network's receptive fields, the reference for both variants: the top-down recursion of
/// google-research/receptive_field, computed once per case at the case's input and at an input
/// large enough for the influence check.
public final class ReceptiveFieldCase: PreparedCase {
    public let network: ResolvedNetwork
    public let topDown: [LayerField]
    public let checkNetwork: ResolvedNetwork
    public let checkTopDown: [LayerField]

    init(_ spec: ReceptiveFieldSpec) throws {
        guard let definition = try ReceptiveFieldNetwork.builtin(spec.network, input: spec.input) else {
            throw CaseRequestError("'\(spec.network)' is not a built-in network")
        }
        let resolved = try definition.resolved()
        let checkInput = try spec.input ?? definition.influenceCheckInput(layers: resolved.outputLayers.map { resolved.layers[$0].name })
        guard let large = try ReceptiveFieldNetwork.builtin(spec.network, input: checkInput)?.resolved() else {
            throw CaseRequestError("'\(spec.network)' is not a built-in network")
        }
        network = resolved
        topDown = try resolved.receptiveFieldsTopDown()
        checkNetwork = large
        checkTopDown = try large.receptiveFieldsTopDown()
    }

    /// The bottom-up comparison's check: one comparison per layer of the network.
    public func check(_ comparisons: [ReceptiveFieldComparison]) -> Verification {
        check(comparisons, expected: topDown.map(\.layer))
    }

    /// Exact: every comparison must hold (`mismatches`, bound 0), and there must be one for every
    /// item `expected` (`missing`, bound 0) — a variant that compares nothing must not pass.
    public func check(_ comparisons: [ReceptiveFieldComparison], expected: [String]) -> Verification {
        let failures = comparisons.filter { !$0.holds }
        let compared = Set(comparisons.map(\.item))
        let missing = expected.filter { !compared.contains($0) }
        if let first = missing.first {
            return Verification(
                model: "exact", criteria: [Criterion("mismatches", value: Double(failures.count), bound: 0),
                                           Criterion("missing", value: Double(missing.count), bound: 0)],
                maxAbsError: .nan, maxRelError: .nan, worst: first,
                note: "\(missing.count) of \(expected.count) layers not compared; first: '\(first)'")
        }
        return Verification(
            model: "exact", criteria: [Criterion("mismatches", value: Double(failures.count), bound: 0),
                                       Criterion("missing", value: 0, bound: 0)],
            maxAbsError: failures.isEmpty ? 0 : .nan, maxRelError: failures.isEmpty ? 0 : .nan,
            worst: failures.first?.item ?? "",
            note: failures.first.map { "\(failures.count) of \(comparisons.count) differ; first: \($0.detail)" } ?? passedNote(comparisons))
    }

    /// "N layers: what holds" when every comparison says the same, the details otherwise.
    private func passedNote(_ comparisons: [ReceptiveFieldComparison]) -> String {
        let details = Set(comparisons.map(\.detail))
        return details.count == 1 && comparisons.count > 1 ? "\(comparisons.count) layers: \(details.first!)" : comparisons.map(\.detail).joined(separator: "; ")
    }
}

/// One comparison a variant made: what (a layer), whether it holds, and the values.
public struct ReceptiveFieldComparison: Sendable {
    public var item: String
    public var holds: Bool
    public var detail: String
}

/// Receptive fields as a verify-only family: nothing here is worth timing (a network's fields take
/// microseconds), but every built-in network's fields are checked three independent ways.
///
/// - reference: the top-down recursion (google-research/receptive_field's method);
/// - `bottom-up`: the forward recursion, which must equal it exactly (size, jump, centre,
///   effective padding and alignment) on every layer, both axes;
/// - `influence`: for each output layer, at an input large enough for interior elements (or the
///   `@HxW` one; skipped when that is too small), the bounding box of the inputs that interior elements actually read, found by
///   propagating a boolean mask back through the layers: equal to the top-down field when no
///   up-convolution comes first, and inside it, over one phase period, otherwise (U-Net).
///
/// Shape: the network, `@HxW` when an input size is given.
public enum ReceptiveFieldSuite {
    /// Every built-in network at its default input, and the arithmetic against PyTorch's shapes.
    public static let allNetworks = ReceptiveFieldNetwork.builtins.map { ReceptiveFieldSpec(network: $0.name) }
        + [ReceptiveFieldSpec(network: ReceptiveFieldSpec.pyTorchShapes)]

    static let variants: [Variant<ReceptiveFieldCase>] = [
        Variant("bottom-up") { c, _ in
            let bottomUp = try c.network.receptiveFieldsBottomUp()
            return zip(bottomUp, c.topDown).map { up, down in
                let holds = up.field == down.field && (up.misalignment == nil) == (down.misalignment == nil)
                return ReceptiveFieldComparison(item: up.layer, holds: holds, detail: holds ? "bottom-up = top-down (size, jump, centre, effective padding, alignment; both axes)" :
                    "'\(up.layer)': bottom-up \(describe(up)), top-down \(describe(down))")
            }
        },
        Variant("influence", check: { c, comparisons in
            c.check(comparisons, expected: c.checkNetwork.outputLayers.map { c.checkNetwork.layers[$0].name })
        }) { c, _ in
            // An input too small for interior elements (a `@HxW` below the field) is a skip, not a failure.
            try c.checkNetwork.outputLayers.map { index in
                let layer = c.checkNetwork.layers[index].name, size = c.checkNetwork.layers[0].outputSize
                let at = "at \(size.height)x\(size.width)"
                switch try c.checkNetwork.checkInfluence(of: index, against: c.checkTopDown) {
                case .equal(let element):
                    return ReceptiveFieldComparison(item: layer, holds: true,
                                                    detail: "'\(layer)' \(at): element (\(element.height), \(element.width)): the inputs it reads span exactly its field")
                case .contained(let first, let period, _, _):
                    return ReceptiveFieldComparison(item: layer, holds: true,
                                                    detail: "'\(layer)' \(at): \(period.height)x\(period.width) elements from (\(first.height), \(first.width)) read inside their fields")
                case .failed(let reason):
                    return ReceptiveFieldComparison(item: layer, holds: false, detail: reason)
                case .skipped(let reason):
                    throw Skip("'\(layer)' \(at): \(reason)")
                }
            }
        },
    ]

    static func describe(_ field: LayerField) -> String {
        let axes = [field.field.height, field.field.width].map { "r \($0.size.exactDecimal) j \($0.jump.exactDecimal) c \($0.centre.exactDecimal)" }
        return axes.joined(separator: " / ") + (field.misalignment == nil ? "" : " misaligned")
    }

    public static let family = Family(
        name: "rf",
        summary: "receptive fields of the built-in networks, verify-only: bottom-up = top-down = influence box, and the output-size arithmetic against PyTorch's shape table; shape is the network[@HxW] or pytorch-shapes",
        elementTypes: [.none],
        sizes: Sizes(notation: "NETWORK[@N|@HxW] or pytorch-shapes", parse: ReceptiveFieldSpec.parse, defaults: allNetworks, quick: allNetworks, test: allNetworks),
        cases: { spec, _ in
            if spec.network == ReceptiveFieldSpec.pyTorchShapes { return [ConvolutionArithmeticCase.makeCase()] }
            // Masks of at most a few (r/j)² bits per tensor; 64 MiB bounds every built-in network.
            return [Case(kernel: "rf", dtype: .none, shape: spec.description, workload: Workload(flops: 0, bytes: 0), memoryBytes: 64 << 20,
                  reference: nil, variants: variants, verifyOnly: true, prepare: { try ReceptiveFieldCase(spec) })]
        })
}
