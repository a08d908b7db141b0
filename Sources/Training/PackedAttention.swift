import CKernels
import Foundation
import Kernels

// Causal grouped-query self-attention over packed rows. Row b holds tokens [start, start + length) of the
// packed [N, ...] activations; query t of a row attends key j of the same row when j <= t and the key is not
// padding (keyMask[j] == 1), as transformers' causal mask combined with the attention mask does.

/// One sequence of a batch inside the packed token dimension.
struct RowSpan {
    var start: Int       // first packed token of the row
    var length: Int      // tokens processed (padding after the last needed token is dropped)
    var attOffset: Int   // where the row's [heads, length, length] probabilities start
}

/// y[N, nh·hd] = softmax(q·kᵀ/√hd + mask)·v per row and head; att[Σ nh·L·L] saves the probabilities.
/// q[N, nh·hd], k/v[N, nkv·hd]; head h reads kv head h / (nh / nkv).
func attention_forward(_ y: FloatPointer, _ att: FloatPointer, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
                       _ v: UnsafePointer<Float>, _ keyMask: UnsafePointer<Float>, rows: [RowSpan],
                       nh: Int, nkv: Int, hd: Int) {
    let qs = nh * hd, ks = nkv * hd, group = nh / nkv
    let scale = 1 / Float(hd).squareRoot()
    for row in rows {
        let L = row.length, o = row.start
        for h in 0..<nh {
            let g = h / group
            let p = att + row.attOffset + h * L * L
            // scores[L, L] = q_h[L, hd] · k_gᵀ / √hd
            BLAS.sgemm(transB: true, m: L, n: L, k: hd, alpha: scale, a: q + o * qs + h * hd, lda: qs,
                       b: k + o * ks + g * hd, ldb: ks, c: p, ldc: L)
            Parallel.rows(L, workPerRow: 4 * L) { queries in
                for t in queries {
                    let pr = p + t * L
                    var maxv = -Float.infinity
                    for j in 0...t where keyMask[o + j] != 0 { maxv = max(maxv, pr[j]) }
                    if maxv == -Float.infinity {   // every key masked: the row contributes nothing
                        for j in 0..<L { pr[j] = 0 }
                        continue
                    }
                    for j in 0...t where keyMask[o + j] == 0 { pr[j] = -.infinity }   // exp(-inf) = 0
                    let sum = mk_exp_store(pr, pr, t + 1, maxv, 1)
                    let inv = 1 / sum
                    for j in 0...t { pr[j] *= inv }
                    for j in (t + 1)..<L { pr[j] = 0 }
                }
            }
            // y_h[L, hd] = P[L, L] · v_g[L, hd]
            BLAS.sgemm(m: L, n: hd, k: L, a: p, b: v + o * ks + g * hd, ldb: ks, c: y + o * qs + h * hd, ldc: qs)
        }
    }
}

/// dq[N, nh·hd], dk/dv[N, nkv·hd] (overwritten) from dy[N, nh·hd] and the saved q, k, v, att.
/// dP = dy·vᵀ; dS = P ⊙ (dP − rowsum(P ⊙ dP)); dq = dS·k/√hd; dk += dSᵀ·q/√hd; dv += Pᵀ·dy.
/// dScores[L·L] is scratch for one head.
func attention_backward(_ dq: FloatPointer, _ dk: FloatPointer, _ dv: FloatPointer, _ dScores: FloatPointer,
                        _ dy: UnsafePointer<Float>, _ att: UnsafePointer<Float>,
                        _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
                        rows: [RowSpan], N: Int, nh: Int, nkv: Int, hd: Int) {
    let qs = nh * hd, ks = nkv * hd, group = nh / nkv
    let scale = 1 / Float(hd).squareRoot()
    dk.update(repeating: 0, count: N * ks)
    dv.update(repeating: 0, count: N * ks)
    for row in rows {
        let L = row.length, o = row.start
        for h in 0..<nh {
            let g = h / group
            let p = att + row.attOffset + h * L * L
            let dyh = dy + o * qs + h * hd
            // dP[L, L] = dy_h · v_gᵀ
            BLAS.sgemm(transB: true, m: L, n: L, k: hd, a: dyh, lda: qs, b: v + o * ks + g * hd, ldb: ks, c: dScores, ldc: L)
            Parallel.rows(L, workPerRow: 3 * L) { queries in
                for t in queries {
                    let pr = p + t * L, dr = dScores + t * L
                    let dot = vdot(pr, dr, t + 1)
                    for j in 0...t { dr[j] = pr[j] * (dr[j] - dot) }
                    for j in (t + 1)..<L { dr[j] = 0 }
                }
            }
            BLAS.sgemm(m: L, n: hd, k: L, alpha: scale, a: dScores, b: k + o * ks + g * hd, ldb: ks,
                       c: dq + o * qs + h * hd, ldc: qs)
            BLAS.sgemm(transA: true, m: L, n: hd, k: L, alpha: scale, a: dScores, lda: L, b: q + o * qs + h * hd, ldb: qs,
                       beta: 1, c: dk + o * ks + g * hd, ldc: ks)
            BLAS.sgemm(transA: true, m: L, n: hd, k: L, a: p, lda: L, b: dyh, ldb: qs,
                       beta: 1, c: dv + o * ks + g * hd, ldc: ks)
        }
    }
}
