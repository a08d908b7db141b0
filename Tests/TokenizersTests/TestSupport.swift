import Foundation
import Testing
import Tokenizers

/// The folder holding Package.swift, found by walking up from this file.
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while url.path != "/" {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        url.deleteLastPathComponent()
    }
    return url
}()

/// `../shared/tokenizers/<name>`, or nil when absent (tests then skip).
func sharedFile(_ path: String) -> URL? {
    let url = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared").appendingPathComponent(path)
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
}

/// The SmolLM2 GGUF from MEDREPL_MODEL_DIR or `<repo>/models/`, or nil.
func smolLM2File() -> URL? {
    let name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    var candidates: [URL] = []
    if let dir = ProcessInfo.processInfo.environment["MEDREPL_MODEL_DIR"] {
        candidates.append(URL(fileURLWithPath: dir).appendingPathComponent(name))
    }
    candidates.append(repositoryRoot.appendingPathComponent("models").appendingPathComponent(name))
    return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
}

/// llama.cpp's vocabulary test vectors: texts separated by "\n__ggml_vocab_test__\n", one id line per text.
struct VocabVectors {
    var texts: [String]
    var ids: [[Int]]

    init(inp: URL, out: URL) throws {
        let input = try String(contentsOf: inp, encoding: .utf8)
        var texts = input.components(separatedBy: "\n__ggml_vocab_test__\n")
        if texts.last == "" { texts.removeLast() }   // the file ends with a separator
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        self.texts = texts
        self.ids = lines.prefix(texts.count).map { line in line.split(separator: " ").map { Int($0)! } }
    }
}

extension VocabVectors {
    /// llama.cpp's vectors for its vocabulary `ggml-vocab-NAME.gguf` in `../shared/tokenizers` ("llama-spm",
    /// "llama-bpe"), or nil when absent (tests then skip).
    static func shared(_ name: String) throws -> VocabVectors? {
        guard let inp = sharedFile("tokenizers/ggml-vocab-\(name).gguf.inp"),
              let out = sharedFile("tokenizers/ggml-vocab-\(name).gguf.out") else { return nil }
        return try VocabVectors(inp: inp, out: out)
    }
}

/// A new folder in the temporary directory holding `files` (name → text); the caller removes it.
func temporaryFolder(_ files: [String: String]) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-tok-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
    return dir
}
