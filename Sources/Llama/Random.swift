import Foundation

/// xoshiro256** (Blackman & Vigna), seeded through SplitMix64: the generator behind random weights
/// and sampling. The same seed gives the same stream on every machine and build, so the same seed
/// gives the same generated text.
///
/// ```swift
/// var rng = SeededRandom(seed: 42)
/// let u = rng.nextUniform()      // in [0, 1)
/// let z = rng.nextNormal()       // standard normal
/// ```
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    /// A second normal left over from the last Box–Muller pair.
    private var spareNormal: Float? = nil

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// An independent stream for part `index` of a bigger job (a tensor, a row), so work can be
    /// split over threads without changing the numbers.
    public init(seed: UInt64, stream index: UInt64) {
        self.init(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03 &+ 0x8CB9_2BA7_2F3D_8DD7))
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1 / Float(1 << 24))
    }

    /// Standard normal (Marsaglia's polar method: no sine or cosine; both values of each pair used).
    public mutating func nextNormal() -> Float {
        if let z = spareNormal { spareNormal = nil; return z }
        var u: Float, v: Float, s: Float
        repeat {
            u = nextUniform() * 2 - 1
            v = nextUniform() * 2 - 1
            s = u * u + v * v
        } while s >= 1 || s == 0
        let m = (-2 * logf(s) / s).squareRoot()
        spareNormal = v * m
        return u * m
    }

    /// Writes `count` values of N(0, std²) to `out`: the polar method in a tight loop, both values
    /// of each pair used (the fast path behind random weights).
    public mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, count: Int, std: Float) {
        var i = 0
        while i < count {
            let a = next()
            // two 24-bit uniforms in (-1, 1) from one 64-bit draw
            let u = Float(a >> 40) * (2 / Float(1 << 24)) - 1
            let v = Float((a >> 16) & 0xFF_FFFF) * (2 / Float(1 << 24)) - 1
            let s = u * u + v * v
            if s >= 1 || s == 0 { continue }
            let m = std * (-2 * logf(s) / s).squareRoot()
            out[i] = u * m
            if i + 1 < count { out[i + 1] = v * m }
            i += 2
        }
    }
}
