import Foundation
import Kernels

/// `rope_scaling` of type `llama3` (Llama-3.1/3.2): frequencies below a band are divided by `factor`,
/// those above kept, and those within interpolated smoothly.
///
/// ```swift
/// let s = RopeScaling(rope_type: "llama3", factor: 32)          // Llama-3.2's
/// let factors = s.frequencyFactors(theta: 500000, headDim: 64)  // what a GGUF stores as rope_freqs.weight
/// ```
public struct RopeScaling: Sendable, Equatable {
    public var rope_type: String
    public var factor: Float
    public var low_freq_factor: Float
    public var high_freq_factor: Float
    public var original_max_position_embeddings: Int

    public init(rope_type: String, factor: Float, low_freq_factor: Float = 1, high_freq_factor: Float = 4,
                original_max_position_embeddings: Int = 8192) {
        self.rope_type = rope_type
        self.factor = factor
        self.low_freq_factor = low_freq_factor
        self.high_freq_factor = high_freq_factor
        self.original_max_position_embeddings = original_max_position_embeddings
    }

    /// The divisor of each rotary frequency, `[headDim/2]`, as llama.cpp's converter writes them into
    /// `rope_freqs.weight`: 1 for short wavelengths, `factor` for long ones, and in the band between
    /// `1 / ((1 − smooth)/factor + smooth)`. Computed in Double from the f32 inverse frequencies.
    public func frequencyFactors(theta: Float, headDim: Int) -> [Float] {
        let old = Double(original_max_position_embeddings)
        let low = Double(low_freq_factor), high = Double(high_freq_factor), factor = Double(factor)
        return (0..<headDim / 2).map { i in
            let inv = Double(1 / powf(theta, Float(2 * i) / Float(headDim)))
            let wavelen = 2 * Double.pi / inv
            if wavelen < old / high { return 1 }
            if wavelen > old / low { return Float(factor) }
            let smooth = (old / wavelen - low) / (high - low)
            return Float(1 / ((1 - smooth) / factor + smooth))
        }
    }

    /// The llama3 parameters that produce a GGUF file's `rope_freqs.weight`, or nil when none do.
    ///
    /// A GGUF keeps only the divisors, but a Hugging Face `config.json` (a merged export) needs the
    /// parameters. Every Llama-3.x release uses `low_freq_factor` 1 and `high_freq_factor` 4; with those
    /// fixed, `factor` is the largest divisor and `original_max_position_embeddings` follows from any
    /// divisor inside the band (8192 when none is). The answer is accepted only when it recomputes every
    /// divisor to within 1e-4 relative.
    ///
    /// ```swift
    /// let s = RopeScaling.llama3(matching: factors, theta: 500000, headDim: 64)   // factor 32, 8192
    /// ```
    public static func llama3(matching factors: [Float], theta: Float, headDim: Int) -> RopeScaling? {
        guard factors.count == headDim / 2, let factor = factors.max(), factor > 1,
              factors.allSatisfy({ $0.isFinite && $0 >= 1 - 1e-6 }) else { return nil }
        let low: Float = 1, high: Float = 4
        var original = 8192
        if let i = factors.firstIndex(where: { $0 > 1 + 1e-6 && $0 < factor * (1 - 1e-6) }) {
            // 1/f = (1 − smooth)/factor + smooth  and  smooth = (old/wavelen − low)/(high − low)
            let f = Double(factors[i]), k = Double(factor)
            let smooth = (1 / f - 1 / k) / (1 - 1 / k)
            let wavelen = 2 * Double.pi * pow(Double(theta), Double(2 * i) / Double(headDim))
            original = Int((wavelen * (smooth * Double(high - low) + Double(low))).rounded())
        }
        guard original > 0 else { return nil }
        let s = RopeScaling(rope_type: "llama3", factor: factor, low_freq_factor: low, high_freq_factor: high,
                            original_max_position_embeddings: original)
        let again = s.frequencyFactors(theta: theta, headDim: headDim)
        let agrees = zip(again, factors).allSatisfy { abs($0 - $1) <= 1e-4 * $1 }
        return agrees ? s : nil
    }
}
