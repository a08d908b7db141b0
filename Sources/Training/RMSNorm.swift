// RMSNorm as transformers' LlamaRMSNorm: y = w ⊙ x / sqrt(mean(x²) + eps), in f32. The weight is frozen.

typealias FloatPointer = UnsafeMutablePointer<Float>

/// out[N, C] = w[C] ⊙ x[N, C] · rstd[N], with rstd[N] = 1 / sqrt(mean(x²) + eps) saved for the backward.
func rmsnorm_forward(_ out: FloatPointer, _ rstd: FloatPointer, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                     N: Int, C: Int, eps: Float) {
    for n in 0..<N {
        let xr = x + n * C, o = out + n * C
        var ss: Float = 0
        for i in 0..<C { ss += xr[i] * xr[i] }
        let s = 1 / (ss / Float(C) + eps).squareRoot()
        rstd[n] = s
        for i in 0..<C { o[i] = w[i] * (xr[i] * s) }
    }
}

/// dx[N, C] += the input gradient of `rmsnorm_forward` given dout[N, C]:
/// dx = rstd · (w ⊙ dout) − x · rstd³ · mean(w ⊙ dout ⊙ x).
func rmsnorm_backward(_ dx: FloatPointer, _ dout: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                      _ rstd: UnsafePointer<Float>, N: Int, C: Int) {
    for n in 0..<N {
        let xr = x + n * C, d = dout + n * C, g = dx + n * C
        let s = rstd[n]
        var dot: Float = 0
        for i in 0..<C { dot += w[i] * d[i] * xr[i] }
        let k = dot / Float(C) * s * s * s
        for i in 0..<C { g[i] += s * w[i] * d[i] - xr[i] * k }
    }
}
