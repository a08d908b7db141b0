import Foundation
import Testing
import Kernels
import Llama
import Training
import Weights

// Against transformers 5.24 + peft 0.21 on the tiny random Llama (Tests/Fixtures/lora, made by
// tools/fixtures/make_fixtures.py): logits, loss, every LoRA gradient, and 10 optimizer steps in both
// pipeline modes.
struct PeftReferenceTests {
    static let dir = TrainingPaths.lora

    static func floats(_ v: Any?) -> [Float] {
        func flat(_ x: Any) -> [Float] {
            if let a = x as? [Any] { return a.flatMap(flat) }
            return [Float((x as! NSNumber).doubleValue)]
        }
        return flat(v!)
    }

    static func batch(_ j: [String: Any]) throws -> TrainingBatch {
        try TrainingBatch(input_ids: j["input_ids"] as! [[Int]], attention_mask: j["attention_mask"] as! [[Int]],
                          labels: j["labels"] as! [[Int]])
    }

    /// The peft-made initial adapter (lora_B set non-zero by the script) on the tiny base.
    static func model(rslora: Bool = false) throws -> LoraModel {
        let saved = try LoraAdapter.load(from: dir.appendingPathComponent("initial_adapter"), model: TinyLlama.config)
        var config = saved.config
        config.use_rslora = rslora
        let adapter = try LoraAdapter(config: config, model: TinyLlama.config)
        adapter.restore(saved.snapshot())
        return try LoraModel(config: TinyLlama.config, weights: TinyLlama.weights, adapter: adapter)
    }

    @Test func peftAdapterGivesPeftLogitsLossAndGradients() throws {
        let step0 = try TinyLlama.json(Self.dir.appendingPathComponent("step0.json"))
        let model = try Self.model()
        // peft 0.21's print_trainable_parameters() for this adapter on tiny-llama
        let peftLine = try #require(step0["trainable_parameters_line"] as? String)
        #expect(try model.adapter.config.trainableParametersLine(config: TinyLlama.config) == peftLine)
        try Self.expectPeftStep(model, step0: step0, grads: Self.dir.appendingPathComponent("grads.safetensors"))
    }

    /// The same on a Llama-like architecture: peft's LoRA on a tiny Qwen2, whose q, k and v projections have
    /// biases (Tests/Fixtures/tiny-qwen2).
    @Test func peftAdapterOnQwen2GivesPeftLogitsLossAndGradients() throws {
        let dir = TrainingPaths.fixtures.appendingPathComponent("tiny-qwen2")
        let base = try LlamaModel.load(directory: dir)
        #expect(base.config.architecture == .qwen2 && base.weights.model.layers[0].self_attn.q_proj.bias != nil)
        let saved = try LoraAdapter.load(from: dir.appendingPathComponent("initial_adapter"), model: base.config)
        let model = try LoraModel(config: base.config, weights: base.weights, adapter: saved)
        let step0 = try TinyLlama.json(dir.appendingPathComponent("step0.json"))
        let peftLine = try #require(step0["trainable_parameters_line"] as? String)
        #expect(try model.adapter.config.trainableParametersLine(config: base.config) == peftLine)
        try Self.expectPeftStep(model, step0: step0, grads: dir.appendingPathComponent("grads.safetensors"))
    }

    /// Merging peft's adapter into the Qwen2 base and exporting it gives a Qwen2 folder (config and biases) whose
    /// logits are peft's (transformers loads it too: `Qwen2ForCausalLM`, max |logits - peft's| 2e-6 when checked).
    @Test func qwen2MergedExportKeepsTheArchitectureAndBiases() throws {
        let dir = TrainingPaths.fixtures.appendingPathComponent("tiny-qwen2")
        let base = try LlamaModel.load(directory: dir)
        let model = try LoraModel(config: base.config, weights: base.weights,
                                  adapter: try LoraAdapter.load(from: dir.appendingPathComponent("initial_adapter"), model: base.config))
        let out = TrainingPaths.scratch("merged-qwen2")
        try model.exportMerged(to: out)
        let exported = try LlamaModel.load(directory: out)
        #expect(exported.config.architecture == .qwen2)
        #expect(try LlamaConfig.load(from: out.appendingPathComponent("config.json")).architecture == .qwen2)
        let step0 = try TinyLlama.json(dir.appendingPathComponent("step0.json"))
        let logits = try exported.forward(inputIds: step0["input_ids"] as! [[Int]], attentionMask: step0["attention_mask"] as! [[Int]])
        #expect(maxAbsDiff(logits.values, Self.floats(step0["logits"])) < 1e-4)
    }

    /// peft's logits, loss and every LoRA gradient for the batch of `step0`, with and without checkpointing.
    static func expectPeftStep(_ model: LoraModel, step0: [String: Any], grads gradsFile: URL) throws {
        #expect(model.adapter.config.scaling == Float(step0["scaling"] as! Double))
        let batch = try Self.batch(step0)
        #expect(maxAbsDiff(try model.logits(batch), Self.floats(step0["logits"])) < 1e-4)
        for checkpointing in [false, true] {
            model.gradientCheckpointing = checkpointing
            model.adapter.zeroGradients()
            let (sum, count) = try model.forwardBackward(batch, lossDivisor: Double(batch.targetCount))
            #expect(abs(sum / Double(count) - (step0["loss"] as! Double)) < 1e-5)
            let grads = try SafetensorsFile(url: gradsFile)
            var checked = 0
            for m in model.adapter.modules {
                for (key, mine) in [(m.keyA, m.grad_A.array), (m.keyB, m.grad_B.array)] {
                    let ref = try grads.floats(key)
                    let rel = maxAbsDiff(mine, ref) / maxAbs(ref)
                    #expect(rel < 1e-4, "\(key): relative gradient error \(rel)")
                    checked += 1
                }
            }
            #expect(checked == grads.tensorNames().count)
        }
    }

    @Test func rsloraScalesByAlphaOverSqrtR() throws {
        let ref = try TinyLlama.json(Self.dir.appendingPathComponent("rslora.json"))
        let model = try Self.model(rslora: true)
        #expect(model.adapter.config.scaling == Float(ref["scaling"] as! Double))
        let batch = try Self.batch(ref)
        #expect(maxAbsDiff(try model.logits(batch), Self.floats(ref["logits"])) < 1e-4)
        let (sum, count) = try model.loss(batch)
        #expect(abs(sum / Double(count) - (ref["loss"] as! Double)) < 1e-5)
    }

    /// The batch builder reproduces the reference collators on the trajectory's rows: the notebook's
    /// max_length padding with every pad-id token (the real EOS too) masked, and the default mode's prompt
    /// masking with padding to the longest row.
    @Test(arguments: ["notebook", "default"])
    func batchBuilderReproducesTheCollators(mode: String) throws {
        let traj = try TinyLlama.json(Self.dir.appendingPathComponent("trajectory.json"))
        let run = (traj["runs"] as! [String: Any])[mode] as! [String: Any]
        for mb in run["micro_batches"] as! [[String: Any]] {
            let expected = try Self.batch(mb)
            let ids = mb["input_ids"] as! [[Int]], mask = mb["attention_mask"] as! [[Int]], labels = mb["labels"] as! [[Int]]
            var examples: [TokenizedExample] = []
            for (b, row) in ids.enumerated() {
                let real = Array(row[0..<mask[b].reduce(0, +)])
                if mode == "notebook" {
                    examples.append(.notebook(tokens: real, maxLength: 16, padTokenId: 2))
                } else {
                    let promptLength = labels[b].prefix { $0 == -100 }.count
                    examples.append(.promptAnswer(prompt: Array(real[..<promptLength]), answer: Array(real[promptLength..<(real.count - 1)]),
                                                  endToken: real.last!))
                }
            }
            let padding: Padding = mode == "notebook" ? .maxLength(16) : .longest
            #expect(try BatchBuilder(padding: padding, padTokenId: 2).batch(examples) == expected)
        }
    }

    /// 10 AdamW steps with warmup, decay, clipping and gradient accumulation, on the same micro-batches as the
    /// reference Trainer: every logged loss, gradient norm and learning rate.
    @Test(arguments: ["notebook", "default"])
    func trajectoryMatchesTransformersTrainer(mode: String) throws {
        let traj = try TinyLlama.json(Self.dir.appendingPathComponent("trajectory.json"))
        let hp = traj["hyper_parameters"] as! [String: Any]
        let run = (traj["runs"] as! [String: Any])[mode] as! [String: Any]
        let micro = try (run["micro_batches"] as! [[String: Any]]).map(Self.batch)
        var args = TrainingArguments(output_dir: TrainingPaths.scratch("trajectory").path)
        args.learning_rate = hp["learning_rate"] as! Double
        args.warmup_steps = hp["warmup_steps"] as! Int
        args.max_steps = hp["max_steps"] as! Int
        args.max_grad_norm = hp["max_grad_norm"] as! Double
        args.weight_decay = hp["weight_decay"] as! Double
        args.per_device_train_batch_size = hp["per_device_train_batch_size"] as! Int
        args.gradient_accumulation_steps = hp["gradient_accumulation_steps"] as! Int
        args.logging_steps = 1
        args.save_steps = 0
        let model = try Self.model()
        let trainer = try Trainer(model: model, args: args, batches: micro)
        trainer.showProgress = false
        try trainer.train()
        let steps = run["steps"] as! [[String: Any]]
        #expect(trainer.state.log_history.count == steps.count)
        for (mine, ref) in zip(trainer.state.log_history, steps) {
            #expect(mine.step == ref["step"] as! Int)
            #expect(abs(mine.loss - (ref["loss"] as! Double)) < 1e-4, "step \(mine.step): loss \(mine.loss) vs \(ref["loss"]!)")
            let norm = ref["grad_norm"] as! Double
            #expect(abs(mine.grad_norm - norm) < 1e-4 * max(1, norm), "step \(mine.step): grad norm \(mine.grad_norm) vs \(norm)")
            #expect(abs(mine.learning_rate - (ref["logged_learning_rate"] as! Double)) < 1e-12)
        }
        guard mode == traj["final_adapter_run"] as? String else { return }
        let final = try LoraAdapter.load(from: Self.dir.appendingPathComponent("trained_adapter"), model: TinyLlama.config)
        for (mine, ref) in zip(model.adapter.snapshot(), final.snapshot()) {
            #expect(maxAbsDiff(mine, ref) <= 1e-4 * max(maxAbs(ref), 1e-3))
        }
        let batch = try Self.batch(try TinyLlama.json(Self.dir.appendingPathComponent("step0.json")))
        #expect(maxAbsDiff(try model.logits(batch), Self.floats(traj["final_logits"])) < 1e-4)
        let (sum, count) = try model.loss(batch)
        #expect(abs(sum / Double(count) - (traj["final_loss"] as! Double)) < 1e-4)
    }
}

/// peft loading an adapter medrepl saved: medrepl re-saving the adapter peft saved (trained_adapter, made by
/// the fixture script) must give peft's own files back, tensor for tensor and setting for setting, so
/// `PeftModel.from_pretrained` reads from medrepl's folder exactly what it reads from its own (whose logits the
/// trajectory test checks). The byte comparison of the safetensors covers key names, dtypes, shapes, order
/// and the `format: pt` metadata peft's loader looks for.
struct PeftInteropTests {
    @Test func medreplWritesBackPeftsOwnAdapterFiles() throws {
        let peftDir = TrainingPaths.lora.appendingPathComponent("trained_adapter")
        let adapter = try LoraAdapter.load(from: peftDir, model: TinyLlama.config)
        let ours = TrainingPaths.scratch("interop")
        defer { try? FileManager.default.removeItem(at: ours) }
        try adapter.save(to: ours)

        let peftWeights = try Data(contentsOf: peftDir.appendingPathComponent(LoraAdapter.weightsFileName))
        let ourWeights = try Data(contentsOf: ours.appendingPathComponent(LoraAdapter.weightsFileName))
        #expect(ourWeights == peftWeights, "adapter_model.safetensors differs from peft's (\(ourWeights.count) vs \(peftWeights.count) bytes)")

        func config(_ dir: URL) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(LoraAdapter.configFileName))) as! [String: Any]
        }
        let peftConfig = try config(peftDir), ourConfig = try config(ours)
        #expect(Set(ourConfig.keys) == Set(peftConfig.keys))
        for (key, value) in peftConfig {
            let mine = ourConfig[key].map { "\($0)" } ?? "absent"
            #expect(mine == "\(value)", "adapter_config.json \(key): medrepl \(mine), peft \(value)")
        }
    }
}
