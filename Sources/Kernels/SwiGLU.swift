import CKernels
import Foundation

// The gated MLP activation of Llama: down_proj(silu(gate_proj(x)) * up_proj(x)).
// silu(g) = g · sigmoid(g). gate and up are kept by the caller for the backward pass.

/// out[N, I] = silu(gate[N, I]) · up[N, I]. `out` may equal `gate` or `up`.
///
/// ```swift
/// swiglu_forward(out: hb, gate: hb, up: hb2, n: B * T * intermediate)
/// ```
public func swiglu_forward(out: UnsafeMutablePointer<Float>,       // [N, I]
                           gate: UnsafePointer<Float>,             // [N, I]
                           up: UnsafePointer<Float>,               // [N, I]
                           n: Int) {
    let block = 4096
    Parallel.rows((n + block - 1) / block, workPerRow: block * 8) { range in
        let lo = range.lowerBound * block, hi = Swift.min(n, range.upperBound * block)
        mk_swiglu_forward(out + lo, gate + lo, up + lo, hi - lo)
    }
}

/// dgate, dup[count] from dact[count]: dup = dact·silu(g); dgate = dact·up·σ(g)·(1 + g·(1 − σ(g))).
public func swiglu_backward(_ dgate: UnsafeMutablePointer<Float>, _ dup: UnsafeMutablePointer<Float>, _ dact: UnsafePointer<Float>,
                     _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
    let block = 4096
    Parallel.rows((count + block - 1) / block, workPerRow: block * 12) { range in
        let lo = range.lowerBound * block, hi = min(count, range.upperBound * block)
        mk_swiglu_backward(dgate + lo, dup + lo, dact + lo, gate + lo, up + lo, hi - lo)
    }
}
