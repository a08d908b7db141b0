import Foundation
import Testing
import Tokenizers

/// Issue 16: a byte-level vocabulary without one of the base bytes (the tiny BPE fixture without "i")
/// trapped in the merge loop on `tokenize t "actic"`.
@Suite struct BPEMissingByteTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tiny-bpe")

    /// The fixture copied with `edit` applied to its tokenizer.json.
    static func variant(_ edit: (inout [String: Any]) -> Void) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-bpe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture.path) {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let url = dir.appendingPathComponent("tokenizer.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return dir
    }

    static func withoutI(_ json: inout [String: Any]) {
        var model = json["model"] as! [String: Any]
        var vocab = model["vocab"] as! [String: Any]
        vocab.removeValue(forKey: "i")
        model["vocab"] = vocab
        json["model"] = model
    }

    @Test func aMissingByteEncodesAsTheUnknownTokenWithoutATrap() throws {
        let dir = try Self.variant(Self.withoutI)
        defer { try? FileManager.default.removeItem(at: dir) }
        let tok = try loadTokenizer(folder: dir)
        let ids = tok.encode("actic", addSpecialTokens: false)
        #expect(ids.count == 3)
        #expect(ids.contains(try #require(tok.settings.unkTokenId)))
    }

    @Test func aMissingByteWithNoUnknownTokenIsRefusedAtLoad() throws {
        let dir = try Self.variant { json in
            Self.withoutI(&json)
            var model = json["model"] as! [String: Any]
            model["unk_token"] = NSNull()
            json["model"] = model
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        // tokenizer_config.json names unk_token too; without it the loader must refuse the vocabulary
        let config = dir.appendingPathComponent("tokenizer_config.json")
        var settings = try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as! [String: Any]
        settings.removeValue(forKey: "unk_token")
        try JSONSerialization.data(withJSONObject: settings).write(to: config)
        #expect(throws: TokenizerError.self) { _ = try loadTokenizer(folder: dir) }
        do { _ = try loadTokenizer(folder: dir) } catch {
            #expect("\(error)".contains("has no token for byte 0x69 ('i')"), "\(error)")
        }
    }
}
