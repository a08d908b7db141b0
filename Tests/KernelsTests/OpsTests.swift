import Foundation
import Testing
import Kernels

// Every kernel against a plain Double implementation written out here.

private func randoms(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var s = seed
    return (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return (Float(s >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
}

private func maxDiff(_ a: [Float], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { max($0, abs(Double($1.0) - $1.1)) }
}

@Suite struct OpsTests {
    @Test func rmsnorm() {
        let N = 5, C = 67
        let x = randoms(N * C, seed: 1, scale: 3), w = randoms(C, seed: 2)
        var out = [Float](repeating: 0, count: N * C), rstd = [Float](repeating: 0, count: N)
        rmsnorm_forward(out: &out, rstd: &rstd, inp: x, weight: w, N: N, C: C, eps: 1e-5)
        var expected = [Double](), expectedRstd = [Double]()
        for n in 0..<N {
            let ms = (0..<C).map { Double(x[n * C + $0]) * Double(x[n * C + $0]) }.reduce(0, +) / Double(C)
            let r = 1 / (ms + 1e-5).squareRoot()
            expectedRstd.append(r)
            expected += (0..<C).map { Double(w[$0]) * Double(x[n * C + $0]) * r }
        }
        #expect(maxDiff(out, expected) < 1e-5)
        #expect(maxDiff(rstd, expectedRstd) < 1e-5)
    }

    @Test(arguments: KernelLevel.available)
    func swigluAndResidual(level: KernelLevel) { KernelLevel.with(level) {
        let n = 5000
        let g = randoms(n, seed: 3, scale: 6), u = randoms(n, seed: 4)
        var out = [Float](repeating: 0, count: n)
        swiglu_forward(out: &out, gate: g, up: u, n: n)
        #expect(maxDiff(out, (0..<n).map { Double(g[$0]) / (1 + exp(-Double(g[$0]))) * Double(u[$0]) }) < 1e-6)
        residual_forward(out: &out, a: g, b: u, n: n)
        #expect(maxDiff(out, (0..<n).map { Double(g[$0] + u[$0]) }) == 0)
    } }

    @Test func softmaxLogSoftmaxCrossEntropy() {
        let N = 4, V = 301
        let logits = randoms(N * V, seed: 5, scale: 8)
        var p = [Float](repeating: 0, count: N * V), lp = p
        softmax_forward(probs: &p, logits: logits, N: N, V: V)
        logsoftmax_forward(out: &lp, logits: logits, N: N, V: V)
        var expP = [Double](), expLP = [Double]()
        for n in 0..<N {
            let row = (0..<V).map { Double(logits[n * V + $0]) }
            let lse = log(row.map(exp).reduce(0, +))
            expP += row.map { exp($0 - lse) }
            expLP += row.map { $0 - lse }
        }
        #expect(maxDiff(p, expP) < 1e-6)
        #expect(maxDiff(lp, expLP) < 1e-5)
        let targets: [Int32] = [7, -100, 300, 0]
        var losses = [Float](repeating: 0, count: N)
        let mean = crossentropy_forward(losses: &losses, logits: logits, targets: targets, N: N, V: V)
        let expected = [0, 2, 3].map { n in -expLP[n * V + Int(targets[n])] }
        #expect(abs(Double(mean) - expected.reduce(0, +) / 3) < 1e-5)
        #expect(losses[1] == 0)
        var none = [Float](repeating: 0, count: 1)
        #expect(crossentropy_forward(losses: &none, logits: logits, targets: [-100], N: 1, V: V).isNaN)
    }

    /// Causal GQA attention with a padding hole, from a cache offset, against the textbook formula; head
    /// sizes 64 and 128 take the C kernel (avx2 and up), 8 and the scalar level the Swift loop. Row 1's
    /// first two queries see only masked slots (left padding) and get a zero output.
    @Test(arguments: [8, 64, 128], KernelLevel.available)
    func attentionMatchesNaive(HD: Int, level: KernelLevel) { KernelLevel.with(level) {
        let B = 2, T = 3, S = 7, NH = 4, NKV = 2
        let q = randoms(B * T * NH * HD, seed: 6), k = randoms(B * S * NKV * HD, seed: 7), v = randoms(B * S * NKV * HD, seed: 8)
        let start: [Int32] = [4, 2]                   // row 0 queries at 4,5,6; row 1 at 2,3,4
        var mask = [Int32](repeating: 1, count: B * S)
        mask[0 * S + 1] = 0; mask[1 * S + 3] = 0      // padding slots
        for j in 0..<3 { mask[1 * S + j] = 0 }        // row 1: left padding
        var out = [Float](repeating: 9, count: B * T * NH * HD)
        var att = [Float](repeating: 0, count: B * NH * T * S)
        attention_forward(out: &out, att: &att, q: q, k: k, v: v, start: start, keyMask: mask,
                          B: B, T: T, S: S, NH: NH, NKV: NKV, HD: HD, keepProbabilities: true)
        var expected = [Double](repeating: 0, count: out.count)
        for b in 0..<B { for t in 0..<T { for h in 0..<NH {
            let g = h / (NH / NKV), p = Int(start[b]) + t
            let slots = (0...p).filter { mask[b * S + $0] != 0 }
            if slots.isEmpty { continue }   // expected output 0
            let scores = slots.map { j in
                (0..<HD).map { Double(q[((b * T + t) * NH + h) * HD + $0]) * Double(k[((b * NKV + g) * S + j) * HD + $0]) }
                    .reduce(0, +) / Double(HD).squareRoot()
            }
            let m = scores.max()!, e = scores.map { exp($0 - m) }, z = e.reduce(0, +)
            for (i, j) in slots.enumerated() {
                for d in 0..<HD { expected[((b * T + t) * NH + h) * HD + d] += e[i] / z * Double(v[((b * NKV + g) * S + j) * HD + d]) }
                #expect(abs(Double(att[((b * NH + h) * T + t) * S + j]) - e[i] / z) < 1e-6)
            }
        } } }
        #expect(maxDiff(out, expected) < 1e-5, "\(level)")
        #expect(att[((0 * NH + 0) * T + 0) * S + 1] == 0)   // the padding slot gets no weight
    } }

    /// vmax is the largest value as a plain scan finds it, at any length and position (the vector body and the
    /// tail), passing over NaNs; −∞ for no values.
    @Test func vmaxIsTheLargestValue() {
        #expect([Float(1)].withUnsafeBufferPointer { vmax($0.baseAddress!, 0) } == -.infinity)
        var state: UInt64 = 11
        for n in [1, 15, 16, 17, 33, 49_152] {
            var x = (0..<n).map { _ -> Float in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(Int64(bitPattern: state >> 11) % 2000) / 100 - 10
            }
            for spot in [0, n / 2, n - 1] where n > 0 {
                x[spot] = 50 + Float(spot)
                if n > 2 { x[(spot + 1) % n] = .nan }
                let expected = x.reduce(-Float.infinity) { $1 > $0 ? $1 : $0 }
                #expect(x.withUnsafeBufferPointer { vmax($0.baseAddress!, n) } == expected, "n \(n), largest at \(spot)")
                x[spot] = 0
            }
        }
    }

    /// Rotation by position p then the inverse rotation gives the input back; position 0 is identity;
    /// the frequencies follow 1/θ^(2i/HD).
    @Test func ropeRotatesHalves() {
        let rope = RopeTables(headDim: 8, theta: 10000, positions: 16)
        #expect(abs(Double(rope.invFreq[1]) - 1 / pow(10000, 2.0 / 8)) < 1e-7)
        let x = randoms(3 * 2 * 8, seed: 9)
        var y = x
        let pos: [Int32] = [0, 5, 15]
        rope_forward(x: &y, positions: pos, rope: rope, N: 3, H: 2)
        #expect(Array(y[0..<16]) == Array(x[0..<16]))
        // element i of head 0 at position 5: x1·cos − x2·sin
        let a = 5 * Double(rope.invFreq[1])
        let e = Double(x[16 + 1]) * cos(a) - Double(x[16 + 5]) * sin(a)
        #expect(abs(Double(y[16 + 1]) - e) < 1e-6)
        rope_backward(dx: &y, positions: pos, rope: rope, N: 3, H: 2)
        #expect(maxDiff(y, x.map(Double.init)) < 1e-6)
    }

    /// llama3 scaling: long wavelengths divided by the factor, short ones kept.
    @Test func llama3Frequencies() {
        let s = RopeTables.Llama3Scaling(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64)
        let inv: [Float] = [1, 0.1, 0.05, 0.001]
        let out = RopeTables.llama3Frequencies(inv, s)
        // wavelengths 6.3, 63, 126, 6283 against bands 16 (high) and 64 (low)
        #expect(out[0] == 1)
        #expect(out[3] == 0.001 / 8)
        #expect(out[2] == 0.05 / 8)
        let smooth: Float = (64 / (2 * .pi / 0.1) - 1) / 3
        #expect(abs(out[1] - ((1 - smooth) * 0.1 / 8 + smooth * 0.1)) < 1e-7)
    }

    /// Every storage, kernel level and batch size (the matrix-vector paths for n ≤ 8, sgemm above)
    /// against the decoded weights times x in Double, with the decode products' software prefetch on and
    /// off (each CPU uses one; both are compiled everywhere).
    @Test(arguments: [StorageType.f32, .bf16, .f16], KernelLevel.available)
    func weightMatrixForward(storage: StorageType, level: KernelLevel) { KernelLevel.with(level) {
        let rows = 37, cols = 75
        let w = WeightMatrix(rows: rows, cols: cols, values: randoms(rows * cols, seed: 10), storage: storage)
        let decoded = w.toFloat32()
        withEachStreamPrefetch { prefetch in
        for n in [1, 2, 3, 4, 5, 6, 7, 8, 9] {
            let x = randoms(n * cols, seed: UInt64(20 + n))
            var y = [Float](repeating: 1, count: n * rows)
            w.forward(x, into: &y, n: n, accumulate: true)
            var expected = [Double]()
            for i in 0..<n { for r in 0..<rows {
                expected.append(1 + (0..<cols).map { Double(decoded[r * cols + $0]) * Double(x[i * cols + $0]) }.reduce(0, +))
            } }
            #expect(maxDiff(y, expected) < 1e-4, "n = \(n), prefetch \(prefetch)")
            w.forward(x, into: &y, n: n)
            #expect(maxDiff(y, expected.map { $0 - 1 }) < 1e-4, "n = \(n), prefetch \(prefetch), no accumulate")
        }
        }
    } }

    /// A matrix large enough to be split over the threads: ranges that start and end off the
    /// four-row blocks of the one-input kernel, and columns off its 32-wide blocks.
    @Test(arguments: [StorageType.f32, .bf16, .f16], KernelLevel.available)
    func weightMatrixForwardSplitOverThreads(storage: StorageType, level: KernelLevel) { KernelLevel.with(level) {
        let rows = 203, cols = 301
        let w = WeightMatrix(rows: rows, cols: cols, values: randoms(rows * cols, seed: 11), storage: storage)
        let decoded = w.toFloat32()
        for n in [1, 4] {
            let x = randoms(n * cols, seed: UInt64(40 + n))
            var y = [Float](repeating: 0, count: n * rows)
            w.forward(x, into: &y, n: n)
            var expected = [Double]()
            for i in 0..<n { for r in 0..<rows {
                expected.append((0..<cols).map { Double(decoded[r * cols + $0]) * Double(x[i * cols + $0]) }.reduce(0, +))
            } }
            #expect(maxDiff(y, expected) < 1e-4, "n = \(n), \(level)")
        }
    } }

    @Test func embeddingLookup() {
        let table = WeightMatrix(rows: 10, cols: 4, values: (0..<40).map(Float.init), storage: .bf16)
        var out = [Float](repeating: 0, count: 8)
        embedding_forward(out: &out, tokens: [3, 9], table: table, N: 2)
        #expect(out == [12, 13, 14, 15, 36, 37, 38, 39])
    }
}
