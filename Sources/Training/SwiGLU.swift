import Foundation
import Kernels

// The backward of the Llama MLP's gate (Kernels.swiglu_forward: act = silu(gate) ⊙ up, silu(x) = x·σ(x)).

/// dgate, dup[count] from dact[count]: dup = dact·silu(g); dgate = dact·up·σ(g)·(1 + g·(1 − σ(g))).
func swiglu_backward(_ dgate: FloatPointer, _ dup: FloatPointer, _ dact: UnsafePointer<Float>,
                     _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
    let block = 4096
    Parallel.rows((count + block - 1) / block, workPerRow: block * 12) { range in
        for i in (range.lowerBound * block)..<min(count, range.upperBound * block) {
            let g = gate[i]
            let sig = 1 / (1 + expf(-g))
            dup[i] = dact[i] * g * sig
            dgate[i] = dact[i] * up[i] * sig * (1 + g * (1 - sig))
        }
    }
}
