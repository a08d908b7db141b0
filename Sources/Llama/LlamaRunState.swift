import Kernels

/// The activations of one forward step, preallocated once and reused for every step and layer, so
/// decoding allocates nothing per token. R = `batch * tokensPerStep` rows (one per token).
///
/// Only one layer's activations are kept at a time: this is the inference arena (`block`). The training
/// module keeps its own per-layer activations for the backward pass.
///
/// ```swift
/// let state = LlamaRunState(config: model.config, batch: 1, tokensPerStep: 64,
///                           cacheCapacity: 256, allLogits: false)
/// ```
public final class LlamaRunState: @unchecked Sendable {
    public let batch: Int           // B
    public let tokensPerStep: Int   // T, the most tokens per row in one step
    public let rows: Int            // R = B * T
    public let cacheCapacity: Int   // S, slots per row of the caches this state works with
    /// Whether `logits` has a row for every token (scoring, training) or only one per batch row.
    public let allLogits: Bool

    public let x: FloatBuffer       // [R, C]   the residual stream
    public let h2: FloatBuffer      // [R, C]   the residual stream after a layer's attention
    public let ln: FloatBuffer      // [R, C]   normed input of a sub-block (ln1, then ln2)
    public let proj: FloatBuffer    // [R, C]   output of o_proj / down_proj; gathered last rows before the final norm
    public let rstd: FloatBuffer    // [R]      1 / rms of each row in the last norm
    public let q: FloatBuffer       // [R, NH * HD]
    public let k: FloatBuffer       // [R, NKV * HD]
    public let v: FloatBuffer       // [R, NKV * HD]
    public let atty: FloatBuffer    // [R, NH * HD] attention output before o_proj
    public let att: FloatBuffer     // [B, NH, S]   attention probabilities of one query (scratch)
    public let gate: FloatBuffer    // [R, I]   gate_proj output, then silu(gate) * up
    public let up: FloatBuffer      // [R, I]   up_proj output
    public let logits: FloatBuffer  // [R, V] when allLogits, else [B, V]

    public let tokens: UnsafeMutablePointer<Int32>      // [R]  token ids of this step
    public let mask: UnsafeMutablePointer<Int32>        // [R]  1 real, 0 padding
    public let positions: UnsafeMutablePointer<Int32>   // [R]  position of every token
    public let start: UnsafeMutablePointer<Int32>       // [B]  each row's first position this step
    public let realCounts: UnsafeMutablePointer<Int>    // [B]  real tokens of each row this step
    /// [R, r] the low-rank product of an attached LoRA delta; allocated on the first step that needs it.
    var loraScratch: FloatBuffer?

    public init(config c: LlamaConfig, batch: Int, tokensPerStep: Int, cacheCapacity: Int, allLogits: Bool) {
        self.batch = batch; self.tokensPerStep = tokensPerStep
        rows = batch * tokensPerStep
        self.cacheCapacity = cacheCapacity
        self.allLogits = allLogits
        let R = rows
        x = FloatBuffer(count: R * c.hidden_size)
        h2 = FloatBuffer(count: R * c.hidden_size)
        ln = FloatBuffer(count: R * c.hidden_size)
        proj = FloatBuffer(count: R * c.hidden_size)
        rstd = FloatBuffer(count: R)
        q = FloatBuffer(count: R * c.qDim)
        k = FloatBuffer(count: R * c.kvDim)
        v = FloatBuffer(count: R * c.kvDim)
        atty = FloatBuffer(count: R * c.qDim)
        att = FloatBuffer(count: batch * c.num_attention_heads * cacheCapacity)
        gate = FloatBuffer(count: R * c.intermediate_size)
        up = FloatBuffer(count: R * c.intermediate_size)
        logits = FloatBuffer(count: (allLogits ? R : batch) * c.vocab_size)
        tokens = .allocate(capacity: max(1, R)); tokens.initialize(repeating: 0, count: R)
        mask = .allocate(capacity: max(1, R)); mask.initialize(repeating: 1, count: R)
        positions = .allocate(capacity: max(1, R)); positions.initialize(repeating: 0, count: R)
        start = .allocate(capacity: max(1, batch)); start.initialize(repeating: 0, count: batch)
        realCounts = .allocate(capacity: max(1, batch)); realCounts.initialize(repeating: 0, count: batch)
    }

    /// The decoder block's activations for one layer: buffers nothing reads again are shared (ln1 = ln2 = `ln`,
    /// act = `gate`, one rstd, one LoRA product for every target). `lora_a` must hold [R, r] when an adapter is
    /// attached (`loraScratch(rank:)`); without one it is never touched.
    func block(lora_a: UnsafeMutablePointer<Float>) -> BlockActivations {
        BlockActivations(ln1: ln.pointer, ln1_rstd: rstd.pointer, q: q.pointer, k: k.pointer, v: v.pointer,
                         atty: atty.pointer, h2: h2.pointer, ln2: ln.pointer, ln2_rstd: rstd.pointer,
                         gate: gate.pointer, up: up.pointer, act: gate.pointer, lora_a: lora_a, loraStride: 0)
    }

    /// The LoRA scratch for rank `r`, grown once (never per token).
    func loraScratch(rank r: Int) -> UnsafeMutablePointer<Float> {
        if let s = loraScratch, s.count >= rows * r { return s.pointer }
        let s = FloatBuffer(count: max(1, rows * r))
        loraScratch = s
        return s.pointer
    }

    deinit {
        tokens.deallocate(); mask.deallocate(); positions.deallocate(); start.deallocate(); realCounts.deallocate()
    }
}
