import Kernels

// The weights of a LlamaForCausalLM. Property names equal the checkpoint keys, so
// `model.layers.3.self_attn.q_proj.weight` is `weights.model.layers[3].self_attn.q_proj`.

/// `model.layers.N.self_attn.*`
public struct LlamaAttentionWeights: @unchecked Sendable {
    public var q_proj: WeightMatrix   // [n_heads * head_dim, hidden]
    public var k_proj: WeightMatrix   // [n_kv_heads * head_dim, hidden]
    public var v_proj: WeightMatrix   // [n_kv_heads * head_dim, hidden]
    public var o_proj: WeightMatrix   // [hidden, n_heads * head_dim]
    public init(q_proj: WeightMatrix, k_proj: WeightMatrix, v_proj: WeightMatrix, o_proj: WeightMatrix) {
        self.q_proj = q_proj; self.k_proj = k_proj; self.v_proj = v_proj; self.o_proj = o_proj
    }
}

/// `model.layers.N.mlp.*`
public struct LlamaMLPWeights: @unchecked Sendable {
    public var gate_proj: WeightMatrix   // [intermediate, hidden]
    public var up_proj: WeightMatrix     // [intermediate, hidden]
    public var down_proj: WeightMatrix   // [hidden, intermediate]
    public init(gate_proj: WeightMatrix, up_proj: WeightMatrix, down_proj: WeightMatrix) {
        self.gate_proj = gate_proj; self.up_proj = up_proj; self.down_proj = down_proj
    }
}

/// `model.layers.N`
public struct LlamaLayerWeights: @unchecked Sendable {
    public var input_layernorm: FloatBuffer            // [hidden]
    public var self_attn: LlamaAttentionWeights
    public var post_attention_layernorm: FloatBuffer   // [hidden]
    public var mlp: LlamaMLPWeights
    public init(input_layernorm: FloatBuffer, self_attn: LlamaAttentionWeights,
                post_attention_layernorm: FloatBuffer, mlp: LlamaMLPWeights) {
        self.input_layernorm = input_layernorm; self.self_attn = self_attn
        self.post_attention_layernorm = post_attention_layernorm; self.mlp = mlp
    }

    /// The seven projections in forward order (`LoraTarget` order), each with its target.
    public var projections: [(target: LoraTarget, weight: WeightMatrix)] {
        [(.q_proj, self_attn.q_proj), (.k_proj, self_attn.k_proj), (.v_proj, self_attn.v_proj), (.o_proj, self_attn.o_proj),
         (.gate_proj, mlp.gate_proj), (.up_proj, mlp.up_proj), (.down_proj, mlp.down_proj)]
    }

    /// This layer with each projection replaced by `f(target, weight)`; the norms are shared.
    public func mappingProjections(_ f: (LoraTarget, WeightMatrix) -> WeightMatrix) -> LlamaLayerWeights {
        LlamaLayerWeights(input_layernorm: input_layernorm,
                          self_attn: LlamaAttentionWeights(q_proj: f(.q_proj, self_attn.q_proj), k_proj: f(.k_proj, self_attn.k_proj),
                                                           v_proj: f(.v_proj, self_attn.v_proj), o_proj: f(.o_proj, self_attn.o_proj)),
                          post_attention_layernorm: post_attention_layernorm,
                          mlp: LlamaMLPWeights(gate_proj: f(.gate_proj, mlp.gate_proj), up_proj: f(.up_proj, mlp.up_proj),
                                               down_proj: f(.down_proj, mlp.down_proj)))
    }
}

/// `model.*`
public struct LlamaModelWeights: @unchecked Sendable {
    public var embed_tokens: WeightMatrix    // [vocab, hidden]
    public var layers: [LlamaLayerWeights]   // num_hidden_layers
    public var norm: FloatBuffer             // [hidden]
    public init(embed_tokens: WeightMatrix, layers: [LlamaLayerWeights], norm: FloatBuffer) {
        self.embed_tokens = embed_tokens; self.layers = layers; self.norm = norm
    }
}

/// The whole checkpoint: `model.*` and `lm_head.weight` (nil when tied to `embed_tokens`).
public struct LlamaWeights: @unchecked Sendable {
    public var model: LlamaModelWeights
    public var lm_head: WeightMatrix?        // [vocab, hidden]; nil when tie_word_embeddings
    public init(model: LlamaModelWeights, lm_head: WeightMatrix?) {
        self.model = model; self.lm_head = lm_head
    }
    /// The output projection: `lm_head`, or the embedding when tied.
    public var output: WeightMatrix { lm_head ?? model.embed_tokens }

    /// A copy with every matrix converted to `storage` (f32 where its rows are not whole blocks of a quantized
    /// type), a block of rows at a time; norms and biases are shared.
    ///
    /// ```swift
    /// let small = weights.converted(to: .q8_0)
    /// ```
    public func converted(to storage: StorageType) -> LlamaWeights {
        func convert(_ m: WeightMatrix) -> WeightMatrix { m.converted(to: storage) }
        return LlamaWeights(model: LlamaModelWeights(embed_tokens: convert(model.embed_tokens),
                                                     layers: model.layers.map { $0.mappingProjections { convert($1) } },
                                                     norm: model.norm),
                            lm_head: lm_head.map(convert))
    }

    /// Every matrix: the embedding, each layer's projections, an untied `lm_head`.
    public var matrices: [WeightMatrix] {
        [model.embed_tokens] + model.layers.flatMap { $0.projections.map(\.weight) } + (lm_head.map { [$0] } ?? [])
    }

    /// Bytes of every weight as kept: the matrices in their storage types, norms and biases in f32.
    public var byteCount: Int {
        let vectors = model.layers.reduce(model.norm.count) { sum, layer in
            sum + layer.input_layernorm.count + layer.post_attention_layernorm.count
                + layer.projections.reduce(0) { $0 + ($1.weight.bias?.count ?? 0) }
        }
        return matrices.reduce(4 * vectors) { $0 + $1.byteCount }
    }

    /// How the matrices are stored: `q4_1` when they share one type, else the types by bytes, most first
    /// (`q4_1 + q8_0`: SmolLM2's GGUF kept as it is).
    public var storageDescription: String { storageTypesByBytes.map(\.rawValue).joined(separator: " + ") }

    /// The matrices' storage types, the one holding the most bytes first (ties by name).
    public var storageTypesByBytes: [StorageType] {
        var bytes: [StorageType: Int] = [:]
        for m in matrices { bytes[m.storage, default: 0] += m.byteCount }
        return bytes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.rawValue < $1.key.rawValue }.map(\.key)
    }
}
