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
