import Foundation

/// A fresh temporary folder, removed by `cleanup`.
struct TempDir {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-ds-\(UUID().uuidString)")
    init() { try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    /// Writes `bytes` to `name` and returns its path.
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let file = url.appendingPathComponent(name)
        try! FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try! Data(bytes).write(to: file)
        return file.path
    }
    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}
