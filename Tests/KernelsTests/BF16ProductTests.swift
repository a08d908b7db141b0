import CKernels
import Foundation
import Testing
import Kernels

/// `WeightMatrix` products in `.bf16` precision (AVX512-BF16) against the same product in Double on the
/// bf16-rounded operands: forward and input gradient, shapes off every block size (strips of 32 columns,
/// blocks of 8 input rows), accumulation, a weight taller than the backward's 4096-row chunk, and an
/// odd row count (the input gradient then stays in f32). At every kernel level below avx512bf16 (all of
/// them on a CPU without AVX512-BF16) the fallback is checked instead: `.bf16` gives the f32 products
/// bit for bit.
@Suite struct BF16ProductTests {
    static func bf16(_ v: [Float]) -> [Float] {
        var h = [UInt16](repeating: 0, count: v.count), out = [Float](repeating: 0, count: v.count)
        mk_f32_to_bf16(v, &h, v.count)
        mk_bf16_to_f32(h, &out, v.count)
        return out
    }

    /// The largest |got − want| over Σ|terms| of each output.
    static func error(_ got: [Float], _ want: [Double], _ scale: [Double]) -> Double {
        zip(zip(got, want), scale).map { abs(Double($0.0) - $0.1) / max($1, 1e-30) }.max() ?? 0
    }

    /// Below avx512bf16: `.bf16` precision multiplies exactly as `.f32` does, forward and input gradient.
    static func expectFallbackIsF32(_ w: WeightMatrix, x: [Float], dy: [Float], n: Int) {
        for accumulate in [false, true] {
            var y16 = [Float](repeating: 0.5, count: n * w.rows), y32 = y16
            var dx16 = [Float](repeating: -0.25, count: n * w.cols), dx32 = dx16
            w.forward(x, into: &y16, n: n, accumulate: accumulate, precision: .bf16)
            w.forward(x, into: &y32, n: n, accumulate: accumulate, precision: .f32)
            w.backwardInput(dy, into: &dx16, n: n, accumulate: accumulate, precision: .bf16)
            w.backwardInput(dy, into: &dx32, n: n, accumulate: accumulate, precision: .f32)
            #expect(y16 == y32 && dx16 == dx32, "[\(w.rows), \(w.cols)] n \(n) at \(KernelLevel.current): the fallback is not the f32 product")
        }
    }

    static let shapes = [(rows: 37, cols: 76, n: 13), (rows: 64, cols: 64, n: 24), (rows: 8, cols: 1000, n: 9), (rows: 4102, cols: 40, n: 14), (rows: 30, cols: 4098, n: 17)]

    @Test(arguments: 0..<shapes.count, KernelLevel.available)
    func forwardAndInputGradientMatchDouble(shape: Int, level: KernelLevel) { KernelLevel.with(level) {
        let (rows, cols, n) = Self.shapes[shape]
        let values = (0..<(rows * cols)).map { Float(sin(Double($0) * 0.731)) * 0.5 }
        let w = WeightMatrix(rows: rows, cols: cols, values: values, storage: .bf16)
        let wr = Self.bf16(values)
        let x = (0..<(n * cols)).map { Float(cos(Double($0) * 0.377)) * 3 }, xr = Self.bf16(x)
        let dy = (0..<(n * rows)).map { Float(sin(Double($0) * 0.119 + 1)) }
        let dyr = rows % 2 == 0 ? Self.bf16(dy) : dy   // an odd row count takes the f32 input gradient
        guard WeightMatrix.bf16ProductsAvailable else { return Self.expectFallbackIsF32(w, x: x, dy: dy, n: n) }
        for accumulate in [false, true] {
            var y = [Float](repeating: 0.5, count: n * rows), dx = [Float](repeating: -0.25, count: n * cols)
            w.forward(x, into: &y, n: n, accumulate: accumulate, precision: .bf16)
            w.backwardInput(dy, into: &dx, n: n, accumulate: accumulate, precision: .bf16)
            var wantY = [Double](repeating: 0, count: n * rows), scaleY = wantY
            for i in 0..<n { for j in 0..<rows {
                var s = accumulate ? 0.5 : 0, a = accumulate ? 0.5 : 0
                for c in 0..<cols { let t = Double(xr[i * cols + c]) * Double(wr[j * cols + c]); s += t; a += abs(t) }
                wantY[i * rows + j] = s; scaleY[i * rows + j] = a
            } }
            var wantDx = [Double](repeating: 0, count: n * cols), scaleDx = wantDx
            for i in 0..<n { for c in 0..<cols {
                var s = accumulate ? -0.25 : 0, a = accumulate ? 0.25 : 0
                for j in 0..<rows { let t = Double(dyr[i * rows + j]) * Double(wr[j * cols + c]); s += t; a += abs(t) }
                wantDx[i * cols + c] = s; scaleDx[i * cols + c] = a
            } }
            let ey = Self.error(y, wantY, scaleY), ed = Self.error(dx, wantDx, scaleDx)
            #expect(ey < 1e-5 && ed < 1e-5, "[\(rows), \(cols)] n \(n) accumulate \(accumulate): forward \(ey), input gradient \(ed)")
        }
    } }

    /// One input (the decode product): four rows at a time, the leftover rows and column tails, with the
    /// software prefetch off and on.
    static let oneInputShapes = [(rows: 7, cols: 64), (rows: 13, cols: 576), (rows: 4, cols: 95), (rows: 33, cols: 1000)]

    @Test(arguments: 0..<oneInputShapes.count, KernelLevel.available)
    func oneInputMatchesDouble(shape: Int, level: KernelLevel) { KernelLevel.with(level) {
        let (rows, cols) = Self.oneInputShapes[shape]
        let values = (0..<(rows * cols)).map { Float(cos(Double($0) * 0.917)) }
        let w = WeightMatrix(rows: rows, cols: cols, values: values, storage: .bf16)
        let wr = Self.bf16(values)
        let x = (0..<cols).map { Float(sin(Double($0) * 0.29)) * 2 }, xr = Self.bf16(x)
        guard WeightMatrix.bf16ProductsAvailable else { return Self.expectFallbackIsF32(w, x: x, dy: [Float](repeating: 1, count: rows), n: 1) }
        withEachStreamPrefetch { prefetch in
        for accumulate in [false, true] {
            var y = [Float](repeating: 1.5, count: rows)
            w.forward(x, into: &y, n: 1, accumulate: accumulate, precision: .bf16)
            var want = [Double](repeating: 0, count: rows), scale = want
            for r in 0..<rows {
                var s = accumulate ? 1.5 : 0, a = accumulate ? 1.5 : 0
                for c in 0..<cols { let t = Double(xr[c]) * Double(wr[r * cols + c]); s += t; a += abs(t) }
                want[r] = s; scale[r] = a
            }
            let e = Self.error(y, want, scale)
            #expect(e < 1e-5, "[\(rows), \(cols)] accumulate \(accumulate), prefetch \(prefetch): \(e)")
        }
        }
    } }

    /// Without bf16 storage `.bf16` changes nothing: f32 weights give the f32 product bit for bit.
    @Test func f32WeightsIgnoreTheBF16Precision() {
        let rows = 40, cols = 50, n = 20
        let w = WeightMatrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { Float($0 % 11) * 0.1 }, storage: .f32)
        let x = (0..<(n * cols)).map { Float($0 % 7) - 3 }
        var a = [Float](repeating: 0, count: n * rows), b = a
        w.forward(x, into: &a, n: n)
        w.forward(x, into: &b, n: n, precision: .bf16)
        #expect(a == b)
    }
}
