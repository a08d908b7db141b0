// Everything random in training comes from a seed, so runs replay and resume exactly.
//
// Sequential draws (the initialisation of lora_A, the data order of an epoch) use SplitMix64 seeded from
// (seed, stream). Dropout masks use a counter-based hash of (seed, step, micro-batch, module, element): a mask
// is a pure function of where it is used, so activation recomputation and checkpoint resume redraw it
// bit-identically without any saved generator state.

/// A SplitMix64 generator: 64 bits of state, fast, and good enough for initialisation and shuffling.
///
/// ```swift
/// var g = SeededGenerator(seed: 42, stream: 7)
/// let u = g.nextUniform()     // in [0, 1)
/// ```
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    public var state: UInt64

    public init(seed: UInt64, stream: UInt64 = 0) {
        state = SeededGenerator.mix(seed &+ SeededGenerator.mix(stream &+ 0x632B_E59B_D9B4_E019))
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SeededGenerator.mix(state)
    }

    /// A float uniform in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// The SplitMix64 finaliser: a bijective scramble of 64 bits.
    @inlinable
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform in [0, 1) that depends only on `key` and `index` (counter-based).
    @inlinable
    public static func uniform(key: UInt64, index: UInt64) -> Float {
        Float(mix(key ^ mix(index &+ 0x9E37_79B9_7F4A_7C15)) >> 40) * (1.0 / 16_777_216.0)
    }

    /// A seeded permutation of `0..<n` (Fisher–Yates), the data order of one epoch.
    public static func permutation(_ n: Int, seed: UInt64, epoch: Int) -> [Int] {
        var g = SeededGenerator(seed: seed, stream: 0xE90C_0000 &+ UInt64(epoch))
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                let j = Int(g.next() % UInt64(i + 1))
                p.swapAt(i, j)
            }
        }
        return p
    }
}
