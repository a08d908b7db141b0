import CKernels
import Foundation
import Kernels
import Testing

/// The vectorised exp kernels against exp in Double, at every kernel level this CPU has: relative error
/// within a few f32 ulp over the whole range, the limits (exp(−inf) = 0, overflow to +inf, underflow to
/// 0), and every tail length.
@Suite struct ExpKernelTests {
    static let ulp = Double(Float.ulpOfOne)

    @Test(arguments: KernelLevel.available)
    func expIsWithinThreeUlpEverywhere(level: KernelLevel) { KernelLevel.with(level) {
        let xs = stride(from: -87.0, through: 88.5, by: 0.0137).map { Float($0) } + [0, -0.0, 1e-8, -1e-8, 0.5, -0.5]
        var out = [Float](repeating: .nan, count: xs.count)
        mk_exp(xs, &out, xs.count)
        var worst = 0.0
        for (x, y) in zip(xs, out) { worst = max(worst, abs(Double(y) - Foundation.exp(Double(x))) / Foundation.exp(Double(x))) }
        #expect(worst < 3 * Self.ulp, "worst relative error \(worst / Self.ulp) ulp")
        let limits: [Float] = [-.infinity, -200, -104, 89, 100, .infinity]
        var lo = [Float](repeating: .nan, count: limits.count)
        mk_exp(limits, &lo, limits.count)
        #expect(lo[0] == 0 && lo[1] == 0 && lo[2] < 1e-44 && lo[3] == .infinity && lo[4] == .infinity && lo[5] == .infinity, "\(lo)")
    } }

    /// AVX2 applies 2^k as two multiplications where AVX-512 has scalef: the same bits, denormal
    /// results included.
    @Test(.enabled(if: KernelLevel.process >= .avx512, "no AVX-512 at this level: there is no second vector level to compare with"))
    func avx2AndAVX512GiveTheSameBits() {
        let xs = stride(from: -105.0, through: 90.0, by: 0.00731).map { Float($0) }
        var a = [Float](repeating: 0, count: xs.count), b = a
        KernelLevel.with(.avx2) { mk_exp(xs, &a, xs.count) }
        KernelLevel.with(.avx512) { mk_exp(xs, &b, xs.count) }
        let differ = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differ == 0, "\(differ) of \(xs.count) values differ")
    }

    @Test(arguments: KernelLevel.available)
    func sumAndStoreOverEveryTailLength(level: KernelLevel) { KernelLevel.with(level) {
        for n in [1, 5, 15, 16, 17, 31, 32, 33, 100, 1000] {
            let x = (0..<n).map { Float(sin(Double($0) * 1.7) * 30) }
            let shift: Float = 12, scale: Float = 0.25
            let want = x.reduce(0.0) { $0 + Foundation.exp(Double($1 - shift)) }
            let sum = mk_sum_exp(x, n, shift)
            #expect(abs(Double(sum) - want) <= 1e-6 * want, "n \(n): sum \(sum) vs \(want)")
            var out = [Float](repeating: -1, count: n + 3)
            let stored = mk_exp_store(&out, x, n, shift, scale)
            #expect(abs(Double(stored) - want) <= 1e-6 * want, "n \(n): stored sum")
            let err = (0..<n).map { i in abs(Double(out[i]) - Foundation.exp(Double(x[i] - shift)) * Double(scale)) / (Foundation.exp(Double(x[i] - shift)) * Double(scale)) }.max()!
            #expect(err < 4 * Self.ulp && out[n...].allSatisfy { $0 == -1 }, "n \(n): values off by \(err / Self.ulp) ulp or written past the end")
            // masked keys (-inf) count as 0
            var masked = x; masked[n / 2] = -.infinity
            let wantMasked = want - Foundation.exp(Double(x[n / 2] - shift))
            #expect(abs(Double(mk_sum_exp(masked, n, shift)) - wantMasked) <= 1e-6 * max(want, 1e-30))
        }
    } }

    @Test(arguments: KernelLevel.available)
    func swigluForwardAndBackward(level: KernelLevel) { KernelLevel.with(level) {
        let n = 1037
        let g = (0..<n).map { Float(sin(Double($0) * 0.31) * 12) }, u = (0..<n).map { Float(cos(Double($0) * 0.7)) }
        let d = (0..<n).map { Float(sin(Double($0) * 0.13)) }
        var out = [Float](repeating: 0, count: n), dg = out, du = out
        mk_swiglu_forward(&out, g, u, n)
        mk_swiglu_backward(&dg, &du, d, g, u, n)
        var worst = 0.0
        for i in 0..<n {
            let gd = Double(g[i]), s = 1 / (1 + Foundation.exp(-gd))
            let want = [gd * s * Double(u[i]), Double(d[i]) * gd * s, Double(d[i]) * Double(u[i]) * s * (1 + gd * (1 - s))]
            for (got, w) in zip([out[i], du[i], dg[i]], want) { worst = max(worst, abs(Double(got) - w) / max(abs(w), 1e-3)) }
        }
        #expect(worst < 1e-5, "worst relative error \(worst)")
    } }
}
