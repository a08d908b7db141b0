import Foundation
import TestSupport
import Testing
import Weights

/// The real default model and the shared GGUF vocabularies; skipped when absent.
@Suite struct RealGGUFTests {
    @Test func smolLM2MetadataAndEveryTensor() throws {
        guard let url = Repository.smolLM2 else {
            print("skipped: \(Repository.smolLM2Absent)")
            return
        }
        let gguf = try GGUFFile(url: url)
        #expect(gguf.version == 3)
        let t = try gguf.tokenizerMetadata()
        #expect(t.model == "gpt2" && t.tokens.count == 49152 && !t.merges.isEmpty)
        #expect(t.chatTemplate?.contains("<|im_start|>") == true)

        let source = try GGUFLlamaTensorSource(file: gguf)
        #expect(source.heads.query == 9 && source.heads.keyValue == 3)    // the config: LlamaTests' GGUFConfigTests
        let names = source.tensorNames()
        #expect(names.contains("model.embed_tokens.weight") && names.contains("model.norm.weight"))
        #expect(names.contains("model.layers.29.mlp.down_proj.weight"))
        #expect(names.count == 2 + 30 * 9 + (names.contains("lm_head.weight") ? 1 : 0))
        #expect(try source.shape(of: "model.embed_tokens.weight") == [49152, 576])
        #expect(source.parameterCount() == 134_515_008)     // SmolLM2-135M's size, the tied lm_head counted once
        #expect(try source.shape(of: "model.layers.0.self_attn.k_proj.weight") == [192, 576])
        #expect(try source.shape(of: "model.layers.0.mlp.up_proj.weight") == [1536, 576])

        // Every tensor dequantizes, is finite, and is not all zeros.
        var types: Set<String> = []
        var scratch = [Float]()
        for info in gguf.tensorInfos {
            types.insert(info.type.name)
            scratch = [Float](repeating: .nan, count: info.elementCount)
            try scratch.withUnsafeMutableBufferPointer { try gguf.readFloats(info.name, into: $0.baseAddress!, count: info.elementCount) }
            #expect(scratch.allSatisfy { $0.isFinite }, "\(info.name) has non-finite values")
            #expect(scratch.contains { $0 != 0 }, "\(info.name) is all zeros")
        }
        #expect(types.isSuperset(of: ["Q4_1", "Q8_0"]))
        // RMSNorm weights of a trained model sit around 1, far from quantization noise.
        let norm = try source.floats("model.norm.weight")
        #expect(norm.count == 576)
    }

    /// The tensors as transformers loads the same GGUF (dequantized, q/k un-permuted), compared through
    /// per-row probes `sum_j w[r, j] * c_j` written by tools/fixtures/weights_fixture.py.
    @Test func smolLM2MatchesTransformersLoadingTheSameFile() throws {
        guard let url = Repository.smolLM2 else {
            print("skipped: \(Repository.smolLM2Absent)")
            return
        }
        let data = try Data(contentsOf: Fixtures.url("smollm2_probes.json"))
        let reference = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let tensors = reference["tensors"] as! [String: [String: Any]]
        let source = try GGUFLlamaTensorSource(file: GGUFFile(url: url))
        #expect(reference["tie_word_embeddings"] as? Bool == true && !source.contains("lm_head.weight"))
        #expect(tensors.count == 13)
        for (name, entry) in tensors.sorted(by: { $0.key < $1.key }) {
            let shape = (entry["shape"] as! [NSNumber]).map(\.intValue)
            #expect(try source.shape(of: name) == shape, "\(name)")
            let w = try source.floats(name)
            if let values = entry["values"] as? [NSNumber] {
                #expect(w == values.map { $0.floatValue }, "\(name)")
                continue
            }
            let probe = (entry["probe"] as! [NSNumber]).map(\.doubleValue)
            let cols = shape[1]
            let c = (0..<cols).map { Double(($0 * 7919) % 101 - 50) / 50 }
            var worst = 0.0
            for r in 0..<probe.count {
                var sum = 0.0
                for j in 0..<cols { sum += Double(w[r * cols + j]) * c[j] }
                worst = max(worst, abs(sum - probe[r]) / max(abs(probe[r]), 1))
            }
            #expect(worst < 1e-6, "\(name): worst probe difference \(worst)")
        }
    }

    @Test func sharedVocabularies() throws {
        guard let spm = Repository.shared("tokenizers/ggml-vocab-llama-spm.gguf"),
              let bpe = Repository.shared("tokenizers/ggml-vocab-llama-bpe.gguf") else {
            print("skipped: ../shared/tokenizers is absent")
            return
        }
        let s = try GGUFFile(url: spm).tokenizerMetadata()
        #expect(s.model == "llama" && s.tokens.count == 32000 && s.scores.count == 32000 && s.tokenTypes.count == 32000)
        #expect(s.tokens[1] == "<s>" && s.tokens[2] == "</s>" && s.bosID == 1 && s.eosID == 2)
        let b = try GGUFFile(url: bpe).tokenizerMetadata()
        #expect(b.model == "gpt2" && b.tokens.count == 128256 && b.merges.count > 200_000)
        #expect(b.pre == "llama-bpe" && b.tokens[128000] == "<|begin_of_text|>" && b.bosID == 128000)
    }
}
