import Foundation
import Testing
import Kernels
import Llama
import Training

struct AdapterFileTests {
    @Test func savedAdapterLoadsBackBitIdentically() throws {
        let model = try TinyLlama.model(r: 4, alpha: 16, dropout: 0.05, targets: ["q_proj", "v_proj", "down_proj"])
        let dir = TrainingPaths.scratch("adapter")
        try model.adapter.save(to: dir)
        let loaded = try LoraAdapter.load(from: dir, model: TinyLlama.config)
        #expect(loaded.snapshot() == model.adapter.snapshot())
        #expect(loaded.config.r == 4 && loaded.config.lora_alpha == 16 && loaded.config.lora_dropout == 0.05)
        #expect(loaded.targets == [.q_proj, .v_proj, .down_proj])
        // and the files are byte-for-byte what saving the loaded adapter writes
        let again = TrainingPaths.scratch("adapter-again")
        try loaded.save(to: again)
        for name in [LoraAdapter.configFileName, LoraAdapter.weightsFileName] {
            #expect(try Data(contentsOf: dir.appendingPathComponent(name)) == Data(contentsOf: again.appendingPathComponent(name)))
        }
        // no temporary files are left beside them
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == [LoraAdapter.configFileName, LoraAdapter.weightsFileName])
    }

    @Test func adapterConfigHasPeftsFields() throws {
        var lora = try LoraConfig(r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ["all-linear"])
        lora.base_model_name_or_path = "HuggingFaceTB/SmolLM2-135M-Instruct"
        let adapter = try LoraAdapter(config: lora, model: TinyLlama.config)
        let text = adapter.peftConfigJSON()
        let j = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(j["peft_type"] as? String == "LORA")
        #expect(j["task_type"] as? String == "CAUSAL_LM")
        #expect(j["r"] as? Int == 16 && j["lora_alpha"] as? Int == 32)
        #expect(j["target_modules"] as? [String] == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"])
        #expect(j["use_dora"] as? Bool == false && j["fan_in_fan_out"] as? Bool == false && j["use_rslora"] as? Bool == false)
        #expect(j["inference_mode"] as? Bool == true && j["init_lora_weights"] as? Bool == true)
        #expect(j["modules_to_save"] is NSNull && j["layers_to_transform"] is NSNull && j["revision"] is NSNull)
        #expect((j["rank_pattern"] as? [String: Any])?.isEmpty == true)
        #expect(j["base_model_name_or_path"] as? String == "HuggingFaceTB/SmolLM2-135M-Instruct")
        #expect(text.contains("\n  \"bias\": \"none\",\n"))   // json.dumps(indent=2, sort_keys=True) layout
    }

    @Test func badAdapterFilesNameTheFileAndKey() throws {
        let model = try TinyLlama.model(targets: ["q_proj", "v_proj"])
        let dir = TrainingPaths.scratch("bad-adapter")
        try model.adapter.save(to: dir)
        // a model of another width: every shape is wrong
        var other = TinyLlama.config
        other.hidden_size = 32
        do {
            _ = try LoraAdapter.load(from: dir, model: other)
            Issue.record("an adapter for another shape loaded")
        } catch {
            #expect("\(error)".contains("adapter_model.safetensors") && "\(error)".contains("lora_A.weight"))
        }
        // a config asking for more modules than the file holds
        let configURL = dir.appendingPathComponent(LoraAdapter.configFileName)
        let text = try String(contentsOf: configURL, encoding: .utf8).replacingOccurrences(of: "\"q_proj\",", with: "\"q_proj\", \"k_proj\",")
        try Data(text.utf8).write(to: configURL)
        do {
            _ = try LoraAdapter.load(from: dir, model: TinyLlama.config)
            Issue.record("a missing tensor was not reported")
        } catch {
            #expect("\(error)".contains("k_proj.lora_A.weight is missing"))
        }
        #expect(throws: (any Error).self) { try LoraAdapter.load(from: TrainingPaths.scratch("empty"), model: TinyLlama.config) }
    }

    @Test func mergedModelEqualsTheAdaptedModelAndExports() throws {
        let (batch, _) = try TinyLlama.referenceBatch()
        let model = try TinyLlama.model()
        let adapted = try model.logits(batch)
        let merged = try LoraModel(config: TinyLlama.config, weights: model.mergedWeights(), adapter: model.adapter)
        merged.adapterEnabled = false
        #expect(maxAbsDiff(try merged.logits(batch), adapted) < 1e-5)
        // the Llama module's inference forward on the merged model gives the same logits
        #expect(maxAbsDiff(try model.mergedModel().forward(inputIds: TinyLlama.referenceBatch().1["input_ids"] as! [[Int]],
                                                           attentionMask: TinyLlama.referenceBatch().1["attention_mask"] as! [[Int]]).values,
                           adapted) < 1e-4)
        // the base is untouched
        model.adapterEnabled = false
        let base = try model.logits(batch)
        #expect(maxAbsDiff(base, adapted) > 1e-3)
        // export and reload as a plain HF folder
        let dir = TrainingPaths.scratch("merged")
        try model.exportMerged(to: dir)
        let exported = try LlamaModel.load(directory: dir)
        #expect(exported.config == TinyLlama.config)
        let reloaded = try LoraModel(base: exported, lora: LoraConfig(r: 1, target_modules: ["q_proj"]))
        #expect(maxAbsDiff(try reloaded.logits(batch), adapted) < 1e-5)
    }
}
