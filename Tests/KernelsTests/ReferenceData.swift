import Foundation
import Testing

/// Reads a JSON file of golden data from `reference/` (made by the scripts beside it), recording
/// a test issue and returning nil when it cannot.
func loadReference<T: Decodable>(_ path: String, as type: T.Type) -> T? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let url = root.appendingPathComponent(path)
    do {
        return try JSONDecoder().decode(type, from: Data(contentsOf: url))
    } catch {
        Issue.record("cannot read \(url.path): \(error)")
        return nil
    }
}
