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
