import Llama

// Everything random in training comes from a seed, so runs replay and resume exactly.
//
// Sequential draws (the initialisation of lora_A, the data order of an epoch) use the Llama module's
// SeededRandom on a stream per tensor or epoch. Dropout masks use a counter-based hash of
// (seed, step, micro-batch, module, element): a mask is a pure function of where it is used, so activation
// recomputation and checkpoint resume redraw it bit-identically without any saved generator state.
enum TrainingRandom {
    /// The SplitMix64 finaliser: a bijective scramble of 64 bits.
    @inlinable
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The stream of lora_A's initialisation for a module.
    static func initStream(layer: Int, target: LoraTarget) -> UInt64 {
        0x10A0_0000 &+ UInt64(layer * 16 + target.index)
    }

    /// A seeded permutation of `0..<n` (Fisher–Yates): the data order of one epoch.
    static func permutation(_ n: Int, seed: UInt64, epoch: Int) -> [Int] {
        var g = SeededRandom(seed: seed, stream: 0xE90C_0000 &+ UInt64(epoch))
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, Int(g.next() % UInt64(i + 1))) }
        }
        return p
    }
}
