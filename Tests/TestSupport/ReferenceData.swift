import Foundation
import Testing
import TestSupport

/// Test support shared by every test target (as swift-collections' _CollectionsTestSupport is).

/// Reads a JSON file of golden data from `reference/` (made by the scripts beside it), recording
/// a test issue and returning nil when it cannot.
public func loadReference<T: Decodable>(_ path: String, as type: T.Type) -> T? {
    let url = referenceURL(path)
    do {
        return try JSONDecoder().decode(type, from: Data(contentsOf: url))
    } catch {
        Issue.record("cannot read \(url.path): \(error)")
        return nil
    }
}

/// The file at `path` relative to the repository's root (`reference/...`).
public func referenceURL(_ path: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(path)
}
