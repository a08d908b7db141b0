import Foundation
import Testing
import Kernels
import Llama
import TestSupport
import Training

// On the real default model (SmolLM2-135M-Instruct, Q4_1 GGUF), when it is present: a fresh adapter (B = 0)
// leaves the model's loss unchanged, the Llama module's inference forward and the training forward agree,
// and one backward gives the gradients a fresh adapter must have (dA = 0 because B = 0; dB non-zero).
struct SmolLM2Tests {
    static var gguf: URL? { Repository.smolLM2 }

    @Test(.enabled(if: gguf != nil, Comment(rawValue: Repository.smolLM2Absent)))
    func freshAdapterOnSmolLM2() throws {
        let base = try LlamaModel.load(gguf: try #require(Self.gguf))
        let lora = try LoraConfig(r: 16, lora_alpha: 32, lora_dropout: 0.05,
                                  target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
        #expect(try lora.trainableParametersLine(config: base.config)
                == "trainable params: 4,884,480 || all params: 139,399,488 || trainable%: 3.5039")
        let model = try LoraModel(base: base, lora: lora)
        // "<|im_start|>user\nWhat causes anemia?<|im_end|>" style ids: any in-vocabulary row will do
        let ids = [[1, 4093, 198, 1780, 4736, 253, 8771, 47, 2, 198, 1, 520, 9531, 198, 34, 1450, 17397, 30, 2], [1, 4093, 198, 1780, 2]
                   + [Int](repeating: 2, count: 14)]
        let mask = [[Int](repeating: 1, count: 19), [Int](repeating: 1, count: 5) + [Int](repeating: 0, count: 14)]
        let labels = zip(ids, mask).map { row, m in zip(row, m).map { $1 == 1 ? $0 : -100 } }
        let batch = try TrainingBatch(input_ids: ids, attention_mask: mask, labels: labels)
        let reference = try base.loss(inputIds: ids, attentionMask: mask, labels: labels)
        let (sum, count) = try model.forwardBackward(batch, lossDivisor: Double(batch.targetCount), dropoutKey: 1)
        #expect(count == 22)
        #expect(abs(sum / Double(count) - Double(reference)) < 1e-4)
        let logits = try model.logits(batch)
        let baseLogits = try base.forward(inputIds: ids, attentionMask: mask).values
        #expect(maxAbsDiff(logits, baseLogits) < 1e-3)
        for m in model.adapter.modules {
            #expect(m.grad_A.array.allSatisfy { $0 == 0 })
            #expect(maxAbs(m.grad_B.array) > 0)
        }
    }
}
