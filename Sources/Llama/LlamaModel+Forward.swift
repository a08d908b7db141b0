import Kernels

// The forward pass, llama2.c style: one function, read top to bottom.
//
//   x = embed_tokens[tokens]                                         [R, C]
//   for each layer (block_forward, DecoderBlock.swift):
//       ln1 = rmsnorm(x) · input_layernorm                           [R, C]
//       q, k, v = ln1 · Wqᵀ, ln1 · Wkᵀ, ln1 · Wvᵀ                    [R, NH·HD], [R, NKV·HD] ×2
//       rotate q and k by their positions; append k, v to the cache
//       atty = causal GQA attention of q over the cache              [R, NH·HD]
//       h2 = x + atty · Woᵀ
//       ln2 = rmsnorm(h2) · post_attention_layernorm
//       x = h2 + (silu(ln2 · Wgateᵀ) * (ln2 · Wupᵀ)) · Wdownᵀ        [R, I] → [R, C]
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
        let C = c.hidden_size
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

        let x = s.x.pointer, W = weights
        // LoRA, when attached: y += scaling · (x·Aᵀ)·Bᵀ after each adapted projection.
        let lora = adapterLayers
        let block = s.block(lora_a: lora == nil ? s.proj.pointer : s.loraScratch(rank: adapterMaxRank))
        let shape = BlockShape(config: c, rope: rope, precision: productPrecision)
        let scratch = BlockScratch(proj: s.proj.pointer, wide: s.proj.pointer)   // wide holds dropout input: never here

        embedding_forward(out: x, tokens: s.tokens, table: W.model.embed_tokens, N: R)

        for l in 0..<c.num_hidden_layers {
            // x = layer l (x): this step's keys and values join the cache, the queries attend over it
            block_forward(out: x, inp: x, block, W.model.layers[l], shape, lora: lora?[l], positions: s.positions, R: R,
                          scratch: scratch) { q, k, v, atty in
                for b in 0..<B {
                    cache.store(layer: l, row: b, first: cache.lengths[b], T: T, k: k + b * T * KVD, v: v + b * T * KVD)
                }
                attention_forward(out: atty, att: s.att.pointer, q: q, k: cache.keys(layer: l), v: cache.values(layer: l),
                                  start: s.start, keyMask: cache.keyMask,
                                  B: B, T: T, S: S, NH: NH, NKV: NKV, HD: HD, keepProbabilities: false)
            }
        }

        // final norm and output projection, for every token or each row's last real token
        let ln = s.ln.pointer, rstd = s.rstd.pointer
        switch logits {
        case .all:
            rmsnorm_forward(out: ln, rstd: rstd, inp: x, weight: W.model.norm.pointer, N: R, C: C, eps: c.rms_norm_eps)
            W.output.forward(ln, into: s.logits.pointer, n: R, precision: productPrecision)
        case .last:
            let last = s.proj.pointer
            for b in 0..<B {
                let t = Swift.max(realCounts[b], 1) - 1
                (last + b * C).update(from: x + (b * T + t) * C, count: C)
            }
            rmsnorm_forward(out: ln, rstd: rstd, inp: last, weight: W.model.norm.pointer, N: B, C: C, eps: c.rms_norm_eps)
            W.output.forward(ln, into: s.logits.pointer, n: B, precision: productPrecision)
        }
        for b in 0..<B { cache.lengths[b] += realCounts[b] }
    }
}
