import CKernels
import Foundation
import Kernels
import Testing
import TestSupport
import Weights

// ggml's block quantization against gguf-py (Tests/Fixtures/quants, stage `quants` of make_fixtures.py): 8 rows of
// 256 values with zeros, a constant, an outlier, rounding ties and tiny values, quantized to Q8_0, Q4_0 and Q4_1 by
// gguf-py's port of ggml's quantize_row_*_ref, and to the Q8_1 activations of a Q4_1 product by the script's own
// port of quantize_row_q8_1_ref. Quantizing must give the same bytes; dequantizing the same floats.
@Suite struct QuantizationVectorsTests {
    static let file = Repository.url("Tests/Fixtures/quants/vectors.safetensors")

    @Test(arguments: [StorageType.q8_0, .q4_0, .q4_1])
    func quantizeAndDequantizeMatchGGUFPy(storage: StorageType) throws {
        let vectors = try SafetensorsFile(url: Self.file)
        let x = try vectors.floats("x"), shape = try vectors.shape(of: "x")
        let (rows, cols) = (shape[0], shape[1])
        let name = storage.ggmlType.name
        let expectedBytes = Array(try vectors.rawBytes("\(name).bytes"))
        let expectedValues = try vectors.floats("\(name).values")
        let w = WeightMatrix(rows: rows, cols: cols, values: x, storage: storage)
        #expect(w.byteCount == expectedBytes.count)
        var mine = [UInt8](repeating: 0, count: w.byteCount)
        mine.withUnsafeMutableBytes { w.ggmlRows(0, rows, into: $0.baseAddress!) }
        for r in 0..<rows {
            let row = r * w.rowBytes..<(r + 1) * w.rowBytes
            #expect(mine[row] == expectedBytes[row], "\(name) row \(r): bytes differ from gguf-py's")
        }
        #expect(w.toFloat32() == expectedValues, "\(name): dequantized values differ from gguf-py's")
        // and the bytes as gguf-py wrote them, kept as stored, dequantize the same way
        let kept = expectedBytes.withUnsafeBytes { WeightMatrix(rows: rows, cols: cols, storage: storage, copying: $0.baseAddress!) }
        #expect(kept.toFloat32() == expectedValues)
    }

    @Test func q8_1ActivationsMatchGGMLsReference() throws {
        let vectors = try SafetensorsFile(url: Self.file)
        let x = try vectors.floats("x"), cols = try vectors.shape(of: "x")[1]
        let expected = Array(try vectors.rawBytes("Q8_1.bytes"))
        let rowBytes = cols / Int(MK_QK) * mk_quant_block_bytes(Int32(MK_WEIGHT_Q8_1))
        #expect(expected.count == x.count / cols * rowBytes)
        var mine = [UInt8](repeating: 0, count: expected.count)
        x.withUnsafeBufferPointer { xs in
            mine.withUnsafeMutableBytes { out in
                for r in 0..<(x.count / cols) {
                    mk_quantize_row(Int32(MK_WEIGHT_Q8_1), xs.baseAddress! + r * cols, out.baseAddress! + r * rowBytes, cols)
                }
            }
        }
        #expect(mine == expected)
    }
}
