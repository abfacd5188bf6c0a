/// What a family needs to know to build its cases for one run.
public struct CaseRequest: Sendable {
    /// Sizes from `--sizes`, in the family's own notation (matmul: `512` or `MxNxK`); nil for the
    /// family's defaults.
    public var sizes: [String]?
    /// Element types from `--dtype` (`f32`, `f64`).
    public var dtypes: [String]
    /// A named set of shapes from `--preset`; nil for the defaults.
    public var preset: String?
    /// Smaller defaults, for CI and a first look.
    public var quick: Bool

    public init(sizes: [String]? = nil, dtypes: [String] = ["f32", "f64"], preset: String? = nil, quick: Bool = false) {
        self.sizes = sizes
        self.dtypes = dtypes
        self.preset = preset
        self.quick = quick
    }
}

/// A bad request, described so that the user can fix the argument at fault.
public struct CaseRequestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A kernel family as `bench` sees it: its variants, its defaults, and how to build its cases.
public struct Family: Sendable {
    public let name: String
    public let summary: String
    public let variants: [Variant]
    /// Human-readable default sizes and presets, for `bench list`.
    public let defaultSizes: String
    public let presets: [String]
    public let makeCases: @Sendable (CaseRequest) throws -> [Case]

    public init(
        name: String, summary: String, variants: [Variant], defaultSizes: String, presets: [String] = [],
        makeCases: @escaping @Sendable (CaseRequest) throws -> [Case]
    ) {
        self.name = name
        self.summary = summary
        self.variants = variants
        self.defaultSizes = defaultSizes
        self.presets = presets
        self.makeCases = makeCases
    }
}
