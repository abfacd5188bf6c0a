import Foundation
import Testing
@testable import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// Libraries named with `--blas`/`--lapack` are opened through `BLASProvider.open`: a file that
/// cannot be loaded is an error naming it, never a crash. (Found by a trial: a shared library cut
/// short — a partial download, say — killed `bench` with SIGBUS inside `dlopen`.)
@Suite("Provider libraries: loading")
struct ProviderLoadingTests {
    static let openBLAS = "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"

    @Test func aLibraryCutShortIsRefusedWithItsReason() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.openBLAS))
        #expect(BLASProvider.truncation(ofELFAt: Self.openBLAS) == nil, "the installed library is whole")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-provider-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Cut inside the program headers, after them, and in the middle of the file.
        for length in [100, 3000, whole.count / 2] {
            let path = directory.appendingPathComponent("cut-\(length).so").path
            try whole.prefix(length).write(to: URL(fileURLWithPath: path))
            #expect(BLASProvider.truncation(ofELFAt: path)?.contains("cut short") == true, "\(length) bytes")
            #expect(throws: BLASProviderError.self) { _ = try BLASProvider(name: "cut", path: path) }
            #expect(throws: BLASProviderError.self) { _ = try LAPACKProvider(name: "cut", path: path) }
            do { _ = try BLASProvider(name: "cut", path: path) } catch {
                #expect("\(error)".contains("provider cut: cannot load \(path): the ELF file is cut short"), "\(error)")
            }
        }
        // Not an ELF file at all: dlopen's own reason.
        let text = directory.appendingPathComponent("text.so").path
        try Data("not a library".utf8).write(to: URL(fileURLWithPath: text))
        #expect(BLASProvider.truncation(ofELFAt: text) == nil)
        #expect(throws: BLASProviderError.self) { _ = try BLASProvider(name: "text", path: text) }
    }
}
