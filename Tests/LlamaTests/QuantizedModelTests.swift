import Foundation
import Testing
import Kernels
import Llama
import TestSupport
import Tokenizers

// SmolLM2-135M-Instruct with its weights kept quantized: as the GGUF stores them (`keepStored`: Q4_1, its embedding
// Q8_0) and re-quantized to Q8_0. Against the same file dequantized to f32: perplexity on a fixed medical text,
// and the greedy continuations of transformers' two reference prompts (Tests/Fixtures/smollm2).
//
// Measured (Zen 5): kept Q4_1 perplexity 22.372337 against f32's 22.372343 (prompts and scoring multiply the
// dequantized weights; only decoding rounds activations to 8 bits); its greedy tokens leave transformers' at
// token 14 of prompt 0 and 29 of prompt 1, where f32's top two logits are 0.04 apart. Q8_0 made from the Q4_1
// values (a second rounding of every weight): perplexity +0.88%, greedy tokens leave at token 12 of prompt 0
// and at token 1 of prompt 1, where f32's top two are 0.21 apart and the Q8_0 weights alone swap them. So the
// tolerances below are: kept 0.5%, Q8_0 1.5%; the first 12 greedy tokens of both prompts kept, of prompt 0 Q8_0.

@Suite(.serialized) struct QuantizedModelTests {
    static let text = """
        Scurvy is caused by a lack of vitamin C (ascorbic acid) in the diet. Vitamin C is needed to make collagen, \
        so its deficiency weakens blood vessels, gums and skin: patients present with fatigue, swollen and bleeding \
        gums, perifollicular haemorrhages, corkscrew hairs and poor wound healing. Treatment is oral ascorbic acid, \
        which relieves the symptoms within days.
        """

    /// exp(mean loss) of the text, each token predicted from those before it.
    static func perplexity(_ model: LlamaModel, _ ids: [Int]) throws -> Double {
        Double(exp(try model.loss(inputIds: [ids], attentionMask: [[Int](repeating: 1, count: ids.count)], labels: [ids])))
    }

    @Test func keptAndQ8_0ModelsMatchTheF32Model() throws {
        guard let url = Repository.smolLM2 else { print("skipped: \(Repository.smolLM2Absent)"); return }
        guard let ref = try SmolLM2Reference.load() else { print("skipped: Tests/Fixtures/smollm2 absent"); return }
        let f32 = try LlamaModel.load(gguf: url, storage: .f32)
        let kept = try LlamaModel.load(gguf: url, keepStored: true)
        let q8 = try LlamaModel.load(gguf: url, storage: .q8_0)
        #expect(kept.weights.storageDescription == "q4_1 + q8_0" && q8.weights.storageDescription == "q8_0")
        #expect(kept.weights.byteCount < f32.weights.byteCount / 5)
        let ids = try loadTokenizer(gguf: url).encode(Self.text)
        let reference = try Self.perplexity(f32, ids)
        for (name, model, tolerance, prompts) in [("kept Q4_1", kept, 0.005, [0, 1]), ("Q8_0", q8, 0.015, [0])] {
            let p = try Self.perplexity(model, ids)
            print("SmolLM2 \(name): perplexity \(p) against f32's \(reference) on \(ids.count) tokens")
            #expect(abs(p / reference - 1) <= tolerance, "\(name): perplexity \(p), f32 \(reference)")
            // decoding one token at a time runs the 8-bit activation products
            let replies = try model.generate(prompts: ref.inputIds, config: GenerationConfig(max_new_tokens: 32))
            for r in prompts { #expect(replies[r].tokens.prefix(12) == ref.greedyIds[r].prefix(12), "\(name) prompt \(r)") }
        }
    }
}
