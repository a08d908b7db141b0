import Foundation
import Kernels

/// torch.optim.AdamW on the adapter's parameters (decoupled weight decay, bias-corrected moments).
///
/// ```swift
/// let opt = AdamW(adapter: model.adapter)
/// opt.step(learningRate: 2e-4)      // uses and keeps the gradients; zero them afterwards
/// ```
public final class AdamW: @unchecked Sendable {
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    public var weightDecay: Double
    /// Optimizer steps taken (torch's `state["step"]`).
    public internal(set) var stepCount = 0
    let params: [(value: FloatBuffer, grad: FloatBuffer)]
    let exp_avg: [FloatBuffer]      // first moments, one per parameter tensor
    let exp_avg_sq: [FloatBuffer]   // second moments

    public init(adapter: LoraAdapter, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0) {
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        params = adapter.modules.flatMap { [($0.lora_A, $0.grad_A), ($0.lora_B, $0.grad_B)] }
        exp_avg = params.map { FloatBuffer(count: $0.value.count) }
        exp_avg_sq = params.map { FloatBuffer(count: $0.value.count) }
    }

    /// One update: p ← p·(1 − lr·wd); m ← m + (1 − β1)(g − m); v ← β2·v + (1 − β2)·g²;
    /// p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps).
    public func step(learningRate lr: Double) {
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = Float(lr / (1 - pow(beta1, t)))
        let bc2sqrt = Float((1 - pow(beta2, t)).squareRoot())
        let decay = Float(1 - lr * weightDecay), b1 = Float(beta1), b2 = Float(beta2), e = Float(eps)
        for (i, p) in params.enumerated() {
            let w = p.value.pointer, g = p.grad.pointer, m = exp_avg[i].pointer, v = exp_avg_sq[i].pointer
            for j in 0..<p.value.count {
                w[j] *= decay
                m[j] += (1 - b1) * (g[j] - m[j])
                v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j]
                w[j] -= stepSize * m[j] / (v[j].squareRoot() / bc2sqrt + e)
            }
        }
    }
}

/// transformers' `get_linear_schedule_with_warmup`: the factor rises linearly from 0 to 1 over `warmupSteps`,
/// then falls linearly to 0 at `totalSteps`.
///
/// ```swift
/// let s = LinearSchedule(baseLearningRate: 2e-4, warmupSteps: 10, totalSteps: 50)
/// s.learningRate(atStep: 0)    // 0 (the rate of the first optimizer step)
/// ```
public struct LinearSchedule: Sendable, Equatable {
    public var baseLearningRate: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(baseLearningRate: Double, warmupSteps: Int, totalSteps: Int) {
        self.baseLearningRate = baseLearningRate; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
    }

    /// The rate used by optimizer step `step` (0-based; the scheduler has been stepped `step` times).
    public func learningRate(atStep step: Int) -> Double {
        if step < warmupSteps { return baseLearningRate * Double(step) / Double(max(1, warmupSteps)) }
        return baseLearningRate * max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps)))
    }
}

/// torch's `clip_grad_norm_`: returns the global L2 norm of all adapter gradients, and scales them by
/// min(1, maxNorm / (norm + 1e-6)).
public func clipGradientNorm(_ adapter: LoraAdapter, maxNorm: Double) -> Double {
    var sumSquares: Double = 0
    for m in adapter.modules {
        for buffer in [m.grad_A, m.grad_B] {
            var s: Float = 0
            for i in 0..<buffer.count { s += buffer[i] * buffer[i] }
            sumSquares += Double(s)
        }
    }
    let norm = sumSquares.squareRoot()
    guard maxNorm > 0 else { return norm }
    let coef = Float(min(1, maxNorm / (norm + 1e-6)))
    if coef < 1 {
        for m in adapter.modules {
            for buffer in [m.grad_A, m.grad_B] { for i in 0..<buffer.count { buffer[i] *= coef } }
        }
    }
    return norm
}
