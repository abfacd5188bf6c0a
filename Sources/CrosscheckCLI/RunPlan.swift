import Crosscheck
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The command line of a run, as typed: strings and numbers not yet checked against the families.
public struct RunArguments: Sendable {
    public var filter: String?
    /// `--sizes` entries: `LIST` (bare, for every selected family) or `FAMILY=LIST`.
    public var sizes: [String] = []
    public var threads: String = "1,2"
    /// nil: each family's own element types.
    public var dtype: String?
    public var minTime: Double = 0.02
    public var samples: Int = 10
    public var preset: String?
    public var quick = false
    /// `--blas NAME=PATH` and `--lapack NAME=PATH` entries, by kind.
    public var libraries: [String: [String]] = [:]

    public init() {}
}

/// What this machine allows a run to ask for.
public struct MachineLimits: Sendable {
    /// Bytes of memory available to a new allocation (`MemAvailable` of /proc/meminfo).
    public var availableMemory: Int
    /// Logical CPUs this process may run on.
    public var cores: Int

    public init(availableMemory: Int, cores: Int) {
        self.availableMemory = availableMemory
        self.cores = cores
    }

    /// Thread counts above this are refused: beyond a few threads per core a run only measures
    /// contention, and the peak it compares against stops at the core count.
    public var maxThreads: Int { 4 * cores }

    /// Read off this machine.
    public static func current() -> MachineLimits {
        MachineLimits(availableMemory: readAvailableMemory(), cores: ProcessInfo.processInfo.activeProcessorCount)
    }

    static func readAvailableMemory() -> Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
            }
        }
        return Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }
}

/// A usage error: an argument that cannot be served, named with the value at fault. `bench`
/// prints it and exits with status 64 (EX_USAGE) before running anything.
public struct UsageError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Everything a run will do, decided and checked before the first case is prepared: the
/// families and cases selected, their element types and sizes, the thread counts, the timing
/// options. Building a plan allocates no case's memory.
public struct RunPlan {
    public let families: [Family]
    public let cases: [Case]
    public let options: RunOptions
    /// Things the user should know that do not stop the run (a duplicate size dropped, a family
    /// left out because it lacks the requested element type).
    public let warnings: [String]
    /// Rows the run will produce.
    public let rowCount: Int
    /// The libraries named with `--blas` and `--lapack`.
    public let libraries: [LibraryChoice]

    /// Every counter of the selected families, once each (two families may share a name), for
    /// the report's columns and the table.
    public var counters: [Counter] { CSVReport(counters: families.flatMap(\.counters)).counters }

    public init(_ arguments: RunArguments, families allFamilies: [Family], limits: MachineLimits = .current()) throws {
        var warnings: [String] = []
        let filter = try arguments.filter.map(VariantFilter.init)
        let threads = try Self.parseThreads(arguments.threads, limit: limits.maxThreads, cores: limits.cores, warnings: &warnings)
        if !(arguments.minTime > 0 && arguments.minTime <= 10) {
            throw UsageError("--min-time must be a number of seconds in (0, 10], got \(arguments.minTime)")
        }
        if !(1...1000).contains(arguments.samples) {
            throw UsageError("--samples must be between 1 and 1000, got \(arguments.samples)")
        }
        let dtypes = try arguments.dtype.map { try Self.parseElementTypes($0, warnings: &warnings) }
        let libraries = try Self.parseLibraries(arguments.libraries)
        self.libraries = libraries

        // Families the filter can select (by the variants their cases can have).
        var families = try allFamilies.filter { family in
            guard let filter else { return true }
            do {
                return try family.variantNames(libraries: libraries).contains { filter.matches("\(family.name)/\($0)") }
            } catch let error as CaseRequestError {
                // A library named with --blas/--lapack that cannot be loaded, say: not "no variant matches".
                throw UsageError("\(family.name): \(error.description)")
            }
        }
        if families.isEmpty {
            throw UsageError("--filter '\(arguments.filter ?? "")' matches no kernel or variant; '\(CrosscheckCLI.commandName) list' shows them")
        }
        if let preset = arguments.preset {
            let having = families.filter { $0.presets.contains { $0.name == preset } }
            if having.isEmpty {
                let known = families.flatMap { f in f.presets.map { "\(f.name): \($0.name)" } }
                throw UsageError("--preset '\(preset)' is not a preset of \(families.map(\.name).joined(separator: ", "))"
                                 + (known.isEmpty ? "" : " (presets: \(known.joined(separator: ", ")))"))
            }
            for family in families where !having.contains(where: { $0.name == family.name }) {
                warnings.append("\(family.name) has no preset '\(preset)': left out")
            }
            families = having
        }
        var sizes = try Self.addressSizes(arguments.sizes, families: families, all: allFamilies, warnings: &warnings)

        // Element types: --dtype intersected with each family's own.
        var requests: [(Family, CaseRequest)] = []
        for family in families {
            let types = dtypes.map { wanted in family.elementTypes.filter(wanted.contains) } ?? family.elementTypes
            if types.isEmpty {
                warnings.append("\(family.name) has no element type \(dtypes!.map(\.rawValue).joined(separator: ",")) (it has \(family.elementTypes.map(\.rawValue).joined(separator: ","))): left out")
                sizes[family.name] = nil
                continue
            }
            if arguments.preset != nil && sizes[family.name] != nil {
                warnings.append("\(family.name): --sizes given, so --preset \(arguments.preset!) is not used for it")
            }
            requests.append((family, CaseRequest(
                sizes: sizes[family.name], dtypes: types, preset: arguments.preset,
                scale: arguments.quick ? .quick : .full, libraries: libraries)))
        }
        if requests.isEmpty {
            let have = families.map { "\($0.name) has \($0.elementTypes.map(\.rawValue).joined(separator: ", "))" }
            throw UsageError("--dtype \(arguments.dtype ?? ""): no selected family has these element types (\(have.joined(separator: "; ")))")
        }

        var cases: [Case] = []
        var seen = Set<String>()
        for (family, request) in requests {
            let built: [Case]
            do { built = try family.cases(request) } catch let error as CaseRequestError {
                throw UsageError("\(family.name): \(error.description)")
            }
            for testCase in built {
                let key = "\(testCase.kernel) \(testCase.dtype.rawValue) \(testCase.shape)"
                if seen.insert(key).inserted { cases.append(testCase) } else { warnings.append("\(key) asked for twice: run once") }
            }
        }

        var options = RunOptions()
        options.threads = threads
        options.minSampleTime = arguments.quick ? min(arguments.minTime, 0.005) : arguments.minTime
        options.samples = arguments.quick ? min(arguments.samples, 3) : arguments.samples
        options.maxTimePerVariant = arguments.quick ? 0.5 : 3
        if let filter { options.variantFilter = { filter.matches($0) } }

        // The filter must select a variant that the cases built actually have.
        let runner = Runner(options: options)
        let rowCount = cases.reduce(0) { $0 + runner.plan($1).count }
        if rowCount == 0 {
            let names = Set(cases.flatMap { c in c.variants.map { "\(c.kernel)/\($0.name)" } }).sorted()
            throw UsageError("--filter '\(arguments.filter ?? "")' matches no variant of the cases this run would build; they have: \(names.joined(separator: ", "))")
        }
        cases = cases.filter { !runner.plan($0).isEmpty }

        // Memory: every case must fit in what the machine has free now.
        for testCase in cases where testCase.memoryBytes > limits.availableMemory {
            throw UsageError("\(testCase.kernel) \(testCase.dtype.rawValue) \(testCase.shape) needs an estimated \(Self.gigabytes(testCase.memoryBytes)) of memory, more than the \(Self.gigabytes(limits.availableMemory)) available; choose smaller --sizes")
        }

        self.families = requests.map(\.0)
        self.cases = cases
        self.options = options
        self.warnings = warnings
        self.rowCount = rowCount
    }

    /// `--threads`: positive integers up to `limit`, duplicates dropped.
    static func parseThreads(_ text: String, limit: Int, cores: Int, warnings: inout [String]) throws -> [Int] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Int] = []
        for item in items {
            guard let value = Int(item), value >= 1 else {
                throw UsageError("--threads must be a comma-separated list of positive integers, got '\(text)'")
            }
            guard value <= limit else {
                throw UsageError("--threads \(value) is more than \(limit) (4 × the \(cores) logical CPUs this process may use)")
            }
            if values.contains(value) { warnings.append("--threads \(value) given twice: run once") } else { values.append(value) }
        }
        return values
    }

    /// `--blas NAME=PATH` / `--lapack NAME=PATH`: a name of letters, digits, `-` and `_` (it
    /// becomes part of variant names), a path that exists, each name once per kind.
    static func parseLibraries(_ entries: [String: [String]]) throws -> [LibraryChoice] {
        var choices: [LibraryChoice] = []
        for (kind, values) in entries.sorted(by: { $0.key < $1.key }) {
            for entry in values {
                guard let equals = entry.firstIndex(of: "=") else {
                    throw UsageError("--\(kind) '\(entry)': expected NAME=PATH, for example --\(kind) mkl=/opt/intel/lib/libmkl_rt.so")
                }
                let name = String(entry[..<equals]), path = String(entry[entry.index(after: equals)...])
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                    throw UsageError("--\(kind) '\(entry)': the name must be letters, digits, '-' or '_'")
                }
                guard !path.isEmpty else { throw UsageError("--\(kind) '\(entry)': no path after '='") }
                if path.contains("/") {
                    // A regular file (symbolic links followed): dlopen of a FIFO blocks forever.
                    var info = stat()
                    guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                        throw UsageError("--\(kind) '\(entry)': '\(path)' is not a file")
                    }
                }
                if choices.contains(where: { $0.kind == kind && $0.name == name }) {
                    throw UsageError("--\(kind) name '\(name)' given twice")
                }
                choices.append(LibraryChoice(kind: kind, name: name, path: path))
            }
        }
        return choices
    }

    static func parseElementTypes(_ text: String, warnings: inout [String]) throws -> [ElementType] {
        var types: [ElementType] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let type = ElementType(rawValue: item) else {
                throw UsageError("--dtype '\(item)' is not an element type (known: \(ElementType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if types.contains(type) { warnings.append("--dtype \(item) given twice") } else { types.append(type) }
        }
        return types
    }

    /// Splits `--sizes` entries by family: `FAMILY=LIST` goes to that family, a bare `LIST` to every
    /// selected family, which must then share one notation.
    static func addressSizes(_ entries: [String], families: [Family], all: [Family], warnings: inout [String]) throws -> [String: [String]] {
        var byFamily: [String: [String]] = [:]
        for entry in entries {
            var target: [Family] = families
            var list = Substring(entry)
            if let equals = entry.firstIndex(of: "=") {
                let name = String(entry[..<equals])
                guard let family = all.first(where: { $0.name == name }) else {
                    throw UsageError("--sizes '\(entry)': no family is named '\(name)' (families: \(all.map(\.name).joined(separator: ", ")))")
                }
                guard families.contains(where: { $0.name == name }) else {
                    throw UsageError("--sizes '\(entry)' is for \(name), which this run does not select (--filter, --preset and --dtype select \(families.map(\.name).joined(separator: ", ")))")
                }
                target = [family]
                list = entry[entry.index(after: equals)...]
            }
            let items = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if items.contains(where: \.isEmpty) {
                throw UsageError("--sizes '\(entry)' has an empty size; separate sizes with single commas")
            }
            if target.count > 1 && Set(target.map(\.notation)).count > 1 {
                let described = target.map { "\($0.name) (\($0.notation))" }.joined(separator: ", ")
                let example = target.map { "--sizes \($0.name)=..." }.joined(separator: " ")
                throw UsageError("--sizes '\(entry)' is ambiguous: the selected families write sizes differently: \(described). Address each family: \(example)")
            }
            for family in target {
                for item in items {
                    if byFamily[family.name]?.contains(item) == true {
                        warnings.append("--sizes: \(family.name) size \(item) given twice: run once")
                    } else {
                        byFamily[family.name, default: []].append(item)
                    }
                }
            }
        }
        return byFamily
    }

    static func gigabytes(_ bytes: Int) -> String {
        bytes == .max ? "more than 9 EB" : String(format: "%.1f GB", Double(bytes) / 1e9)
    }
}

/// A compiled `--filter`: a regular expression matched anywhere in `kernel/variant`.
public struct VariantFilter: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>

    public init(_ pattern: String) throws {
        do { regex = try Regex(pattern) } catch {
            throw UsageError("--filter '\(pattern)' is not a valid regular expression: \(error)")
        }
    }

    public func matches(_ text: String) -> Bool { (try? regex.firstMatch(in: text)) != nil }
}
