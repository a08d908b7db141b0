import Foundation
import TestSupport
import Testing
import Tokenizers

/// Which file of a model folder becomes the tokenizer: SentencePiece-style `tokenizer.json` files (the
/// shapes TinyLlama and Llama-2 ship) give way to `tokenizer.model`, byte-level ones are read directly,
/// and a SentencePiece-style `tokenizer.json` alone is one clear error.
@Suite struct TokenizerFolderTests {
    /// The three spellings of a SentencePiece-style tokenizer.json met in Llama-2 / TinyLlama folders
    /// (vocabularies cut down to a few pieces), and the field that marks each.
    static let sentencePieceStyle: [(json: String, field: String)] = [
        // tokenizers ≤ 0.13 conversion (Llama-2, TinyLlama-1.1B-Chat-v1.0): Prepend + Replace normalizer, byte_fallback
        (#"""
        {"normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
           {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
         "pre_tokenizer": null,
         "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
           {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
         "model": {"type": "BPE", "byte_fallback": true, "fuse_unk": true, "unk_token": "<unk>",
           "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3, "H": 4, "ello": 5}, "merges": ["▁ H"]}}
        """#, "model.byte_fallback"),
        // newer conversion: Metaspace pre-tokenizer, no normalizer (byte_fallback left out here)
        (#"""
        {"normalizer": null,
         "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false},
         "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false},
         "model": {"type": "BPE", "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3}, "merges": []}}
        """#, "pre_tokenizer"),
        // the normalizer alone marks it
        (#"""
        {"normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
         "model": {"type": "BPE", "vocab": {"<unk>": 0, "▁": 1}, "merges": []}}
        """#, "normalizer"),
    ]

    @Test func sentencePieceStyleJSONGivesWayToTokenizerModel() throws {
        guard let model = Repository.shared("tokenizers/llama2-tokenizer.model") else { print("skipped: ../shared/tokenizers is absent"); return }
        for (json, _) in Self.sentencePieceStyle {
            let dir = try temporaryFolder(["tokenizer.json": json, "tokenizer_config.json": #"{"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true}"#])
            defer { try? FileManager.default.removeItem(at: dir) }
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("tokenizer.model"), withDestinationURL: model)
            let tok = try loadTokenizer(folder: dir)
            #expect(tok is SentencePieceTokenizer)
            // libsentencepiece with the real Llama-2 model, not the cut-down tokenizer.json
            #expect(tok.encode("Hello world") == [1, 15043, 3186])
        }
    }

    @Test func sentencePieceStyleJSONAloneIsOneClearError() throws {
        for (json, field) in Self.sentencePieceStyle {
            let dir = try temporaryFolder(["tokenizer.json": json])
            defer { try? FileManager.default.removeItem(at: dir) }
            do {
                _ = try loadTokenizer(folder: dir)
                Issue.record("no error for a SentencePiece-style tokenizer.json alone")
            } catch let error as TokenizerError {
                #expect(error.source == dir.appendingPathComponent("tokenizer.json").path)
                #expect(error.field == field)
                #expect(error.description.contains("SentencePiece-style tokenizer, which medrepl reads from tokenizer.model"))
                #expect(error.description.contains("\(dir.path) has none: put the model's tokenizer.model beside tokenizer.json"))
            }
        }
    }

    @Test func byteLevelJSONIsReadEvenBesideATokenizerModel() throws {
        // A byte-level vocabulary ("Ġ" is the byte-level space) and a tokenizer.model that is not one:
        // the folder must be read from tokenizer.json without touching tokenizer.model. (Its other bytes
        // encode as <unk>: a vocabulary lacking bytes and any unknown token is refused.)
        let dir = try temporaryFolder([
            "tokenizer.json": #"""
            {"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
             "decoder": {"type": "ByteLevel"},
             "model": {"type": "BPE", "unk_token": "<unk>", "vocab": {"h": 0, "i": 1, "Ġ": 2, "hi": 3, "Ġhi": 4, "<unk>": 5},
                       "merges": ["h i", "Ġ hi"]}}
            """#,
            "tokenizer.model": "not a sentencepiece model",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let tok = try loadTokenizer(folder: dir)
        #expect(tok is BPETokenizer)
        #expect(tok.encode("hi hi", addSpecialTokens: false) == [3, 4])
    }
}
