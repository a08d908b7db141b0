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
