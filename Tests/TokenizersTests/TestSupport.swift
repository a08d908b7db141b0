import Foundation
import TestSupport
import Testing
import Tokenizers

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
        guard let inp = Repository.shared("tokenizers/ggml-vocab-\(name).gguf.inp"),
              let out = Repository.shared("tokenizers/ggml-vocab-\(name).gguf.out") else { return nil }
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
