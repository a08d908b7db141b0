import Foundation
import Testing
import Llama
import Kernels

// The tiny random LlamaForCausalLM fixtures (GQA; untied, tied, llama3 rope scaling) and a tiny
// Qwen2ForCausalLM (the same with q, k and v biases) against the logits and loss transformers computed
// for a right-padded batch of two rows.

@Suite struct TinyLlamaParityTests {
    @Test(arguments: TinyFixture.names)
    func logitsAndLossMatchTransformers(name: String) throws {
        guard let f = try TinyFixture.load(name) else {
            print("skipped: fixture \(name) absent under Tests/Fixtures"); return
        }
        // the real loader: config.json + model.safetensors through the weights module
        let model = try LlamaModel.load(directory: f.directory, storage: .f32)
        #expect(model.config == f.config)
        let logits = try model.forward(inputIds: f.inputIds, attentionMask: f.attentionMask)
        let diff = maxAbsDiff(logits.values, f.logits)
        print("\(name): logits max-abs diff \(diff)")
        #expect(diff < 1e-4)
        let loss = try model.loss(inputIds: f.inputIds, attentionMask: f.attentionMask, labels: f.labels)
        print("\(name): loss \(loss) vs \(f.loss)")
        #expect(abs(loss - f.loss) < 1e-5)
    }

    /// The tiny Qwen2 as llama.cpp's converter writes it (`qwen2.*` metadata, `blk.N.attn_q.bias`, query and key
    /// rows left unpermuted, unlike llama's): the same architecture, biases and logits as the folder.
    @Test func qwen2GGUFGivesTransformersLogits() throws {
        guard let f = try TinyFixture.load("tiny-qwen2") else { print("skipped: fixture tiny-qwen2 absent"); return }
        let model = try LlamaModel.load(gguf: f.directory.appendingPathComponent("model.gguf"), storage: .f32)
        #expect(model.config.architecture == .qwen2)
        #expect(model.weights.model.layers.allSatisfy { l in l.projections.map { $0.weight.bias != nil } == [true, true, true, false, false, false, false] })
        let logits = try model.forward(inputIds: f.inputIds, attentionMask: f.attentionMask)
        let diff = maxAbsDiff(logits.values, f.logits)
        print("tiny-qwen2 GGUF: logits max-abs diff \(diff)")
        #expect(diff < 1e-4)
    }

    /// bf16 storage rounds every weight to 8 significant bits (relative error up to 2⁻⁹), f16 to 11.
    /// On these tiny models (logits up to about ±3) that moves logits by up to 3e-2 (bf16) and 3e-3
    /// (f16). Documented tolerances: logits within 1.5% (bf16) and 0.2% (f16) of the largest
    /// |logit|; loss within 1e-2.
    @Test(arguments: TinyFixture.names)
    func bf16StorageStaysClose(name: String) throws {
        guard let f = try TinyFixture.load(name) else { print("skipped: fixture \(name) absent"); return }
        let scale = f.logits.reduce(0) { max($0, abs($1)) }
        for (storage, relative) in [(StorageType.bf16, Float(0.015)), (.f16, Float(0.002))] {
            let model = try LlamaModel(config: f.config, source: f.tensors, storage: storage)
            let logits = try model.forward(inputIds: f.inputIds, attentionMask: f.attentionMask)
            let diff = maxAbsDiff(logits.values, f.logits)
            print("\(name) \(storage): logits max-abs diff \(diff), largest |logit| \(scale)")
            #expect(diff < relative * scale)
            let loss = try model.loss(inputIds: f.inputIds, attentionMask: f.attentionMask, labels: f.labels)
            #expect(abs(loss - f.loss) < 1e-2)
        }
    }

    /// Prefill then token-by-token decode through the KV cache gives the logits of the full forward.
    @Test(arguments: TinyFixture.names)
    func kvCacheDecodeMatchesFullForward(name: String) throws {
        guard let f = try TinyFixture.load(name) else { print("skipped: fixture \(name) absent"); return }
        let model = try LlamaModel(config: f.config, source: f.tensors, storage: .f32)
        let V = f.config.vocab_size, T = f.inputIds[0].count
        // Both rows at once, each with its real length: prefill 3 tokens, then one token per step.
        let lengths = f.attentionMask.map { $0.reduce(0, +) }
        let cache = model.makeCache(batch: 2, maxTokens: T)
        let state = LlamaRunState(config: f.config, batch: 2, tokensPerStep: 3, cacheCapacity: T, allLogits: true)
        for b in 0..<2 { for t in 0..<3 { state.tokens[b * 3 + t] = Int32(f.inputIds[b][t]); state.mask[b * 3 + t] = 1 } }
        try model.forwardStep(state: state, cache: cache, B: 2, T: 3, logits: .all)
        var worst: Float = 0
        for b in 0..<2 {
            for t in 0..<3 {
                worst = max(worst, maxAbsDiff(state.logits.array[((b * 3 + t) * V)..<((b * 3 + t + 1) * V)],
                                              f.logits[((b * T + t) * V)..<((b * T + t + 1) * V)]))
            }
        }
        for t in 3..<T {
            for b in 0..<2 {
                // a finished row feeds padding, which the cache does not keep
                let real = t < lengths[b]
                state.tokens[b] = Int32(real ? f.inputIds[b][t] : 0)
                state.mask[b] = real ? 1 : 0
            }
            try model.forwardStep(state: state, cache: cache, B: 2, T: 1, logits: .last)
            for b in 0..<2 where t < lengths[b] {
                worst = max(worst, maxAbsDiff(state.logits.array[(b * V)..<((b + 1) * V)],
                                              f.logits[((b * T + t) * V)..<((b * T + t + 1) * V)]))
            }
        }
        print("\(name): cached decode vs reference, max-abs \(worst)")
        #expect(worst < 1e-4)
        #expect(cache.lengths == lengths)
    }
}
