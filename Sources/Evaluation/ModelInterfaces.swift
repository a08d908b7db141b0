// What evaluation needs from a model, as small protocols: the engine (or a fake in tests)
// implements them, and evaluation never sees the engine's internals.
//
// Wiring a real model (in the shell, which sees both the engine and this module):
//
//     struct ModelAnswerer: AnswerGenerator, AnswerScorer {
//         let model: LlamaModel          // the engine's loaded model, adapter on or off
//         let tokenizer: Tokenizer
//         func generate(prompt: String, config: SamplingSettings) throws -> String {
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

/// Decoding settings for one generation.
///
/// ```swift
/// let notebook = SamplingSettings.notebook   // 50 new tokens, temperature 0.3, top-p 0.9, sampling
/// let careful = SamplingSettings.greedy(maxNewTokens: 32)
/// ```
public struct SamplingSettings: Equatable, Sendable, CustomStringConvertible {
    /// Most tokens generated after the prompt.
    public var maxNewTokens: Int
    /// Softmax temperature when sampling.
    public var temperature: Double
    /// Nucleus (top-p) mass kept when sampling.
    public var topP: Double
    /// Sample (true) or take the most likely token (false, greedy).
    public var doSample: Bool
    /// The sampler's seed; nil lets the engine choose (the notebook sets none).
    public var seed: UInt64?

    public init(maxNewTokens: Int, temperature: Double = 1, topP: Double = 1, doSample: Bool = false, seed: UInt64? = nil) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topP = topP
        self.doSample = doSample
        self.seed = seed
    }

    /// The notebook's `model.generate(max_new_tokens=50, temperature=0.3, top_p=0.9, do_sample=True)`.
    public static let notebook = SamplingSettings(maxNewTokens: 50, temperature: 0.3, topP: 0.9, doSample: true)

    /// Greedy decoding: a deterministic score.
    public static func greedy(maxNewTokens: Int = 50) -> SamplingSettings {
        SamplingSettings(maxNewTokens: maxNewTokens, temperature: 1, topP: 1, doSample: false)
    }

    /// "greedy, 50 new tokens" or "sampling T=0.3 top-p=0.9 seed 7, 50 new tokens".
    public var description: String {
        let mode = doSample
            ? "sampling T=\(Self.short(temperature)) top-p=\(Self.short(topP))" + (seed.map { " seed \($0)" } ?? "")
            : "greedy"
        return "\(mode), \(maxNewTokens) new tokens"
    }

    static func short(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
}

/// A model that continues a prompt. The engine implements this; tests use fakes.
///
/// ```swift
/// struct Echo: AnswerGenerator {
///     func generate(prompt: String, config: SamplingSettings) throws -> String { " Vitamin C" }
/// }
/// ```
public protocol AnswerGenerator {
    /// The text generated after `prompt` (without the prompt, without special tokens).
    /// The prompt is complete text, special tokens written literally (e.g. `<|begin_of_text|>`).
    func generate(prompt: String, config: SamplingSettings) throws -> String

    /// Several prompts at once (a batched engine overrides this; the default runs them one by one).
    func generate(prompts: [String], config: SamplingSettings) throws -> [String]

    /// Several prompts at once, calling `onStep` after every decode step with the tokens generated so
    /// far by the longest reply (progress; an error it throws, such as ``GenerationStopped``, stops
    /// generation at once and is rethrown). The default calls it once per prompt.
    func generate(prompts: [String], config: SamplingSettings, onStep: (Int) throws -> Void) throws -> [String]
}

extension AnswerGenerator {
    public func generate(prompts: [String], config: SamplingSettings) throws -> [String] {
        try prompts.map { try generate(prompt: $0, config: config) }
    }

    public func generate(prompts: [String], config: SamplingSettings, onStep: (Int) throws -> Void) throws -> [String] {
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
