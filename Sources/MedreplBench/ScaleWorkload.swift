import Foundation
import Kernels
import Llama
import Training

/// W4: one optimizer step of 4 × 512 random tokens (labels = inputs) with the notebook's LoRA on a
/// preset config with seeded random weights, through the `Trainer`, with or without recomputation.
enum ScaleWorkload {
    static let presets: [String: LlamaConfig] = ["tinyllama": .tinyLlama_1_1B, "llama-3.2-1b": .llama3_2_1B, "smollm2": .smolLM2_135M]

    /// Options: --config (tinyllama | llama-3.2-1b | smollm2), --dtype (bf16), --tokens (512), --rows (4), --checkpointing.
    static func run(_ o: BenchOptions) throws -> [String: Any] {
        let name = o.string("config", "tinyllama")
        guard let config = presets[name] else { throw BenchError("--config must be one of \(presets.keys.sorted()), got '\(name)'") }
        let storage = try o.storage(.bf16)
        let T = try o.int("tokens", 512), rows = try o.int("rows", 4)
        let checkpointing = o.flag("checkpointing")

        var start = now()
        let base = try LlamaModel.random(config: config, seed: 0, storage: storage, checkMemory: true)
        let model = try LoraModel(base: base, lora: LoraConfig(r: 16, lora_alpha: 32, lora_dropout: 0.05,
                                                               target_modules: TrainingWorkload.targets, seed: 42))
        let initSeconds = now() - start

        // Seeded random token ids (a 64-bit LCG), one micro-batch of one row each: accumulation over `rows`.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let batches = try (0..<rows).map { _ -> TrainingBatch in
            let ids = (0..<T).map { _ -> Int in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int((state >> 33) % UInt64(config.vocab_size))
            }
            return try TrainingBatch(input_ids: [ids])
        }
        var args = TrainingArguments(output_dir: FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-bench-\(getpid())").path)
        args.max_steps = 1
        args.per_device_train_batch_size = 1
        args.gradient_accumulation_steps = rows
        args.learning_rate = 2e-4
        args.save_steps = 0
        args.gradient_checkpointing = checkpointing
        // bf16 autocast on the bf16 base (as the reference's torch.autocast); --bf16 0 multiplies in f32
        args.bf16 = try o.int("bf16", storage == .bf16 ? 1 : 0) != 0
        let trainer = try Trainer(model: model, args: args, batches: batches)
        trainer.showProgress = false

        start = now()
        try trainer.train()
        let step = now() - start
        return [
            "config": name, "dtype": storage.rawValue, "checkpointing": checkpointing, "bf16_products": args.bf16 && WeightMatrix.bf16ProductsAvailable, "tokens": rows * T,
            "init_s": initSeconds, "step_s": step, "loss": trainer.state.step_losses.first ?? .nan,
            "processed_tokens": rows * T, "linear_params": config.parametersMultipliedPerToken,
            "parameters": config.parameterCount,
        ]
    }
}
