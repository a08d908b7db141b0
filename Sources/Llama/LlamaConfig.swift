/// The hyper-parameters of a `LlamaForCausalLM`, with the names of Hugging Face's `config.json`.
///
/// ```swift
/// let config = try LlamaConfig.load(from: URL(fileURLWithPath: "model/config.json"))
/// print(config.num_hidden_layers)    // 22 for TinyLlama
/// ```
public struct LlamaConfig: Sendable, Equatable {
    public var architectures: [String] = ["LlamaForCausalLM"]
    public var vocab_size: Int
    public var hidden_size: Int
    public var intermediate_size: Int
    public var num_hidden_layers: Int
    public var num_attention_heads: Int
    public var num_key_value_heads: Int
    /// Per-head dimension; `hidden_size / num_attention_heads` unless the config says otherwise.
    public var head_dim: Int
    public var rms_norm_eps: Float = 1e-5
    public var rope_theta: Float = 10000
    public var rope_scaling: RopeScaling? = nil
    public var max_position_embeddings: Int = 2048
    public var tie_word_embeddings: Bool = false
    public var attention_bias: Bool = false
    public var mlp_bias: Bool = false
    public var bos_token_id: Int? = nil
    /// One or more end-of-sequence ids (Llama-3 lists several).
    public var eos_token_ids: [Int] = []
    public var pad_token_id: Int? = nil
    public var hidden_act: String = "silu"
    public var torch_dtype: String? = nil

    public init(vocab_size: Int, hidden_size: Int, intermediate_size: Int, num_hidden_layers: Int,
                num_attention_heads: Int, num_key_value_heads: Int? = nil, head_dim: Int? = nil) {
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads ?? num_attention_heads
        self.head_dim = head_dim ?? hidden_size / num_attention_heads
    }
}

/// `rope_scaling` of type `llama3` (Llama-3.1/3.2): frequencies below a band are divided by `factor`,
/// those above kept, and those within interpolated smoothly.
public struct RopeScaling: Sendable, Equatable {
    public var rope_type: String
    public var factor: Float
    public var low_freq_factor: Float
    public var high_freq_factor: Float
    public var original_max_position_embeddings: Int

    public init(rope_type: String, factor: Float, low_freq_factor: Float = 1, high_freq_factor: Float = 4,
                original_max_position_embeddings: Int = 8192) {
        self.rope_type = rope_type
        self.factor = factor
        self.low_freq_factor = low_freq_factor
        self.high_freq_factor = high_freq_factor
        self.original_max_position_embeddings = original_max_position_embeddings
    }
}
