import Crosscheck
import Foundation
import Testing
@testable import CrosscheckCLI
#if canImport(Glibc)
import Glibc
#endif

/// Every argument is checked before anything runs: the trials of a careless user, each a usage
/// error (or a de-duplication), never a crash, a hang or a silent no-op.
@Suite("Command line: arguments checked before anything runs")
struct CommandLineTests {
    let limits = MachineLimits(availableMemory: 8 << 30, cores: 2)

    func plan(_ configure: (inout RunArguments) -> Void) throws -> RunPlan {
        var arguments = RunArguments()
        configure(&arguments)
        return try RunPlan(arguments, families: TestFamilies.all, limits: limits)
    }

    func usageError(_ configure: (inout RunArguments) -> Void) -> String? {
        do { _ = try plan(configure); return nil } catch let error as UsageError { return error.description } catch { return "\(error)" }
    }

    /// A library named with --blas that a family cannot load is a usage error naming it, not
    /// "--filter matches no kernel" (the family's variant names were built with the error dropped).
    @Test func aLibraryThatCannotBeLoadedIsNamed() throws {
        let loading = Family(
            name: "loading", summary: "a family with a user-named library", elementTypes: [.none],
            sizes: Sizes<String>(notation: "NAME", parse: { $0 }, defaults: ["a"], quick: ["a"]),
            casesFor: { name, _, request in
                if let choice = request.libraries.first {
                    throw CaseRequestError("--\(choice.kind) \(choice.name)=\(choice.path): not a shared library")
                }
                let variants = [Variant<TestFamilies.TableCase>("formula") { _, _ in 195 }]
                return [Case(kernel: "loading", dtype: .none, shape: name, workload: Workload(flops: 0, bytes: 0), memoryBytes: 0,
                             reference: nil, variants: variants, verifyOnly: true, prepare: { TestFamilies.TableCase() })]
            })
        var arguments = RunArguments()
        arguments.filter = "loading"
        arguments.libraries = ["blas": ["bad=/etc/hostname"]]
        let message: String? = {
            do { _ = try RunPlan(arguments, families: TestFamilies.all + [loading], limits: limits); return nil } catch { return "\(error)" }
        }()
        #expect(message?.contains("--blas bad=/etc/hostname: not a shared library") == true, "\(message ?? "no error")")
        arguments.libraries = [:]
        #expect(try RunPlan(arguments, families: TestFamilies.all + [loading], limits: limits).cases.count == 1)
    }

    @Test func defaultsRunEveryFamilyInItsOwnElementTypes() throws {
        let plan = try plan { _ in }
        #expect(plan.families.map(\.name) == ["doubling", "counting", "table"])
        #expect(plan.cases.map { "\($0.kernel) \($0.dtype.rawValue)" } == ["doubling f64", "counting i64", "counting i32", "table none"])
        #expect(plan.counters.map(\.name) == ["additions"])
    }

    @Test func dtypeIsIntersectedWithEachFamily() throws {
        let integers = try plan { $0.dtype = "i32" }
        #expect(integers.cases.map(\.kernel) == ["counting"])
        #expect(integers.warnings.contains { $0.contains("doubling has no element type i32") })
        #expect(usageError { $0.dtype = "f16" }?.contains("no selected family has") == true)
        #expect(usageError { $0.dtype = "float" }?.contains("not an element type") == true)
    }

    @Test func sizesAreAddressedPerFamilyWhenNotationsDiffer() throws {
        // doubling ("N") and counting ("capacity N") write sizes differently.
        let bare = usageError { $0.sizes = ["512"] }
        #expect(bare?.contains("ambiguous") == true && bare?.contains("--sizes doubling=") == true)
        let addressed = try plan { $0.sizes = ["doubling=512,8", "counting=7"]; $0.filter = "doubling|counting" }
        #expect(addressed.cases.map(\.shape) == ["512", "8", "7", "7"])
        // One family selected: a bare list is that family's.
        #expect(try plan { $0.sizes = ["5"]; $0.filter = "doubling" }.cases.map(\.shape) == ["5"])
        #expect(usageError { $0.sizes = ["nope=5"] }?.contains("no family is named 'nope'") == true)
        #expect(usageError { $0.sizes = ["counting=5"]; $0.filter = "doubling" }?.contains("does not select") == true)
    }

    @Test func malformedSizesAreUsageErrors() {
        #expect(usageError { $0.sizes = [""]; $0.filter = "doubling" }?.contains("empty size") == true)
        #expect(usageError { $0.sizes = [""] }?.contains("empty size") == true)
        #expect(usageError { $0.sizes = ["16,,16"]; $0.filter = "doubling" }?.contains("empty size") == true)
        #expect(usageError { $0.sizes = ["-5"]; $0.filter = "doubling" } != nil)
        #expect(usageError { $0.sizes = ["0"]; $0.filter = "doubling" } != nil)
    }

    /// A value below the family's minimum says so; it is not "too large".
    @Test func belowMinimumSaysSo() {
        #expect(throws: CaseRequestError("--sizes: '0': '0' is less than 1")) { try SizeArithmetic.positiveInteger("0") }
        #expect(throws: CaseRequestError("--sizes: '99999999999999999999': '99999999999999999999' is too large for a 64-bit integer")) {
            try SizeArithmetic.positiveInteger("99999999999999999999")
        }
    }

    /// `--blas`/`--lapack` name a regular file: a FIFO would block dlopen forever.
    @Test func libraryThatIsAFIFOIsAUsageError() throws {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-fifo-\(getpid()).so").path
        unlink(fifo)
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        #expect(usageError { $0.libraries = ["blas": ["pipe=\(fifo)"]] }?.contains("is not a file") == true)
    }

    @Test func duplicatesAreRunOnce() throws {
        let sizes = try plan { $0.sizes = ["16,16", "doubling=16"]; $0.filter = "doubling" }
        #expect(sizes.cases.map(\.shape) == ["16"])
        #expect(sizes.warnings.contains { $0.contains("size 16 given twice") })
        let threads = try plan { $0.threads = "1,1,2"; $0.filter = "doubling/threaded" }
        #expect(threads.options.threads == [1, 2])
        #expect(threads.warnings.contains { $0.contains("--threads 1 given twice") })
    }

    @Test func threadCountsAreBounded() {
        #expect(usageError { $0.threads = "1000" }?.contains("more than 8") == true)
        #expect(usageError { $0.threads = "0" } != nil)
        #expect(usageError { $0.threads = "" } != nil)
        #expect(usageError { $0.threads = "1,,2" } != nil)
    }

    /// A case larger than the memory available is refused before it is prepared, and sizes whose
    /// estimate overflows saturate rather than wrap.
    @Test func memoryIsCheckedBeforeAnythingRuns() {
        let tooLarge = usageError { $0.sizes = ["doubling=99999999999"]; $0.filter = "doubling" }
        #expect(tooLarge?.contains("needs an estimated") == true)
        #expect(usageError { $0.sizes = ["doubling=999999999999999999"]; $0.filter = "doubling" }?.contains("more than 9 EB") == true)
    }

    @Test func theFilterMustSelectAVariantOfTheCasesBuilt() {
        #expect(usageError { $0.filter = "nothing-like-this" }?.contains("matches no kernel or variant") == true)
        #expect(usageError { $0.filter = "[" }?.contains("not a valid regular expression") == true)
        #expect(usageError { $0.filter = "doubling/ref$"; $0.dtype = "i64" }?.contains("no selected family has") == true)
    }

    @Test func timingOptionsAreBounded() {
        #expect(usageError { $0.minTime = 0 } != nil)
        #expect(usageError { $0.minTime = .infinity } != nil)
        #expect(usageError { $0.minTime = 1e9 } != nil)
        #expect(usageError { $0.samples = 0 } != nil)
        #expect(usageError { $0.samples = 10_000_000 } != nil)
    }

    @Test func presetsLeaveOutFamiliesWithoutThem() {
        #expect(usageError { $0.preset = "large" }?.contains("is not a preset") == true)
    }
}

/// The report's files: checked before the run, streamed, renamed at the end, and never anything
/// but a regular file replaced.
@Suite("Command line: report files")
struct ReportFilesTests {
    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-report-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    func refused(_ path: String) -> String? {
        do { _ = try ReportFiles(path: path); return nil } catch { return "\(error)" }
    }

    @Test func contextNameCannotCollide() throws {
        let files = try ReportFiles(path: directory.appendingPathComponent("package.csv").path)
        #expect(files.context.lastPathComponent == "package.context.json")
        #expect(files.partial.lastPathComponent == "package.csv.partial")
        #expect(refused(directory.appendingPathComponent("out.json").path)?.contains(".json") == true)
    }

    @Test func onlyRegularFilesOrNewPaths() throws {
        #expect(refused(directory.path + "/")?.contains("directory") == true)
        #expect(refused(directory.path)?.contains("is a directory") == true)
        let target = directory.appendingPathComponent("target.csv")
        FileManager.default.createFile(atPath: target.path, contents: Data("keep".utf8))
        let link = directory.appendingPathComponent("link.csv")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        #expect(refused(link.path)?.contains("symbolic link") == true)
        let fifo = directory.appendingPathComponent("fifo.csv")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        #expect(refused(fifo.path)?.contains("FIFO") == true)
        #expect(refused("/dev/null")?.contains("device") == true)
        // A side file that is not a regular file is refused too.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("side.context.json"), withIntermediateDirectories: true)
        #expect(refused(directory.appendingPathComponent("side.csv").path)?.contains("context file") == true)
        #expect(try String(contentsOf: target, encoding: .utf8) == "keep")
    }

    /// A report that would replace an input of the run (`--baseline`, a `--blas` library) is
    /// refused, whether named by the same path, through a hard or symbolic link to it, or as a
    /// side file; the input is left as it was. (Found by a trial: `--csv` naming the `--blas`
    /// library overwrote it.)
    @Test func reportFilesNeverReplaceAnInput() throws {
        let library = directory.appendingPathComponent("lib.so")
        #expect(FileManager.default.createFile(atPath: library.path, contents: Data("library".utf8)))
        func refusedFor(_ csv: String) -> String? {
            do { try ReportFiles(path: csv).refuseReplacing([("--blas mine", library.path)]); return nil } catch { return "\(error)" }
        }
        #expect(refusedFor(library.path)?.contains("would replace --blas mine") == true)
        let hardLink = directory.appendingPathComponent("hard.csv")
        #expect(link(library.path, hardLink.path) == 0)
        #expect(refusedFor(hardLink.path)?.contains("would replace --blas mine") == true)
        #expect(refusedFor(directory.path + "/./lib.so")?.contains("would replace") == true)
        // The side file: --csv NAME makes NAME.context.json.
        let context = directory.appendingPathComponent("side.context.json")
        #expect(FileManager.default.createFile(atPath: context.path, contents: Data("{}".utf8)))
        do {
            try ReportFiles(path: directory.appendingPathComponent("side.csv").path).refuseReplacing([("--baseline", context.path)])
            Issue.record("the context file replacing the input was not refused")
        } catch { #expect("\(error)".contains("would replace --baseline"), "\(error)") }
        let symbolic = directory.appendingPathComponent("symbolic.so")
        try FileManager.default.createSymbolicLink(at: symbolic, withDestinationURL: library)
        do {
            try ReportFiles(path: library.path).refuseReplacing([("--lapack x", symbolic.path)])
            Issue.record("a report replacing a library named through a symbolic link was not refused")
        } catch { #expect("\(error)".contains("would replace --lapack x"), "\(error)") }
        #expect(refusedFor(directory.appendingPathComponent("other.csv").path) == nil)
        #expect(try String(contentsOf: library, encoding: .utf8) == "library")
    }

    /// Rows reach the partial file as they are appended; `finish` renames it over the report.
    @Test func rowsStreamThenTheReportIsRenamedIntoPlace() throws {
        let csv = directory.appendingPathComponent("run.csv")
        FileManager.default.createFile(atPath: csv.path, contents: Data("old report".utf8))
        let files = try ReportFiles(path: csv.path)
        let stream = try files.open(header: "a,b\r\n")
        try stream.append("1,2\r\n")
        #expect(try String(contentsOf: files.partial, encoding: .utf8) == "a,b\r\n1,2\r\n")
        #expect(try String(contentsOf: csv, encoding: .utf8) == "old report")
        try stream.finish()
        #expect(try String(contentsOf: csv, encoding: .utf8) == "a,b\r\n1,2\r\n")
        #expect(!FileManager.default.fileExists(atPath: files.partial.path))
    }

    /// The partial files of an interrupted run hold its rows: a new run refuses to overwrite them.
    @Test func leftoverPartialFilesAreKept() throws {
        let csv = directory.appendingPathComponent("interrupted.csv")
        FileManager.default.createFile(atPath: csv.path + ".partial", contents: Data("kernel\r\nrow\r\n".utf8))
        #expect(refused(csv.path)?.contains("interrupted run") == true)
        #expect(try String(contentsOfFile: csv.path + ".partial", encoding: .utf8) == "kernel\r\nrow\r\n")
    }

    @Test func unwritableLocationFailsBeforeTheRun() throws {
        let files = try ReportFiles(path: "/proc/report.csv")
        #expect(throws: ReportWriteError.self) { _ = try files.open(header: "a\r\n") }
    }

    /// A directory the user names must exist: a typo does not create a tree of directories.
    @Test func missingDirectoryIsAUsageError() {
        #expect(refused(directory.appendingPathComponent("no/such/dir/out.csv").path)?.contains("does not exist") == true)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("no").path))
    }
}
