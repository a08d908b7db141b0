import Foundation
import TestSupport
import Testing
import Tokenizers
import Weights

/// Decoding, streaming, special tokens and padding on the shared Llama-2 and Llama-3 vocabularies.
@Suite struct TokenizerBehaviourTests {
    func llama2() throws -> SentencePieceTokenizer? {
        guard let model = Repository.shared("tokenizers/llama2-tokenizer.model") else { return nil }
        return try SentencePieceTokenizer(modelFile: model)
    }

    @Test func sentencePieceSpecialTokensAndDecoding() throws {
        guard let tok = try llama2(), let gguf = Repository.shared("tokenizers/ggml-vocab-llama-spm.gguf") else {
            print("skipped: ../shared/tokenizers is absent"); return
        }
        let native = try loadTokenizer(gguf: gguf)
        #expect(tok.bosTokenId == 1 && tok.eosTokenId == 2 && tok.unkTokenId == 0)
        #expect(tok.specialTokenIds == [0, 1, 2] && native.specialTokenIds == [0, 1, 2])
        #expect(tok.idToToken(15043) == "▁Hello" && tok.tokenToId("▁Hello") == 15043)
        // `</s>` in text is the EOS id, and the text after it gets a fresh dummy prefix (Hugging Face legacy Llama).
        for t in [tok as any Tokenizer, native] {
            #expect(t.encode("Hello</s>\n", addSpecialTokens: false) == [15043, 2, 29871, 13])
            #expect(t.encode("Hello", addSpecialTokens: true) == [1, 15043])
            #expect(t.decode([1, 15043, 3186, 2], skipSpecialTokens: true) == "Hello world")
            #expect(t.decode([1, 15043, 3186, 2], skipSpecialTokens: false) == "<s> Hello world</s>")
            #expect(t.endOfTurnTokenIds == [2])
        }
        let zephyr = ChatTemplate.zephyr.prompt(question: "What is anemia?", system: "Be brief.")
        #expect(tok.encode(zephyr, addSpecialTokens: true) == native.encode(zephyr, addSpecialTokens: true))
        #expect(tok.encode(zephyr, addSpecialTokens: true).filter { $0 == 2 }.count == 2)
    }

    @Test func streamingNeverSplitsACharacter() throws {
        guard let tok = try llama2(), let bpe = Repository.shared("tokenizers/ggml-vocab-llama-bpe.gguf") else {
            print("skipped: ../shared/tokenizers is absent"); return
        }
        let llama3 = try loadTokenizer(gguf: bpe)
        let text = "this is 🦙.cpp, naïve 日本語 👩‍⚕️!"
        for t in [tok as any Tokenizer, llama3] {
            let ids = t.encode(text, addSpecialTokens: true)
            var stream = t.makeStreamingDecoder()
            var pieces: [String] = []
            for id in ids { pieces.append(stream.push(id)) }
            pieces.append(stream.finish())
            #expect(pieces.joined() == text)
            #expect(!pieces.joined().contains("\u{FFFD}"))
            #expect(pieces.contains { $0.hasSuffix("🦙") })   // the llama arrives whole, at its last byte token
        }
        // Llama-2 spells the llama as four byte-fallback tokens.
        var stream = tok.makeStreamingDecoder()
        #expect([243, 162, 169].map { stream.push($0) } == ["", "", ""])
        #expect(stream.push(156) == "🦙")
        // A cut character is reported, not dropped.
        var cut = tok.makeStreamingDecoder()
        _ = cut.push(243)
        #expect(cut.finish() == "\u{FFFD}")
    }

    @Test func llama3SpecialTokensAndPadding() throws {
        guard let bpe = Repository.shared("tokenizers/ggml-vocab-llama-bpe.gguf") else { print("skipped: ../shared/tokenizers is absent"); return }
        let tok = try loadTokenizer(gguf: bpe)
        #expect(tok.vocabSize == 128256)
        #expect(tok.endOfTurnTokenIds == [128001, 128009])
        let prompt = ChatTemplate.notebookLlama3.prompt(question: "Hi")
        let ids = tok.encode(prompt, addSpecialTokens: false)
        // Reference: transformers AutoTokenizer on the same GGUF, encode(prompt, add_special_tokens=False).
        #expect(ids == [128000, 128006, 882, 128007, 271, 13347, 128009, 128006, 78191, 128007, 271])
        #expect(tok.decode(ids, skipSpecialTokens: true) == "user\n\nHiassistant\n\n")
        #expect(tok.decode(ids, skipSpecialTokens: false) == prompt)

        #expect(tok.padTokenId == nil && tok.paddingSide == .right)
        tok.padTokenId = tok.eosTokenId
        let batch = tok.pad([[5, 6, 7], [8]])
        #expect(batch.inputIds == [[5, 6, 7], [8, 128001, 128001]])
        #expect(batch.attentionMask == [[1, 1, 1], [1, 0, 0]])
        tok.paddingSide = .left
        #expect(tok.pad([[5, 6, 7], [8]], maxLength: 2) == PaddedBatch(inputIds: [[5, 6], [128001, 8]], attentionMask: [[1, 1], [0, 1]]))
    }

    /// SmolLM2's GGUF read as transformers reads it (GPT-2 split) or as its tokenizer.json (digits first).
    @Test func smolLM2PreTokenizerChoice() throws {
        guard let model = Repository.smolLM2 else { print("skipped: \(Repository.smolLM2Absent)"); return }
        // Reference ids from transformers `AutoTokenizer.from_pretrained(dir, gguf_file=...)`.
        #expect(try loadTokenizer(gguf: model).encode("ab  10 x", addSpecialTokens: false) == [369, 216, 216, 33, 32, 1792])
        var vocab = try GGUFVocabulary(gguf: .init(url: model))
        vocab.preTokenizer = .smollm
        #expect(try vocab.makeTokenizer().encode("ab  10 x", addSpecialTokens: false) == [369, 256, 33, 32, 1792])
    }
}
