import CKernels
import Foundation
import Kernels

// Causal-LM cross-entropy: the loss of each target row comes from Kernels.crossentropy_forward
// (logsumexp − logit[target]); its gradient with respect to the logits is softmax − onehot(target).

/// Replaces logits[M, V] by d(Σ losses · dscale)/d logits = (softmax(row) − onehot(target)) · dscale, using
/// losses[M] from `crossentropy_forward` (so logsumexp(row) = losses[m] + row[target]).
func crossentropy_backward(_ logits: FloatPointer, _ losses: UnsafePointer<Float>, _ targets: UnsafePointer<Int32>,
                           M: Int, V: Int, dscale: Float) {
    Parallel.rows(M, workPerRow: 4 * V) { range in
        for m in range {
            let row = logits + m * V, t = Int(targets[m])
            let logZ = losses[m] + row[t]
            _ = mk_exp_store(row, row, V, logZ, dscale)
            row[t] -= dscale
        }
    }
}
