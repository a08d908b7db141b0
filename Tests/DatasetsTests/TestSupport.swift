import Foundation

/// The repository root: the nearest folder above this file that holds Package.swift.
func repoRoot(_ file: String = #filePath) -> URL {
    var dir = URL(fileURLWithPath: file).deletingLastPathComponent()
    while dir.path != "/" {
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: file).deletingLastPathComponent()
}

/// `../shared/data/NAME` beside the checkout, or nil when it is absent.
func sharedData(_ name: String) -> String? {
    let path = repoRoot().deletingLastPathComponent().appendingPathComponent("shared/data/\(name)").path
    return FileManager.default.fileExists(atPath: path) ? path : nil
}

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
