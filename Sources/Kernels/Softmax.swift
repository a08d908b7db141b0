import CKernels
import Foundation

// Softmax, log-softmax and cross-entropy over rows of logits, with the max subtracted first.

/// probs[N, V] = softmax(logits[N, V]) along V. `probs` may equal `logits`.
///
/// ```swift
/// softmax_forward(probs: p, logits: logits, N: 1, V: vocab)
/// ```
public func softmax_forward(probs: UnsafeMutablePointer<Float>,    // [N, V]
                            logits: UnsafePointer<Float>,          // [N, V]
                            N: Int, V: Int) {
    Parallel.rows(N, workPerRow: 8 * V) { range in
        for n in range {
            let x = logits + n * V, p = probs + n * V
            let sum = mk_exp_store(p, x, V, vmax(x, V), 1)
            let inv = 1 / sum
            for i in 0..<V { p[i] *= inv }
        }
    }
}

/// out[N, V] = log_softmax(logits[N, V]) along V. `out` may equal `logits`.
public func logsoftmax_forward(out: UnsafeMutablePointer<Float>,   // [N, V]
                               logits: UnsafePointer<Float>,       // [N, V]
                               N: Int, V: Int) {
    Parallel.rows(N, workPerRow: 8 * V) { range in
        for n in range {
            let lse = logsumexp(logits + n * V, V)
            for i in 0..<V { out[n * V + i] = logits[n * V + i] - lse }
        }
    }
}

/// log Σ exp(x[i]) for i in 0..<n, computed stably.
public func logsumexp(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    let m = vmax(x, n)
    return m + logf(mk_sum_exp(x, n, m))
}

/// The label that marks a position without a loss, as PyTorch's `ignore_index`.
public let ignoreIndex: Int32 = -100

/// losses[N] = −log softmax(logits[n])[targets[n]], and 0 where targets[n] is `ignoreIndex`.
/// Returns the mean over the positions that are not ignored (as `F.cross_entropy(...,
/// ignore_index=-100)` with mean reduction), or NaN when all are ignored, like PyTorch.
///
/// The targets are already shifted: `targets[n]` is the token that should follow position n.
///
/// ```swift
/// let loss = crossentropy_forward(losses: l, logits: logits, targets: t, N: B * T, V: vocab)
/// ```
@discardableResult
public func crossentropy_forward(losses: UnsafeMutablePointer<Float>,  // [N]
                                 logits: UnsafePointer<Float>,         // [N, V]
                                 targets: UnsafePointer<Int32>,        // [N]
                                 N: Int, V: Int) -> Float {
    Parallel.rows(N, workPerRow: 4 * V) { range in
        for n in range {
            let t = targets[n]
            if t == ignoreIndex { losses[n] = 0; continue }
            losses[n] = logsumexp(logits + n * V, V) - logits[n * V + Int(t)]
        }
    }
    var sum: Double = 0
    var count = 0
    for n in 0..<N where targets[n] != ignoreIndex { sum += Double(losses[n]); count += 1 }
    return count == 0 ? .nan : Float(sum / Double(count))
}

// Its backward: d loss / d logits = softmax − onehot(target).

/// Replaces logits[M, V] by d(Σ losses · dscale)/d logits = (softmax(row) − onehot(target)) · dscale, using
/// losses[M] from `crossentropy_forward` (so logsumexp(row) = losses[m] + row[target]).
public func crossentropy_backward(_ logits: UnsafeMutablePointer<Float>, _ losses: UnsafePointer<Float>, _ targets: UnsafePointer<Int32>,
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
