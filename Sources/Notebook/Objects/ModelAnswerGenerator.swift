// The Evaluation module's AnswerGenerator / AnswerScorer over a loaded model: prompts encoded with
// the model's tokenizer, batched KV-cache generation, answers scored by teacher forcing. The
// evaluation verbs build one per run, with the model's LoRA adapter on or off.
import Evaluation
import Foundation
import Llama
import Tokenizers
import Training

/// A `LlamaModel` + tokenizer that evaluation can generate with and score with.
///
/// ```swift
/// let generator = ModelAnswerGenerator(model: llama, tokenizer: tok, addSpecialTokens: false)
/// let replies = try generator.generate(prompts: [p1, p2], config: .greedy(max_new_tokens: 32))
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

    /// Evaluation's settings with the tokenizer's end-of-turn tokens stopping a reply.
    public func generationConfig(_ s: GenerationConfig) -> GenerationConfig {
        var config = s
        config.stop_token_ids = tokenizer.endOfTurnTokenIds.sorted()
        return config
    }

    public func generate(prompt: String, config: GenerationConfig) throws -> String {
        try generate(prompts: [prompt], config: config)[0]
    }

    /// All prompts in one batched decode (each row stops on its own; row r samples with seed + r).
    public func generate(prompts: [String], config: GenerationConfig) throws -> [String] {
        let ids = prompts.map { tokenizer.encode($0, addSpecialTokens: addSpecialTokens) }
        let generations = try model.generate(prompts: ids, config: generationConfig(config))
        onBatch?(prompts.count)
        return generations.map { tokenizer.decode($0.tokens, skipSpecialTokens: true) }
    }

    /// All prompts in one batched decode, `onStep` after each decode step with the longest reply's length.
    public func generate(prompts: [String], config: GenerationConfig, onStep: (Int) throws -> Void) throws -> [String] {
        try generations(prompts: prompts, config: config, onStep: onStep).map { tokenizer.decode($0.tokens, skipSpecialTokens: true) }
    }

    /// As `generate(prompts:config:onStep:)`, with every reply token's log-probability and where its text ends.
    public func generateScored(prompts: [String], config: GenerationConfig, onStep: (Int) throws -> Void) throws -> [ScoredReply] {
        try generations(prompts: prompts, config: config, onStep: onStep).map { ScoredReply($0, tokenizer: tokenizer) }
    }

    func generations(prompts: [String], config: GenerationConfig, onStep: (Int) throws -> Void) throws -> [Generation] {
        let ids = prompts.map { tokenizer.encode($0, addSpecialTokens: addSpecialTokens) }
        var lengths = [Int](repeating: 0, count: prompts.count), longest = 0
        let generations = try withoutActuallyEscaping(onStep) { step in
            try model.generate(prompts: ids, config: generationConfig(config)) { row, _ in
                lengths[row] += 1
                if lengths[row] > longest { longest = lengths[row]; try step(longest) }
            }
        }
        onBatch?(prompts.count)
        return generations
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

extension ScoredReply {
    /// A generation's text (special tokens skipped) with each token's log-probability and where its text ends.
    public init(_ g: Generation, tokenizer: any Tokenizer) {
        let text = tokenizer.decode(g.tokens, skipSpecialTokens: true)
        let length = text.count
        var ends: [Int] = [], last = 0
        for k in g.tokens.indices {
            // A prefix that cuts a character in two decodes with a replacement character: clamp and keep order.
            last = max(last, min(length, tokenizer.decode(Array(g.tokens[...k]), skipSpecialTokens: true).count))
            ends.append(last)
        }
        self.init(text: text, tokenEnds: ends, logprobs: g.logprobs)
    }

    /// The confidence of the answer the careful evaluation would take from this reply (after a last "The answer is:",
    /// its first line): what `ask ... abstain_below=` compares and `evaluate`'s risk-coverage table orders by.
    public var answerConfidence: AnswerConfidence? { confidence(of: CarefulEvaluation.extractPrediction(fromCompletion: text)) }
}
