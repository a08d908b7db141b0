import Foundation
import Kernels
import Llama

/// A frozen Llama with a LoRA adapter: the training forward (saving activations, llm.c style), its backward
/// (gradients for `lora_A`/`lora_B` only), logits and loss.
///
/// ```swift
/// let model = try LoraModel(config: config, weights: weights, lora: LoraConfig(r: 16, lora_alpha: 32,
///                           target_modules: ["all-linear"]))
/// let batch = try TrainingBatch(input_ids: [[1, 5, 9, 2]])
/// let (lossSum, count) = try model.forwardBackward(batch, lossDivisor: Double(batch.targetCount))
/// // gradients are in model.adapter.modules[i].grad_A / grad_B
/// ```
public final class LoraModel: @unchecked Sendable {
    public let config: LlamaConfig
    public let weights: LlamaWeights
    public private(set) var adapter: LoraAdapter
    /// When false, the base model runs alone (the adapter is kept, and re-enabled at no cost).
    public var adapterEnabled = true
    /// Activation recomputation: keep only each layer's input and redo the layer's forward in the backward.
    public var gradientCheckpointing = false
    /// The arithmetic of the frozen base weights' products in training (`TrainingArguments.bf16` sets
    /// `.bf16`: torch's bf16 autocast, on AVX512-BF16 when the weights are stored as bf16). The adapter's
    /// own products, norms, attention and the loss stay f32.
    public var baseProductPrecision: ProductPrecision = .f32
    /// Target rows whose logits the output head computes in one product (default: as many as 64 MiB of
    /// logits hold, 64 to 512; a smaller value trades speed for memory, with the same losses and gradients).
    public var headRows: Int { didSet { headRows = max(1, headRows) } }
    /// cos/sin for positions `0..<rope.positions`: the longest row that can be trained.
    public let rope: RopeTables
    private var arena: ActivationArena?

    public init(config: LlamaConfig, weights: LlamaWeights, adapter: LoraAdapter) throws {
        guard weights.model.layers.count == config.num_hidden_layers else {
            throw LoraError("weights have \(weights.model.layers.count) layers, config.json says \(config.num_hidden_layers)")
        }
        guard !config.attention_bias && !config.mlp_bias else {
            throw LoraError("config.json: attention_bias / mlp_bias models are not supported")
        }
        guard adapter.layers.count == config.num_hidden_layers else {
            throw LoraError("the adapter has \(adapter.layers.count) layers, the model \(config.num_hidden_layers)")
        }
        self.config = config
        self.weights = weights
        self.adapter = adapter
        headRows = HeadScratch.rows(vocab: config.vocab_size)
        rope = config.ropeTables(positions: min(config.max_position_embeddings, LlamaModel.defaultRopePositions))
    }

    public convenience init(config: LlamaConfig, weights: LlamaWeights, lora: LoraConfig) throws {
        try self.init(config: config, weights: weights, adapter: LoraAdapter(config: lora, model: config))
    }

    /// Wraps an already loaded base model (its weights are shared, never modified).
    ///
    /// ```swift
    /// let model = try LoraModel(base: try LlamaModel.load(directory: folder), lora: LoraConfig(r: 16, lora_alpha: 32))
    /// ```
    public convenience init(base: LlamaModel, lora: LoraConfig) throws {
        try self.init(config: base.config, weights: base.weights, lora: lora)
    }

    /// Replaces the adapter (for example one loaded with `LoraAdapter.load`); the base weights are untouched.
    /// A `Trainer` made before keeps optimizing the adapter it was given: make a new one after this.
    public func setAdapter(_ newAdapter: LoraAdapter) throws {
        guard newAdapter.layers.count == config.num_hidden_layers else {
            throw LoraError("the adapter has \(newAdapter.layers.count) layers, the model \(config.num_hidden_layers)")
        }
        for m in newAdapter.modules {
            let s = m.target.shape(config)
            guard m.inFeatures == s.in, m.outFeatures == s.out else {
                throw LoraError("adapter module \(m.target.modulePath(layer: m.layer)) is [\(m.outFeatures), \(m.inFeatures)], the model's is [\(s.out), \(s.in)]")
            }
        }
        adapter = newAdapter
    }

    /// Bytes of the activation arena currently held.
    public var activationBytes: Int { arena?.byteCount ?? 0 }

    /// Bytes of the activation arena a pass over `rows` sequences of up to `maxLength` trained tokens
    /// (`tokens` in all) needs, with the current `gradientCheckpointing`.
    public func activationBytes(tokens: Int, rows: Int, maxLength: Int) -> Int {
        let longest = min(maxLength, tokens)
        let attention = config.num_attention_heads * min(rows * longest * longest, tokens * longest)
        return 4 * ActivationArena.floatCount(config: config, r: adapter.config.r, tokens: tokens, attentionFloats: attention,
                                              maxLength: longest, headRows: headRows, recompute: gradientCheckpointing)
    }

    // MARK: - Public entry points

    /// Forward and backward of one micro-batch. Returns the summed token loss and the number of targets;
    /// adds d(lossSum / lossDivisor)/dθ to every adapter gradient. `dropoutKey` (nil = no dropout) selects
    /// the dropout masks; training passes a different key per micro-batch.
    public func forwardBackward(_ batch: TrainingBatch, lossDivisor: Double, dropoutKey: UInt64? = nil) throws -> (lossSum: Double, targetCount: Int) {
        try forwardBackward([batch], lossDivisor: lossDivisor, dropoutKey: dropoutKey)
    }

    /// Forward and backward of several micro-batches in one pass (their rows packed together): the same
    /// loss sum and gradients as one call per batch, with each weight read once.
    public func forwardBackward(_ batches: [TrainingBatch], lossDivisor: Double, dropoutKey: UInt64? = nil) throws -> (lossSum: Double, targetCount: Int) {
        let plan = try BatchPlan(batches, heads: config.num_attention_heads, vocab: config.vocab_size, maxPositions: rope.positions, trim: true)
        guard plan.N > 0 else { return (0, 0) }
        let a = prepareArena(plan)
        forward(plan, a, dropoutKey: dropoutKey)
        let loss = head_forward_backward(plan, a, dscale: Float(1 / lossDivisor))
        backward(plan, a, dropoutKey: dropoutKey)
        return (loss, plan.targetIndex.count)
    }

    /// The summed token loss and target count, without gradients or dropout.
    public func loss(_ batch: TrainingBatch) throws -> (lossSum: Double, targetCount: Int) {
        let plan = try BatchPlan([batch], heads: config.num_attention_heads, vocab: config.vocab_size, maxPositions: rope.positions, trim: true)
        guard plan.N > 0 else { return (0, 0) }
        let a = prepareArena(plan)
        forward(plan, a, dropoutKey: nil)
        return (head_forward_backward(plan, a, dscale: nil), plan.targetIndex.count)
    }

    /// Logits [B, T, V] at every position (padding included, as transformers computes them).
    public func logits(_ batch: TrainingBatch) throws -> [Float] {
        let plan = try BatchPlan([batch], heads: config.num_attention_heads, vocab: config.vocab_size, maxPositions: rope.positions, trim: false)
        let a = prepareArena(plan)
        forward(plan, a, dropoutKey: nil)
        let C = config.hidden_size, V = config.vocab_size
        rmsnorm_forward(out: a.head.lnf, rstd: a.head.lnf_rstd, inp: a.residual[config.num_hidden_layers],
                        weight: weights.model.norm.pointer, N: plan.N, C: C, eps: config.rms_norm_eps)
        var out = [Float](repeating: 0, count: batch.batchSize * batch.sequenceLength * V)
        out.withUnsafeMutableBufferPointer { o in
            var start = 0
            while start < plan.N {   // logits[m, V] = lnf[m, C] · Wᵀ for a chunk of packed rows, then to [b, t]
                let m = min(a.head.rows, plan.N - start)
                weights.output.forward(a.head.lnf + start * C, into: a.head.logits, n: m)
                for i in 0..<m {
                    (o.baseAddress! + plan.sourceIndex[start + i] * V).update(from: a.head.logits + i * V, count: V)
                }
                start += m
            }
        }
        return out
    }

    // MARK: - Arena

    /// Sizes the activation arena once for the largest of these passes (packed as `forwardBackward` packs
    /// them), so a run never regrows it: each regrowth faults in a whole new arena, which was 4.5% of
    /// a short W1 run.
    public func reserveActivations(for passes: [[TrainingBatch]]) {
        var tokens = 0, attentionFloats = 0, maxLength = 0
        for pass in passes {
            let shape = BatchPlan.shape(pass, heads: config.num_attention_heads)
            tokens = max(tokens, shape.tokens); attentionFloats = max(attentionFloats, shape.attentionFloats)
            maxLength = max(maxLength, shape.maxLength)
        }
        if tokens > 0 { _ = prepareArena(tokens: tokens, attentionFloats: attentionFloats, maxLength: maxLength) }
    }

    private func prepareArena(_ plan: BatchPlan) -> ActivationArena {
        prepareArena(tokens: plan.N, attentionFloats: plan.attentionFloats, maxLength: plan.maxLength)
    }

    private func prepareArena(tokens: Int, attentionFloats: Int, maxLength: Int) -> ActivationArena {
        if let a = arena, a.tokens >= tokens, a.attentionFloats >= attentionFloats, a.maxLength >= maxLength,
           a.head.rows == headRows, a.storedLayers == (gradientCheckpointing ? 1 : config.num_hidden_layers) {
            return a
        }
        let previous = arena
        arena = nil   // free before allocating the larger one
        let a = ActivationArena(config: config, r: adapter.config.r,
                                tokens: max(tokens, previous?.tokens ?? 0),
                                attentionFloats: max(attentionFloats, previous?.attentionFloats ?? 0),
                                maxLength: max(maxLength, previous?.maxLength ?? 0), headRows: headRows,
                                recompute: gradientCheckpointing)
        arena = a
        return a
    }

    // MARK: - Forward

    /// residual[0] = embed_tokens[tokens]; residual[l + 1] = layer_l(residual[l]).
    private func forward(_ plan: BatchPlan, _ a: ActivationArena, dropoutKey: UInt64?) {
        let C = config.hidden_size
        for n in 0..<plan.N { weights.model.embed_tokens.decodeRows(Int(plan.tokens[n]), 1, into: a.residual[0] + n * C) }
        for l in 0..<config.num_hidden_layers {
            layer_forward(l, plan, a, dropoutKey: dropoutKey)
        }
    }

    /// Layer l's adapters, or nil while the adapter is disabled.
    private func lora(_ l: Int) -> LoraLayer? { adapterEnabled ? adapter.layers[l] : nil }

    /// The dropout mask of layer l's target t in the micro-batch with this key (nil: no dropout).
    private func dropout(_ l: Int, _ t: LoraTarget, _ key: UInt64?) -> DropoutSpec? {
        guard let key, adapterEnabled, adapter.config.lora_dropout > 0 else { return nil }
        let moduleKey = TrainingRandom.mix(key ^ TrainingRandom.mix(UInt64(l * 16 + t.index)))
        return DropoutSpec(p: Float(adapter.config.lora_dropout), key: moduleKey)
    }

    private var block: BlockShape { BlockShape(config: config, rope: rope, precision: baseProductPrecision) }

    /// residual[l + 1][N, C] = decoder layer l applied to residual[l][N, C]; saves the layer's activations.
    private func layer_forward(_ l: Int, _ plan: BatchPlan, _ a: ActivationArena, dropoutKey: UInt64?) {
        let c = config, s = a.activations(l)
        plan.positions.withUnsafeBufferPointer { pos in
            block_forward(out: a.residual[l + 1], inp: a.residual[l], s.block, weights.model.layers[l], block, lora: lora(l),
                          dropout: { dropout(l, $0, dropoutKey) }, positions: pos.baseAddress!, R: plan.N,
                          scratch: a.grads.scratch) { q, k, v, atty in
                plan.keyMask.withUnsafeBufferPointer { mask in
                    attention_forward(atty, s.att, q, k, v, mask.baseAddress!, rows: plan.rows,
                                      nh: c.num_attention_heads, nkv: c.num_key_value_heads, hd: c.head_dim)
                }
            }
        }
    }

    // MARK: - Head: final norm, lm_head, cross-entropy

    /// Loss of the target rows; with `dscale`, also leaves d(loss · dscale)/d residual[L] in grads.dres.
    private func head_forward_backward(_ plan: BatchPlan, _ a: ActivationArena, dscale: Float?) -> Double {
        let c = config, C = c.hidden_size, V = c.vocab_size, N = plan.N
        let final = a.residual[c.num_hidden_layers], h = a.head, out = weights.output
        rmsnorm_forward(out: h.lnf, rstd: h.lnf_rstd, inp: final, weight: weights.model.norm.pointer, N: N, C: C, eps: c.rms_norm_eps)
        if dscale != nil { a.grads.block.dln.update(repeating: 0, count: N * C) }
        var total: Double = 0
        let M = plan.targetIndex.count
        var start = 0
        plan.targetLabel.withUnsafeBufferPointer { labels in
            while start < M {
                let m = min(h.rows, M - start)
                for i in 0..<m { (h.x + i * C).update(from: h.lnf + plan.targetIndex[start + i] * C, count: C) }
                out.forward(h.x, into: h.logits, n: m, precision: baseProductPrecision)   // logits[m, V] = x[m, C] · Wᵀ
                let targets = labels.baseAddress! + start
                crossentropy_forward(losses: h.losses, logits: h.logits, targets: targets, N: m, V: V)
                for i in 0..<m { total += Double(h.losses[i]) }
                if let dscale {
                    crossentropy_backward(h.logits, h.losses, targets, M: m, V: V, dscale: dscale)
                    out.backwardInput(h.logits, into: h.dx, n: m, precision: baseProductPrecision)   // dx[m, C] = dlogits[m, V] · W
                    for i in 0..<m {
                        let d = a.grads.block.dln + plan.targetIndex[start + i] * C, g = h.dx + i * C
                        for j in 0..<C { d[j] += g[j] }
                    }
                }
                start += m
            }
        }
        if dscale != nil {
            a.grads.block.dres.update(repeating: 0, count: N * C)
            rmsnorm_backward(a.grads.block.dres, a.grads.block.dln, final, weights.model.norm.pointer, h.lnf_rstd, N: N, C: C)
        }
        return total
    }

    // MARK: - Backward

    /// Layers in reverse order; grads.dres carries d loss / d residual[l + 1] in and d loss / d residual[l] out.
    private func backward(_ plan: BatchPlan, _ a: ActivationArena, dropoutKey: UInt64?) {
        for l in stride(from: config.num_hidden_layers - 1, through: 0, by: -1) {
            if gradientCheckpointing { layer_forward(l, plan, a, dropoutKey: dropoutKey) }
            layer_backward(l, plan, a, dropoutKey: dropoutKey)
        }
    }

    /// d loss / d residual[l] from d loss / d residual[l + 1] (both in grads.block.dres); adds the adapters' gradients.
    private func layer_backward(_ l: Int, _ plan: BatchPlan, _ a: ActivationArena, dropoutKey: UInt64?) {
        let c = config, s = a.activations(l), g = a.grads
        plan.positions.withUnsafeBufferPointer { pos in
            block_backward(g.block, s.block, inp: a.residual[l], weights.model.layers[l], block, lora: lora(l),
                           dropout: { dropout(l, $0, dropoutKey) }, positions: pos.baseAddress!, R: plan.N,
                           scratch: g.scratch) { dq, dk, dv, datty in
                attention_backward(dq, dk, dv, g.dScores, datty, s.att, s.block.q, s.block.k, s.block.v, rows: plan.rows,
                                   N: plan.N, nh: c.num_attention_heads, nkv: c.num_key_value_heads, hd: c.head_dim)
            }
        }
    }
}
