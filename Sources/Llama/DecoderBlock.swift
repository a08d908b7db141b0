import Kernels

// One Llama decoder block, written once. Generation (with the KV cache), scoring and training (with the
// activations its backward needs) all run `block_forward`; training's `block_backward` sits beside it and
// walks the same steps in reverse, llm.c style. R = rows of tokens in the call; LoRA (when attached) adds
// scaling · B·A·dropout(x) to each adapted projection (`loralinear_forward` in LoraLinear.swift).
//
//   block_forward                                          block_backward (bottom to top)
//   ln1 = rmsnorm(inp) · input_layernorm        [R, C]     dinp = dh2 + rmsnorm_backward(dln1)
//   q, k, v = ln1 · Wq,k,vᵀ                     [R, ·]     dln1 = dq·Wq + dk·Wk + dv·Wv
//   rotate q and k by their positions                     rotate dq and dk back
//   atty = attention(q, k, v)   (the caller's)  [R, NH·HD] dq, dk, dv = attention backward(datty)
//   h2 = inp + atty · Woᵀ                       [R, C]     datty = dh2 · Wo;  dh2 = dout + rmsnorm_backward(dln2)
//   ln2 = rmsnorm(h2) · post_attention_layernorm [R, C]    dln2 = dgate·Wgate + dup·Wup
//   gate, up = ln2 · Wgateᵀ, ln2 · Wupᵀ          [R, I]     dgate, dup = swiglu_backward(dact)
//   act = silu(gate) · up                        [R, I]     dact = dout · Wdown
//   out = h2 + act · Wdownᵀ                      [R, C]     (dout comes in)
//
// Each projection's output is complete (base + LoRA) before it joins the residual stream, as in transformers
// and peft. The attention is the caller's: generation attends over the KV cache, training over packed rows
// whose probabilities it keeps (`PackedAttention.swift` in Training).

/// What one block's forward writes and its backward reads. Training keeps one per layer; generation keeps one
/// for all layers and lets buffers nothing reads again share memory (ln2 = ln1, act = gate, one LoRA product).
public struct BlockActivations {
    public var ln1: FloatPointer        // [R, C] input_layernorm output
    public var ln1_rstd: FloatPointer   // [R]
    public var q: FloatPointer          // [R, NH·HD] after RoPE
    public var k: FloatPointer          // [R, NKV·HD] after RoPE
    public var v: FloatPointer          // [R, NKV·HD]
    public var atty: FloatPointer       // [R, NH·HD] attention output, input of o_proj
    public var h2: FloatPointer         // [R, C] residual stream after attention
    public var ln2: FloatPointer        // [R, C] post_attention_layernorm output
    public var ln2_rstd: FloatPointer   // [R]
    public var gate: FloatPointer       // [R, I] gate_proj output
    public var up: FloatPointer         // [R, I] up_proj output
    public var act: FloatPointer        // [R, I] silu(gate)·up, input of down_proj
    public var lora_a: FloatPointer     // 7 × [R, r] each adapter's low-rank product, target t at lora_a + t·loraStride
    public var loraStride: Int          // R·r; 0 when the products are not kept (generation)

    public init(ln1: FloatPointer, ln1_rstd: FloatPointer, q: FloatPointer, k: FloatPointer, v: FloatPointer,
                atty: FloatPointer, h2: FloatPointer, ln2: FloatPointer, ln2_rstd: FloatPointer,
                gate: FloatPointer, up: FloatPointer, act: FloatPointer, lora_a: FloatPointer, loraStride: Int) {
        self.ln1 = ln1; self.ln1_rstd = ln1_rstd; self.q = q; self.k = k; self.v = v; self.atty = atty; self.h2 = h2
        self.ln2 = ln2; self.ln2_rstd = ln2_rstd; self.gate = gate; self.up = up; self.act = act
        self.lora_a = lora_a; self.loraStride = loraStride
    }

    /// The low-rank product of target `t`'s adapter: [R, r].
    func loraProduct(_ t: LoraTarget) -> FloatPointer { lora_a + t.index * loraStride }
}

/// Scratch of a block's forward and backward; nothing in it outlives the call.
public struct BlockScratch {
    public var proj: FloatPointer       // [R, C] o_proj / down_proj output before it joins the residual stream
    public var wide: FloatPointer       // [R, max(C, I, NH·HD)] a LoRA layer's dropped-out input, and its gradient
    public init(proj: FloatPointer, wide: FloatPointer) { self.proj = proj; self.wide = wide }
}

/// The gradients a block's backward works in (overwritten each call, except `dres`).
public struct BlockGradients {
    public var dres: FloatPointer       // [R, C] in: d loss / d out; out: d loss / d inp
    public var dln: FloatPointer        // [R, C] gradient of a norm's output
    public var dact: FloatPointer       // [R, I]
    public var dgate: FloatPointer      // [R, I]
    public var dup: FloatPointer        // [R, I]
    public var datty: FloatPointer      // [R, NH·HD] gradient of the attention output
    public var dq: FloatPointer         // [R, NH·HD]
    public var dk: FloatPointer         // [R, NKV·HD]
    public var dv: FloatPointer         // [R, NKV·HD]
    public var da: FloatPointer         // [R, r] gradient of a LoRA layer's low-rank product

    public init(dres: FloatPointer, dln: FloatPointer, dact: FloatPointer, dgate: FloatPointer, dup: FloatPointer,
                datty: FloatPointer, dq: FloatPointer, dk: FloatPointer, dv: FloatPointer, da: FloatPointer) {
        self.dres = dres; self.dln = dln; self.dact = dact; self.dgate = dgate; self.dup = dup
        self.datty = datty; self.dq = dq; self.dk = dk; self.dv = dv; self.da = da
    }
}

/// What every block of one model shares: its sizes, rotary tables and the arithmetic of the base weights' products.
///
/// ```swift
/// let block = BlockShape(config: model.config, rope: model.rope, precision: .f32)
/// block_forward(out: x, inp: x, s, weights.model.layers[0], block, lora: nil, positions: pos, R: 1,
///               scratch: scratch) { q, k, v, atty in /* attention over the cache */ }
/// ```
public struct BlockShape {
    public let C: Int                   // hidden_size
    public let I: Int                   // intermediate_size
    public let NH: Int                  // num_attention_heads
    public let NKV: Int                 // num_key_value_heads
    public let eps: Float               // rms_norm_eps
    public let rope: RopeTables         // cos/sin [positions, HD/2]
    public let precision: ProductPrecision

    public init(config c: LlamaConfig, rope: RopeTables, precision: ProductPrecision) {
        C = c.hidden_size; I = c.intermediate_size; NH = c.num_attention_heads; NKV = c.num_key_value_heads
        eps = c.rms_norm_eps; self.rope = rope; self.precision = precision
    }
}

/// out[R, C] = decoder block(inp[R, C]); `s` receives the activations (`out` may be `inp`).
/// `attention(q, k, v, atty)` fills atty[R, NH·HD] from this call's rotated q and k and v.
/// `dropout(t)` gives target t's dropout mask (nil: none, as in generation).
public func block_forward(out: FloatPointer, inp: UnsafePointer<Float>, _ s: BlockActivations, _ w: LlamaLayerWeights,
                          _ b: BlockShape, lora: LoraLayer?, dropout: (LoraTarget) -> DropoutSpec? = { _ in nil },
                          positions: UnsafePointer<Int32>, R: Int, scratch: BlockScratch,
                          attention: (_ q: FloatPointer, _ k: FloatPointer, _ v: FloatPointer, _ atty: FloatPointer) -> Void) {
    func linear(_ y: FloatPointer, _ x: UnsafePointer<Float>, _ t: LoraTarget, _ weight: WeightMatrix) {
        let l = lora?[t]
        loralinear_forward(y, s.loraProduct(t), x, weight, l, dropout: l == nil ? nil : dropout(t),
                           scratch: scratch.wide, N: R, precision: b.precision)
    }
    // projections that read the same input: their frozen products together (one job over the cores when
    // decoding), then each adapter's term
    func linears(_ x: UnsafePointer<Float>, _ outputs: [(FloatPointer, LoraTarget, WeightMatrix)]) {
        WeightMatrix.forward(x, n: R, outputs.map { ($0.2, $0.0) }, precision: b.precision)
        for (y, t, _) in outputs {
            let l = lora?[t]
            lora_forward_add(y, s.loraProduct(t), x, l, dropout: l == nil ? nil : dropout(t), scratch: scratch.wide, N: R)
        }
    }
    // attention
    rmsnorm_forward(out: s.ln1, rstd: s.ln1_rstd, inp: inp, weight: w.input_layernorm.pointer, N: R, C: b.C, eps: b.eps)
    linears(s.ln1, [(s.q, .q_proj, w.self_attn.q_proj), (s.k, .k_proj, w.self_attn.k_proj), (s.v, .v_proj, w.self_attn.v_proj)])
    rope_forward(x: s.q, positions: positions, rope: b.rope, N: R, H: b.NH)
    rope_forward(x: s.k, positions: positions, rope: b.rope, N: R, H: b.NKV)
    attention(s.q, s.k, s.v, s.atty)
    linear(scratch.proj, s.atty, .o_proj, w.self_attn.o_proj)
    residual_forward(out: s.h2, a: inp, b: scratch.proj, n: R * b.C)
    // MLP
    rmsnorm_forward(out: s.ln2, rstd: s.ln2_rstd, inp: s.h2, weight: w.post_attention_layernorm.pointer, N: R, C: b.C, eps: b.eps)
    linears(s.ln2, [(s.gate, .gate_proj, w.mlp.gate_proj), (s.up, .up_proj, w.mlp.up_proj)])
    swiglu_forward(out: s.act, gate: s.gate, up: s.up, n: R * b.I)
    linear(scratch.proj, s.act, .down_proj, w.mlp.down_proj)
    residual_forward(out: out, a: s.h2, b: scratch.proj, n: R * b.C)
}

/// The backward of `block_forward`, its steps in reverse: `g.dres` comes in as d loss / d out and leaves as
/// d loss / d inp; every adapted projection's `grad_A`/`grad_B` gains its share (the frozen weights get none).
/// `s` and `inp` are what the forward saw; `attention(dq, dk, dv, datty)` is the backward of the forward's attention.
public func block_backward(_ g: BlockGradients, _ s: BlockActivations, inp: UnsafePointer<Float>, _ w: LlamaLayerWeights,
                           _ b: BlockShape, lora: LoraLayer?, dropout: (LoraTarget) -> DropoutSpec? = { _ in nil },
                           positions: UnsafePointer<Int32>, R: Int, scratch: BlockScratch,
                           attention: (_ dq: FloatPointer, _ dk: FloatPointer, _ dv: FloatPointer, _ datty: UnsafePointer<Float>) -> Void) {
    func linear(_ dx: FloatPointer, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ t: LoraTarget,
                _ weight: WeightMatrix, accumulate: Bool) {
        let l = lora?[t]
        loralinear_backward(dx, dy, x, s.loraProduct(t), weight, l, dropout: l == nil ? nil : dropout(t),
                            da: g.da, scratch: scratch.wide, N: R, accumulate: accumulate, precision: b.precision)
    }
    // MLP: out = h2 + down(silu(gate(ln2)) · up(ln2)), ln2 = norm(h2); the residual passes dout on to dh2.
    linear(g.dact, g.dres, s.act, .down_proj, w.mlp.down_proj, accumulate: false)
    swiglu_backward(g.dgate, g.dup, g.dact, s.gate, s.up, count: R * b.I)
    linear(g.dln, g.dgate, s.ln2, .gate_proj, w.mlp.gate_proj, accumulate: false)
    linear(g.dln, g.dup, s.ln2, .up_proj, w.mlp.up_proj, accumulate: true)
    rmsnorm_backward(g.dres, g.dln, s.h2, w.post_attention_layernorm.pointer, s.ln2_rstd, N: R, C: b.C)
    // attention: h2 = inp + o(attention(rope(q(ln1)), rope(k(ln1)), v(ln1))), ln1 = norm(inp)
    linear(g.datty, g.dres, s.atty, .o_proj, w.self_attn.o_proj, accumulate: false)
    attention(g.dq, g.dk, g.dv, g.datty)
    rope_backward(dx: g.dq, positions: positions, rope: b.rope, N: R, H: b.NH)
    rope_backward(dx: g.dk, positions: positions, rope: b.rope, N: R, H: b.NKV)
    linear(g.dln, g.dq, s.ln1, .q_proj, w.self_attn.q_proj, accumulate: false)
    linear(g.dln, g.dk, s.ln1, .k_proj, w.self_attn.k_proj, accumulate: true)
    linear(g.dln, g.dv, s.ln1, .v_proj, w.self_attn.v_proj, accumulate: true)
    rmsnorm_backward(g.dres, g.dln, inp, w.input_layernorm.pointer, s.ln1_rstd, N: R, C: b.C)
}
