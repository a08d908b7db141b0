import Foundation

// Rotary position embeddings in transformers' "rotate half" convention: a head vector x of size HD
// is split into halves (x1, x2) = (x[0..<HD/2], x[HD/2..<HD]) and, for each frequency i,
//   out[i]        = x1[i]·cos(p·f_i) − x2[i]·sin(p·f_i)
//   out[i + HD/2] = x2[i]·cos(p·f_i) + x1[i]·sin(p·f_i)
// (llama.cpp's GGUF files store q/k rows permuted for the interleaved convention; the weights
// module undoes that, so this kernel only ever sees the transformers layout.)

/// The inverse frequencies and cos/sin tables of rotary embeddings, computed in f32 as transformers
/// does (`inv_freq = 1 / theta^(2i/HD)`, then `cos(position · inv_freq)`), with optional Llama-3
/// frequency scaling, given either as its parameters (a `config.json`) or as llama.cpp's per-frequency
/// divisors (a GGUF file's `rope_freqs.weight`).
///
/// ```swift
/// let rope = RopeTables(headDim: 64, theta: 10000, positions: 2048)
/// rope_forward(x: q, positions: pos, rope: rope, N: T, H: nHeads)
/// let gguf = RopeTables(headDim: 16, theta: 500000, positions: 128, frequencyFactors: [1, 2.44, 8, 8, 8, 8, 8, 8])
/// ```
public final class RopeTables: @unchecked Sendable {
    public let headDim: Int
    /// Positions covered: `0..<positions`.
    public let positions: Int
    public let invFreq: [Float]                     // [HD/2]
    public let cos: UnsafeMutablePointer<Float>     // [positions, HD/2]
    public let sin: UnsafeMutablePointer<Float>     // [positions, HD/2]

    /// Llama-3's `rope_scaling` parameters (`rope_type: "llama3"`).
    public struct Llama3Scaling: Sendable, Equatable {
        public var factor: Float
        public var lowFreqFactor: Float
        public var highFreqFactor: Float
        public var originalMaxPositions: Int
        public init(factor: Float, lowFreqFactor: Float, highFreqFactor: Float, originalMaxPositions: Int) {
            self.factor = factor; self.lowFreqFactor = lowFreqFactor
            self.highFreqFactor = highFreqFactor; self.originalMaxPositions = originalMaxPositions
        }
    }

    /// - Parameters:
    ///   - llama3: Llama-3 scaling parameters, applied as transformers does.
    ///   - frequencyFactors: `[HD/2]` divisors, one per frequency (`inv_freq[i] / factor[i]`), as llama.cpp
    ///     applies `rope_freqs.weight`; when given they replace `llama3`.
    public init(headDim: Int, theta: Float, positions: Int, llama3: Llama3Scaling? = nil, frequencyFactors: [Float]? = nil) {
        self.headDim = headDim
        self.positions = positions
        let half = headDim / 2
        var inv = (0..<half).map { i in 1 / powf(theta, Float(2 * i) / Float(headDim)) }
        if let factors = frequencyFactors {
            precondition(factors.count == half, "RopeTables: \(factors.count) frequency factors for head_dim \(headDim)")
            inv = zip(inv, factors).map { $0 / $1 }
        } else if let s = llama3 {
            inv = RopeTables.llama3Frequencies(inv, s)
        }
        invFreq = inv
        cos = .allocate(capacity: max(1, positions * half))
        sin = .allocate(capacity: max(1, positions * half))
        for p in 0..<positions {
            for i in 0..<half {
                // f32 product first, as transformers' `inv_freq @ position_ids` in float32.
                let angle = Double(Float(p) * inv[i])
                cos[p * half + i] = Float(Foundation.cos(angle))
                sin[p * half + i] = Float(Foundation.sin(angle))
            }
        }
    }

    deinit { cos.deallocate(); sin.deallocate() }

    /// Llama-3.1 frequency scaling: long wavelengths (beyond `originalMaxPositions / lowFreqFactor`)
    /// are slowed by `factor`, short ones (below `originalMaxPositions / highFreqFactor`) kept, and
    /// the band between interpolated — transformers' `_compute_llama3_parameters`, in f32.
    public static func llama3Frequencies(_ inv: [Float], _ s: Llama3Scaling) -> [Float] {
        let old = Float(s.originalMaxPositions)
        let lowWavelen = old / s.lowFreqFactor
        let highWavelen = old / s.highFreqFactor
        return inv.map { f in
            let wavelen = 2 * Float.pi / f
            let scaled = wavelen > lowWavelen ? f / s.factor : f
            let medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen)
            guard medium else { return scaled }
            let smooth = (old / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor)
            return (1 - smooth) * scaled / s.factor + smooth * scaled
        }
    }
}

/// Rotates the heads of x[N, H, HD] in place by the angles of `positions[N]`.
///
/// Every position must be below `rope.positions` (the caller checks).
public func rope_forward(x: UnsafeMutablePointer<Float>,           // [N, H, HD]
                         positions: UnsafePointer<Int32>,          // [N]
                         rope: RopeTables,
                         N: Int, H: Int) {
    let HD = rope.headDim, half = HD / 2
    Parallel.rows(N, workPerRow: 6 * H * HD) { range in
        for n in range {
            let c = rope.cos + Int(positions[n]) * half
            let s = rope.sin + Int(positions[n]) * half
            for h in 0..<H {
                let v = x + (n * H + h) * HD
                for i in 0..<half {
                    let x1 = v[i], x2 = v[i + half]
                    v[i] = x1 * c[i] - x2 * s[i]
                    v[i + half] = x2 * c[i] + x1 * s[i]
                }
            }
        }
    }
}

/// The inverse rotation, for the backward pass: dx = Rᵀ·dy, in place on x[N, H, HD].
public func rope_backward(dx: UnsafeMutablePointer<Float>,         // [N, H, HD]
                          positions: UnsafePointer<Int32>,         // [N]
                          rope: RopeTables,
                          N: Int, H: Int) {
    let HD = rope.headDim, half = HD / 2
    Parallel.rows(N, workPerRow: 6 * H * HD) { range in
        for n in range {
            let c = rope.cos + Int(positions[n]) * half
            let s = rope.sin + Int(positions[n]) * half
            for h in 0..<H {
                let v = dx + (n * H + h) * HD
                for i in 0..<half {
                    let y1 = v[i], y2 = v[i + half]
                    v[i] = y1 * c[i] + y2 * s[i]
                    v[i + half] = y2 * c[i] - y1 * s[i]
                }
            }
        }
    }
}
