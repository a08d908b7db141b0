import Kernels
import Weights

// Building the weights: from a `TensorSource` (a checkpoint, with shape checks; weights already in the
// storage type are copied as stored), or random (seeded, for speed and memory work on big configs without
// downloading them).

extension LlamaWeights {
    /// Loads every tensor the config implies from `source`, checking shapes. Matrices are kept in
    /// `storage` (f32 for a matrix whose rows are not whole blocks of a quantized type), norms and biases in
    /// f32; with `keepStored`, a matrix the file stores in a type medrepl keeps (F32, F16, BF16, Q8_0, Q4_0,
    /// Q4_1) stays in it, copied as stored, and the others are converted to `storage`. `lm_head.weight` is read only when the embeddings are untied; a
    /// projection's `.bias` only where the architecture has one (Qwen2: q, k and v).
    ///
    /// A source that reports a flat shape (`[n]`) is accepted when `n` is the element count
    /// expected; any other shape must equal the expected one exactly.
    ///
    /// ```swift
    /// let weights = try LlamaWeights(config: config, source: tensors, storage: .bf16)
    /// ```
    public init(config c: LlamaConfig, source: any TensorSource, storage: StorageType = .f32, keepStored: Bool = false) throws {
        func checkShape(_ name: String, _ expected: [Int]) throws {
            guard source.contains(name) else {
                throw LlamaError.missingTensor(name: name, location: source.tensorLocation(of: name))
            }
            let shape = try source.shape(of: name)
            let flatMatch = shape.count == 1 && shape[0] == expected.reduce(1, *)
            guard shape == expected || flatMatch else {
                throw LlamaError.tensorShape(name: name, expected: expected, found: shape, location: source.tensorLocation(of: name))
            }
        }
        func matrix(_ name: String, _ rows: Int, _ cols: Int) throws -> WeightMatrix {
            try checkShape(name, [rows, cols])
            defer { source.release(name) }   // copied: the file's pages go back
            let wanted = storage.fitting(cols: cols)
            if let stored = try source.storedTensor(name) {
                let own = keepStored ? StorageType(keeping: stored.type).flatMap { $0.canStore(cols: cols) ? $0 : nil } : nil
                if let kept = WeightMatrix(rows: rows, cols: cols, stored: stored, storage: own ?? wanted) { return kept }
            }
            // converted a block of rows at a time where the source can start mid-tensor (only one block of f32
            // at a time: Llama-3.2-1B's embeddings to q8_0 would otherwise pass through 1 GB of f32)
            var failure: Error?
            let byRows = source.readsRows(name)
            let m = WeightMatrix(rows: rows, cols: cols, storage: wanted, wholeTensor: !byRows) { first, count, out in
                do {
                    if byRows { try source.readFloatRows(name, first: first, count: count, cols: cols, into: out) }
                    else { try source.readFloats(name, into: out, count: count * cols) }
                } catch { failure = error }
            }
            if let failure { throw failure }
            return m
        }
        func vector(_ name: String, _ count: Int) throws -> FloatBuffer {
            try checkShape(name, [count])
            let buffer = FloatBuffer(count: count)
            try source.readFloats(name, into: buffer.pointer, count: count)
            return buffer
        }
        func norm(_ name: String) throws -> FloatBuffer { try vector(name, c.hidden_size) }
        func projection(_ layer: Int, _ t: LoraTarget) throws -> WeightMatrix {
            let path = t.modulePath(layer: layer), (rows, cols) = t.shape(c)
            let m = try matrix(path + ".weight", rows, cols)
            if c.hasBias(t) { m.bias = try vector(path + ".bias", rows) }
            return m
        }
        let C = c.hidden_size
        var layers: [LlamaLayerWeights] = []
        for l in 0..<c.num_hidden_layers {
            let p = "model.layers.\(l)."
            layers.append(LlamaLayerWeights(
                input_layernorm: try norm(p + "input_layernorm.weight"),
                self_attn: LlamaAttentionWeights(q_proj: try projection(l, .q_proj), k_proj: try projection(l, .k_proj),
                                                 v_proj: try projection(l, .v_proj), o_proj: try projection(l, .o_proj)),
                post_attention_layernorm: try norm(p + "post_attention_layernorm.weight"),
                mlp: LlamaMLPWeights(gate_proj: try projection(l, .gate_proj), up_proj: try projection(l, .up_proj),
                                     down_proj: try projection(l, .down_proj))))
        }
        self.init(model: LlamaModelWeights(embed_tokens: try matrix("model.embed_tokens.weight", c.vocab_size, C),
                                           layers: layers,
                                           norm: try norm("model.norm.weight")),
                  lm_head: c.tie_word_embeddings ? nil : try matrix("lm_head.weight", c.vocab_size, C))
    }

    /// Random weights as transformers initialises a fresh `LlamaForCausalLM`: every matrix drawn
    /// from N(0, `std`²), every norm 1, every bias (Qwen2) 0. Deterministic for a seed, whatever the thread count or
    /// storage: every row of every tensor has its own `SeededRandom` stream, and rows are filled in
    /// parallel.
    ///
    /// ```swift
    /// let w = LlamaWeights.random(config: .tinyLlama_1_1B, seed: 0, storage: .bf16)
    /// ```
    public static func random(config c: LlamaConfig, seed: UInt64, storage: StorageType = .f32,
                              std: Float = 0.02) -> LlamaWeights {
        func matrix(_ rows: Int, _ cols: Int, stream: UInt64) -> WeightMatrix {
            WeightMatrix(rows: rows, cols: cols, storage: storage.fitting(cols: cols)) { first, count, out in
                Parallel.rows(count, workPerRow: cols * 8) { range in
                    for r in range {
                        var rng = SeededRandom(seed: seed, stream: stream << 32 | UInt64(first + r))
                        rng.fillNormal(out + r * cols, count: cols, std: std)
                    }
                }
            }
        }
        func projection(_ t: LoraTarget, layer: Int) -> WeightMatrix {
            let (rows, cols) = t.shape(c)
            let m = matrix(rows, cols, stream: UInt64(layer + 1) * 16 + UInt64(t.index))
            if c.hasBias(t) { m.bias = FloatBuffer(count: rows) }
            return m
        }
        let C = c.hidden_size
        let layers = (0..<c.num_hidden_layers).map { l in
            LlamaLayerWeights(
                input_layernorm: FloatBuffer(count: C, value: 1),
                self_attn: LlamaAttentionWeights(q_proj: projection(.q_proj, layer: l), k_proj: projection(.k_proj, layer: l),
                                                 v_proj: projection(.v_proj, layer: l), o_proj: projection(.o_proj, layer: l)),
                post_attention_layernorm: FloatBuffer(count: C, value: 1),
                mlp: LlamaMLPWeights(gate_proj: projection(.gate_proj, layer: l), up_proj: projection(.up_proj, layer: l),
                                     down_proj: projection(.down_proj, layer: l)))
        }
        return LlamaWeights(model: LlamaModelWeights(embed_tokens: matrix(c.vocab_size, C, stream: 0),
                                                     layers: layers,
                                                     norm: FloatBuffer(count: C, value: 1)),
                            lm_head: c.tie_word_embeddings ? nil : matrix(c.vocab_size, C, stream: 1))
    }
}
