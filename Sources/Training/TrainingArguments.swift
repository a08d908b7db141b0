import Foundation
import Support

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
    /// With evaluation rows: the validation loss every this many steps (nil: every `logging_steps`, as
    /// transformers' `eval_steps` falls back to `logging_steps`).
    public var eval_steps: Int? = nil
    /// Rows per evaluation pass (the loss is the same for any value; memory grows with it).
    public var per_device_eval_batch_size: Int = 8
    /// At the end of training, put back the adapter of the evaluation with the best `metric_for_best_model`.
    public var load_best_model_at_end: Bool = false
    /// What "best" means: the validation loss, lower is better (the only metric computed during training).
    public var metric_for_best_model: String = "eval_loss"
    /// Stop after this many evaluations in a row without an improvement (nil: never), as transformers'
    /// EarlyStoppingCallback(early_stopping_patience).
    public var early_stopping_patience: Int? = nil
    /// An evaluation improves on the best only by more than this (EarlyStoppingCallback's early_stopping_threshold).
    public var early_stopping_threshold: Double = 0

    public init(output_dir: String) { self.output_dir = output_dir }

    /// The original notebook's arguments: 1 epoch, batch 1, gradient accumulation 4, learning rate 2e-4,
    /// 10 warm-up steps, a log line every 10 steps, a checkpoint every 100 steps keeping the newest 2.
    /// `training_args` starts from these.
    public static func notebook(output_dir: String) -> TrainingArguments {
        var args = TrainingArguments(output_dir: output_dir)
        args.num_train_epochs = 1; args.per_device_train_batch_size = 1; args.gradient_accumulation_steps = 4
        args.learning_rate = 2e-4; args.warmup_steps = 10; args.logging_steps = 10
        args.save_steps = 100; args.save_total_limit = 2
        return args
    }

    /// Every setting a user can give, declared once: `training_args`'s parameters, `show args`, `args.NAME`,
    /// the checks and `training_args.json` come from here (`padding` is set from the tokenized rows instead).
    public static let settings = SettingsTable<TrainingArguments>([
        Setting("output_dir", \.output_dir, kind: .path, required: true, help: "checkpoints go to output_dir/checkpoint-N"),
        Setting("num_train_epochs", \.num_train_epochs, .finiteNonNegative, help: "passes over the data (unless max_steps > 0)"),
        Setting("max_steps", \.max_steps, help: "optimizer steps; > 0 overrides num_train_epochs"),
        Setting("per_device_train_batch_size", \.per_device_train_batch_size, .positiveInteger, help: "rows per micro-batch"),
        Setting("gradient_accumulation_steps", \.gradient_accumulation_steps, .positiveInteger, help: "micro-batches per optimizer step"),
        Setting("learning_rate", \.learning_rate, .finiteNonNegative, help: "peak AdamW learning rate"),
        Setting("warmup_steps", \.warmup_steps, .nonNegative, help: "linear warmup steps, then linear decay to 0"),
        Setting("logging_steps", \.logging_steps, .positiveInteger, help: "a table row every this many steps"),
        Setting("save_steps", \.save_steps, .nonNegative, help: "a checkpoint every this many steps (0: none)"),
        Setting("save_total_limit", \.save_total_limit, .positiveInteger, help: "keep only the newest N checkpoints (0: keep all)"),
        Setting("seed", \.seed, .nonNegative, help: "data order and dropout seed"),
        Setting("max_grad_norm", \.max_grad_norm, .finiteNonNegative, help: "gradient-norm clipping (0: none, as transformers)"),
        Setting("gradient_checkpointing", \.gradient_checkpointing, help: "recompute activations in backward to save memory"),
        Setting("bf16", \.bf16, help: "bf16 autocast: a bf16 base model's products on AVX512-BF16 (without it: f32, and a note says so)"),
        Setting("weight_decay", \.weight_decay, .finiteNonNegative, help: "AdamW weight decay"),
        Setting("adam_beta1", \.adam_beta1, .belowOne, help: "AdamW's decay of the gradient's running mean"),
        Setting("adam_beta2", \.adam_beta2, .belowOne, help: "AdamW's decay of the squared gradient's running mean"),
        Setting("adam_epsilon", \.adam_epsilon, .positive, help: "AdamW's term added to the denominator"),
        Setting("max_tokens_per_pass", \.max_tokens_per_pass, .nonNegative,
                help: "micro-batches of a step packed into passes of up to this many tokens (0: one pass each)"),
        Setting("shuffle", \.shuffle, help: "a seeded shuffled data order per epoch"),
        Setting("eval_steps", \.eval_steps, .positiveInteger, help: "with make_trainer ... eval=: the validation loss every this many steps (default: logging_steps)"),
        Setting("per_device_eval_batch_size", \.per_device_eval_batch_size, .positiveInteger, help: "rows per evaluation pass"),
        Setting("load_best_model_at_end", \.load_best_model_at_end, help: "at the end, put back the adapter of the best evaluation (needs eval=)"),
        Setting("metric_for_best_model", \.metric_for_best_model, kind: .choice(["eval_loss"]), help: "what best means: eval_loss, lower is better"),
        Setting("early_stopping_patience", \.early_stopping_patience, .positiveInteger,
                help: "stop after this many evaluations without improvement (0: never; needs eval=)"),
        Setting("early_stopping_threshold", \.early_stopping_threshold, .finiteNonNegative, help: "an improvement must be larger than this"),
    ])

    /// Steps between evaluations: `eval_steps`, or `logging_steps` when it is not set.
    public var evaluationInterval: Int { eval_steps ?? logging_steps }

    /// Whether these arguments ask for evaluation rows (best model, early stopping, eval_steps).
    public var needsEvaluation: Bool { load_best_model_at_end || early_stopping_patience != nil || eval_steps != nil }

    /// Each setting in its range, and settings that go together.
    public func validate() throws {
        try Self.settings.check(self)
        guard !output_dir.isEmpty else { throw SettingError("output_dir", "output_dir is empty") }
        guard max_steps > 0 || num_train_epochs > 0 else {
            throw SettingError("num_train_epochs", "num_train_epochs must be positive when max_steps is not set")
        }
    }

    /// As `training_args.json` in a checkpoint.
    var dictionary: [String: Any?] {
        var out = Self.settings.dictionary(self)
        var pad: Any? = nil
        if case .maxLength(let L) = padding { pad = L }
        out.updateValue(pad, forKey: "padding_max_length")
        return out
    }
}
