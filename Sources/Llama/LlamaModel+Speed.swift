import Foundation

/// How fast a model generates on this machine: the prompt (prefill) and the new tokens (decode), greedy, with the
/// KV cache, as `ask` and `generate` run. The benchmark's W3 and the `speed` verb measure through this.
public struct GenerationSpeed: Sendable {
    public var promptTokens: Int          // per row
    public var newTokens: Int             // per row; the first comes out of the prefill step
    public var batch: Int
    public var prefillSeconds: Double
    public var totalSeconds: Double
    public var firstReply: [Int]          // row 0's new tokens

    /// Prompt tokens per second over all rows.
    public var promptTokensPerSecond: Double { Double(batch * promptTokens) / Swift.max(prefillSeconds, 1e-9) }
    /// New tokens per second over all rows, decode steps only (the new tokens after the first).
    public var decodeTokensPerSecond: Double {
        Double(batch * (newTokens - 1)) / Swift.max(totalSeconds - prefillSeconds, 1e-9)
    }
}

extension LlamaModel {
    /// Generates exactly `newTokens` greedy tokens (no stop token ends a row early) after `prompt`, in `batch`
    /// identical rows, and times the prefill and the whole. `onStep` runs after each step (it may throw to stop,
    /// as a Ctrl-C check does).
    ///
    /// ```swift
    /// let s = try model.measureGeneration(prompt: ids, newTokens: 128)
    /// print(s.promptTokensPerSecond, s.decodeTokensPerSecond)
    /// ```
    public func measureGeneration(prompt: [Int], newTokens: Int, batch: Int = 1,
                                  onStep: () throws -> Void = {}) throws -> GenerationSpeed {
        let config = GenerationConfig(max_new_tokens: newTokens, do_sample: false, stop_at_eos: false)
        let clock = ContinuousClock()
        var firstToken: ContinuousClock.Instant?
        let start = clock.now
        let replies = try withoutActuallyEscaping(onStep) { step in
            try generate(prompts: Array(repeating: prompt, count: batch), config: config) { _, _ in
                if firstToken == nil { firstToken = clock.now }
                try step()
            }
        }
        let end = clock.now
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        return GenerationSpeed(promptTokens: prompt.count, newTokens: newTokens, batch: batch,
                               prefillSeconds: seconds((firstToken ?? end) - start), totalSeconds: seconds(end - start),
                               firstReply: replies.first?.tokens ?? [])
    }
}
