import Foundation
import Testing
import Weights

@Suite struct GGUFTests {
    let file: GGUFFile
    init() throws { file = try GGUFFile(url: Fixtures.url("quants.gguf")) }

    @Test func metadataOfEveryValueType() throws {
        let m = file.metadata
        #expect(file.version == 3)
        #expect(file.alignment == 32)
        #expect(m["test.u8"] == .uint8(200))
        #expect(m["test.i8"] == .int8(-100))
        #expect(m["test.u16"] == .uint16(60000))
        #expect(m["test.i16"] == .int16(-30000))
        #expect(m["test.u32"] == .uint32(4_000_000_000))
        #expect(m["test.i32"] == .int32(-2_000_000_000))
        #expect(m["test.u64"] == .uint64(1 << 60))
        #expect(m["test.i64"] == .int64(-(1 << 60)))
        #expect(m["test.f32"] == .float32(0.25))
        #expect(m["test.f64"] == .float64(-1.5e300))
        #expect(m["test.bool"] == .bool(true))
        #expect(m["test.string"]?.string == "héllo ✓")
        #expect(m["test.ints"]?.intArray == [1, -2, 3])
        #expect(m["test.strings"]?.stringArray == ["a", "", "ccc"])
        #expect(m["test.nested"]?.array?.map { $0.intArray ?? [] } == [[1, 2], [3]])
        #expect(m["test.u32"]?.int == 4_000_000_000 && m["test.f32"]?.float == 0.25 && m["test.u8"]?.double == 200)
        #expect(file.metadataKeys.first == "general.architecture")
        #expect(file.architecture == "llama" && file.modelName == "weights fixture")
        expectWeightsError(file: "quants.gguf", ["metadata \"test.string\"", "integer"]) { _ = try file.int("test.string") }
        expectWeightsError(file: "quants.gguf", ["metadata \"nope\"", "missing"]) { _ = try file.float("nope") }
    }

    @Test func dequantizesEveryTypeLikeTheGGUFPackage() throws {
        let expected = Fixtures.expected["gguf"] as! [String: Any]
        for name in ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q6_k", "f16", "bf16", "f32_3d"] {
            let (shape, values) = Fixtures.expectedTensor("gguf", name)
            let info = try file.tensor(name)
            #expect(info.type.name == (expected[name] as! [String: Any])["type"] as! String)
            #expect(info.shape == shape, "\(name): PyTorch-order shape")
            #expect(info.dims == shape.reversed(), "\(name): GGUF-order dims")
            let got = try file.floats(name)
            #expect(got.count == values.count)
            // Same formula, same f32 operations: equal up to one rounding of the final multiply-add.
            let worst = zip(got, values).map { abs($0 - $1) / max(abs($1), 1e-3) }.max() ?? 0
            #expect(worst < 1e-6, "\(name): worst relative difference \(worst)")
        }
    }

    /// (The file's `llama.*` config is LlamaConfig's to read: LlamaTests' GGUFConfigTests checks it on this file.)
    @Test func headCountsAndTokenizerMetadata() throws {
        let source = try GGUFLlamaTensorSource(file: file)
        #expect(source.heads.query == 4 && source.heads.keyValue == 2)
        let t = try file.tokenizerMetadata()
        #expect(t.model == "gpt2" && t.pre == "default")
        #expect(t.tokens == ["<s>", "</s>", "a", "b", "ab"])
        #expect(t.tokenTypes == [3, 3, 1, 1, 1] && t.scores.isEmpty)
        #expect(t.merges == ["a b"])
        #expect(t.bosID == 0 && t.eosID == 1 && t.paddingID == nil && t.unknownID == nil)
        #expect(t.addBOS == false && t.addEOS == nil)
        #expect(t.chatTemplate == "{{ messages }}")
    }

    @Test func tensorSourceUndoesTheQKPermutation() throws {
        let source = try GGUFLlamaTensorSource(file: file)
        #expect(source.tensorNames() == ["model.layers.0.self_attn.k_proj.weight",
                                         "model.layers.0.self_attn.q_proj.weight", "model.norm.weight"])
        for name in ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight"] {
            let (shape, values) = Fixtures.expectedTensor("gguf", name)
            #expect(try source.shape(of: name) == shape)
            #expect(try source.floats(name) == values, "\(name)")
        }
        // The stored rows really are permuted (else the test above proves nothing).
        #expect(try file.floats("blk.0.attn_q.weight") != Fixtures.expectedTensor("gguf", "model.layers.0.self_attn.q_proj.weight").values)
        #expect(try source.floats("model.norm.weight") == [Float](repeating: 1, count: 16))
        // Messages use the file's own names (issue 16): lm_head.weight is the GGUF's output.weight.
        expectWeightsError(file: "quants.gguf", ["tensor \"output.weight\"", "no such tensor"]) { _ = try source.floats("lm_head.weight") }
        #expect(source.tensorLocation(of: "model.layers.3.mlp.down_proj.weight") == TensorLocation(file: "quants.gguf", name: "blk.3.ffn_down.weight", reversedDimensions: true))
        #expect(GGUFLlamaTensorSource.ggufName(huggingFace: "model.layers.12.self_attn.o_proj.bias") == "blk.12.attn_output.bias")
        #expect(GGUFLlamaTensorSource.huggingFaceName("blk.12.attn_output.bias") == "model.layers.12.self_attn.o_proj.bias")
        #expect(GGUFLlamaTensorSource.huggingFaceName("blk.1.x.attn_q.weight") == nil && GGUFLlamaTensorSource.ggufName(huggingFace: "model.embed") == nil)
    }

    @Test func unpermuteIsTheInverseOfLlamaCppsPermute() {
        // rows = heads × headDim; permuted row h·hd + 2j + k holds original row h·hd + k·hd/2 + j.
        let heads = 2, hd = 6, cols = 3, rows = heads * hd
        let original = (0..<rows * cols).map { Float($0) }
        var permuted = [Float](repeating: 0, count: rows * cols)
        for h in 0..<heads { for j in 0..<hd / 2 { for k in 0..<2 { for c in 0..<cols {
            permuted[(h * hd + 2 * j + k) * cols + c] = original[(h * hd + k * hd / 2 + j) * cols + c]
        } } } }
        #expect(GGUFFile.unpermuteQK(permuted, rows: rows, cols: cols, heads: heads) == original)
    }

    @Test func nameMapping() {
        #expect(GGUFLlamaTensorSource.huggingFaceName("token_embd.weight") == "model.embed_tokens.weight")
        #expect(GGUFLlamaTensorSource.huggingFaceName("output.weight") == "lm_head.weight")
        #expect(GGUFLlamaTensorSource.huggingFaceName("blk.12.ffn_down.weight") == "model.layers.12.mlp.down_proj.weight")
        #expect(GGUFLlamaTensorSource.huggingFaceName("blk.3.attn_output.weight") == "model.layers.3.self_attn.o_proj.weight")
        #expect(GGUFLlamaTensorSource.huggingFaceName("blk.3.ffn_norm.weight") == "model.layers.3.post_attention_layernorm.weight")
        #expect(GGUFLlamaTensorSource.huggingFaceName("blk.3.attn_norm.weight") == "model.layers.3.input_layernorm.weight")
        #expect(GGUFLlamaTensorSource.huggingFaceName("rope_freqs.weight") == nil)
        #expect(GGUFLlamaTensorSource.huggingFaceName("blk.x.attn_q.weight") == nil)
    }

    @Test func version2ReadsTheSame() throws {
        var bytes = try Data(contentsOf: Fixtures.url("quants.gguf"))
        bytes[4] = 2
        let tmp = TempDir()
        try bytes.write(to: tmp.file("v2.gguf"))
        let v2 = try GGUFFile(url: tmp.file("v2.gguf"))
        #expect(v2.version == 2)
        #expect(try v2.floats("q4_1") == file.floats("q4_1"))
        #expect(v2.metadata == file.metadata)
    }
}

/// `GGUFWriter` against gguf-py's: the fixture file (every metadata value type, nested arrays, tensors of several
/// types) read and written again comes out byte for byte the same.
@Suite struct GGUFWriterTests {
    static func rewrite(_ file: GGUFFile, to url: URL) throws {
        var writer = GGUFWriter()
        for key in file.metadataKeys { writer.set(key, file.metadata[key]!) }
        for info in file.tensorInfos.sorted(by: { $0.offset < $1.offset }) {
            let bytes = try file.rawBytes(info.name)
            try writer.add(info.name, type: info.type, shape: info.shape) { StoredTensor(type: info.type, shape: info.shape, bytes: bytes) }
        }
        try writer.write(to: url)
    }

    @Test func rewritingGGUFPysFileGivesTheSameBytes() throws {
        let original = Fixtures.url("quants.gguf")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-gguf-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("copy.gguf")
        try Self.rewrite(GGUFFile(url: original), to: copy)
        let a = try Data(contentsOf: original), b = try Data(contentsOf: copy)
        let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(a == b, "\(a.count) and \(b.count) bytes, first difference at \(first.map(String.init) ?? "the end")")
    }

    @Test func aTensorThatIsNotWhatWasAnnouncedStopsTheWriteAndLeavesThePreviousFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-gguf-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.gguf")
        try Data("previous".utf8).write(to: url)
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        let values: [Float] = [1, 2, 3, 4]
        try values.withUnsafeBytes { raw in
            try writer.add("a.weight", type: .F32, shape: [2, 2]) { StoredTensor(type: .F32, shape: [4], bytes: raw) }
            #expect(throws: WeightsError.self) { try writer.write(to: url) }
        }
        #expect(try Data(contentsOf: url) == Data("previous".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.gguf"])
        // shapes a type cannot hold are refused when added
        #expect(throws: WeightsError.self) { try writer.add("b.weight", type: .Q8_0, shape: [2, 16]) { fatalError() } }
        #expect(throws: WeightsError.self) { try writer.add("a.weight", type: .F32, shape: [2]) { fatalError() } }
    }
}
