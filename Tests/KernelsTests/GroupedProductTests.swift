import Kernels
import Testing

// `WeightMatrix.forward(x, n:, group)`: matrices that read the same input (q, k and v; gate and up) multiplied
// in one job over the cores give each matrix's own `forward` bit for bit, whatever their storage, with biases,
// for decode-sized and larger inputs, at every kernel level.
@Suite struct GroupedProductTests {
    static func matrix(rows: Int, cols: Int, storage: StorageType, seed: UInt64, bias: Bool = false) -> WeightMatrix {
        let (values, _) = QuantizedProductTests.operands(rows: rows, cols: cols, n: 0, seed: seed)
        let w = WeightMatrix(rows: rows, cols: cols, values: values, storage: storage)
        if bias { w.bias = FloatBuffer((0..<rows).map { Float($0) / 64 - 0.5 }) }
        return w
    }

    @Test(arguments: [1, 3, 12])
    func equalsEachMatrixOnItsOwn(n: Int) {
        let cols = 160
        // mixed storage as in a kept GGUF (SmolLM2's Q4_1 file has Q8_0 tensors), rows not a multiple of a chunk
        let group = [Self.matrix(rows: 67, cols: cols, storage: .q4_1, seed: 1), Self.matrix(rows: 24, cols: cols, storage: .q8_0, seed: 2, bias: true),
                     Self.matrix(rows: 24, cols: cols, storage: .bf16, seed: 3), Self.matrix(rows: 40, cols: cols, storage: .f32, seed: 4),
                     Self.matrix(rows: 9, cols: cols, storage: .q4_0, seed: 5)]
        let (_, x) = QuantizedProductTests.operands(rows: 0, cols: cols, n: n, seed: 7)
        for level in KernelLevel.available {
            for precision in [ProductPrecision.f32, .bf16] {
                let alone = KernelLevel.with(level) { group.map { QuantizedProductTests.product($0, x, n: n, precision: precision) } }
                var together = group.map { [Float](repeating: .nan, count: n * $0.rows) }
                KernelLevel.with(level) {
                    x.withUnsafeBufferPointer { xs in
                        let outputs = (0..<group.count).map { j in UnsafeMutablePointer<Float>.allocate(capacity: n * group[j].rows) }
                        defer { outputs.forEach { $0.deallocate() } }
                        WeightMatrix.forward(xs.baseAddress!, n: n, Array(zip(group, outputs)), precision: precision)
                        for j in group.indices { together[j] = Array(UnsafeBufferPointer(start: outputs[j], count: n * group[j].rows)) }
                    }
                }
                #expect(together == alone, "n=\(n) at \(level), \(precision)")
            }
        }
    }
}
