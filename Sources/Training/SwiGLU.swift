import CKernels
import Foundation
import Kernels

// The backward of the Llama MLP's gate (Kernels.swiglu_forward: act = silu(gate) ⊙ up, silu(x) = x·σ(x)).

/// dgate, dup[count] from dact[count]: dup = dact·silu(g); dgate = dact·up·σ(g)·(1 + g·(1 − σ(g))).
func swiglu_backward(_ dgate: FloatPointer, _ dup: FloatPointer, _ dact: UnsafePointer<Float>,
                     _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
    let block = 4096
    Parallel.rows((count + block - 1) / block, workPerRow: block * 12) { range in
        let lo = range.lowerBound * block, hi = min(count, range.upperBound * block)
        mk_swiglu_backward(dgate + lo, dup + lo, dact + lo, gate + lo, up + lo, hi - lo)
    }
}
