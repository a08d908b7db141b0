/// How to pick new tokens, with the names and defaults of transformers' `GenerationConfig`
/// (except `max_new_tokens`, which is 128 here).
///
/// Greedy unless `do_sample`; when sampling, the logits pass through transformers' processors in
/// its order: repetition penalty, temperature, top-k, top-p, then one draw from `SeededRandom`.
///
/// ```swift
/// var g = GenerationConfig(max_new_tokens: 64)
/// g.do_sample = true; g.temperature = 0.7; g.top_p = 0.9; g.seed = 7
/// ```
public struct GenerationConfig: Sendable, Equatable {
    /// New tokens at most (the stop token, when one is produced, is not counted in the reply).
    public var max_new_tokens: Int
    /// Sample from the distribution; otherwise take the most likely token.
    public var do_sample: Bool
    /// Divides the logits before sampling (> 0).
    public var temperature: Float
    /// Keep the smallest set of most likely tokens whose probabilities add up to at least this (0, 1].
    public var top_p: Float
    /// Keep the k most likely tokens (ties with the k-th kept too); 0 disables.
    public var top_k: Int
    /// > 1 makes tokens already in the prompt or reply less likely (CTRL-style); 1 disables.
    public var repetition_penalty: Float
    /// The seed of the sampler's generator: same seed, same tokens.
    public var seed: UInt64
    /// Tokens that end a reply, besides the model's `eos_token_ids` (e.g. an end-of-turn token).
    public var stop_token_ids: [Int]
    /// Whether the model config's `eos_token_ids` also end a reply.
    public var stop_at_eos: Bool

    /// Greedy, 128 new tokens, stopping at the model's EOS, unless told otherwise.
    public init(max_new_tokens: Int = 128, do_sample: Bool = false, temperature: Float = 1, top_p: Float = 1,
                top_k: Int = 50, repetition_penalty: Float = 1, seed: UInt64 = 0,
                stop_token_ids: [Int] = [], stop_at_eos: Bool = true) {
        self.max_new_tokens = max_new_tokens
        self.do_sample = do_sample
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k
        self.repetition_penalty = repetition_penalty
        self.seed = seed
        self.stop_token_ids = stop_token_ids
        self.stop_at_eos = stop_at_eos
    }

    /// Throws `LlamaError.invalidInput` naming the first bad field.
    public func validate() throws {
        func bad(_ field: String, _ why: String) -> LlamaError { .invalidInput("generation: \(field) \(why)") }
        if max_new_tokens < 0 { throw bad("max_new_tokens", "must be ≥ 0, got \(max_new_tokens)") }
        if !(temperature > 0) { throw bad("temperature", "must be > 0, got \(temperature)") }
        if !(top_p > 0 && top_p <= 1) { throw bad("top_p", "must be in (0, 1], got \(top_p)") }
        if top_k < 0 { throw bad("top_k", "must be ≥ 0, got \(top_k)") }
        if !(repetition_penalty > 0) { throw bad("repetition_penalty", "must be > 0, got \(repetition_penalty)") }
    }
}
