import Foundation

/// `../shared` beside the checkout: real data and tokenizer vectors for tests. Absent in a user's clone.
enum SharedData {
    static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()
    static let root = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static var available: Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent("README.md").path) }
    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }
}
