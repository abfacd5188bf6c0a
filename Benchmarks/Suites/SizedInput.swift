import Crosscheck

/// A workload of `count` items drawn from the input distribution `input`, written `N-input`
/// (`1000000-clustered`) or `N` for the first distribution: the size notation of the algorithm
/// families whose inputs come in kinds (maximum gap, geometric predicates).
public struct SizedInput<Input: RawRepresentable & CaseIterable & Hashable & Sendable>: Sendable, Hashable, CustomStringConvertible
where Input.RawValue == String {
    public var count: Int
    public var input: Input

    public init(_ count: Int, _ input: Input) {
        self.count = count
        self.input = input
    }

    public var description: String { "\(count)-\(input.rawValue)" }

    /// The notation for `Sizes`, listing the distributions.
    static var notation: String { "N[-\(Input.allCases.map(\.rawValue).joined(separator: "|"))]" }

    /// Parses `N` or `N-input`, N at least `minimum`.
    static func parse(_ text: String, minimum: Int) throws -> SizedInput {
        // Empty pieces are kept, so that '-5' and '5-' are refused instead of read as 5.
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first else { throw CaseRequestError("--sizes: empty entry; use \(notation)") }
        let count = try SizeArithmetic.integer(first, in: text, minimum: minimum)
        guard parts.count == 2 else { return SizedInput(count, Input.allCases.first!) }
        guard let input = Input(rawValue: String(parts[1])) else {
            throw CaseRequestError("--sizes: '\(text)': unknown input '\(parts[1])' (known: \(Input.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return SizedInput(count, input)
    }

    /// `counts` in the first distribution and `others` in every other one.
    static func sweep(_ counts: [Int], others: Int) -> [SizedInput] {
        counts.map { SizedInput($0, Input.allCases.first!) } + Input.allCases.dropFirst().map { SizedInput(others, $0) }
    }
}
