import CKernels
import Kernels
import Testing

// Products with weights kept in ggml's blocks (q8_0, q4_0, q4_1): the decode product (n ≤ 8 inputs, activations
// quantized per block to 8 bits as llama.cpp does) gives the same bits at every kernel level, and stays within the
// activation-rounding bound of the f32 product with the dequantized weights; larger products multiply the
// dequantized weights exactly.
@Suite struct QuantizedProductTests {
    static let formats: [StorageType] = [.q8_0, .q4_0, .q4_1]

    /// rows × cols weights and n inputs, seeded; the inputs have an outlier per row, as activations do.
    static func operands(rows: Int, cols: Int, n: Int, seed: UInt64) -> (w: [Float], x: [Float]) {
        var state = seed
        func next() -> Float {   // SplitMix64 → uniform in [-1, 1)
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Float((z ^ (z >> 31)) >> 40) / Float(1 << 23) - 1
        }
        let w = (0..<(rows * cols)).map { _ in next() * 0.1 }
        var x = (0..<(n * cols)).map { _ in next() }
        for i in 0..<n { x[i * cols + (7 * i) % cols] = 12 }
        return (w, x)
    }

    static func product(_ w: WeightMatrix, _ x: [Float], n: Int, precision: ProductPrecision = .f32) -> [Float] {
        var y = [Float](repeating: 0, count: n * w.rows)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { w.forward(xs.baseAddress!, into: $0.baseAddress!, n: n, precision: precision) }
        }
        return y
    }

    /// 5 blocks a row (a short group of the eight whose headers the vector levels read at once), 19 (two whole
    /// groups and a short one), and 1,032 (more than fit the kernels' activation scales on the stack).
    @Test(arguments: formats)
    func everyLevelGivesTheScalarBits(storage: StorageType) {
        for (rows, cols, n) in [(67, 160, 1), (67, 160, 3), (67, 160, 8), (29, 608, 1), (29, 608, 5), (3, 33_024, 2)] {
            let (wv, x) = Self.operands(rows: rows, cols: cols, n: n, seed: UInt64(n))
            let w = WeightMatrix(rows: rows, cols: cols, values: wv, storage: storage)
            let scalar = KernelLevel.with(.scalar) { Self.product(w, x, n: n) }
            for level in KernelLevel.available {
                #expect(KernelLevel.with(level) { Self.product(w, x, n: n) } == scalar, "\(storage) n=\(n) at \(level)")
            }
        }
    }

    /// Activations quantized for the products (Q8_0 and Q8_1: blocks, then their scales as f32) are the scalar
    /// reference's bytes at every level, halves included: block 1 of the first input has d = 0.25 exactly and
    /// x / d = j − 15.5, which ggml's `roundf` takes away from zero (−15.5 → −16, 0.5 → 1). A zero block has d = 0.
    @Test func everyLevelQuantizesActivationsLikeTheScalar() {
        let (cols, n) = (96, 3)
        var x = Self.operands(rows: 1, cols: cols, n: n, seed: 7).x
        for j in 0..<32 { x[32 + j] = (Float(j) - 15.5) * 0.25 }
        x[63] = 31.75   // amax 127 · 0.25
        for j in 64..<96 { x[cols + j] = 0 }
        for format in [Int32(MK_WEIGHT_Q8_0), Int32(MK_WEIGHT_Q8_1)] {
            let count = mk_quant_activations_bytes(format, cols, n)
            func quantized() -> [UInt8] {
                var out = [UInt8](repeating: 0xAA, count: count)
                x.withUnsafeBufferPointer { xs in out.withUnsafeMutableBytes { mk_quantize_activations(format, xs.baseAddress!, n, cols, $0.baseAddress!) } }
                return out
            }
            let scalar = KernelLevel.with(.scalar) { quantized() }
            let blockBytes = mk_quant_block_bytes(format), valuesAt = blockBytes - 32
            let halves = (0..<31).map { Int8(bitPattern: scalar[blockBytes + valuesAt + $0]) }
            #expect(halves == (0..<31).map { j in Int8((Float(j) - 15.5).rounded(.toNearestOrAwayFromZero)) }, "format \(format)")
            for level in KernelLevel.available {
                let bytes = KernelLevel.with(level) { quantized() }
                let first = bytes.indices.first { bytes[$0] != scalar[$0] }
                #expect(first == nil, "format \(format) at \(level): byte \(first ?? 0) of \(count) differs")
            }
        }
    }

    /// Weights quantized on load (`dtype=q8_0|q4_0|q4_1`, `quantize`) are the scalar reference's bytes at every
    /// level. Row 0 has a block whose largest magnitude comes twice with opposite signs (Q4_0 takes the first as
    /// its signed extreme, −8 · d), in both orders, and a block of zeros.
    @Test(arguments: formats)
    func everyLevelQuantizesWeightsLikeTheScalar(storage: StorageType) {
        let (rows, cols) = (6, 160)
        var values = Self.operands(rows: rows, cols: cols, n: 1, seed: 13).w
        values[3] = 0.3; values[17] = -0.3
        values[32 + 5] = -0.3; values[32 + 30] = 0.3
        for j in 64..<96 { values[j] = 0 }
        func bytes() -> [UInt8] {
            let w = WeightMatrix(rows: rows, cols: cols, values: values, storage: storage)
            return Array(UnsafeRawBufferPointer(start: w.data, count: w.byteCount))   // as kept: row groups for q4
        }
        let scalar = KernelLevel.with(.scalar) { bytes() }
        for level in KernelLevel.available {
            let quantized = KernelLevel.with(level) { bytes() }
            let first = quantized.indices.first { quantized[$0] != scalar[$0] }
            #expect(first == nil, "\(storage) at \(level): byte \(first ?? 0) of \(scalar.count) differs")
        }
        if storage == .q4_0 {   // the scalar reference itself: d = 0.3 / −8 for the first block, −0.3 / −8 for the second
            let d0 = Float(Float16(bitPattern: UInt16(scalar[0]) | UInt16(scalar[1]) << 8))
            let d1 = Float(Float16(bitPattern: UInt16(scalar[18]) | UInt16(scalar[19]) << 8))
            #expect(d0 < 0 && d1 > 0, "Q4_0's d takes the sign of the first largest value: \(d0), \(d1)")
        }
    }

    /// Weights dequantized (for prefill and training) are the scalar reference's values at every level.
    @Test(arguments: formats)
    func everyLevelDequantizesLikeTheScalar(storage: StorageType) {
        let (rows, cols) = (5, 160)
        let w = WeightMatrix(rows: rows, cols: cols, values: Self.operands(rows: rows, cols: cols, n: 1, seed: 3).w, storage: storage)
        let scalar = KernelLevel.with(.scalar) { w.toFloat32() }
        #expect(Set(scalar).count > 100, "the weights should not be constant")
        for level in KernelLevel.available {
            let values = KernelLevel.with(level) { w.toFloat32() }
            let first = values.indices.first { values[$0].bitPattern != scalar[$0].bitPattern }
            #expect(first == nil, "\(storage) at \(level): value \(first ?? 0) is \(values[first ?? 0]), not \(scalar[first ?? 0])")
        }
    }

    /// The bound: an activation x is multiplied as d16 · q with q = round(x / d), d = amax/127 of its block and
    /// d16 its f16 rounding, so |x − d16·q| ≤ d/2 + 127·|d − d16| ≤ d·(1/2 + 127·2⁻¹¹) < 0.563·d; each output is
    /// off by at most Σ_blocks 0.563·d_b · Σ_j |w_j| (w dequantized), plus, for Q4_1, |m_b| · |s_b|·2⁻¹¹ for the
    /// f16 rounding of s = d·Σq, plus 1e-5 of Σ|w||x| for the f32 sums.
    @Test(arguments: formats)
    func staysWithinTheActivationRoundingBound(storage: StorageType) {
        let (rows, cols, n) = (40, 256, 4)
        let (wv, x) = Self.operands(rows: rows, cols: cols, n: n, seed: 99)
        let w = WeightMatrix(rows: rows, cols: cols, values: wv, storage: storage)
        let dequantized = w.toFloat32()
        let y = Self.product(w, x, n: n)
        let blocks = cols / StorageType.blockSize
        var worstRatio: Float = 0
        for i in 0..<n {
            for r in 0..<rows {
                var exact: Double = 0, bound: Double = 0, magnitude: Double = 0
                for b in 0..<blocks {
                    let range = (b * 32)..<((b + 1) * 32)
                    let amax = range.map { abs(x[i * cols + $0]) }.max()!
                    let d = Double(amax) / 127
                    var wsum: Double = 0, m = Double.infinity, s: Double = 0
                    for j in range {
                        let wj = Double(dequantized[r * cols + j]), xj = Double(x[i * cols + j])
                        exact += wj * xj; wsum += abs(wj); magnitude += abs(wj * xj)
                        m = min(m, wj); s += d == 0 ? 0 : (xj / d).rounded(.toNearestOrAwayFromZero) * d
                    }
                    bound += 0.563 * d * wsum
                    if storage == .q4_1 { bound += abs(m) * abs(s) / 2048 }
                }
                bound += 1e-5 * magnitude
                let error = abs(Double(y[i * rows + r]) - exact)
                #expect(error <= bound, "\(storage) output [\(i), \(r)]: error \(error) over the bound \(bound)")
                worstRatio = max(worstRatio, Float(error / bound))
            }
        }
        #expect(worstRatio > 0.01, "the bound is too loose to mean anything: worst error / bound \(worstRatio)")
    }

    /// Quantized matrices keep their rows in groups of eight, block by block (`mk_quant_grouped`): the rows come back
    /// as ggml writes them (each row quantized on its own), from any row on, and go in from ggml's bytes to the
    /// same memory; a decode product over rows that start and end inside groups gives those rows of the whole
    /// product at every level (the cores split a matrix's rows anywhere).
    @Test(arguments: formats)
    func rowGroupsKeepTheRowsAndSplitAnywhere(storage: StorageType) {
        let (rows, cols, n) = (21, 96, 3)   // two groups, then 5 rows kept row after row
        let (wv, x) = Self.operands(rows: rows, cols: cols, n: n, seed: 21)
        let w = WeightMatrix(rows: rows, cols: cols, values: wv, storage: storage)
        let format = storage.format, rowBytes = w.rowBytes
        var ggml = [UInt8](repeating: 0, count: rows * rowBytes)
        wv.withUnsafeBufferPointer { v in
            ggml.withUnsafeMutableBytes { out in
                for r in 0..<rows { mk_quantize_row(format, v.baseAddress! + r * cols, out.baseAddress! + r * rowBytes, cols) }
            }
        }
        func ggmlRows(_ first: Int, _ count: Int) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: count * rowBytes)
            out.withUnsafeMutableBytes { w.ggmlRows(first, count, into: $0.baseAddress!) }
            return out
        }
        let kept = Array(UnsafeRawBufferPointer(start: w.data, count: w.byteCount))
        #expect(mk_quant_grouped(format) == 1 && kept[0..<(8 * rowBytes)] != ggml[0..<(8 * rowBytes)], "the first group is interleaved")
        #expect(kept[(16 * rowBytes)...] == ggml[(16 * rowBytes)...], "rows after the last group stay in ggml's order")
        #expect(ggmlRows(0, rows) == ggml)
        #expect(ggmlRows(5, 9) == Array(ggml[(5 * rowBytes)..<(14 * rowBytes)]))
        let copied = ggml.withUnsafeBytes { WeightMatrix(rows: rows, cols: cols, storage: storage, copying: $0.baseAddress!) }
        #expect(Array(UnsafeRawBufferPointer(start: copied.data, count: copied.byteCount)) == kept)

        let activation = mk_quant_activation_format(format)
        var xq = [UInt8](repeating: 0, count: mk_quant_activations_bytes(activation, cols, n))
        x.withUnsafeBufferPointer { xs in xq.withUnsafeMutableBytes { mk_quantize_activations(activation, xs.baseAddress!, n, cols, $0.baseAddress!) } }
        func product(_ cuts: [Int]) -> [Float] {
            var y = [Float](repeating: -1, count: n * rows)
            xq.withUnsafeBytes { a in
                y.withUnsafeMutableBufferPointer { out in
                    for (begin, end) in zip(cuts, cuts.dropFirst()) {
                        mk_matmul_q_small(w.data, format, a.baseAddress!, out.baseAddress!, rows, cols, n, begin, end, 0)
                    }
                }
            }
            return y
        }
        let whole = KernelLevel.with(.scalar) { product([0, rows]) }
        #expect(!whole.contains(-1))
        for level in KernelLevel.available {
            #expect(KernelLevel.with(level) { product([0, 3, 8, 13, 14, 18, rows]) } == whole, "\(storage) at \(level)")
        }
    }

    /// More than `smallBatch` inputs: the dequantized weights times the f32 inputs, exactly as for f32 weights.
    @Test(arguments: formats)
    func largeProductsUseTheDequantizedWeights(storage: StorageType) {
        let (rows, cols, n) = (24, 96, 12)
        let (wv, x) = Self.operands(rows: rows, cols: cols, n: n, seed: 5)
        let w = WeightMatrix(rows: rows, cols: cols, values: wv, storage: storage)
        let f32 = WeightMatrix(rows: rows, cols: cols, values: w.toFloat32(), storage: .f32)
        #expect(Self.product(w, x, n: n) == Self.product(f32, x, n: n))
        #expect(w.byteCount == rows * cols / 32 * mk_quant_block_bytes(storage.format))
    }
}
