import Foundation

/// The paths the tests read: the checkout's root (the folder holding Package.swift), `../shared` beside it
/// (real data and tokenizer vectors, absent in a user's clone) and the default SmolLM2 GGUF. One place for
/// what every test target used to find with its own walk up from its own file.
///
/// ```swift
/// let medqa = Repository.url("data/medqa_small.json")
/// guard let model = Repository.shared("tokenizers/llama2-tokenizer.model") else { print("skipped: ../shared/tokenizers is absent"); return }
/// @Test(.enabled(if: Repository.smolLM2 != nil, Comment(rawValue: Repository.smolLM2Absent))) func parity() throws { ... }
/// ```
public enum Repository {
    /// The folder holding Package.swift, found by walking up from this file.
    public static let root: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    }()

    /// `relative` under the root: `Repository.url("Tests/Fixtures/tiny-llama")`.
    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// `../shared` beside the checkout.
    public static let sharedFolder = root.deletingLastPathComponent().appendingPathComponent("shared")

    /// Whether `../shared` is there (its README is).
    public static var sharedIsPresent: Bool {
        FileManager.default.fileExists(atPath: sharedFolder.appendingPathComponent("README.md").path)
    }

    /// `../shared/RELATIVE` when it exists, else nil (the test then skips).
    public static func shared(_ relative: String) -> URL? {
        let url = sharedFolder.appendingPathComponent(relative)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// The default model's file name.
    public static let smolLM2Name = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// The SmolLM2 GGUF from `MEDREPL_MODEL_DIR`, else `<root>/models`, or nil when neither has it.
    public static var smolLM2: URL? {
        var folders: [URL] = []
        if let dir = ProcessInfo.processInfo.environment["MEDREPL_MODEL_DIR"] { folders.append(URL(fileURLWithPath: dir)) }
        folders.append(root.appendingPathComponent("models"))
        return folders.map { $0.appendingPathComponent(smolLM2Name) }.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// Why a test that needs `smolLM2` skips when it is nil.
    public static let smolLM2Absent = "\(smolLM2Name) not found (set MEDREPL_MODEL_DIR or link <repo>/models)"
}
