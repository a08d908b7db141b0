import Support

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
public struct GenerationConfig: Sendable, Equatable, CustomStringConvertible {
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

    /// Every setting a user can give, declared once: `ask`/`generate` and the evaluation verbs take their sampling
    /// parameters from here (each with its own defaults: `GenerationConfig.notebook` and `.greedy` where the
    /// evaluation protocols are), and `validate` checks with it.
    public static let settings = SettingsTable<GenerationConfig>([
        Setting("max_new_tokens", \.max_new_tokens, .nonNegative, help: "new tokens at most"),
        Setting("do_sample", \.do_sample, help: "sample instead of taking the most likely token"),
        Setting("temperature", \.temperature, .positive, help: "divides the logits when sampling"),
        Setting("top_p", \.top_p, .probability, help: "nucleus sampling: keep the most likely tokens up to this probability mass"),
        Setting("top_k", \.top_k, .nonNegative, help: "keep the k most likely tokens when sampling (0: all)"),
        Setting("repetition_penalty", \.repetition_penalty, .positive, help: "> 1 discourages tokens already in the prompt or reply"),
        Setting("seed", \.seed, .nonNegative, help: "the sampler's seed: the same seed, the same tokens"),
    ])

    /// Throws `LlamaError.invalidInput` naming the first bad field: "temperature must be a positive number, got 0.0".
    public func validate() throws {
        do { try Self.settings.check(self) } catch let error as SettingError { throw LlamaError.invalidInput(error.description) }
    }

    /// "greedy, 50 new tokens" or "sampling T=0.3 top-p=0.9 seed 7, 50 new tokens".
    public var description: String {
        let mode = do_sample ? "sampling T=\(Self.short(temperature)) top-p=\(Self.short(top_p)) seed \(seed)" : "greedy"
        return "\(mode), \(max_new_tokens) new tokens"
    }

    /// `1` for 1.0, `0.3` for 0.3: as Python prints the notebook's settings.
    public static func short(_ x: Float) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
}
