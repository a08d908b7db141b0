import Kernels
import Weights

/// The hyper-parameters of a `LlamaForCausalLM` or a Llama-like architecture (`Architecture.all`), with the
/// names of Hugging Face's `config.json`.
///
/// Read one with `LlamaConfig.load(from:)` (a `config.json`), `LlamaConfig(ggufMetadata:...)`
/// (a GGUF header) or take a preset; `parameterCount` and `memoryEstimate(storage:)` size it.
///
/// ```swift
/// let config = try LlamaConfig.load(from: URL(fileURLWithPath: "model/config.json"))
/// print(config.num_hidden_layers)             // 22 for TinyLlama
/// print(LlamaConfig.tinyLlama_1_1B.parameterCount)   // 1100048384
/// ```
public struct LlamaConfig: Sendable, Equatable {
    /// LlamaForCausalLM, or the Llama-like architecture (Qwen2: biased q, k, v) the checkpoint is.
    public var architecture: Architecture = .llama
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
    /// Per-frequency rotary divisors, `[head_dim/2]`: a GGUF file's `rope_freqs.weight` (how llama.cpp
    /// stores Llama-3 `rope_scaling`). When set they, not `rope_scaling`, shape the rotary tables.
    public var rope_freq_factors: [Float]? = nil
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
        // (no heads: `validate` says so, instead of a division by zero here)
        self.head_dim = head_dim ?? (num_attention_heads > 0 ? hidden_size / num_attention_heads : 0)
    }

    /// Sizes beyond these are no model a machine could hold; they also keep every size and byte count
    /// computed from a config (parameters × 4 bytes, KV caches, rotary tables) far below `Int.max`.
    public static let maxDimension = 1 << 20, maxLayers = 1 << 10, maxPositions = 1 << 20

    /// Query width: `num_attention_heads * head_dim`.
    public var qDim: Int { num_attention_heads * head_dim }
    /// Key/value width: `num_key_value_heads * head_dim`.
    public var kvDim: Int { num_key_value_heads * head_dim }

    /// Whether a projection's `nn.Linear` has a bias in this architecture.
    public func hasBias(_ target: LoraTarget) -> Bool { architecture.hasBias(target.projection) }

    /// The bias parameters of one decoder layer (Qwen2: q, k and v).
    public var biasParametersPerLayer: Int {
        LoraTarget.allCases.filter(hasBias).reduce(0) { $0 + $1.shape(self).out }
    }

    /// The rotary tables for this config covering positions `0..<positions`.
    public func ropeTables(positions: Int) -> RopeTables {
        let llama3 = rope_scaling.map {
            RopeTables.Llama3Scaling(factor: $0.factor, lowFreqFactor: $0.low_freq_factor,
                                     highFreqFactor: $0.high_freq_factor,
                                     originalMaxPositions: $0.original_max_position_embeddings)
        }
        return RopeTables(headDim: head_dim, theta: rope_theta, positions: positions, llama3: llama3,
                          frequencyFactors: rope_freq_factors)
    }

    /// Checks the relations between fields that the engine relies on.
    public func validate(file: String = "config") throws {
        func positive(_ v: Int, _ name: String) throws {
            if v <= 0 { throw LlamaError.invalidField(file: file, field: name, reason: "must be positive, got \(v)") }
        }
        func inRange(_ v: Int, _ name: String, _ most: Int) throws {
            try positive(v, name)
            if v > most { throw LlamaError.invalidField(file: file, field: name, reason: "must be at most \(most), got \(v)") }
        }
        func positive(_ v: Float, _ name: String) throws {
            if !(v > 0) || !v.isFinite { throw LlamaError.invalidField(file: file, field: name, reason: "must be a positive number, got \(v)") }
        }
        try inRange(vocab_size, "vocab_size", Self.maxDimension)
        try inRange(hidden_size, "hidden_size", Self.maxDimension)
        try inRange(intermediate_size, "intermediate_size", Self.maxDimension)
        try inRange(num_hidden_layers, "num_hidden_layers", Self.maxLayers)
        try inRange(num_attention_heads, "num_attention_heads", Self.maxDimension)
        try inRange(num_key_value_heads, "num_key_value_heads", Self.maxDimension)
        try inRange(head_dim, "head_dim", Self.maxDimension)
        for (width, name) in [(num_attention_heads, "num_attention_heads"), (num_key_value_heads, "num_key_value_heads")] {
            let (product, overflow) = width.multipliedReportingOverflow(by: head_dim)
            if overflow || product > Self.maxDimension {
                throw LlamaError.invalidField(file: file, field: name, reason: "× head_dim (\(head_dim)) must be at most \(Self.maxDimension), got \(width) heads")
            }
        }
        try inRange(max_position_embeddings, "max_position_embeddings", Self.maxPositions)
        try positive(rms_norm_eps, "rms_norm_eps")
        try positive(rope_theta, "rope_theta")
        if let s = rope_scaling {
            try positive(s.factor, "rope_scaling.factor")
            try positive(s.low_freq_factor, "rope_scaling.low_freq_factor")
            try positive(s.high_freq_factor, "rope_scaling.high_freq_factor")
            try inRange(s.original_max_position_embeddings, "rope_scaling.original_max_position_embeddings", Self.maxPositions)
        }
        for (id, name) in [(bos_token_id, "bos_token_id"), (pad_token_id, "pad_token_id")] + eos_token_ids.map({ ($0, "eos_token_id") }) {
            guard let id else { continue }
            if id < 0 { throw LlamaError.invalidField(file: file, field: name, reason: "must be a token id (0 or more), got \(id)") }
        }
        if num_attention_heads % num_key_value_heads != 0 {
            throw LlamaError.invalidField(file: file, field: "num_key_value_heads",
                reason: "(\(num_key_value_heads)) must divide num_attention_heads (\(num_attention_heads))")
        }
        if head_dim % 2 != 0 {
            throw LlamaError.invalidField(file: file, field: "head_dim", reason: "must be even for rotary embeddings, got \(head_dim)")
        }
        if hidden_act != "silu" {
            throw LlamaError.unsupported(file: file, field: "hidden_act", value: hidden_act, reason: "only 'silu' (SwiGLU) is implemented")
        }
        if attention_bias {
            throw LlamaError.unsupported(file: file, field: "attention_bias", value: "true", reason: "projections with bias are not implemented")
        }
        if mlp_bias {
            throw LlamaError.unsupported(file: file, field: "mlp_bias", value: "true", reason: "projections with bias are not implemented")
        }
    }
}

extension LlamaConfig {
    /// TinyLlama-1.1B(-Chat): 22 layers, 32 heads, 4 key/value heads, untied, 1,100,048,384 parameters.
    public static var tinyLlama_1_1B: LlamaConfig {
        var c = LlamaConfig(vocab_size: 32000, hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22,
                            num_attention_heads: 32, num_key_value_heads: 4)
        c.rms_norm_eps = 1e-5
        c.max_position_embeddings = 2048
        c.bos_token_id = 1; c.eos_token_ids = [2]
        return c
    }

    /// Llama-3.2-1B(-Instruct): 16 layers, 32 heads, 8 key/value heads, tied, llama3 rope scaling.
    public static var llama3_2_1B: LlamaConfig {
        var c = LlamaConfig(vocab_size: 128256, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
                            num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64)
        c.rms_norm_eps = 1e-5
        c.rope_theta = 500000
        c.rope_scaling = RopeScaling(rope_type: "llama3", factor: 32, low_freq_factor: 1, high_freq_factor: 4,
                                     original_max_position_embeddings: 8192)
        c.max_position_embeddings = 131072
        c.tie_word_embeddings = true
        c.bos_token_id = 128000; c.eos_token_ids = [128001, 128008, 128009]
        return c
    }

    /// SmolLM2-135M(-Instruct): 30 layers, 9 heads, 3 key/value heads, tied, 134,515,008 parameters.
    public static var smolLM2_135M: LlamaConfig {
        var c = LlamaConfig(vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
                            num_attention_heads: 9, num_key_value_heads: 3)
        c.rms_norm_eps = 1e-5
        c.rope_theta = 100000
        c.max_position_embeddings = 8192
        c.tie_word_embeddings = true
        c.bos_token_id = 1; c.eos_token_ids = [2]; c.pad_token_id = 2
        return c
    }
}
