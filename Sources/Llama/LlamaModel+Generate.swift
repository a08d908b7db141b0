import Foundation
import Kernels

// Generation with a KV cache: one prefill step over the (right-padded) prompts, then one decode
// step per new token for all rows at once. The run state, cache, sampler scratch and repetition
// marks are allocated before the first step; the loop itself allocates nothing.

/// Why a row stopped generating.
public enum StopReason: Sendable, Equatable {
    /// It produced this stop token (EOS, end-of-turn or a `stop_token_ids` entry).
    case stopToken(Int)
    /// It reached `max_new_tokens`.
    case maxNewTokens
}

/// The new tokens of one prompt (without the prompt and without the stop token) and why it stopped.
public struct Generation: Sendable, Equatable {
    public var tokens: [Int]
    public var stopReason: StopReason
    /// log p(token | everything before it) of each new token under the model itself: the softmax of the raw logits,
    /// before any temperature or repetition penalty the sampler applied. [tokens.count]
    public var logprobs: [Float] = []

    public init(tokens: [Int], stopReason: StopReason, logprobs: [Float] = []) {
        self.tokens = tokens; self.stopReason = stopReason; self.logprobs = logprobs
    }

    /// The same reply: the same tokens and stop (the log-probabilities, computed in another batch shape, may differ
    /// in their last bits).
    public static func == (a: Generation, b: Generation) -> Bool { a.tokens == b.tokens && a.stopReason == b.stopReason }

    /// How sure the model was of this reply, from `logprobs`; nil for a reply with no tokens.
    public var confidence: AnswerConfidence? { AnswerConfidence(logprobs: logprobs) }
}

/// A reply's confidence: the mean and the smallest probability of its tokens, and the probability of the whole
/// reply (the product, which falls with length).
///
/// ```swift
/// let c = AnswerConfidence(logprobs: [log(0.9), log(0.5)])!   // mean 0.7, minimum 0.5, answer 0.45
/// ```
public struct AnswerConfidence: Sendable, Equatable, CustomStringConvertible {
    public var meanTokenProbability: Double
    public var minimumTokenProbability: Double
    public var answerProbability: Double

    public init?(logprobs: [Float]) {
        guard !logprobs.isEmpty else { return nil }
        let p = logprobs.map { exp(Double($0)) }
        meanTokenProbability = p.reduce(0, +) / Double(p.count)
        minimumTokenProbability = p.min()!
        answerProbability = exp(logprobs.reduce(0.0) { $0 + Double($1) })
    }

    /// `mean token probability 0.820, lowest 0.610, whole answer 0.5` (what `ask ... abstain_below=` and `detail` print).
    public var description: String {
        String(format: "mean token probability %.3f, lowest %.3f, whole answer %.2g", meanTokenProbability, minimumTokenProbability,
               answerProbability)
    }
}

extension LlamaModel {
    /// Continues one prompt. `onToken` receives each new token as soon as it is chosen (the stop
    /// token is not passed), for streaming; an error it throws (a Ctrl-C) stops generation and is rethrown.
    ///
    /// ```swift
    /// let reply = try model.generate(prompt: ids, config: GenerationConfig(max_new_tokens: 32)) { id in
    ///     print(tokenizer.decode([id]), terminator: "")
    /// }
    /// ```
    public func generate(prompt: [Int], config g: GenerationConfig,
                         onToken: ((Int) throws -> Void)? = nil) throws -> Generation {
        try generate(prompts: [prompt], config: g, onToken: onToken.map { f in { _, id in try f(id) } })[0]
    }

    /// Continues several prompts of any lengths together (batched decode: each step multiplies the
    /// weights once for all rows). Each row stops on its own; row r's sampler is seeded with
    /// `seed + r`, so a row's text does not depend on the rest of the batch.
    ///
    /// ```swift
    /// let replies = try model.generate(prompts: [a, b], config: GenerationConfig(max_new_tokens: 64))
    /// ```
    public func generate(prompts: [[Int]], config g: GenerationConfig,
                         onToken: ((_ row: Int, _ token: Int) throws -> Void)? = nil) throws -> [Generation] {
        try g.validate()
        let B = prompts.count
        guard B > 0 else { return [] }
        for (b, p) in prompts.enumerated() where p.isEmpty {
            throw LlamaError.invalidInput("generation: prompt \(b) is empty")
        }
        let V = config.vocab_size
        let longest = prompts.map(\.count).max()!
        let capacity = longest + g.max_new_tokens
        guard capacity <= rope.positions else {
            throw LlamaError.invalidInput("generation: prompt (\(longest)) + max_new_tokens (\(g.max_new_tokens)) exceeds the \(rope.positions) positions this model covers")
        }
        let stops = Set(g.stop_token_ids + (g.stop_at_eos ? config.eos_token_ids : []))

        let cache = makeCache(batch: B, maxTokens: capacity)
        let state = LlamaRunState(config: config, batch: B, tokensPerStep: longest, cacheCapacity: capacity, allLogits: false)
        var samplers = (0..<B).map { b in
            var c = g; c.seed = g.seed &+ UInt64(b)
            return Sampler(config: c, vocab: V)
        }
        var seen = [Bool](repeating: false, count: g.repetition_penalty != 1 ? B * V : 0)
        var results = [Generation](repeating: Generation(tokens: [], stopReason: .maxNewTokens), count: B)
        results.indices.forEach { results[$0].tokens.reserveCapacity(g.max_new_tokens); results[$0].logprobs.reserveCapacity(g.max_new_tokens) }
        // A row's logits before the sampler changes them in place (temperature, repetition penalty); greedy decoding
        // without a penalty leaves them as they are, so its chosen logit is read from the row with no copy.
        let samplerChangesLogits = g.do_sample || g.repetition_penalty != 1
        var raw = [Float](repeating: 0, count: samplerChangesLogits ? V : 0)
        var done = [Bool](repeating: g.max_new_tokens == 0, count: B)

        // prefill: right-padded prompts
        for b in 0..<B {
            for t in 0..<longest {
                let real = t < prompts[b].count
                let id = real ? prompts[b][t] : 0
                guard id >= 0 && id < V else {
                    throw LlamaError.invalidInput("generation: token id \(id) in prompt \(b) is outside the vocabulary of \(V)")
                }
                state.tokens[b * longest + t] = Int32(id)
                state.mask[b * longest + t] = real ? 1 : 0
                if real && !seen.isEmpty { seen[b * V + id] = true }
            }
        }
        var T = longest
        while !done.allSatisfy({ $0 }) {
            try forwardStep(state: state, cache: cache, B: B, T: T, logits: .last)
            T = 1
            for b in 0..<B {
                if done[b] {
                    state.tokens[b] = 0; state.mask[b] = 0   // keeps the row still
                    continue
                }
                let row = state.logits.pointer + b * V
                let lse = logsumexp(row, V)
                if samplerChangesLogits { raw.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: row, count: V) } }
                let id = seen.isEmpty
                    ? samplers[b].next(logits: row, seen: nil)
                    : seen.withUnsafeBufferPointer { samplers[b].next(logits: row, seen: $0.baseAddress! + b * V) }
                if stops.contains(id) {
                    results[b].stopReason = .stopToken(id)
                    done[b] = true
                } else {
                    results[b].tokens.append(id)
                    results[b].logprobs.append((samplerChangesLogits ? raw[id] : row[id]) - lse)
                    try onToken?(b, id)
                    if !seen.isEmpty { seen[b * V + id] = true }
                    if results[b].tokens.count == g.max_new_tokens { done[b] = true }
                }
                state.tokens[b] = Int32(id); state.mask[b] = done[b] ? 0 : 1
            }
        }
        return results
    }
}
