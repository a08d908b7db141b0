import Foundation
import Testing
import Llama
import Kernels
import Weights

@Suite struct LlamaConfigTests {
    @Test func parameterCounts() {
        #expect(LlamaConfig.tinyLlama_1_1B.parameterCount == 1_100_048_384)
        #expect(LlamaConfig.smolLM2_135M.parameterCount == 134_515_008)
        // Llama-3.2-1B as transformers counts it (tied): 1,235,814,400
        #expect(LlamaConfig.llama3_2_1B.parameterCount == 1_235_814_400)
    }

    @Test func memoryEstimatePerStorage() {
        let c = LlamaConfig.tinyLlama_1_1B
        let norms = (2 * 22 + 1) * 2048
        #expect(c.memoryEstimate(storage: .f32).weights == (1_100_048_384 - norms) * 4 + norms * 4)
        #expect(c.memoryEstimate(storage: .bf16).weights == (1_100_048_384 - norms) * 2 + norms * 4)
        let withCache = c.memoryEstimate(storage: .bf16, batch: 1, maxTokens: 2048)
        #expect(withCache.kvCache == 2 * 22 * 2048 * 256 * 4)
        #expect(throws: LlamaError.self) { try withCache.check(what: "TinyLlama", available: 1 << 30) }
        #expect(throws: Never.self) { try withCache.check(what: "TinyLlama", available: 16 << 30) }
    }

    @Test func readsTheFixtureConfigsInBothRopeSpellings() throws {
        let dir = TestPaths.fixtures
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("tiny-llama/config.json").path) else {
            print("skipped: fixtures absent"); return
        }
        let a = try LlamaConfig.load(from: dir.appendingPathComponent("tiny-llama/config.json"))
        #expect(a.rope_theta == 10000 && a.rope_scaling == nil && a.num_key_value_heads == 2 && a.head_dim == 16)
        #expect(a.rms_norm_eps == 1e-5 && a.eos_token_ids == [2] && a.pad_token_id == nil && !a.tie_word_embeddings)
        let b = try LlamaConfig.load(from: dir.appendingPathComponent("tiny-llama3-rope/config.json"))
        #expect(b.rope_theta == 500000)
        #expect(b.rope_scaling == RopeScaling(rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4,
                                              original_max_position_embeddings: 64))
        #expect(try LlamaConfig.load(from: dir.appendingPathComponent("tiny-llama-tied/config.json")).tie_word_embeddings)
    }

    func parse(_ json: String) throws -> LlamaConfig {
        try LlamaConfig.parse(json: Data(json.utf8), file: "m/config.json")
    }

    let minimal = #""vocab_size": 100, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4"#

    @Test func defaultsAreTransformers() throws {
        let c = try parse("{\(minimal)}")
        #expect(c.num_key_value_heads == 4 && c.head_dim == 4 && c.rms_norm_eps == 1e-6 && c.rope_theta == 10000)
        #expect(c.max_position_embeddings == 2048 && c.bos_token_id == 1 && c.eos_token_ids == [2] && !c.tie_word_embeddings)
        let l3 = try parse(#"{\#(minimal), "eos_token_id": [128001, 128008, 128009], "bos_token_id": null, "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}"#)
        #expect(l3.eos_token_ids == [128001, 128008, 128009] && l3.bos_token_id == nil)
        #expect(l3.rope_scaling?.factor == 32 && l3.rope_theta == 500000)
    }

    @Test func badConfigsNameFileAndField() {
        func message(_ json: String) -> String {
            do { _ = try parse(json); return "no error" } catch { return "\(error)" }
        }
        #expect(message(#"{"vocab_size": 100}"#) == "m/config.json: field 'hidden_size' is missing")
        #expect(message(#"{\#(minimal), "num_key_value_heads": "two"}"#).contains("'num_key_value_heads' must be an integer"))
        #expect(message(#"{\#(minimal), "tie_word_embeddings": 1}"#).contains("'tie_word_embeddings' must be true or false"))
        #expect(message(#"{\#(minimal), "num_key_value_heads": 3}"#).contains("must divide num_attention_heads"))
        #expect(message(#"{\#(minimal), "architectures": ["MistralForCausalLM"]}"#) == #"m/config.json: architectures = ["MistralForCausalLM"] is not supported: only LlamaForCausalLM or Qwen2ForCausalLM are implemented"#)
        #expect(message(#"{\#(minimal), "model_type": "mistral"}"#) == "m/config.json: model_type = mistral is not supported: only 'llama' or 'qwen2' models are implemented")
        #expect(message(#"{\#(minimal), "architectures": ["Qwen2ForCausalLM"], "model_type": "llama"}"#).contains("'llama' does not match architectures (Qwen2ForCausalLM)"))
        #expect(message(#"{\#(minimal), "model_type": "qwen2", "use_sliding_window": true}"#) == "m/config.json: use_sliding_window = true is not supported: Qwen2ForCausalLM is implemented with use_sliding_window false only")
        #expect(message(#"{\#(minimal), "hidden_act": "gelu"}"#) == "m/config.json: hidden_act = gelu is not supported: only 'silu' (SwiGLU) is implemented")
        #expect(message(#"{\#(minimal), "rope_scaling": {"rope_type": "yarn", "factor": 4.0}}"#).contains("rope_scaling.rope_type = yarn"))
        #expect(message(#"{\#(minimal), "rope_scaling": {"rope_type": "llama3", "factor": 4.0}}"#).contains("'rope_scaling.low_freq_factor' is missing"))
        #expect(message(#"{\#(minimal), "eos_token_id": [2, "x"]}"#).contains("eos_token_id[1]"))
        #expect(message("[1, 2]").contains("not a JSON object"))
        #expect(message("{").contains("not valid JSON"))
        #expect(message("{\n  \"vocab_size\": 8,,\n}") == "m/config.json: not valid JSON at line 2, column 19: expected a string key in object, found ','")
        do {
            _ = try LlamaConfig.load(from: URL(fileURLWithPath: "/nonexistent/config.json"))
            Issue.record("read a missing config")
        } catch {
            #expect("\(error)" == "/nonexistent/config.json: cannot read: the folder /nonexistent does not exist")
        }
    }

    /// Issue 16's fuzzing found these config values crashing `load_model` (a range trap in the rotary tables,
    /// a division by zero, arithmetic overflow in the memory estimate); each is now an error naming the field.
    @Test func fuzzedConfigValuesAreErrorsNotCrashes() {
        func message(_ json: String) -> String {
            do { _ = try parse(json); return "no error" } catch { return "\(error)" }
        }
        let cases: [(String, String)] = [
            (#""max_position_embeddings": -1"#, "'max_position_embeddings' must be positive, got -1"),
            (#""max_position_embeddings": -128"#, "'max_position_embeddings' must be positive, got -128"),
            (#""max_position_embeddings": -9223372036854775808"#, "'max_position_embeddings' must be positive"),
            (#""max_position_embeddings": 9223372036854775807"#, "'max_position_embeddings' must be at most 1048576"),
            (#""vocab_size": 9223372036854775807"#, "'vocab_size' must be at most 1048576"),
            (#""hidden_size": 9223372036854775807"#, "field 'hidden_size'"),
            (#""num_hidden_layers": 9223372036854775807"#, "'num_hidden_layers' must be at most 1024"),
            (#""intermediate_size": 9223372036854775807"#, "'intermediate_size' must be at most 1048576"),
            (#""rms_norm_eps": 0"#, "'rms_norm_eps' must be a positive number"),
            (#""rms_norm_eps": -1e-6"#, "'rms_norm_eps' must be a positive number"),
            (#""rope_theta": -10000"#, "'rope_theta' must be a positive number"),
            (#""bos_token_id": -1"#, "'bos_token_id' must be a token id (0 or more), got -1"),
            (#""eos_token_id": -2"#, "'eos_token_id' must be a token id (0 or more), got -2"),
            (#""rope_scaling": {"rope_type": "llama3", "factor": 0, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}"#,
             "'rope_scaling.factor' must be a positive number"),
            (#""rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": -5}"#,
             "'rope_scaling.original_max_position_embeddings' must be positive"),
        ]
        // the minimal config with one field set (replacing it when the minimal config has it)
        func with(_ field: String) -> String {
            let key = String(field.split(separator: ":")[0])
            let kept = minimal.split(separator: ",").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix(key) }
            return "{" + (kept.map(String.init) + [field]).joined(separator: ",") + "}"
        }
        for (field, expected) in cases {
            let text = message(with(field))
            #expect(text.contains(expected), "\(field): \(text)")
        }
        // No heads and no head_dim: was a division by zero in LlamaConfig.init.
        let noHeads = minimal.replacingOccurrences(of: #""num_attention_heads": 4"#, with: #""num_attention_heads": 0"#)
        #expect(message("{\(noHeads)}").contains("'num_attention_heads' must be positive, got 0"), "\(message("{\(noHeads)}"))")
        // hidden_size 2^31 without head_dim: the heads' widths stay bounded too.
        #expect(message(with(#""hidden_size": 2147483648"#)).contains("must be at most"))
    }

    @Test func fromGGUFMetadata() throws {
        let m: [String: Any] = [
            "general.architecture": "llama", "llama.embedding_length": UInt32(576), "llama.feed_forward_length": UInt32(1536),
            "llama.block_count": UInt32(30), "llama.attention.head_count": UInt32(9), "llama.attention.head_count_kv": UInt32(3),
            "llama.attention.layer_norm_rms_epsilon": Float(1e-5), "llama.rope.freq_base": Float(100000),
            "llama.context_length": UInt32(8192), "tokenizer.ggml.bos_token_id": UInt32(1), "tokenizer.ggml.eos_token_id": UInt32(2),
            "tokenizer.ggml.padding_token_id": UInt32(2),
        ]
        let c = try LlamaConfig(ggufMetadata: m, vocabularySize: 49152, hasOutputTensor: false, file: "smol.gguf")
        #expect(c == LlamaConfig.smolLM2_135M)
        var bad = m; bad["general.architecture"] = "gemma"
        #expect(throws: LlamaError.self) { try LlamaConfig(ggufMetadata: bad, vocabularySize: 10, hasOutputTensor: false, file: "x.gguf") }
        bad = m; bad.removeValue(forKey: "llama.block_count")
        do { _ = try LlamaConfig(ggufMetadata: bad, vocabularySize: 10, hasOutputTensor: false, file: "x.gguf"); Issue.record("no error") }
        catch { #expect("\(error)" == "x.gguf: field 'llama.block_count' is missing") }
    }

    @Test func weightShapesAreChecked() throws {
        guard let f = try TinyFixture.load("tiny-llama") else { print("skipped: fixture absent"); return }
        var shaped = f.tensors.tensors
        shaped["model.layers.1.self_attn.k_proj.weight"] = (shape: [64, 64], values: [Float](repeating: 0, count: 64 * 64))
        do { _ = try LlamaModel(config: f.config, source: InMemoryTensors(shaped: shaped)); Issue.record("no error") }
        catch { #expect("\(error)" == "weights: tensor 'model.layers.1.self_attn.k_proj.weight' has shape [64, 64], expected [32, 64]") }
        shaped = f.tensors.tensors
        shaped.removeValue(forKey: "lm_head.weight")
        do { _ = try LlamaModel(config: f.config, source: InMemoryTensors(shaped: shaped)); Issue.record("no error") }
        catch { #expect("\(error)" == "weights: tensor 'lm_head.weight' is missing") }
        // flat arrays load the same model
        let flat = f.tensors.tensors.mapValues(\.values)
        let model = try LlamaModel(config: f.config, source: InMemoryTensors(flat))
        #expect(maxAbsDiff(try model.forward(inputIds: f.inputIds, attentionMask: f.attentionMask).values, f.logits) < 1e-4)
    }

    /// Issue 16: a tensor error names the file and, for a GGUF, the file's own tensor name and dims
    /// (`blk.1.attn_k.weight`, not `model.layers.1.self_attn.k_proj.weight`).
    @Test func tensorErrorsNameTheFileAndItsOwnNames() throws {
        let gguf = TestPaths.fixtures.appendingPathComponent("tiny-llama3-rope-gguf/model.gguf")
        guard FileManager.default.fileExists(atPath: gguf.path) else { print("skipped: tiny-llama3-rope-gguf fixture absent"); return }
        let original = try Data(contentsOf: gguf)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-tensor-names-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func loadError(_ bytes: Data) throws -> String {
            let url = dir.appendingPathComponent("model.gguf")
            try bytes.write(to: url)
            do { _ = try LlamaModel.load(gguf: url); return "no error" } catch { return "\(error)" }
        }
        // The tensor info of blk.1.attn_k.weight: its name, then n_dims (u32) and the dims (u64 each, ne0 first).
        let name = Data("blk.1.attn_k.weight".utf8)
        let at = try #require(original.range(of: name))
        var renamed = original
        renamed.replaceSubrange(at, with: Data("blk.1.attn_X.weight".utf8))
        #expect(try loadError(renamed) == "model.gguf: tensor 'blk.1.attn_k.weight' is missing")

        var swapped = original
        let dims = at.upperBound + 4
        let ne0 = swapped.subdata(in: dims..<dims + 8), ne1 = swapped.subdata(in: dims + 8..<dims + 16)
        #expect(ne0 != ne1)
        swapped.replaceSubrange(dims..<dims + 16, with: ne1 + ne0)
        #expect(try loadError(swapped) == "model.gguf: tensor 'blk.1.attn_k.weight' has dims [32, 64], expected [64, 32]")

        // A safetensors folder names its file and the tensor as it writes it.
        let folder = dir.appendingPathComponent("st")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let tiny = TestPaths.fixtures.appendingPathComponent("tiny-llama")
        try FileManager.default.copyItem(at: tiny.appendingPathComponent("config.json"), to: folder.appendingPathComponent("config.json"))
        var st = try Data(contentsOf: tiny.appendingPathComponent("model.safetensors"))
        let head = try #require(st.range(of: Data("\"lm_head.weight\"".utf8)))
        st.replaceSubrange(head, with: Data("\"lm_head.weighX\"".utf8))
        try st.write(to: folder.appendingPathComponent("model.safetensors"))
        do { _ = try LlamaModel.load(directory: folder); Issue.record("no error") }
        catch { #expect("\(error)" == "model.safetensors: tensor 'lm_head.weight' is missing") }
    }

    @Test func randomModelsAreSeeded() throws {
        var c = LlamaConfig(vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 3,
                            num_attention_heads: 4, num_key_value_heads: 2)
        c.tie_word_embeddings = false
        let a = LlamaModel.random(config: c, seed: 5), b = LlamaModel.random(config: c, seed: 5)
        let other = LlamaModel.random(config: c, seed: 6)
        let la = try a.forward(inputIds: [[1, 2, 3]]).values
        #expect(la == (try b.forward(inputIds: [[1, 2, 3]]).values))
        #expect(la != (try other.forward(inputIds: [[1, 2, 3]]).values))
        let w = a.weights.model.layers[2].mlp.down_proj.toFloat32()
        let mean = w.reduce(0, +) / Float(w.count)
        let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)).squareRoot()
        #expect(abs(std - 0.02) < 0.002 && abs(mean) < 0.002)
        #expect(a.weights.model.norm.array.allSatisfy { $0 == 1 })
        #expect(a.description == "LlamaForCausalLM: 3 layers, hidden 32, 4 heads (2 kv), vocab 64, untied, 27,360 parameters, f32 weights 106 KiB")   // 2·64·32 + 3·(2·32·32 + 2·32·16 + 3·32·48 + 2·32) + 32
        let half = LlamaModel.random(config: c, seed: 5, storage: .bf16)
        #expect(maxAbsDiff(half.weights.model.layers[2].mlp.down_proj.toFloat32(), w) < 1e-3)
    }
}
