import Foundation
import Testing
import Llama
import Kernels
import Weights

// The llama3-rope tiny model written as llama.cpp writes a Llama-3.x GGUF: Q/K rows permuted and the
// rope scaling stored as the `rope_freqs.weight` tensor (fixture stage `tiny-gguf`). Loaded from the
// GGUF it must give transformers' logits of the Hugging Face folder, also at the far end of the rotary
// range (positions 64..127, past `original_max_position_embeddings` 64).

@Suite struct GGUFRopeScalingTests {
    static let folder = TestPaths.fixtures.appendingPathComponent("tiny-llama3-rope-gguf")

    static func model() throws -> LlamaModel? {
        let url = folder.appendingPathComponent("model.gguf")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try LlamaModel.load(gguf: url, storage: .f32)
    }

    @Test func configCarriesTheRopeFactors() throws {
        guard let model = try Self.model(), let f = try TinyFixture.load("tiny-llama3-rope") else {
            print("skipped: tiny-llama3-rope(-gguf) fixtures absent"); return
        }
        let c = model.config
        #expect(c.rope_freq_factors?.count == 8)
        #expect(c.rope_freq_factors?.first == 1)
        #expect(c.rope_freq_factors?.last == 8)
        // the llama3 parameters behind the divisors are recovered, so a merged export can write them
        #expect(c.rope_scaling == f.config.rope_scaling)
        #expect(c.rope_theta == 500000 && c.head_dim == 16 && c.max_position_embeddings == 128)
        #expect(!c.tie_word_embeddings && c.num_key_value_heads == 2)
        // and the divisors equal those llama3 scaling implies (fixture made them in Python)
        let expected = f.config.rope_scaling!.frequencyFactors(theta: 500000, headDim: 16)
        #expect(maxAbsDiff(c.rope_freq_factors!, expected) < 1e-5)
    }

    @Test func logitsMatchTransformersOnTheFixtureBatch() throws {
        guard let model = try Self.model(), let f = try TinyFixture.load("tiny-llama3-rope") else {
            print("skipped: tiny-llama3-rope(-gguf) fixtures absent"); return
        }
        let logits = try model.forward(inputIds: f.inputIds, attentionMask: f.attentionMask)
        let diff = maxAbsDiff(logits.values, f.logits)
        print("tiny-llama3-rope GGUF: padded batch logits max-abs diff \(diff)")
        #expect(diff < 1e-4)
    }

    @Test func logitsMatchTransformersAcrossTheRotaryRange() throws {
        guard let model = try Self.model() else { print("skipped: tiny-llama3-rope-gguf fixture absent"); return }
        let ref = try SafetensorsFile(url: Self.folder.appendingPathComponent("long_row.safetensors"))
        let ids = try ref.floats("input_ids").map { Int($0) }
        let expected = try ref.floats("logits")           // [128, 128]
        #expect(ids.count == 128)
        let logits = try model.forward(inputIds: [ids]).values
        let V = model.config.vocab_size
        let early = maxAbsDiff(logits[0..<(64 * V)], expected[0..<(64 * V)])
        let late = maxAbsDiff(logits[(64 * V)...], expected[(64 * V)...])
        print("tiny-llama3-rope GGUF: long row logits max-abs diff \(early) (positions 0..63), \(late) (64..127)")
        #expect(early < 1e-4 && late < 1e-4)

        // Without the factors the same weights are far off: the comparison above can fail.
        var plain = model.config
        plain.rope_freq_factors = nil
        plain.rope_scaling = nil
        let unscaled = try LlamaModel(config: plain, weights: model.weights, storage: .f32).forward(inputIds: [ids]).values
        #expect(maxAbsDiff(unscaled[(64 * V)...], expected[(64 * V)...]) > 1e-2)
    }

    @Test func badRopeFactorsAreRejected() throws {
        let m: [String: Any] = [
            "general.architecture": "llama", "llama.embedding_length": 64, "llama.feed_forward_length": 176,
            "llama.block_count": 2, "llama.attention.head_count": 4, "llama.attention.head_count_kv": 2,
            "llama.rope.freq_base": 500000.0, "llama.rope.dimension_count": 16,
        ]
        func message(_ meta: [String: Any], _ factors: [Float]?) -> String {
            do {
                _ = try LlamaConfig(ggufMetadata: meta, vocabularySize: 128, hasOutputTensor: true,
                                    ropeFrequencyFactors: factors, file: "t.gguf")
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(message(m, [1, 2, 8]) == "t.gguf: field 'rope_freqs.weight' has 3 values, expected head_dim/2 = 8")
        #expect(message(m, [1, 1, 1, 1, 1, 1, 1, -8]).contains("positive finite divisors, found -8.0"))
        var partial = m; partial["llama.rope.dimension_count"] = 8
        #expect(message(partial, nil).contains("llama.rope.dimension_count = 8 is not supported"))
        var linear = m; linear["llama.rope.scaling.type"] = "linear"
        #expect(message(linear, nil).contains("llama.rope.scaling.type = linear is not supported"))
        // divisors that no llama3 parameters produce still run (as llama.cpp would) but name no rope_scaling
        let odd = try LlamaConfig(ggufMetadata: m, vocabularySize: 128, hasOutputTensor: true,
                                  ropeFrequencyFactors: [1, 3, 1, 3, 1, 3, 1, 3], file: "t.gguf")
        #expect(odd.rope_scaling == nil && odd.rope_freq_factors?.count == 8)
    }

    /// Llama-3.2's own parameters survive the round trip through divisors.
    @Test func llama32ScalingIsRecoveredFromItsDivisors() {
        let s = LlamaConfig.llama3_2_1B.rope_scaling!
        let factors = s.frequencyFactors(theta: 500000, headDim: 64)
        #expect(factors.contains { $0 > 1 && $0 < 32 })          // some frequencies are in the smoothed band
        #expect(RopeScaling.llama3(matching: factors, theta: 500000, headDim: 64) == s)
        // transformers' inverse frequencies and theta^(-2i/d)/factor agree to f32 rounding
        let viaFactors = RopeTables(headDim: 64, theta: 500000, positions: 1, frequencyFactors: factors).invFreq
        let viaParameters = LlamaConfig.llama3_2_1B.ropeTables(positions: 1).invFreq
        #expect(zip(viaFactors, viaParameters).allSatisfy { abs($0 - $1) <= 1e-6 * $1 })
    }
}
