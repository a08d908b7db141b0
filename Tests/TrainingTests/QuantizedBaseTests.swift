import Foundation
import Testing
import Kernels
import Llama
import Training

// LoRA on a frozen quantized base (QLoRA semantics): the base stays q8_0/q4_1 blocks, the adapter trains as on any
// base. Training products have more than 8 rows, so they multiply the dequantized weights: the gradients are those
// of an f32 base holding the dequantized values, and the losses stay close to the f32 base's.
struct QuantizedBaseTests {
    @Test(arguments: [StorageType.q8_0, .q4_1])
    func gradientsAreThoseOfTheDequantizedBase(storage: StorageType) throws {
        let (batch, _) = try TinyLlama.referenceBatch()
        let base = try LlamaModel.load(directory: TrainingPaths.tinyLlama, storage: storage)
        #expect(base.weights.model.layers[0].self_attn.q_proj.storage == storage)
        let adapter = try TinyLlama.model().adapter
        let quantized = try LoraModel(config: base.config, weights: base.weights, adapter: adapter)
        let plain = try LoraModel(config: base.config, weights: base.weights.converted(to: .f32), adapter: adapter)
        let gq = try BackwardTests.gradients(quantized, batch), gp = try BackwardTests.gradients(plain, batch)
        for (a, b) in zip(gq, gp) { #expect(maxAbsDiff(a, b) <= 1e-5 * maxAbs(b)) }
        // and the base is really different from the f32 one: quantization moved the loss
        let (sq, n) = try quantized.loss(batch)
        let (sf, _) = try TinyLlama.model().loss(batch)
        #expect(abs(sq - sf) / Double(n) > 1e-5)
    }

    @Test func trainingOnAQ8_0BaseFollowsTheF32Base() throws {
        let q8 = try LlamaModel.load(directory: TrainingPaths.tinyLlama, storage: .q8_0)
        func losses(_ weights: LlamaWeights) throws -> [Double] {
            var args = TrainerTests.args(TrainingPaths.scratch("qlora"), maxSteps: 10)
            args.logging_steps = 10
            let model = try LoraModel(config: TinyLlama.config, weights: weights, adapter: try TinyLlama.model().adapter)
            let t = try Trainer(model: model, args: args, examples: TinyLlama.examples(20), padTokenId: 0)
            t.showProgress = false
            _ = try t.train()
            return t.state.step_losses
        }
        let f32 = try losses(TinyLlama.weights), quantized = try losses(q8.weights)
        print("tiny-llama q8_0 base: step losses \(quantized.map { ($0 * 1e4).rounded() / 1e4 }) against f32's \(f32.map { ($0 * 1e4).rounded() / 1e4 })")
        for (a, b) in zip(quantized, f32) { #expect(abs(a / b - 1) < 0.02) }
        #expect(quantized.last! < quantized.first!)
    }
}
