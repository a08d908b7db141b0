import Foundation
import Language
import Llama
import Notebook
import NotebookFormat
import TestSupport
import Testing
import Tokenizers
import Training
import Weights

// The model, text and adapter verbs through a Session, checked against the references in
// Tests/Fixtures (transformers + peft + tokenizers): tiny-llama with peft's adapters, tiny-bpe's ids,
// and SmolLM2's greedy continuation and logits when the real model is installed.

/// Fixture paths and JSON reading for the engine-verb tests.
enum ModelFixtures {
    static let root = Repository.url("Tests/Fixtures")
    static let tinyLlama = root.appendingPathComponent("tiny-llama").path
    static let tinyLlamaTied = root.appendingPathComponent("tiny-llama-tied").path
    static let tinyBPE = root.appendingPathComponent("tiny-bpe").path
    static let initialAdapter = root.appendingPathComponent("lora/initial_adapter").path
    static let trainedAdapter = root.appendingPathComponent("lora/trained_adapter").path

    static func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent(relative))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func floats(_ v: Any?) -> [Float] {
        func flat(_ x: Any) -> [Float] {
            if let a = x as? [Any] { return a.flatMap(flat) }
            return [Float((x as! NSNumber).doubleValue)]
        }
        return v.map(flat) ?? []
    }

    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    static func scratch(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-model-verbs-\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

@Suite struct ModelVerbsTests {
    typealias F = ModelFixtures

    func session(_ environment: [String: String] = ["HOME": "/tmp"]) -> (Session, () -> String) {
        NotebookFixtures.session(environment: environment)
    }

    func model(_ session: Session, _ name: String) throws -> ModelObject {
        guard case .object(let o)? = session.value(named: name), let m = o as? ModelObject else {
            throw TestFailure("\(name) is not a Model")
        }
        return m
    }

    struct TestFailure: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    /// step0's batch through the inference forward of the session's model.
    func step0Logits(_ m: ModelObject) throws -> (mine: [Float], peft: [Float]) {
        let step0 = try F.json("lora/step0.json")
        let logits = try m.inference.forward(inputIds: step0["input_ids"] as! [[Int]], attentionMask: step0["attention_mask"] as? [[Int]])
        return (logits.values, F.floats(step0["logits"]))
    }

    @Test func loadModelPrintsOneSummaryLine() throws {
        let (s, out) = session()
        try s.run("m = load_model \"\(F.tinyLlama)\" dtype=bf16")
        let first = out().split(separator: "\n").first.map(String.init) ?? ""
        let pattern = try Regex(#"loaded .*tiny-llama \(tiny-llama\): 2 layers, 108,864 parameters, bf16 weights \(\d+ kB\) in \d+\.\d s"#)
        #expect(first.wholeMatch(of: pattern) != nil, "\(first)")
        let m = try model(s, "m")
        #expect(m.base.storage == .bf16 && m.base.productPrecision == .f32)
        #expect(s.provenance["model"] == F.tinyLlama)
        try s.run("fast = load_model \"\(F.tinyLlama)\" dtype=bf16 arithmetic=bf16")
        #expect(try model(s, "fast").base.productPrecision == .bf16)
        try s.run("print m.num_hidden_layers m.vocab_size m.tie_word_embeddings")
        #expect(out().hasSuffix("2 128 false\n"))
    }

    /// A Llama-like architecture other than Llama says which it is, in the load line and the summary.
    @Test func aQwen2ModelSaysSo() throws {
        let (s, out) = session()
        try s.run("q = load_model \"\(F.root.appendingPathComponent("tiny-qwen2").path)\"")
        let first = out().split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains("(tiny-qwen2): Qwen2ForCausalLM, 2 layers, 109,120 parameters, f32 weights"), "\(first)")
        try s.run("q")
        #expect(out().contains(": Qwen2ForCausalLM, 2 layers, hidden 64, 109,120 parameters, f32 weights"))
    }

    /// dtype=q8_0|q4_0|q4_1 quantizes on load (a matrix whose rows are not whole blocks of 32 stays f32 and the
    /// line says so); dtype=keep keeps a file's types; random weights cannot be "kept".
    @Test func quantizedDtypesLoadAndSaySo() throws {
        let (s, out) = session()
        try s.run("q = load_model \"\(F.tinyLlama)\" dtype=q8_0")
        // tiny-llama's down_proj has 176 columns, 5.5 blocks: it stays f32
        #expect(out().contains("(tiny-llama): 2 layers, 108,864 parameters, q8_0 + f32 weights"))
        let q = try model(s, "q")
        #expect(q.base.weights.model.layers[0].mlp.down_proj.storage == .f32 && q.base.weights.model.layers[0].mlp.up_proj.storage == .q8_0)
        try s.run("k = load_model \"\(F.root.appendingPathComponent("tiny-qwen2/model.gguf").path)\" dtype=keep")
        #expect(out().contains("f32 weights"))
        do { try s.run("r = load_model tinyllama init=random dtype=keep"); Issue.record("random weights were kept") }
        catch { #expect("\(error)".contains("dtype=keep keeps a file's own types; random weights take f32, bf16, f16, q8_0, q4_0 or q4_1")) }
        try s.run("print q.storage")
        #expect(out().hasSuffix("q8_0 + f32\n"))
    }

    /// On a q8_0 base, merge_adapter keeps the sums W + scaling·B·A in f32 and says so (so the merged model gives
    /// the adapted model's logits); dtype=q8_0 re-quantizes them when asked.
    @Test func mergeOnAQuantizedBaseKeepsTheSumsInF32() throws {
        let (s, out) = session()
        try s.run("q = load_model \"\(F.tinyLlama)\" dtype=q8_0\nload_adapter q \"\(F.initialAdapter)\"\nmerged = merge_adapter q")
        #expect(out().contains("merged 14 adapted projections into a new model (f32 + q8_0 weights): the sums are kept in f32 (dtype=q8_0 re-quantizes them)"))
        let adapted = try step0Logits(try model(s, "q")).mine, merged = try step0Logits(try model(s, "merged")).mine
        #expect(ModelFixtures.maxAbsDiff(adapted, merged) < 1e-4)
        try s.run("small = merge_adapter q dtype=q8_0")
        #expect(out().hasSuffix("merged 14 adapted projections into a new model (q8_0 + f32 weights)\n"))
        #expect(try model(s, "small").base.weights.model.layers[0].self_attn.q_proj.storage == .q8_0)
    }

    /// quantize makes a copy whose blocks are those load_model dtype=q8_0 makes; the model itself is unchanged.
    @Test func quantizeCopiesTheModelIntoBlocks() throws {
        let (s, out) = session()
        try s.run("m = load_model \"\(F.tinyLlama)\"\nq = quantize m q8_0\nl = load_model \"\(F.tinyLlama)\" dtype=q8_0")
        #expect(out().contains("quantized \(F.tinyLlama) to q8_0 + f32 weights (183 kB, was f32, 435 kB) in"))
        let (m, q, l) = (try model(s, "m"), try model(s, "q"), try model(s, "l"))
        #expect(m.base.weights.storageDescription == "f32")
        for (a, b) in zip(q.base.weights.matrices, l.base.weights.matrices) {
            #expect(a.storage == b.storage && Array(UnsafeRawBufferPointer(start: a.data, count: a.byteCount))
                    == Array(UnsafeRawBufferPointer(start: b.data, count: b.byteCount)))
        }
    }

    /// speed prints the prompt's and the decode's tokens per second; wrong sizes are errors naming the argument.
    @Test func speedTimesPromptAndDecode() throws {
        let (s, out) = session()
        try s.run("q = load_model \"\(F.tinyLlama)\" dtype=q8_0\nspeed q prompt_tokens=20 new_tokens=8 batch=2")
        let line = out().split(separator: "\n").last.map(String.init) ?? ""
        let pattern = try Regex(#"prompt 20 tokens in 2 rows: \d+ tok/s; decode 7 tokens: \d+ tok/s \(q8_0 \+ f32 weights, 183 kB\)"#)
        #expect(line.wholeMatch(of: pattern) != nil, "\(line)")
        for (command, message) in [("speed q new_tokens=1", "new_tokens must be at least 2"), ("speed q batch=0", "batch must be 1 to 64"),
                                   ("speed q prompt_tokens=200", "prompt_tokens + new_tokens (264) exceed the model's 128 positions")] {
            do { try s.run(command); Issue.record("\(command) ran") } catch { #expect("\(error)".contains(message), "\(error)") }
        }
    }

    @Test func randomPresetHasTinyLlamasParameterCount() throws {
        // A custom config.json keeps it small; the preset's count is checked without allocating it.
        let (s, out) = session()
        try s.run("r = load_model \"\(F.tinyLlamaTied)/config.json\" init=random seed=3")
        #expect(out().contains("created random:\(F.tinyLlamaTied)/config.json: 2 layers, "))
        #expect(LlamaConfig.tinyLlama_1_1B.parameterCount == 1_100_048_384)
    }

    @Test func tokenizeAndDetokenizeMatchTheTokenizersLibrary() throws {
        let (s, out) = session()
        try s.run("tok = load_tokenizer \"\(F.tinyBPE)\"")
        let cases = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: F.root.appendingPathComponent("tiny-bpe/ids.json"))) as? [[String: Any]])
        var checked = 0
        for c in cases.prefix(12) {
            let text = c["text"] as! String, ids = c["ids"] as! [Int]
            s.set("text", .string(text))
            try s.run("ids = tokenize tok text special=false\nback = detokenize tok ids")
            #expect(s.value(named: "ids") == .list(ids.map { .int($0) }), "\(text.debugDescription)")
            #expect(s.value(named: "back") == .string(c["decoded"] as! String))
            checked += 1
        }
        #expect(checked == 12)
        #expect(out().contains("pieces: ["))
    }

    @Test func attachedAdapterGivesPeftLogitsAndDetachedGivesTheBase() throws {
        let (s, out) = session()
        try s.run("m = load_model \"\(F.tinyLlama)\"\nload_adapter m \"\(F.initialAdapter)\"")
        #expect(out().contains("r=4, lora_alpha=8.0, scaling 2.0"))
        #expect(out().contains("9,344 parameters: on"))
        let m = try model(s, "m")
        // peft's logits for initial_adapter, and Training's LoraModel on the same batch
        let (on, peft) = try step0Logits(m)
        #expect(F.maxAbsDiff(on, peft) < 1e-4)
        let step0 = try F.json("lora/step0.json")
        let batch = try TrainingBatch(input_ids: step0["input_ids"] as! [[Int]], attention_mask: step0["attention_mask"] as? [[Int]])
        #expect(F.maxAbsDiff(on, try #require(m.lora).logits(batch)) < 1e-4)
        // off: the base model's reference logits (transformers, no adapter)
        try s.run("adapter m off")
        let reference = try F.json("tiny-llama/reference.json")
        let base = try m.inference.forward(inputIds: reference["input_ids"] as! [[Int]], attentionMask: reference["attention_mask"] as? [[Int]])
        #expect(F.maxAbsDiff(base.values, F.floats(reference["logits"])) < 1e-4)
        #expect(F.maxAbsDiff(try step0Logits(m).mine, peft) > 1e-2)
        try s.run("adapter m on")
        #expect(F.maxAbsDiff(try step0Logits(m).mine, peft) < 1e-4)
        #expect(s.value(named: "m").map { if case .object(let o) = $0 { return o.summary.hasSuffix("LoRA adapter on") } else { return false } } == true)
    }

    @Test func updatingTheAdapterInPlaceChangesTheNextForward() throws {
        // Training writes lora_A/lora_B in place; the attached deltas share those buffers.
        let (s, _) = session()
        try s.run("m = load_model \"\(F.tinyLlama)\"\nload_adapter m \"\(F.initialAdapter)\"")
        let m = try model(s, "m")
        let trained = try LoraAdapter.load(from: URL(fileURLWithPath: F.trainedAdapter), model: m.base.config)
        try #require(m.lora).adapter.restore(trained.snapshot())
        let trajectory = try F.json("lora/trajectory.json")
        #expect(F.maxAbsDiff(try step0Logits(m).mine, F.floats(trajectory["final_logits"])) < 1e-4)
    }

    @Test func savedAdapterReloadsToTheSameLogits() throws {
        let dir = F.scratch("save")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (s, out) = session()
        try s.run("m = load_model \"\(F.tinyLlama)\"\nload_adapter m \"\(F.initialAdapter)\"\nsave_adapter m \"\(dir.path)/a\"")
        #expect(out().contains("adapter_config.json, adapter_model.safetensors"))
        try s.run("n = load_model \"\(F.tinyLlama)\"\nload_adapter n \"\(dir.path)/a\"")
        #expect(try step0Logits(try model(s, "n")).mine == (try step0Logits(try model(s, "m"))).mine)
    }

    @Test func exportedMergedModelLoadsToTheSameLogits() throws {
        let dir = F.scratch("export")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (s, _) = session()
        try s.run("m = load_model \"\(F.tinyLlama)\"\nload_adapter m \"\(F.initialAdapter)\"\nexport_model m \"\(dir.path)/merged\"\ne = load_model \"\(dir.path)/merged\"")
        let (peftOn, peft) = try step0Logits(try model(s, "e"))
        #expect(F.maxAbsDiff(peftOn, peft) < 1e-4)
        try s.run("merged = merge_adapter m")
        #expect(F.maxAbsDiff(try step0Logits(try model(s, "merged")).mine, peft) < 1e-4)
        #expect(try model(s, "e").lora == nil)
    }

    @Test func loginStoresTheTokenPrivatelyAndNeverPrintsIt() throws {
        let home = F.scratch("login")
        defer { try? FileManager.default.removeItem(at: home) }
        let token = "hf_TestTokenAbcdefghijklmnop123"
        let (s, out) = session(["HOME": home.path, "HF_HOME": home.appendingPathComponent("hf").path, "HF_TOKEN": token])
        try s.run("login")
        let file = home.appendingPathComponent("hf/token")
        #expect(try String(contentsOf: file, encoding: .utf8) == token)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(out().contains("token stored (\(token.count) characters)"))
        #expect(!out().contains(token) && !out().contains("Abcdef"))
        s.environment["HF_TOKEN"] = nil
        // No token= argument: a token typed into a command would be recorded in notebooks and history.
        #expect(throws: (any Error).self) { try s.run("login token=hf_second123") }
        #expect(try String(contentsOf: file, encoding: .utf8) == token)
    }

    @Test func errorsSayWhatIsWrong() throws {
        let (s, _) = session()
        func message(_ command: String) -> String {
            do { try s.run(command); return "no error" } catch { return "\(error)" }
        }
        let unknown = message("load_model smolm2")
        #expect(unknown.contains("unknown model 'smolm2'"))
        #expect(unknown.contains("bash scripts/install.sh"))
        #expect(message("load_model \"\(F.tinyLlama)\" dtype=f64").contains("dtype"))
        #expect(message("load_model \"\(F.tinyLlama)\" arithmetic=bf16").contains("add dtype=bf16"))
        let preset = message("load_model llama-7b init=random")
        #expect(preset.contains("llama-3.2-1b") && preset.contains("tinyllama"))
        try s.run("t = load_model \"\(F.tinyLlamaTied)\"")
        // tiny-llama-tied has 4 kv heads: k_proj/v_proj are [64, 64], the adapter's [32, 4]·[4, 64]
        let shape = message("load_adapter t \"\(F.initialAdapter)\"")
        #expect(shape.contains("has shape") && shape.contains("k_proj"), "\(shape)")
        #expect(try model(s, "t").lora == nil)
        #expect(message("adapter t on").contains("this model has no adapter"))
        #expect(message("ask t \"hi\"").contains("this model has no tokenizer"))
    }

    @Test func notebookWithModelVerbsReplaysCleanly() throws {
        let doc = try NotebookDocument.load(path: NotebookFixtures.fixture("model-adapters.mednb").path)
        let session = Session(registry: .standard(), output: OutputSink(stream: { _ in }), environment: ["HOME": "/tmp"], directory: Repository.root)
        session.receivesInterrupts = false
        var options = NotebookRunOptions(); options.check = true
        var log = ""
        let report = try NotebookRunner(document: doc, name: "model-adapters.mednb", session: session, options: options, log: { log += $0 }).run()
        #expect(report.exitStatus == 0, "\(log)")
        #expect(report.diffs.isEmpty, "\(log)")
    }

    // MARK: SmolLM2 (skipped when models/ is absent)

    @Test func smolLM2AnswersGreedilyAsTransformersDoes() throws {
        guard let gguf = Repository.smolLM2 else {
            print("skipped: \(Repository.smolLM2Absent)")
            return
        }
        let reference = try F.json("smollm2/reference.json")
        let prompt = try #require((reference["prompts"] as? [[String: Any]])?.first)
        let question = try #require((prompt["messages"] as? [[String: String]])?.first?["content"])
        let (s, out) = session()
        s.set("question", .string(question))
        s.set("text", .string(prompt["text"] as! String))
        try s.run("m = load_model \"\(gguf.path)\"\np = chat_prompt m question\nreply = ask m question max_new_tokens=32")
        #expect(s.value(named: "p") == .string(prompt["text"] as! String))
        #expect(s.value(named: "reply") == .string(prompt["greedy_text"] as! String))
        #expect(out().contains(prompt["greedy_text"] as! String))
        try s.run("ids = tokenize m text special=false")
        #expect(s.value(named: "ids") == .list((prompt["input_ids"] as! [Int]).map { .int($0) }))

        // The first greedy token as a one-token answer: its loss is -log softmax(last prompt logits)[id].
        let id = (prompt["greedy_ids"] as! [Int])[0]
        let tok = try #require(try model(s, "m").tokenizer).tokenizer
        let answer = tok.decode([id])
        try #require(tok.encode(answer, addSpecialTokens: false) == [id])
        let logits = try SafetensorsFile(url: F.root.appendingPathComponent("smollm2/logits.safetensors")).floats("prompt0.last_logits")
        let top = logits.max()!
        let expected = log(logits.reduce(0) { $0 + exp(Double($1 - top)) }) + Double(top) - Double(logits[id])
        s.set("answer", .string(answer))
        try s.run("loss = score m question=question answer=answer")
        guard case .double(let loss)? = s.value(named: "loss") else { Issue.record("no loss"); return }
        #expect(abs(loss - expected) < 5e-3, "loss \(loss), transformers \(expected)")
        #expect(out().contains("(1 tokens)"))

        // save_adapter on a GGUF model writes a tokenizer_config.json with the chat template
        let dir = F.scratch("smol")
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try model(s, "m")
        m.lora = try LoraModel(base: m.base, lora: LoraConfig(r: 2, lora_alpha: 4, target_modules: ["q_proj", "v_proj"]))
        try s.run("save_adapter m \"\(dir.path)\"")
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("tokenizer_config.json"))) as? [String: Any])
        #expect(config["chat_template"] as? String == reference["chat_template"] as? String)
        #expect(config["eos_token"] as? String == "<|im_end|>")
        // ... and a tokenizer.json from the GGUF's vocabulary that encodes the prompt as the GGUF does
        let saved = try loadTokenizer(folder: dir)
        #expect(saved.encode(prompt["text"] as! String, addSpecialTokens: false) == prompt["input_ids"] as! [Int])
    }

    /// export_model to a .gguf: SmolLM2 kept as its file stores it comes out with the file's own tensors, byte
    /// for byte, and its vocabulary; with an adapter and type=q8_0, the file holds the merged model quantized
    /// once, the same model as merge_adapter dtype=q8_0 with its other matrices (Q4_1) quantized to q8_0.
    @Test func ggufExportOfSmolLM2() throws {
        guard let gguf = Repository.smolLM2 else { print("skipped: \(Repository.smolLM2Absent)"); return }
        let dir = F.scratch("gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (s, out) = session()
        try s.run("m = load_model \"\(gguf.path)\" dtype=keep\nexport_model m \"\(dir.path)/kept.gguf\"")
        #expect(out().contains("to \(dir.path)/kept.gguf: GGUF, weights as kept ("))
        let original = try GGUFFile(url: gguf), kept = try GGUFFile(url: dir.appendingPathComponent("kept.gguf"))
        #expect(kept.tensorInfos.map(\.name).sorted() == original.tensorInfos.map(\.name).sorted())
        for info in original.tensorInfos {
            #expect(try kept.tensor(info.name).type == info.type)
            #expect(Array(try kept.rawBytes(info.name)) == Array(try original.rawBytes(info.name)), "\(info.name) differs")
        }
        for key in original.metadataKeys where key.hasPrefix("tokenizer.") {
            #expect(kept.metadata[key] == original.metadata[key], "\(key) differs")
        }

        let m = try model(s, "m")
        let lora = try LoraModel(base: m.base, lora: LoraConfig(r: 4, lora_alpha: 8, target_modules: ["q_proj", "k_proj", "down_proj"]))
        for (i, module) in lora.adapter.modules.enumerated() {
            for j in 0..<module.lora_B.count { module.lora_B.pointer[j] = Float((i + j) % 7 - 3) * 1e-3 }
        }
        m.lora = lora
        try s.run("export_model m \"\(dir.path)/tuned.gguf\" type=q8_0\nmm = merge_adapter m dtype=q8_0\nmerged = quantize mm q8_0\ne = load_model \"\(dir.path)/tuned.gguf\" dtype=keep")
        #expect(out().contains("with its adapter merged to \(dir.path)/tuned.gguf: GGUF, q8_0 ("))
        let ids = [[1, 504, 3458, 282, 4649, 314, 2]]
        let a = try model(s, "e").inference.forward(inputIds: ids, attentionMask: nil).values
        let b = try model(s, "merged").inference.forward(inputIds: ids, attentionMask: nil).values
        let base = try m.base.forward(inputIds: ids, attentionMask: nil).values
        #expect(F.maxAbsDiff(a, b) == 0 && F.maxAbsDiff(a, base) > 1e-3)

        // what cannot be written says what to do instead
        func message(_ command: String) -> String {
            do { try s.run(command); return "no error" } catch { return "\(error)" }
        }
        #expect(message("export_model m \"\(dir.path)/folder\" type=q8_0").contains("type= is for format=gguf"))
        try s.run("tiny = load_model \"\(F.tinyLlama)\"")
        #expect(message("export_model tiny \"\(dir.path)/tiny.gguf\"").contains("convert_hf_to_gguf.py"))
    }
}
