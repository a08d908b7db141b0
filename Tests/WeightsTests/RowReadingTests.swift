import Foundation
import TestSupport
import Testing
import Weights

// `readFloatRows`: a loader converting to another type reads a block of rows at a time (one block of f32 in
// memory, not the whole tensor); every block equals the same rows of the whole tensor read at once.
@Suite struct RowReadingTests {
    /// Reads `name` ([rows, cols]) in blocks of `block` rows and compares with `readFloats`.
    static func expectRowsEqualWhole(_ source: any TensorSource, _ name: String, block: Int) throws {
        let shape = try source.shape(of: name)
        let rows = shape[0], cols = shape.dropFirst().reduce(1, *)
        #expect(source.readsRows(name), "\(name)")
        let whole = try source.floats(name)
        var parts = [Float](repeating: .nan, count: rows * cols)
        try parts.withUnsafeMutableBufferPointer { out in
            var r = 0
            while r < rows {
                let count = min(block, rows - r)
                try source.readFloatRows(name, first: r, count: count, cols: cols, into: out.baseAddress! + r * cols)
                r += count
            }
        }
        // the first difference, not the arrays (an embedding is 28 million values)
        let mismatch = zip(parts, whole).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(mismatch == nil, "\(name): row \((mismatch?.offset ?? 0) / cols) differs: \(mismatch.map { "\($0.element.0) != \($0.element.1)" } ?? "")")
    }

    @Test func safetensorsRowsEqualTheWholeTensor() throws {
        let file = try SafetensorsFile(url: Fixtures.url("all_dtypes.safetensors"))
        for name in ["f32", "f64", "i64"] {   // the fixture's 2-D tensors
            try Self.expectRowsEqualWhole(file, name, block: 1)
        }
        // past the end: a clear error, not a read outside the tensor
        let name = "f32", shape = try file.shape(of: "f32")
        var out = [Float](repeating: 0, count: shape.reduce(1, *) + 64)
        #expect(throws: WeightsError.self) {
            try out.withUnsafeMutableBufferPointer { try file.readFloatRows(name, first: shape[0], count: 1, cols: shape.dropFirst().reduce(1, *), into: $0.baseAddress!) }
        }
    }

    @Test func smolLM2RowsEqualTheWholeTensor() throws {
        guard let url = Repository.smolLM2 else {
            print("skipped: \(Repository.smolLM2Absent)")
            return
        }
        let source = try GGUFLlamaTensorSource(file: try GGUFFile(url: url))
        try Self.expectRowsEqualWhole(source, "model.embed_tokens.weight", block: 1_000)   // Q8_0, a short last block
        try Self.expectRowsEqualWhole(source, "model.layers.3.mlp.down_proj.weight", block: 7)   // Q4_1
        // a query's rows come reordered from the file: read whole only
        #expect(!source.readsRows("model.layers.0.self_attn.q_proj.weight"))
    }
}
