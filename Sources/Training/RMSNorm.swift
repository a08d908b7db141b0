import Kernels

// The backward of RMSNorm (Kernels.rmsnorm_forward: y = w ⊙ x · rstd, rstd = 1/sqrt(mean(x²) + eps)).
// The weight is frozen, so only the input gradient is needed.

typealias FloatPointer = UnsafeMutablePointer<Float>

/// dx[N, C] += the input gradient of `rmsnorm_forward` given dout[N, C]:
/// dx = rstd · (w ⊙ dout) − x · rstd³ · mean(w ⊙ dout ⊙ x).
func rmsnorm_backward(_ dx: FloatPointer, _ dout: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                      _ rstd: UnsafePointer<Float>, N: Int, C: Int) {
    Parallel.rows(N, workPerRow: 8 * C) { range in
        for n in range {
            let xr = x + n * C, d = dout + n * C, g = dx + n * C
            let s = rstd[n]
            var dot: Float = 0
            for i in 0..<C { dot += w[i] * d[i] * xr[i] }
            let k = dot / Float(C) * s * s * s
            for i in 0..<C { g[i] += s * w[i] * d[i] - xr[i] * k }
        }
    }
}
