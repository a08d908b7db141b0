// The Evaluation module's AnswerGenerator / AnswerScorer over a loaded model: prompts encoded with
// the model's tokenizer, batched KV-cache generation, answers scored by teacher forcing. The
// evaluation verbs build one per run, with the model's LoRA adapter on or off.
import Evaluation
import Foundation
import Kernels
import Llama
import Tokenizers
import Training

/// A `LlamaModel` + tokenizer that evaluation can generate with and score with.
///
/// ```swift
/// let generator = ModelAnswerGenerator(model: llama, tokenizer: tok, addSpecialTokens: false)
/// let replies = try generator.generate(prompts: [p1, p2], config: .greedy(maxNewTokens: 32))
/// let (loss, n) = try generator.answerLoss(prompt: p1, answer: "Ceftriaxone")
/// ```
public struct ModelAnswerGenerator: AnswerGenerator, AnswerScorer {
    /// The model that runs (the base, or the base with the adapter merged in).
    public let model: LlamaModel
    /// Encodes prompts and answers, decodes replies.
    public let tokenizer: any Tokenizer
    /// Whether prompts get BOS/EOS as the tokenizer config says (transformers' `tokenizer(prompt)`
    /// does; a chat template already writes its own special tokens, so the careful protocol does not).
    public let addSpecialTokens: Bool
    /// Called after every generated batch with the number of prompts it held (progress, Ctrl-C).
    public var onBatch: ((Int) -> Void)?

    public init(model: LlamaModel, tokenizer: any Tokenizer, addSpecialTokens: Bool, onBatch: ((Int) -> Void)? = nil) {
        self.model = model
        self.tokenizer = tokenizer
        self.addSpecialTokens = addSpecialTokens
        self.onBatch = onBatch
    }

    /// The engine's settings for evaluation's: the tokenizer's end-of-turn tokens stop a reply, and
    /// a missing seed becomes 0 so that a run is repeatable.
    func generationConfig(_ s: SamplingSettings) -> GenerationConfig {
        GenerationConfig(max_new_tokens: s.maxNewTokens, do_sample: s.doSample, temperature: Float(s.temperature),
                         top_p: Float(s.topP), top_k: 0, seed: s.seed ?? 0,
                         stop_token_ids: tokenizer.endOfTurnTokenIds.sorted())
    }

    public func generate(prompt: String, config: SamplingSettings) throws -> String {
        try generate(prompts: [prompt], config: config)[0]
    }

    /// All prompts in one batched decode (each row stops on its own; row r samples with seed + r).
    public func generate(prompts: [String], config: SamplingSettings) throws -> [String] {
        let ids = prompts.map { tokenizer.encode($0, addSpecialTokens: addSpecialTokens) }
        let generations = try model.generate(prompts: ids, config: generationConfig(config))
        onBatch?(prompts.count)
        return generations.map { tokenizer.decode($0.tokens, skipSpecialTokens: true) }
    }

    /// Mean loss of the answer's tokens given the prompt (one forward pass over both).
    public func answerLoss(prompt: String, answer: String) throws -> (loss: Double, tokens: Int) {
        let s = try model.score(prompt: prompt, answer: answer, tokenizer: tokenizer, addSpecialTokens: addSpecialTokens)
        return (Double(s.meanLoss), s.tokenCount)
    }
}

extension ModelObject {
    /// The model generation runs: the base, with the adapter's deltas attached to its inference
    /// forward when the adapter is on and detached when it is off (`inference`, no merged copy).
    /// Returning the bare base for "off" is wrong once the model verbs have attached the deltas.
    public func inferenceModel() -> LlamaModel { inference }

    /// True when a LoRA adapter is attached (on or off).
    public var hasAdapter: Bool { lora != nil }

    /// The tokenizer, or an error saying the model has none.
    public func requireTokenizer() throws -> any Tokenizer {
        guard let tokenizer else {
            throw EvaluationError.invalidArgument("model \(source) has no tokenizer: load one beside the weights")
        }
        return tokenizer.tokenizer
    }
}

/// One merged copy of the last adapter used, keyed by the LoRA model and a checksum of the adapter's
/// values, so a changed adapter is merged again and an unchanged one is not.
final class MergedModelCache: @unchecked Sendable {
    static let shared = MergedModelCache()
    private let lock = NSLock()
    private var key: (lora: ObjectIdentifier, adapter: ObjectIdentifier, checksum: UInt64)?
    private var merged: LlamaModel?

    func model(for lora: LoraModel, ropePositions: Int) -> LlamaModel {
        let k = (ObjectIdentifier(lora), ObjectIdentifier(lora.adapter), Self.checksum(lora.adapter))
        lock.lock(); defer { lock.unlock() }
        if let key, let merged, key.lora == k.0, key.adapter == k.1, key.checksum == k.2 { return merged }
        merged = nil   // free the old copy before making the new one
        // Rotary tables as long as the base's, which may cover more than max_position_embeddings.
        let plain = lora.mergedModel()
        let m = LlamaModel(config: plain.config, weights: plain.weights, storage: plain.storage, ropePositions: ropePositions)
        key = k
        merged = m
        return m
    }

    /// FNV-1a over the bit patterns of every lora_A and lora_B value: cheap next to a merge.
    static func checksum(_ adapter: LoraAdapter) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for m in adapter.modules {
            for buffer in [m.lora_A, m.lora_B] {
                let p = buffer.pointer
                for i in 0..<buffer.count {
                    h = (h ^ UInt64(p[i].bitPattern)) &* 0x0000_0100_0000_01b3
                }
            }
        }
        return h
    }
}
