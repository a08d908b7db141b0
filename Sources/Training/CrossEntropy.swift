import Foundation

// Causal-LM cross-entropy over the rows that have a target: loss = logsumexp(logits) − logits[target].

/// For each of M rows of logits[M, V]: adds the row's loss to the returned sum, and, when `dscale` is not nil,
/// replaces the row by its gradient (softmax − onehot(target)) · dscale in place.
func crossentropy_forward_backward(_ logits: FloatPointer, _ targets: UnsafePointer<Int32>, M: Int, V: Int,
                                   dscale: Float?) -> Double {
    var total: Double = 0
    for m in 0..<M {
        let row = logits + m * V
        var maxv = -Float.infinity
        for i in 0..<V { maxv = max(maxv, row[i]) }
        var sum: Float = 0
        for i in 0..<V { sum += expf(row[i] - maxv) }
        let logZ = maxv + logf(sum)
        let t = Int(targets[m])
        total += Double(logZ - row[t])
        if let s = dscale {
            let inv = 1 / sum
            for i in 0..<V { row[i] = expf(row[i] - maxv) * inv * s }
            row[t] -= s
        }
    }
    return total
}
