import Foundation
import Kernels
import Llama

// Every activation and scratch buffer of a training step lives in one allocation, carved into named slices.
// It is sized for a number of packed tokens and attention floats, and reallocated only when a batch needs more.

/// What one decoder layer's forward saves for its backward: the block's activations and the attention's
/// probabilities (all f32, N = packed tokens).
struct LayerActivations {
    var block: BlockActivations  // [N, ·] see BlockActivations; lora_a holds 7 × [N, r]
    var att: FloatPointer        // [Σ nh·L·L] softmax probabilities per row and head
}

/// Gradients and scratch shared by all layers.
struct GradientScratch {
    var block: BlockGradients    // [N, ·] see BlockGradients
    var scratch: BlockScratch    // proj [N, C], wide [N, max(C, I, nh·hd)]
    var dScores: FloatPointer    // [Lmax, Lmax] one head's attention scores
}

/// The output head works on chunks of target rows, so logits never take [N, V].
struct HeadScratch {
    /// Rows of a chunk by default: as many as 64 MiB of logits hold, from 64 to 512. Each chunk's two products
    /// read the whole output matrix, and OpenBLAS copies it into its packed layout each time: SmolLM2's
    /// (49152 × 576, 113 MB in f32) went through that five times forward and five back for a 300-token row
    /// at 64 rows a chunk, once each at 341; in a profile of W1 at avx2 the packing fell from 12.7% of the
    /// samples to 8.8%.
    static func rows(vocab: Int) -> Int { min(512, max(64, (64 << 20) / (4 * max(vocab, 1)))) }
    var lnf: FloatPointer        // [N, C] final norm output
    var lnf_rstd: FloatPointer   // [N]
    var rows: Int                // chunk: target rows per product
    var x: FloatPointer          // [chunk, C] gathered target rows
    var logits: FloatPointer     // [chunk, V]
    var dx: FloatPointer         // [chunk, C]
    var losses: FloatPointer     // [chunk] per-row cross-entropy
}

final class ActivationArena {
    let tokens: Int              // capacity N
    let attentionFloats: Int     // capacity Σ nh·L²
    let maxLength: Int           // capacity Lmax
    let storedLayers: Int        // num_hidden_layers, or 1 with activation recomputation
    private let buffer: FloatBuffer
    var residual: [FloatPointer] // (layers + 1) × [N, C] input of each layer; the last is the final hidden state
    var layers: [LayerActivations]
    var grads: GradientScratch
    var head: HeadScratch

    /// Floats the arena takes for this capacity: the layout below, summed.
    static func floatCount(config c: LlamaConfig, r: Int, tokens N: Int, attentionFloats A: Int, maxLength Lmax: Int,
                           headRows chunk: Int, recompute: Bool) -> Int {
        let C = c.hidden_size, I = c.intermediate_size
        let qd = c.num_attention_heads * c.head_dim, kd = c.num_key_value_heads * c.head_dim
        let V = c.vocab_size
        let perLayer = N * (3 * C + 2 + 2 * qd + 2 * kd + 3 * I + 7 * r) + A
        let scratch = N * (3 * C + 3 * I + 2 * qd + 2 * kd + r + max(C, I, qd)) + Lmax * Lmax
        let headSize = N * (C + 1) + chunk * (2 * C + V + 1)
        return (c.num_hidden_layers + 1) * N * C + (recompute ? 1 : c.num_hidden_layers) * perLayer + scratch + headSize
    }

    init(config c: LlamaConfig, r: Int, tokens N: Int, attentionFloats A: Int, maxLength Lmax: Int, headRows chunk: Int,
         recompute: Bool) {
        tokens = N; attentionFloats = A; maxLength = Lmax
        storedLayers = recompute ? 1 : c.num_hidden_layers
        let C = c.hidden_size, I = c.intermediate_size
        let qd = c.num_attention_heads * c.head_dim, kd = c.num_key_value_heads * c.head_dim
        let V = c.vocab_size
        let total = Self.floatCount(config: c, r: r, tokens: N, attentionFloats: A, maxLength: Lmax, headRows: chunk,
                                    recompute: recompute)
        buffer = FloatBuffer(count: total)
        var cursor = buffer.pointer
        func take(_ n: Int) -> FloatPointer { defer { cursor += n }; return cursor }
        residual = (0...c.num_hidden_layers).map { _ in take(N * C) }
        layers = (0..<storedLayers).map { _ in
            let block = BlockActivations(ln1: take(N * C), ln1_rstd: take(N), q: take(N * qd), k: take(N * kd), v: take(N * kd),
                                         atty: take(N * qd), h2: take(N * C), ln2: take(N * C), ln2_rstd: take(N),
                                         gate: take(N * I), up: take(N * I), act: take(N * I), lora_a: take(7 * N * r), loraStride: N * r)
            return LayerActivations(block: block, att: take(A))
        }
        grads = GradientScratch(
            block: BlockGradients(dres: take(N * C), dln: take(N * C), dact: take(N * I), dgate: take(N * I), dup: take(N * I),
                                  datty: take(N * qd), dq: take(N * qd), dk: take(N * kd), dv: take(N * kd), da: take(N * r)),
            scratch: BlockScratch(proj: take(N * C), wide: take(N * max(C, I, qd))),
            dScores: take(Lmax * Lmax))
        head = HeadScratch(lnf: take(N * C), lnf_rstd: take(N), rows: chunk, x: take(chunk * C), logits: take(chunk * V), dx: take(chunk * C),
                           losses: take(chunk))
        precondition(cursor - buffer.pointer == total, "arena layout out of step with its size")
    }

    /// The activations of layer `l` (all layers share one slot when recomputing).
    func activations(_ l: Int) -> LayerActivations { layers[storedLayers == 1 ? 0 : l] }

    var byteCount: Int { buffer.count * 4 }
}
