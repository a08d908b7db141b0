import Foundation
import TestSupport
import Testing
import Tokenizers
import Weights

/// Tokenizer files written from a GGUF vocabulary (what `export_model` / `save_adapter` put beside a
/// GGUF-loaded model) read back by medrepl's own folder loader give the GGUF tokenizer's ids.
@Suite struct TokenizerExportTests {
    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-tokexport-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Every question and answer of the demo198 file (the notebook's data), or nil when ../shared is absent.
    func demoTexts() throws -> [String]? {
        guard let url = Repository.shared("data/medical_o1_verifiable_problem.demo198.json") else { return nil }
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]])
        return rows.flatMap { [$0["Open-ended Verifiable Question"] as? String ?? "", $0["Ground-True Answer"] as? String ?? ""] }
    }

    /// Writes the folder for `vocabulary`, loads it back, and compares the two tokenizers on `texts`.
    func roundTrip(_ vocabulary: GGUFVocabulary, texts: [String], padWithEOS: Bool) throws -> (any Tokenizer, any Tokenizer, URL) {
        let original = try vocabulary.makeTokenizer()
        if padWithEOS { original.padTokenId = original.eosTokenId }    // the notebook's pad_token = eos_token
        let dir = try scratch()
        let written = try HuggingFaceTokenizerFiles.write(vocabulary: vocabulary, tokenizer: original, to: dir)
        #expect(written.files == ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"])
        #expect(written.note == nil)
        let reloaded = try loadTokenizer(folder: dir)
        #expect(reloaded is BPETokenizer)
        #expect(reloaded.vocabSize == original.vocabSize)
        #expect(reloaded.specialTokenIds == original.specialTokenIds)
        #expect(reloaded.bosTokenId == original.bosTokenId && reloaded.eosTokenId == original.eosTokenId)
        #expect(reloaded.padTokenId == original.padTokenId && reloaded.unkTokenId == original.unkTokenId)
        #expect(reloaded.settings.addBosToken == original.settings.addBosToken)
        #expect(reloaded.chatTemplate == original.chatTemplate)
        var differing: [String] = []
        for text in texts {
            for special in [false, true] where reloaded.encode(text, addSpecialTokens: special) != original.encode(text, addSpecialTokens: special) {
                differing.append("\(text.prefix(60).debugDescription) (special tokens \(special))")
            }
        }
        #expect(differing.isEmpty, "\(differing.count) texts encode differently, first: \(differing.prefix(3))")
        return (original, reloaded, dir)
    }

    @Test func smolLM2FolderEncodesTheNotebookDataAsTheGGUF() throws {
        guard let gguf = Repository.smolLM2 else { print("skipped: \(Repository.smolLM2Absent)"); return }
        guard let texts = try demoTexts() else { print("skipped: ../shared/data is absent"); return }
        #expect(texts.count == 396)
        let vocabulary = try GGUFVocabulary(gguf: GGUFFile(url: gguf))
        let chat = texts.prefix(3).map { "<|im_start|>user\n\($0)<|im_end|>\n<|im_start|>assistant\n" }
        let (original, reloaded, dir) = try roundTrip(vocabulary, texts: texts + chat, padWithEOS: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(reloaded.padTokenId == 2 && reloaded.bosTokenId == 1 && !reloaded.settings.addBosToken)
        let sample = texts[0] + " <|im_end|>"
        #expect(reloaded.decode(reloaded.encode(sample)) == original.decode(original.encode(sample)))
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("tokenizer_config.json"))) as? [String: Any])
        #expect(config["eos_token"] as? String == "<|im_end|>" && config["pad_token"] as? String == "<|im_end|>")
        #expect(config["tokenizer_class"] as? String == "PreTrainedTokenizerFast")
        let map = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("special_tokens_map.json"))) as? [String: Any])
        #expect(map["bos_token"] as? String == "<|im_start|>")
    }

    /// Llama-3's vocabulary (llama.cpp's `llama-bpe` test vocabulary): its split pattern, `ignore_merges`
    /// and a BOS added by a TemplateProcessing post-processor survive the trip, on llama.cpp's vectors too.
    @Test func llama3VocabularyRoundTrips() throws {
        guard let gguf = Repository.shared("tokenizers/ggml-vocab-llama-bpe.gguf"), let vectors = try VocabVectors.shared("llama-bpe") else {
            print("skipped: ../shared/tokenizers is absent"); return
        }
        var vocabulary = try GGUFVocabulary(gguf: GGUFFile(url: gguf))
        vocabulary.addBosToken = true
        let texts = vectors.texts + (try demoTexts() ?? [])
        let (_, reloaded, dir) = try roundTrip(vocabulary, texts: texts, padWithEOS: false)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(zip(vectors.texts, vectors.ids).allSatisfy { reloaded.encode($0, addSpecialTokens: false) == $1 })
        #expect(reloaded.encode("Hello", addSpecialTokens: true).first == vocabulary.bosTokenId)
        let json = try String(contentsOf: dir.appendingPathComponent("tokenizer.json"), encoding: .utf8)
        #expect(json.contains("\"ignore_merges\": true") && json.contains("\"type\":\"TemplateProcessing\""))
    }

    /// Llama-2's GGUF vocabulary written as tokenizer.model: libsentencepiece loads it and gives llama.cpp's
    /// vectors and the ids of the original Llama-2 tokenizer.model on the notebook's data.
    @Test func sentencePieceVocabularyBecomesATokenizerModel() throws {
        guard let gguf = Repository.shared("tokenizers/ggml-vocab-llama-spm.gguf"), let original = Repository.shared("tokenizers/llama2-tokenizer.model"),
              let vectors = try VocabVectors.shared("llama-spm") else {
            print("skipped: ../shared/tokenizers is absent"); return
        }
        let vocabulary = try GGUFVocabulary(gguf: GGUFFile(url: gguf))
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fromGGUF = try vocabulary.makeTokenizer()
        fromGGUF.padTokenId = fromGGUF.eosTokenId
        let written = try HuggingFaceTokenizerFiles.write(vocabulary: vocabulary, tokenizer: fromGGUF, to: dir)
        #expect(written.files == ["special_tokens_map.json", "tokenizer.model", "tokenizer_config.json"])
        #expect(written.note == nil)
        let reloaded = try loadTokenizer(folder: dir)
        #expect(reloaded is SentencePieceTokenizer)
        #expect(reloaded.vocabSize == 32000 && reloaded.bosTokenId == 1 && reloaded.eosTokenId == 2 && reloaded.padTokenId == 2)
        #expect(reloaded.settings.addBosToken)
        #expect(zip(vectors.texts, vectors.ids).allSatisfy { reloaded.encode($0, addSpecialTokens: false) == $1 })
        let reference = try SentencePieceTokenizer(modelFile: original)
        let texts = (try demoTexts() ?? []) + vectors.texts + ["Hello</s>\n<s>[INST] dose: 5 µg [/INST]"]
        let differing = texts.filter { reloaded.encode($0) != reference.encode($0) || reloaded.decode(reloaded.encode($0)) != reference.decode(reference.encode($0)) }
        #expect(differing.isEmpty, "\(differing.count) of \(texts.count) texts differ from Llama-2's tokenizer.model")
        #expect(throws: TokenizerError.self) { try HuggingFaceTokenizerFiles.tokenizerJSON(vocabulary: vocabulary, settings: TokenizerSettings()) }
        var gpt2 = vocabulary
        gpt2.model = "gpt2"
        #expect(throws: TokenizerError.self) { try SentencePieceModelFile.data(vocabulary: gpt2) }
    }
}
