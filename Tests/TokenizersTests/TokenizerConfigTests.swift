import Foundation
import TestSupport
import Testing
import Tokenizers

/// Config files and the errors bad tokenizer files give.
@Suite struct TokenizerConfigTests {
    @Test func readsConfigAndSpecialTokensMap() throws {
        let dir = try temporaryFolder([
            "special_tokens_map.json": #"{"bos_token": "<s>", "eos_token": {"content": "</s>", "lstrip": false}, "unk_token": "<unk>"}"#,
            "tokenizer_config.json": #"""
                {"add_bos_token": true, "add_eos_token": false, "eos_token": "</s>", "pad_token": null,
                 "padding_side": "left", "model_max_length": 1000000000000000019884624838656,
                 "chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": "{{ '<|user|>' }}"}],
                 "added_tokens_decoder": {"32000": {"content": "<pad>", "special": true}}}
                """#,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try TokenizerConfig(folder: dir)
        #expect(c.bosToken == "<s>" && c.eosToken == "</s>" && c.unkToken == "<unk>" && c.padToken == nil)
        #expect(c.addBosToken == true && c.addEosToken == false)
        #expect(c.paddingSide == .left)
        #expect(c.modelMaxLength == nil)            // 1e30 means no limit
        #expect(c.chatTemplate == "{{ '<|user|>' }}")
        #expect(c.addedTokens[32000]?.content == "<pad>")
        #expect(try TokenizerConfig(folder: dir.appendingPathComponent("absent")) == TokenizerConfig())
    }

    @Test func sentencePieceFolderFallsBackToTokenizerModel() throws {
        guard let model = Repository.shared("tokenizers/llama2-tokenizer.model") else { print("skipped: ../shared/tokenizers is absent"); return }
        let dir = try temporaryFolder([
            "tokenizer.json": #"{"model": {"type": "BPE", "byte_fallback": true, "vocab": {}, "merges": []}}"#,
            "tokenizer_config.json": #"{"bos_token": "<s>", "eos_token": "</s>", "pad_token": "</s>", "add_bos_token": true, "chat_template": "{{ '<|user|>\n' }}{{ '<|assistant|>' }}"}"#,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: model, to: dir.appendingPathComponent("tokenizer.model"))
        let tok = try loadTokenizer(folder: dir)
        #expect(tok is SentencePieceTokenizer)
        #expect(tok.padTokenId == 2 && tok.bosTokenId == 1)
        #expect(ChatTemplate.detect(jinja: tok.chatTemplate ?? "") == .zephyr)
        #expect(tok.encode("Hello world") == [1, 15043, 3186])
    }

    @Test func errorsNameTheFileAndField() throws {
        let empty = try temporaryFolder([:])
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(throws: TokenizerError(empty.path, "no tokenizer.json or tokenizer.model in this folder")) {
            try loadTokenizer(folder: empty)
        }

        let cases: [(String, String, String)] = [
            (#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", 7]}}"#, "model.merges[1]", "expected \"a b\""),
            (#"{"model": {"type": "Unigram", "vocab": []}}"#, "model.type", "\"Unigram\" makes this a SentencePiece-style tokenizer"),
            (#"{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}}"#, "model.vocab[\"a\"]",
             "id -1 is outside 0..<1, the ids of the vocabulary's 1 tokens (1 in model.vocab, 0 in added_tokens)"),
            // Issue 16: an id past the vocabulary is no "non-negative id" problem; a huge one crashed allocating room for it.
            (#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 99999999999}, "merges": []}}"#, "model.vocab[\"b\"]",
             "id 99999999999 is outside 0..<2, the ids of the vocabulary's 2 tokens (2 in model.vocab, 0 in added_tokens)"),
            (#"{"model": {"type": "BPE", "vocab": {"a": 1.5}, "merges": []}}"#, "model.vocab[\"a\"]", "1.5 is not a token id: ids are whole numbers in 0..<1"),
            (#"{"added_tokens": [{"id": 1000000000000, "content": "<s>"}], "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#,
             "added_tokens[0].id", "id 1000000000000 is outside 0..<2, the ids of the vocabulary's 2 tokens (1 in model.vocab, 1 in added_tokens)"),
            (#"{"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\w+"}}}"#, "pre_tokenizer.pattern", "split pattern \\w+ is not supported"),
            (#"{"model": {"type": "BPE", "vocab": {}, "merges": []}, "normalizer": {"type": "NFKC"}}"#, "normalizer", "\"NFKC\" is not supported"),
            (#"{"model": "#, "", "not valid JSON"),
        ]
        for (json, field, message) in cases {
            let dir = try temporaryFolder(["tokenizer.json": json])
            defer { try? FileManager.default.removeItem(at: dir) }
            do {
                _ = try loadTokenizer(folder: dir)
                Issue.record("no error for \(json)")
            } catch let error as TokenizerError {
                #expect(error.source == dir.appendingPathComponent("tokenizer.json").path)
                #expect(error.field == field, "\(error)")
                #expect(error.description.contains(message))
            }
        }

        let decoder = try temporaryFolder(["tokenizer.json": #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#,
                                           "tokenizer_config.json": #"{"added_tokens_decoder": {"4000000000": {"content": "<x>"}}}"#])
        defer { try? FileManager.default.removeItem(at: decoder) }
        #expect(throws: TokenizerError(decoder.appendingPathComponent("tokenizer_config.json").path, field: "added_tokens_decoder[\"4000000000\"]",
                                       "id 4000000000 is outside 0..<2, the ids of the vocabulary's 2 tokens (1 in model.vocab, 0 in added_tokens, 1 in tokenizer_config.json)")) {
            try loadTokenizer(folder: decoder)
        }

        let badConfig = try temporaryFolder(["tokenizer_config.json": #"{"padding_side": "middle"}"#])
        defer { try? FileManager.default.removeItem(at: badConfig) }
        #expect(throws: TokenizerError.self) { try TokenizerConfig(folder: badConfig) }

        var vocab = GGUFVocabulary(model: "gpt2", tokens: ["a", "b"], source: "x.gguf")
        vocab.merges = ["a b"]
        vocab.pre = "qwen2"
        #expect(throws: TokenizerError("x.gguf", field: "tokenizer.ggml.pre", "pre-tokenizer \"qwen2\" is not supported")) {
            try vocab.makeTokenizer()
        }
        vocab.pre = "smollm"
        vocab.merges = ["ab"]
        #expect(throws: TokenizerError.self) { try vocab.makeTokenizer() }
        vocab.merges = ["a b"]
        vocab.eosTokenId = 9
        #expect(throws: TokenizerError("x.gguf", field: "tokenizer.ggml.eos_token_id", "id 9 is outside the vocabulary of 2")) {
            try vocab.makeTokenizer()
        }
        let spm = GGUFVocabulary(model: "llama", tokens: ["a"], source: "y.gguf")
        #expect(throws: TokenizerError("y.gguf", field: "tokenizer.ggml.scores", "missing")) { try spm.makeTokenizer() }
    }
}
