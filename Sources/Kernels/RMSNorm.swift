// Root-mean-square layer norm, as transformers' `LlamaRMSNorm`:
//   out = weight * (x / sqrt(mean(x²) + eps))
// The reciprocal standard deviation of every row is kept: it is all the backward pass needs
// besides the input.

/// out[N, C] = weight[C] · inp[N, C] · rstd[N], where rstd[n] = 1 / sqrt(mean(inp[n, :]²) + eps).
///
/// `out` may equal `inp`.
///
/// ```swift
/// rmsnorm_forward(out: xb, rstd: rstd, inp: x, weight: layer.input_layernorm.pointer,
///                 N: B * T, C: hidden, eps: 1e-5)
/// ```
public func rmsnorm_forward(out: UnsafeMutablePointer<Float>,       // [N, C]
                            rstd: UnsafeMutablePointer<Float>,      // [N]
                            inp: UnsafePointer<Float>,              // [N, C]
                            weight: UnsafePointer<Float>,           // [C]
                            N: Int, C: Int, eps: Float) {
    Parallel.rows(N, workPerRow: 3 * C) { range in
        for n in range {
            let x = inp + n * C
            let o = out + n * C
            let s = 1 / (vsumsq(x, C) / Float(C) + eps).squareRoot()
            rstd[n] = s
            var i = 0
            let rx = UnsafeRawPointer(x), rw = UnsafeRawPointer(weight), ro = UnsafeMutableRawPointer(o)
            let vs = SIMD16<Float>(repeating: s)
            while i + 16 <= C {
                let v = rw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                    * (rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) * vs)
                ro.storeBytes(of: v, toByteOffset: i * 4, as: SIMD16<Float>.self)
                i += 16
            }
            while i < C { o[i] = weight[i] * (x[i] * s); i += 1 }
        }
    }
}

// Its backward. The weight is frozen in LoRA training, so only the input gradient is needed.

/// dx[N, C] += the input gradient of `rmsnorm_forward` given dout[N, C]:
/// dx = rstd · (w ⊙ dout) − x · rstd³ · mean(w ⊙ dout ⊙ x).
public func rmsnorm_backward(_ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
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
