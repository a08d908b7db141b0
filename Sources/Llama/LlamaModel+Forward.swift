import Kernels

// The forward pass, llama2.c style: one function, read top to bottom.
//
//   x = embed_tokens[tokens]                                         [R, C]
//   for each layer:
//       xb = rmsnorm(x) · input_layernorm                            [R, C]
//       q, k, v = xb · Wqᵀ, xb · Wkᵀ, xb · Wvᵀ                       [R, NH·HD], [R, NKV·HD] ×2
//       rotate q and k by their positions; append k, v to the cache
//       atty = causal GQA attention of q over the cache              [R, NH·HD]
//       x += atty · Woᵀ
//       xb = rmsnorm(x) · post_attention_layernorm
//       x += (silu(xb · Wgateᵀ) * (xb · Wupᵀ)) · Wdownᵀ              [R, I] → [R, C]
//   logits = rmsnorm(x) · norm · lm_headᵀ                            [R or B, V]

/// Which rows of logits a forward step computes.
public enum LogitRows: Sendable {
    /// One row per token: `[B, T, V]` (scoring, training).
    case all
    /// One row per batch row, for its last real token: `[B, V]` (generation).
    case last
}

extension LlamaModel {
    /// Runs B rows of T new tokens through the model, appending their keys and values to `cache`.
    ///
    /// Before the call, fill `state.tokens[b * T + t]` and `state.mask[b * T + t]` (1 for real
    /// tokens; padding only at the end of a row). Row b's tokens take positions
    /// `cache.lengths[b] ..< cache.lengths[b] + T`; afterwards `cache.lengths[b]` has grown by the
    /// number of real tokens, so the next step overwrites the padding.
    ///
    /// The logits land in `state.logits`: `[B * T, V]` for `.all`, `[B, V]` for `.last`.
    ///
    /// ```swift
    /// state.tokens[0] = 42; state.mask[0] = 1
    /// try model.forwardStep(state: state, cache: cache, B: 1, T: 1, logits: .last)
    /// ```
    public func forwardStep(state s: LlamaRunState, cache: LlamaKVCache, B: Int, T: Int, logits: LogitRows) throws {
        let c = config
        let C = c.hidden_size, I = c.intermediate_size
        let NH = c.num_attention_heads, NKV = c.num_key_value_heads, HD = c.head_dim
        let KVD = c.kvDim, S = cache.capacity, R = B * T, V = c.vocab_size
        guard B <= s.batch, B <= cache.batch, T <= s.tokensPerStep, S <= s.cacheCapacity else {
            throw LlamaError.invalidInput("forward step of [\(B), \(T)] does not fit a run state of [\(s.batch), \(s.tokensPerStep)] or a cache of [\(cache.batch), \(S)]")
        }
        guard logits == .last || s.allLogits else {
            throw LlamaError.invalidInput("this run state keeps only the last logits of each row")
        }

        // Positions, the cache's padding mask, and each row's count of real tokens.
        let realCounts = s.realCounts
        for b in 0..<B {
            let first = cache.lengths[b]
            guard first + T <= S, first + T <= rope.positions else {
                throw LlamaError.invalidInput("row \(b) would reach position \(first + T), past the cache (\(S)) or rotary table (\(rope.positions))")
            }
            s.start[b] = Int32(first)
            var real = 0
            for t in 0..<T {
                let i = b * T + t
                let token = Int(s.tokens[i])
                guard token >= 0 && token < V else {
                    throw LlamaError.invalidInput("token id \(token) (row \(b), position \(t)) is outside the vocabulary of \(V)")
                }
                s.positions[i] = Int32(first + t)
                cache.keyMask[b * S + first + t] = s.mask[i] != 0 ? 1 : 0
                if s.mask[i] != 0 { real = t + 1 }
            }
            realCounts[b] = real
        }

        let x = s.x.pointer, xb = s.xb.pointer, xb2 = s.xb2.pointer, rstd = s.rstd.pointer
        let q = s.q.pointer, k = s.k.pointer, v = s.v.pointer, atty = s.atty.pointer
        let hb = s.hb.pointer, hb2 = s.hb2.pointer
        let W = weights
        // LoRA, when attached: y += scaling · (x·Aᵀ)·Bᵀ after each adapted projection.
        let lora = adapterLayers
        let ls: UnsafeMutablePointer<Float>? = lora.map { _ in s.loraScratch(rank: adapterMaxRank) }

        embedding_forward(out: x, tokens: s.tokens, table: W.model.embed_tokens, N: R)

        for l in 0..<c.num_hidden_layers {
            let layer = W.model.layers[l]
            // attention block
            rmsnorm_forward(out: xb, rstd: rstd, inp: x, weight: layer.input_layernorm.pointer, N: R, C: C, eps: c.rms_norm_eps)
            layer.self_attn.q_proj.forward(xb, into: q, n: R, precision: productPrecision)
            if let lora, let ls { lora_inference_forward(out: q, inp: xb, lora: lora[l].q_proj, scratch: ls, N: R) }
            layer.self_attn.k_proj.forward(xb, into: k, n: R, precision: productPrecision)
            if let lora, let ls { lora_inference_forward(out: k, inp: xb, lora: lora[l].k_proj, scratch: ls, N: R) }
            layer.self_attn.v_proj.forward(xb, into: v, n: R, precision: productPrecision)
            if let lora, let ls { lora_inference_forward(out: v, inp: xb, lora: lora[l].v_proj, scratch: ls, N: R) }
            rope_forward(x: q, positions: s.positions, rope: rope, N: R, H: NH)
            rope_forward(x: k, positions: s.positions, rope: rope, N: R, H: NKV)
            let keys = cache.keys(layer: l), values = cache.values(layer: l)
            for b in 0..<B {
                let slot = (b * S + cache.lengths[b]) * KVD
                (keys + slot).update(from: k + b * T * KVD, count: T * KVD)
                (values + slot).update(from: v + b * T * KVD, count: T * KVD)
            }
            attention_forward(out: atty, att: s.att.pointer, q: q, k: keys, v: values,
                              start: s.start, keyMask: cache.keyMask,
                              B: B, T: T, S: S, NH: NH, NKV: NKV, HD: HD, keepProbabilities: false)
            layer.self_attn.o_proj.forward(atty, into: xb2, n: R, precision: productPrecision)
            if let lora, let ls { lora_inference_forward(out: xb2, inp: atty, lora: lora[l].o_proj, scratch: ls, N: R) }
            residual_forward(out: x, a: x, b: xb2, n: R * C)
            // MLP block
            rmsnorm_forward(out: xb, rstd: rstd, inp: x, weight: layer.post_attention_layernorm.pointer, N: R, C: C, eps: c.rms_norm_eps)
            layer.mlp.gate_proj.forward(xb, into: hb, n: R, precision: productPrecision)
            if let lora, let ls { lora_inference_forward(out: hb, inp: xb, lora: lora[l].gate_proj, scratch: ls, N: R) }
            layer.mlp.up_proj.forward(xb, into: hb2, n: R, precision: productPrecision)
            if let lora, let ls { lora_inference_forward(out: hb2, inp: xb, lora: lora[l].up_proj, scratch: ls, N: R) }
            swiglu_forward(out: hb, gate: hb, up: hb2, n: R * I)
            layer.mlp.down_proj.forward(hb, into: xb2, n: R, precision: productPrecision)
            if let lora, let ls { lora_inference_forward(out: xb2, inp: hb, lora: lora[l].down_proj, scratch: ls, N: R) }
            residual_forward(out: x, a: x, b: xb2, n: R * C)
        }

        // final norm and output projection, for every token or each row's last real token
        switch logits {
        case .all:
            rmsnorm_forward(out: xb, rstd: rstd, inp: x, weight: W.model.norm.pointer, N: R, C: C, eps: c.rms_norm_eps)
            W.output.forward(xb, into: s.logits.pointer, n: R, precision: productPrecision)
        case .last:
            for b in 0..<B {
                let t = Swift.max(realCounts[b], 1) - 1
                (xb2 + b * C).update(from: x + (b * T + t) * C, count: C)
            }
            rmsnorm_forward(out: xb, rstd: rstd, inp: xb2, weight: W.model.norm.pointer, N: B, C: C, eps: c.rms_norm_eps)
            W.output.forward(xb, into: s.logits.pointer, n: B, precision: productPrecision)
        }
        for b in 0..<B { cache.lengths[b] += realCounts[b] }
    }
}
