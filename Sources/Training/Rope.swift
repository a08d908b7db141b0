import Foundation
import Llama

/// The rotary position embedding of transformers' Llama ("rotate half"): for i < d/2,
/// out[i] = x[i]·cos − x[i + d/2]·sin and out[i + d/2] = x[i + d/2]·cos + x[i]·sin, angle = position · inv_freq[i].
final class RopeTable {
    let headDim: Int
    let invFreq: [Float]              // [headDim / 2]
    private(set) var positions = 0
    private(set) var cos: [Float] = [] // [positions, headDim / 2]
    private(set) var sin: [Float] = [] // [positions, headDim / 2]

    init(config: LlamaConfig) {
        headDim = config.head_dim
        invFreq = RopeTable.inverseFrequencies(config)
    }

    /// inv_freq in f32 as transformers computes it, with the `llama3` frequency rescaling when configured.
    static func inverseFrequencies(_ c: LlamaConfig) -> [Float] {
        let half = c.head_dim / 2
        var inv = (0..<half).map { i -> Float in 1 / Float(pow(Double(c.rope_theta), Double(Float(2 * i) / Float(c.head_dim)))) }
        guard let s = c.rope_scaling, s.rope_type == "llama3" else { return inv }
        let old = Float(s.original_max_position_embeddings)
        let lowWavelen = old / s.low_freq_factor, highWavelen = old / s.high_freq_factor
        for i in 0..<half {
            let wavelen = 2 * Float.pi / inv[i]
            if wavelen > lowWavelen {
                inv[i] /= s.factor
            } else if wavelen >= highWavelen {
                let smooth = (old / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor)
                inv[i] = (1 - smooth) * inv[i] / s.factor + smooth * inv[i]
            }
        }
        return inv
    }

    /// Makes sure positions `0..<count` are tabulated (grows rarely: only for a longer sequence than before).
    func reserve(_ count: Int) {
        guard count > positions else { return }
        let half = headDim / 2
        cos = [Float](repeating: 0, count: count * half)
        sin = [Float](repeating: 0, count: count * half)
        for p in 0..<count {
            for i in 0..<half {
                let angle = Float(p) * invFreq[i]      // the f32 product, as transformers forms it
                cos[p * half + i] = Float(Foundation.cos(Double(angle)))
                sin[p * half + i] = Float(Foundation.sin(Double(angle)))
            }
        }
        positions = count
    }
}

/// Rotates x[N, heads * headDim] in place; pos[N] is each token's position in its row.
func rope_forward(_ x: FloatPointer, _ pos: UnsafePointer<Int32>, _ rope: RopeTable, N: Int, heads: Int) {
    rope_rotate(x, pos, rope, N: N, heads: heads, direction: 1)
}

/// dx[N, heads * headDim] in place: the rotation is orthogonal, so its backward rotates by the opposite angle.
func rope_backward(_ dx: FloatPointer, _ pos: UnsafePointer<Int32>, _ rope: RopeTable, N: Int, heads: Int) {
    rope_rotate(dx, pos, rope, N: N, heads: heads, direction: -1)
}

private func rope_rotate(_ x: FloatPointer, _ pos: UnsafePointer<Int32>, _ rope: RopeTable, N: Int, heads: Int, direction: Float) {
    let d = rope.headDim, half = d / 2
    rope.cos.withUnsafeBufferPointer { cosTable in
        rope.sin.withUnsafeBufferPointer { sinTable in
            for n in 0..<N {
                let c = cosTable.baseAddress! + Int(pos[n]) * half
                let s = sinTable.baseAddress! + Int(pos[n]) * half
                for h in 0..<heads {
                    let v = x + (n * heads + h) * d
                    for i in 0..<half {
                        let a = v[i], b = v[i + half], sn = direction * s[i]
                        v[i] = a * c[i] - b * sn
                        v[i + half] = b * c[i] + a * sn
                    }
                }
            }
        }
    }
}
