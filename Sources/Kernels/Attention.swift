import CKernels
import Foundation

// Causal grouped-query attention over a key/value store, one (batch row, head) pair per task.
//
// Queries of row b are the T new tokens at positions start[b] ..< start[b] + T. Keys and values
// live in slots 0..<S of that row (a KV cache, or just this step's keys when S = T and start = 0),
// each key/value head's slots contiguous; the slot index is the position. A query at position p sees
// slot j when j ≤ p and keyMask[b, j] is non-zero, which gives both the causal mask and the padding
// mask (transformers' combined 4-D mask). Query head h reads key/value head h / (NH / NKV).
//
//   att[j] = softmax_j(q·k_j / sqrt(HD))      over the visible slots, 0 elsewhere
//   out    = Σ_j att[j] · v_j
//
// A query that sees no slot at all (only possible with left padding) gets a zero output.

/// Scaled dot-product attention with causal, padding and grouped-query structure.
///
/// - Parameters:
///   - att: the attention probabilities. When `keepProbabilities` it is `[B, NH, T, S]` and every
///     row is kept for the backward pass (entries past the query's position are set to 0);
///     otherwise it is per-task scratch `[B, NH, S]`.
///   - start: the position of each row's first query (`nil`: all 0).
///   - keyMask: `[B, S]`, non-zero where a slot holds a real token (`nil`: all real).
///
/// ```swift
/// // one forward over B right-padded rows without a cache:
/// attention_forward(out: y, att: att, q: q, k: k, v: v, start: nil, keyMask: mask,
///                   B: B, T: T, S: T, NH: 9, NKV: 3, HD: 64, keepProbabilities: true)
/// ```
public func attention_forward(out: UnsafeMutablePointer<Float>,    // [B, T, NH, HD]
                              att: UnsafeMutablePointer<Float>,    // [B, NH, T, S] or [B, NH, S]
                              q: UnsafePointer<Float>,             // [B, T, NH, HD]
                              k: UnsafePointer<Float>,             // [B, NKV, S, HD]
                              v: UnsafePointer<Float>,             // [B, NKV, S, HD]
                              start: UnsafePointer<Int32>?,        // [B]
                              keyMask: UnsafePointer<Int32>?,      // [B, S]
                              B: Int, T: Int, S: Int, NH: Int, NKV: Int, HD: Int,
                              keepProbabilities: Bool) {
    let group = NH / NKV
    let scale = 1 / Float(HD).squareRoot()
    let work = T * (Int(start?[0] ?? 0) + T) * HD * 2
    Parallel.tasks(B * NH, workPerTask: work) { task in
        let b = task / NH, h = task % NH, g = h / group
        let first = Int(start?[b] ?? 0)
        let kb = k + (b * NKV + g) * S * HD
        let vb = v + (b * NKV + g) * S * HD
        for t in 0..<T {
            let p = first + t
            let row = keepProbabilities ? att + ((b * NH + h) * T + t) * S : att + (b * NH + h) * S
            let qv = q + ((b * T + t) * NH + h) * HD
            let o = out + ((b * T + t) * NH + h) * HD
            let visible = Swift.min(p + 1, S)
            if keepProbabilities && visible < S { (row + visible).update(repeating: 0, count: S - visible) }
            if mk_attention_query(qv, kb, vb, HD, visible, keyMask.map { $0 + b * S }, scale, row, o, HD) >= 0 { continue }
            // no C kernel for this head size: the same in Swift, scores with masked slots at −∞
            var maxScore = -Float.infinity
            for j in 0..<visible {
                if let m = keyMask, m[b * S + j] == 0 { row[j] = -.infinity; continue }
                let s = vdot(qv, kb + j * HD, HD) * scale
                row[j] = s
                if s > maxScore { maxScore = s }
            }
            o.update(repeating: 0, count: HD)
            if maxScore == -.infinity {
                row.update(repeating: 0, count: visible)
                continue
            }
            let sum = mk_exp_store(row, row, visible, maxScore, 1)   // exp(-inf) = 0 for masked keys
            let inv = 1 / sum
            for j in 0..<visible where row[j] != 0 {
                row[j] *= inv
                vaxpy(row[j], vb + j * HD, o, HD)
            }
        }
    }
}
