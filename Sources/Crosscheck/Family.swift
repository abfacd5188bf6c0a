/// How large the cases of a run are, when `--sizes` does not say.
public enum RunScale: String, Sendable {
    /// The family's default sizes: what `bench` runs.
    case full
    /// Small sizes and few samples: `bench --quick`, CI, a first look.
    case quick
    /// The smallest sizes that still cover the kernels' seams (edges, tails, threading splits):
    /// what `swift test` walks.
    case test
}

/// What a family needs to know to build its cases for one run, already addressed to it.
public struct CaseRequest: Sendable {
    /// Sizes from `--sizes`, in the family's own notation; nil for the defaults of `scale`.
    public var sizes: [String]?
    /// Element types: `--dtype` intersected with the family's own, in the family's order.
    public var dtypes: [ElementType]
    /// A named set of sizes from `--preset`, one the family has; nil for the defaults.
    public var preset: String?
    public var scale: RunScale
    /// Libraries the user named on the command line (`--blas NAME=PATH`, `--lapack NAME=PATH`),
    /// for families that compare implementations loaded at run time.
    public var libraries: [LibraryChoice]

    public init(sizes: [String]? = nil, dtypes: [ElementType], preset: String? = nil, scale: RunScale = .full,
                libraries: [LibraryChoice] = []) {
        self.sizes = sizes
        self.dtypes = dtypes
        self.preset = preset
        self.scale = scale
        self.libraries = libraries
    }
}

/// A library to load at run time: its kind (`blas`, `lapack`), the name its variants carry, and
/// its path.
public struct LibraryChoice: Sendable, Equatable {
    public let kind: String
    public let name: String
    public let path: String

    public init(kind: String, name: String, path: String) {
        self.kind = kind
        self.name = name
        self.path = path
    }
}

/// A request a family cannot serve, described so that the user can fix the argument at fault.
public struct CaseRequestError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How a family writes its sizes, and the sizes it runs by default.
///
/// `Spec` is the family's own description of one workload (a matmul's m, n, k and transposes).
/// `parse` turns one `--sizes` entry into a spec, throwing a `CaseRequestError` that quotes the
/// entry when it is malformed, negative, or so large that its products overflow (use
/// `SizeArithmetic`).
public struct Sizes<Spec>: @unchecked Sendable {
    /// The notation, as `bench list` and error messages show it (for example `N or MxNxK[-tA][-tB]`).
    /// Families whose notations are equal accept one bare `--sizes` together.
    public let notation: String
    public let parse: (String) throws -> Spec
    public let defaults: [Spec]
    public let quick: [Spec]
    public let test: [Spec]
    /// Named sets of sizes, selected by `--preset NAME`, with a line of description each.
    public let presets: [(name: String, description: String, specs: [Spec])]

    public init(
        notation: String, parse: @escaping (String) throws -> Spec,
        defaults: [Spec], quick: [Spec], test: [Spec]? = nil,
        presets: [(name: String, description: String, specs: [Spec])] = []
    ) {
        self.notation = notation
        self.parse = parse
        self.defaults = defaults
        self.quick = quick
        self.test = test ?? quick
        self.presets = presets
    }
}

/// A kernel family as `bench` sees it: its element types, sizes, counters, and how to build its
/// cases. Nothing in the harness or the command line knows any family in particular.
///
/// Declaring a family (see the README's "Adding a kernel family"):
///
///     let sum = Family(
///         name: "sum", summary: "sum of n Doubles; shape is n",
///         elementTypes: [.f64],
///         sizes: Sizes(notation: "N", parse: { try SizeArithmetic.positiveInteger($0) },
///                      defaults: [1 << 20], quick: [1000]),
///         cases: { n, dtype in [sumCase(n)] })
public struct Family: Sendable {
    public let name: String
    public let summary: String
    public let elementTypes: [ElementType]
    public let notation: String
    public let presets: [(name: String, description: String)]
    public let counters: [Counter]
    /// Facts for the run's context file (a library's version, say), gathered once per run.
    public let context: @Sendable () -> [String: String]
    /// Lines `list` prints about the machine (which libraries were found, say).
    public let details: @Sendable () -> [String]
    let buildCases: @Sendable (CaseRequest) throws -> [Case]
    let describeSizes: @Sendable () -> String

    /// - Parameters:
    ///   - name: the `kernel` column and the prefix `--filter` matches (`name/variant`).
    ///   - elementTypes: the types the family has, in the order it runs them.
    ///   - sizes: its notation, parser, default, quick and test sizes, and presets.
    ///   - counters: the counters its calls report (see `Counter`).
    ///   - context: facts for the context file.
    ///   - cases: the cases of one spec in one element type (several when the family varies
    ///     something else per size, such as an input distribution).
    public init<Spec>(
        name: String, summary: String, elementTypes: [ElementType], sizes: Sizes<Spec>,
        counters: [Counter] = [], context: @escaping @Sendable () -> [String: String] = { [:] },
        details: @escaping @Sendable () -> [String] = { [] },
        cases: @escaping @Sendable (Spec, ElementType) throws -> [Case]
    ) {
        self.init(name: name, summary: summary, elementTypes: elementTypes, sizes: sizes, counters: counters,
                  context: context, details: details, casesFor: { spec, dtype, _ in try cases(spec, dtype) })
    }

    /// A family whose cases depend on more of the request than the size and element type (the
    /// libraries the user named, say).
    public init<Spec>(
        name: String, summary: String, elementTypes: [ElementType], sizes: Sizes<Spec>,
        counters: [Counter] = [], context: @escaping @Sendable () -> [String: String] = { [:] },
        details: @escaping @Sendable () -> [String] = { [] },
        casesFor cases: @escaping @Sendable (Spec, ElementType, CaseRequest) throws -> [Case]
    ) {
        if elementTypes.isEmpty { fatalError("family \(name): declare at least one element type (.none if it has no type)") }
        if Set(counters.map(\.name)).count != counters.count { fatalError("family \(name): two counters share a name") }
        self.name = name
        self.summary = summary
        self.elementTypes = elementTypes
        self.notation = sizes.notation
        self.presets = sizes.presets.map { ($0.name, $0.description) }
        self.counters = counters
        self.context = context
        self.details = details
        self.describeSizes = {
            func list(_ specs: [Spec]) -> String { specs.map { "\($0)" }.joined(separator: ", ") }
            return "\(list(sizes.defaults)) (--quick: \(list(sizes.quick)))"
        }
        self.buildCases = { request in
            let specs: [Spec]
            if let texts = request.sizes {
                specs = try texts.map(sizes.parse)
            } else if let preset = request.preset {
                guard let chosen = sizes.presets.first(where: { $0.name == preset }) else {
                    throw CaseRequestError("--preset '\(preset)' is not a preset of \(name)")
                }
                specs = chosen.specs
            } else {
                switch request.scale {
                case .full: specs = sizes.defaults
                case .quick: specs = sizes.quick
                case .test: specs = sizes.test
                }
            }
            return try request.dtypes.flatMap { dtype in try specs.flatMap { try cases($0, dtype, request) } }
        }
    }

    /// The family's cases for `request`, in order: element types, then sizes. Allocates nothing.
    public func cases(_ request: CaseRequest) throws -> [Case] {
        let unknown = request.dtypes.filter { !elementTypes.contains($0) }
        if !unknown.isEmpty {
            throw CaseRequestError("\(name) has no element type \(unknown.map(\.rawValue).joined(separator: ", ")) (it has \(elementTypes.map(\.rawValue).joined(separator: ", ")))")
        }
        let built = try buildCases(request)
        for testCase in built where testCase.kernel != name {
            fatalError("family \(name) built a case of kernel \(testCase.kernel)")
        }
        return built
    }

    /// The default and quick sizes, for `bench list`.
    public var sizesDescription: String { describeSizes() }

    /// The variant names of the family's default and quick cases and presets, in order of first
    /// appearance, for `bench list` and `--filter`. Throws what building those cases throws (a
    /// library named with `--blas`/`--lapack` that cannot be loaded, say).
    public func variantNames(libraries: [LibraryChoice] = []) throws -> [String] {
        var requests = [RunScale.full, .quick].map { CaseRequest(dtypes: elementTypes, scale: $0, libraries: libraries) }
        requests += presets.map { CaseRequest(dtypes: elementTypes, preset: $0.name, libraries: libraries) }
        var names: [String] = []
        for request in requests {
            for testCase in try cases(request) {
                for variant in testCase.variants where !names.contains(variant.name) { names.append(variant.name) }
            }
        }
        return names
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// Overflow-checked arithmetic on sizes, for families' `parse` and memory estimates: a size such
/// as `99999999x99999999` must be a clear error, not a trap or a wrapped product.
public enum SizeArithmetic {
    /// An integer at least `minimum` (0 by default), or a `CaseRequestError` naming `text` and `entry`.
    public static func integer(_ text: Substring, in entry: String, minimum: Int = 0) throws -> Int {
        guard let value = Int(text) else {
            if !text.isEmpty && text.allSatisfy(\.isASCIIDigit) {
                throw CaseRequestError("--sizes: '\(entry)': '\(text)' is too large for a 64-bit integer")
            }
            throw CaseRequestError("--sizes: '\(entry)': '\(text)' is not an integer ≥ \(minimum)")
        }
        guard value >= minimum else { throw CaseRequestError("--sizes: '\(entry)': '\(text)' is less than \(minimum)") }
        return value
    }

    /// A positive integer: a whole `--sizes` entry such as `1000`.
    public static func positiveInteger(_ entry: String) throws -> Int {
        try integer(Substring(entry), in: entry, minimum: 1)
    }

    /// The product of `factors`, or a `CaseRequestError` about `entry` when it overflows `Int`.
    public static func product(_ factors: [Int], entry: String) throws -> Int {
        var result = 1
        for factor in factors {
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { throw CaseRequestError("--sizes: '\(entry)' is too large: \(factors.map(String.init).joined(separator: " × ")) overflows a 64-bit integer") }
            result = value
        }
        return result
    }

    /// `Σ bytes·count` over `terms`, saturating at `Int.max` instead of overflowing, for memory
    /// estimates (any saturated estimate exceeds every machine's memory).
    public static func bytes(_ terms: [(count: Int, bytes: Int)]) -> Int {
        var total = 0
        for term in terms {
            let (size, overflow) = term.count.multipliedReportingOverflow(by: term.bytes)
            if overflow { return .max }
            let (sum, overflowSum) = total.addingReportingOverflow(size)
            if overflowSum { return .max }
            total = sum
        }
        return total
    }
}

extension SizeArithmetic {
    /// `a·b`, or `Int.max` when it overflows: for memory estimates, where a saturated value is
    /// refused as larger than any machine's memory.
    public static func saturatingProduct(_ a: Int, _ b: Int) -> Int {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : value
    }
}
