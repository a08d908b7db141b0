import CKernels
import Kernels
import Testing

/// The dropout kernels, at every kernel level this CPU has, against the stream they document, element by element: the same mask
/// bits for every lane, block start and tail length, and the kept values scaled exactly.
@Suite struct DropoutKernelTests {
    /// SplitMix64, written out here as the contract in ckernels.h states it.
    static func kept(_ key: UInt64, _ i: Int, _ threshold: UInt32) -> Bool {
        var z = key &+ UInt64(i / 4 + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (z >> UInt64((i & 3) * 16)) & 0xFFFF >= UInt64(threshold)
    }

    @Test(arguments: [UInt32(0), 3277, 32768, 65535, 65536], KernelLevel.available)
    func applyAndAccumulateFollowTheStream(threshold: UInt32, level: KernelLevel) { KernelLevel.with(level) {
        let n = 1000, keep: Float = 1.25
        let x = (0..<n).map { Float($0 % 97) * 0.5 - 20 }
        let g = (0..<n).map { Float($0 % 13) - 6 }
        for key: UInt64 in [1, 0xDEAD_BEEF_0123_4567] {
            for (begin, end) in [(0, n), (4, 999), (64, 96), (8, 11), (0, 0), (12, 44), (16, 31)] {
                var out = [Float](repeating: -99, count: n)
                var dx = (0..<n).map { Float($0) * 0.25 }
                let dx0 = dx
                mk_dropout_apply(&out, x, begin, end, key, threshold, keep)
                mk_dropout_accumulate(&dx, g, begin, end, key, threshold, keep)
                var wrong = 0
                for i in 0..<n {
                    let inside = i >= begin && i < end, k = Self.kept(key, i, threshold)
                    let wantOut: Float = inside ? (k ? x[i] * keep : 0) : -99
                    let wantDx: Float = inside && k ? dx0[i] + g[i] * keep : dx0[i]
                    if out[i] != wantOut || abs(dx[i] - wantDx) > 1e-5 * max(1, abs(wantDx)) { wrong += 1 }
                }
                #expect(wrong == 0, "key \(key), [\(begin), \(end)), threshold \(threshold), \(level): \(wrong) elements differ")
            }
        }
    } }

    /// p = 0.05 drops about 5% of elements.
    @Test func dropRateMatchesTheThreshold() {
        let n = 1 << 16
        let x = [Float](repeating: 1, count: n)
        var out = [Float](repeating: 0, count: n)
        mk_dropout_apply(&out, x, 0, n, 42, 3277, 1)
        let dropped = out.filter { $0 == 0 }.count
        #expect(abs(Double(dropped) / Double(n) - 0.05) < 0.005, "dropped \(dropped) of \(n)")
    }
}
