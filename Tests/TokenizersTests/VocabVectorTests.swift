import Foundation
import TestSupport
import Testing
import Tokenizers

/// llama.cpp's tokenizer vectors (made with the Hugging Face tokenizers) through all three tokenizers.
@Suite struct VocabVectorTests {
    /// Encodes every vector; returns the texts whose ids differ, with both id lists.
    func mismatches(_ tok: any Tokenizer, _ vectors: VocabVectors) -> [String] {
        var failures: [String] = []
        for (text, expected) in zip(vectors.texts, vectors.ids) {
            let got = tok.encode(text, addSpecialTokens: false)
            if got != expected { failures.append("\(text.debugDescription): expected \(expected), got \(got)") }
        }
        return failures
    }

    /// decode(encode(x)) == x for every vector text.
    func roundTripFailures(_ tok: any Tokenizer, _ vectors: VocabVectors) -> [String] {
        vectors.texts.filter { tok.decode(tok.encode($0, addSpecialTokens: false), skipSpecialTokens: false) != $0 }
            .map(\.debugDescription)
    }

    @Test func llamaSPMThroughLibSentencePiece() throws {
        guard let model = Repository.shared("tokenizers/llama2-tokenizer.model"), let vectors = try VocabVectors.shared("llama-spm") else {
            print("skipped: ../shared/tokenizers (Llama-2 SentencePiece vectors) is absent"); return
        }
        #expect(vectors.texts.count == 46)
        let tok = try SentencePieceTokenizer(modelFile: model)
        #expect(tok.vocabSize == 32000)
        #expect(mismatches(tok, vectors) == [])
        #expect(roundTripFailures(tok, vectors) == [])
        for text in vectors.texts {
            let ids = tok.encode(text, addSpecialTokens: false)
            #expect(tok.decode(ids) == tok.decodeWithLibrary(ids))
        }
        #expect(tok.encode("Hello world", addSpecialTokens: true) == [1, 15043, 3186])
    }

    @Test func llamaSPMThroughGGUFVocabulary() throws {
        guard let gguf = Repository.shared("tokenizers/ggml-vocab-llama-spm.gguf"), let vectors = try VocabVectors.shared("llama-spm") else {
            print("skipped: ../shared/tokenizers (Llama-2 GGUF vocabulary) is absent"); return
        }
        let tok = try loadTokenizer(gguf: gguf)
        #expect(tok is SentencePieceVocabTokenizer)
        #expect(mismatches(tok, vectors) == [])
        #expect(roundTripFailures(tok, vectors) == [])
        #expect(tok.encode("Hello world", addSpecialTokens: true) == [1, 15043, 3186])
    }

    @Test func llama3BPEThroughGGUFVocabulary() throws {
        guard let gguf = Repository.shared("tokenizers/ggml-vocab-llama-bpe.gguf"), let vectors = try VocabVectors.shared("llama-bpe") else {
            print("skipped: ../shared/tokenizers (Llama-3 GGUF vocabulary) is absent"); return
        }
        #expect(vectors.texts.count == 46)
        let tok = try loadTokenizer(gguf: gguf)
        #expect(tok is BPETokenizer)
        #expect(mismatches(tok, vectors) == [])
        #expect(roundTripFailures(tok, vectors) == [])
        #expect(tok.encode("Hello world", addSpecialTokens: true) == [128000, 9906, 1917])
    }
}
