// What evaluation needs from a model, as small protocols: the engine (or a fake in tests)
// implements them, and evaluation never sees the engine's internals.
//
// Wiring a real model (in the shell, which sees both the engine and this module):
//
//     struct ModelAnswerer: AnswerGenerator, AnswerScorer {
//         let model: LlamaModel          // the engine's loaded model, adapter on or off
//         let tokenizer: Tokenizer
//         func generate(prompt: String, config: GenerationConfig) throws -> String {
//             // Encode with special-token parsing on (as `tokenizer(prompt)` does in transformers),
//             // decode only the new tokens, skipping special tokens.
//         }
//         func answerLoss(prompt: String, answer: String) throws -> (loss: Double, tokens: Int) {
//             // One forward pass over prompt + answer; mean cross-entropy over the answer's tokens.
//         }
//     }
//
// Base versus fine-tuned: two such values over the same loaded model, one with the adapter
// switched off, passed to `CarefulEvaluation.compare(test:base:tuned:)`.
import Foundation
import Llama

/// A model that continues a prompt. The engine implements this; tests use fakes.
///
/// ```swift
/// struct Echo: AnswerGenerator {
///     func generate(prompt: String, config: GenerationConfig) throws -> String { " Vitamin C" }
/// }
/// ```
public protocol AnswerGenerator {
    /// The text generated after `prompt` (without the prompt, without special tokens).
    /// The prompt is complete text, special tokens written literally (e.g. `<|begin_of_text|>`).
    func generate(prompt: String, config: GenerationConfig) throws -> String

    /// Several prompts at once (a batched engine overrides this; the default runs them one by one).
    func generate(prompts: [String], config: GenerationConfig) throws -> [String]

    /// Several prompts at once, calling `onStep` after every decode step with the tokens generated so
    /// far by the longest reply (progress; an error it throws, such as ``GenerationStopped``, stops
    /// generation at once and is rethrown). The default calls it once per prompt.
    func generate(prompts: [String], config: GenerationConfig, onStep: (Int) throws -> Void) throws -> [String]

    /// As `generate(prompts:config:onStep:)`, each reply with its tokens' log-probabilities, so that
    /// evaluation can say how sure the model was of the answer. The default has none (a fake, a remote model).
    func generateScored(prompts: [String], config: GenerationConfig, onStep: (Int) throws -> Void) throws -> [ScoredReply]
}

/// A generated reply with each token's log-probability under the model and where each token's text
/// ends in `text`, so the confidence of any part of the reply (the answer after "The answer is:") can be read.
///
/// ```swift
/// let reply = ScoredReply(text: "The answer is: B12", tokenEnds: [3, 10, 14, 16, 18], logprobs: [-0.1, -0.1, 0, -0.2, -0.5])
/// reply.confidence(of: "B12")   // " B" and "12": mean token probability (0.82 + 0.61) / 2
/// ```
public struct ScoredReply: Sendable, Equatable {
    public var text: String
    /// Token i's text ends at `text`'s character `tokenEnds[i]` (nondecreasing; a token that completes no
    /// character yet ends where the previous one did).
    public var tokenEnds: [Int]
    /// Token i's log-probability (natural log) under the model's own distribution. Empty when unknown.
    public var logprobs: [Float]

    public init(text: String, tokenEnds: [Int] = [], logprobs: [Float] = []) {
        self.text = text; self.tokenEnds = tokenEnds; self.logprobs = logprobs
    }

    /// The confidence of the tokens that write `answer`'s last occurrence in the reply (every token whose text
    /// overlaps it), or of the whole reply when `answer` is empty or not found; nil without log-probabilities.
    public func confidence(of answer: String) -> AnswerConfidence? {
        guard !logprobs.isEmpty, logprobs.count == tokenEnds.count else { return nil }
        guard !answer.isEmpty, let range = text.range(of: answer, options: .backwards) else {
            return AnswerConfidence(logprobs: logprobs)
        }
        let lo = text.distance(from: text.startIndex, to: range.lowerBound)
        let hi = text.distance(from: text.startIndex, to: range.upperBound)
        var start = 0, picked: [Float] = []
        for (i, end) in tokenEnds.enumerated() {
            if end > lo && start < hi { picked.append(logprobs[i]) }
            start = end
        }
        return AnswerConfidence(logprobs: picked.isEmpty ? logprobs : picked)
    }
}

extension AnswerGenerator {
    public func generate(prompts: [String], config: GenerationConfig) throws -> [String] {
        try prompts.map { try generate(prompt: $0, config: config) }
    }

    public func generate(prompts: [String], config: GenerationConfig, onStep: (Int) throws -> Void) throws -> [String] {
        var out: [String] = []
        for p in prompts {
            try onStep(0)
            out.append(try generate(prompt: p, config: config))
        }
        return out
    }

    public func generateScored(prompts: [String], config: GenerationConfig, onStep: (Int) throws -> Void) throws -> [ScoredReply] {
        try generate(prompts: prompts, config: config, onStep: onStep).map { ScoredReply(text: $0) }
    }
}

/// A model that scores a given answer by teacher forcing.
///
/// ```swift
/// let (loss, tokens) = try model.answerLoss(prompt: "Q: ...\nA:", answer: " Vitamin C")
/// ```
public protocol AnswerScorer {
    /// The mean cross-entropy (natural log) of `answer`'s tokens given `prompt` and the answer's
    /// earlier tokens, and how many answer tokens were scored.
    func answerLoss(prompt: String, answer: String) throws -> (loss: Double, tokens: Int)
}

/// A flag that stops a running evaluation between examples (set it from a Ctrl-C handler).
/// The examples finished so far are kept.
///
/// ```swift
/// let stop = CancellationFlag()
/// signal handler: stop.cancel()
/// let run = try evaluation.run(..., cancellation: stop)   // run.stopReason == .cancelled
/// ```
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private let poll: (() -> Bool)?
    /// `poll`, when given, is asked at every check whether to stop (the shell passes its Ctrl-C check,
    /// so the engine, which does not know the shell, stops within one decode step).
    public init(poll: (() -> Bool)? = nil) { self.poll = poll }
    /// Asks the evaluation to stop after the current example.
    public func cancel() { lock.lock(); cancelled = true; lock.unlock() }
    /// True once ``cancel()`` was called or `poll` said to stop.
    public var isCancelled: Bool {
        if !peek, poll?() == true { cancel() }
        return peek
    }
    private var peek: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }
}

/// Thrown from a generator's step callback to stop generation at once (Ctrl-C mid-batch).
public struct GenerationStopped: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "interrupted" }
}
