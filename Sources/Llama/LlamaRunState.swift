import Kernels

/// The activations of one forward step, preallocated once and reused for every step and layer, so
/// decoding allocates nothing per token. R = `batch * tokensPerStep` rows (one per token).
///
/// Only one layer's activations are kept at a time: this is the inference arena. The training
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
    public let xb: FloatBuffer      // [R, C]   normed input of a sub-block
    public let xb2: FloatBuffer     // [R, C]   output of o_proj / down_proj
    public let rstd: FloatBuffer    // [R]      1 / rms of each row in the last norm
    public let q: FloatBuffer       // [R, NH * HD]
    public let k: FloatBuffer       // [R, NKV * HD]
    public let v: FloatBuffer       // [R, NKV * HD]
    public let atty: FloatBuffer    // [R, NH * HD] attention output before o_proj
    public let att: FloatBuffer     // [B, NH, S]   attention probabilities of one query (scratch)
    public let hb: FloatBuffer      // [R, I]   gate_proj output, then silu(gate) * up
    public let hb2: FloatBuffer     // [R, I]   up_proj output
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
        xb = FloatBuffer(count: R * c.hidden_size)
        xb2 = FloatBuffer(count: R * c.hidden_size)
        rstd = FloatBuffer(count: R)
        q = FloatBuffer(count: R * c.qDim)
        k = FloatBuffer(count: R * c.kvDim)
        v = FloatBuffer(count: R * c.kvDim)
        atty = FloatBuffer(count: R * c.qDim)
        att = FloatBuffer(count: batch * c.num_attention_heads * cacheCapacity)
        hb = FloatBuffer(count: R * c.intermediate_size)
        hb2 = FloatBuffer(count: R * c.intermediate_size)
        logits = FloatBuffer(count: (allLogits ? R : batch) * c.vocab_size)
        tokens = .allocate(capacity: max(1, R)); tokens.initialize(repeating: 0, count: R)
        mask = .allocate(capacity: max(1, R)); mask.initialize(repeating: 1, count: R)
        positions = .allocate(capacity: max(1, R)); positions.initialize(repeating: 0, count: R)
        start = .allocate(capacity: max(1, batch)); start.initialize(repeating: 0, count: batch)
        realCounts = .allocate(capacity: max(1, batch)); realCounts.initialize(repeating: 0, count: batch)
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
