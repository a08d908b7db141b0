import Foundation

/// The Trainer's settings, with transformers' names, meanings and defaults.
///
/// ```swift
/// var args = TrainingArguments(output_dir: "outputs/medical-lora")
/// args.num_train_epochs = 1; args.per_device_train_batch_size = 1; args.gradient_accumulation_steps = 4
/// args.learning_rate = 2e-4; args.warmup_steps = 10; args.logging_steps = 10
/// args.save_steps = 25; args.save_total_limit = 2; args.padding = .maxLength(512)
/// ```
public struct TrainingArguments: Sendable, Equatable {
    public var output_dir: String
    public var num_train_epochs: Double = 3
    /// When > 0, overrides `num_train_epochs`.
    public var max_steps: Int = -1
    public var per_device_train_batch_size: Int = 8
    public var gradient_accumulation_steps: Int = 1
    public var learning_rate: Double = 5e-5
    public var warmup_steps: Int = 0
    public var weight_decay: Double = 0
    public var adam_beta1: Double = 0.9
    public var adam_beta2: Double = 0.999
    public var adam_epsilon: Double = 1e-8
    public var max_grad_norm: Double = 1
    public var logging_steps: Int = 500
    /// 0: no checkpoints.
    public var save_steps: Int = 500
    /// Keep only the newest N checkpoints (nil: keep all).
    public var save_total_limit: Int? = nil
    public var seed: UInt64 = 42
    public var gradient_checkpointing: Bool = false
    /// bf16 mixed precision, as transformers' `bf16=True` (torch autocast): the frozen base weights'
    /// products round their activations to bf16 and run on AVX512-BF16 when the base is stored as bf16
    /// (`load_model ... dtype=bf16`); otherwise nothing changes. The adapter, its optimizer and the loss stay f32.
    public var bf16: Bool = false
    /// medrepl: how micro-batches are padded (default: to the longest row).
    public var padding: Padding = .longest
    /// medrepl: micro-batches of one optimizer step are packed into a single forward/backward pass while their
    /// trained tokens (padding skipped) stay within this budget: fewer, larger matrix products, the same gradients.
    /// Activation memory grows with it (see `gradient_checkpointing`). 0: one pass per micro-batch.
    public var max_tokens_per_pass: Int = 512
    /// medrepl: shuffle the examples with a seeded permutation per epoch (transformers' RandomSampler role).
    public var shuffle: Bool = true

    public init(output_dir: String) { self.output_dir = output_dir }

    /// The original notebook's arguments: 1 epoch, batch 1, gradient accumulation 4, learning rate 2e-4,
    /// 10 warm-up steps, a log line every 10 steps (checkpoints as transformers' defaults).
    public static func notebook(output_dir: String) -> TrainingArguments {
        var args = TrainingArguments(output_dir: output_dir)
        args.num_train_epochs = 1; args.per_device_train_batch_size = 1; args.gradient_accumulation_steps = 4
        args.learning_rate = 2e-4; args.warmup_steps = 10; args.logging_steps = 10
        return args
    }

    func validate() throws {
        guard per_device_train_batch_size > 0 else { throw LoraError("per_device_train_batch_size must be positive, got \(per_device_train_batch_size)") }
        guard gradient_accumulation_steps > 0 else { throw LoraError("gradient_accumulation_steps must be positive, got \(gradient_accumulation_steps)") }
        guard max_steps > 0 || num_train_epochs > 0 else { throw LoraError("set num_train_epochs > 0 or max_steps > 0") }
        guard learning_rate >= 0, learning_rate.isFinite else { throw LoraError("learning_rate must be a finite number >= 0, got \(learning_rate)") }
        guard warmup_steps >= 0 else { throw LoraError("warmup_steps must be >= 0, got \(warmup_steps)") }
        guard logging_steps > 0 else { throw LoraError("logging_steps must be positive, got \(logging_steps)") }
        guard max_tokens_per_pass >= 0 else { throw LoraError("max_tokens_per_pass must be >= 0, got \(max_tokens_per_pass)") }
        guard save_steps >= 0 else { throw LoraError("save_steps must be >= 0, got \(save_steps)") }
        if let l = save_total_limit, l < 1 { throw LoraError("save_total_limit must be at least 1, got \(l)") }
        guard !output_dir.isEmpty else { throw LoraError("output_dir is empty") }
    }

    /// As `training_args.json` in a checkpoint.
    var dictionary: [String: Any?] {
        var pad: Any? = nil
        if case .maxLength(let L) = padding { pad = L }
        return ["output_dir": output_dir, "num_train_epochs": num_train_epochs, "max_steps": max_steps,
                "per_device_train_batch_size": per_device_train_batch_size, "gradient_accumulation_steps": gradient_accumulation_steps,
                "learning_rate": learning_rate, "warmup_steps": warmup_steps, "weight_decay": weight_decay,
                "adam_beta1": adam_beta1, "adam_beta2": adam_beta2, "adam_epsilon": adam_epsilon, "max_grad_norm": max_grad_norm,
                "logging_steps": logging_steps, "save_steps": save_steps, "save_total_limit": save_total_limit,
                "seed": Int(truncatingIfNeeded: seed), "gradient_checkpointing": gradient_checkpointing, "bf16": bf16,
                "padding_max_length": pad, "shuffle": shuffle, "max_tokens_per_pass": max_tokens_per_pass]
    }
}
