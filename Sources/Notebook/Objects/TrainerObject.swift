import Foundation
import Kernels
import Language
import Training

/// LoRA settings living in the session (`cfg = lora_config r=16 lora_alpha=32`), with peft's field names.
public final class LoraConfigObject: LiveObject {
    public let config: LoraConfig
    public init(_ config: LoraConfig) { self.config = config }

    public var typeName: String { "LoraConfig" }
    public var summary: String {
        "r=\(config.r), lora_alpha=\(Value.format(config.lora_alpha)), lora_dropout=\(Value.format(config.lora_dropout)), "
            + "\(config.target_modules.count) target module\(config.target_modules.count == 1 ? "" : "s"), scaling \(Value.format(Double(config.scaling)))"
    }
    public var fieldNames: [String] { LoraConfig.settings.names + ["scaling"] }
    public func field(_ name: String) -> Value? {
        name == "scaling" ? .double(Double(config.scaling)) : LoraConfig.settings.field(name, of: config)
    }
}

/// Training arguments living in the session (`args = training_args output_dir=outputs`), with
/// transformers' names: `args.learning_rate`, `show args`.
public final class TrainingArgumentsObject: LiveObject {
    public let arguments: TrainingArguments
    public init(_ arguments: TrainingArguments) { self.arguments = arguments }

    public var typeName: String { "TrainingArguments" }
    public var summary: String {
        let a = arguments
        let length = a.max_steps > 0 ? "max_steps=\(a.max_steps)" : "num_train_epochs=\(Value.format(a.num_train_epochs))"
        return "\(length), batch \(a.per_device_train_batch_size) x \(a.gradient_accumulation_steps), "
            + "learning_rate=\(Value.format(a.learning_rate)), output_dir=\(a.output_dir)"
    }
    public var fieldNames: [String] { TrainingArguments.settings.names }
    public func field(_ name: String) -> Value? { TrainingArguments.settings.field(name, of: arguments) }
}

/// A trainer living in the session (`trainer = make_trainer model args tokens`): the engine's Trainer,
/// the model it trains, and what the last `train` returned. Its state stays after Ctrl-C, so `train`
/// again continues where it stopped.
public final class TrainerObject: LiveObject {
    public let trainer: Trainer
    public let model: ModelObject
    public let tokens: TokenizedDatasetObject
    /// What the last `train` call returned.
    public var lastOutput: TrainOutput?
    /// Called after every optimizer step with the new global step (tests use it to press Ctrl-C).
    public var afterStep: ((Int) -> Void)?
    /// Asked at every step boundary whether to stop; nil means whether Ctrl-C was pressed for the
    /// session running `train` (`Session.takeInterrupt`). Tests can give the trainer their own flag.
    public var interruptRequested: (() -> Bool)?

    /// The training arguments object it was made with, and its held-out rows: what `export_training` writes out
    /// (and where it points when a setting has no equivalent in transformers).
    var arguments: TrainingArgumentsObject?
    var held: TokenizedDatasetObject?

    public init(trainer: Trainer, model: ModelObject, tokens: TokenizedDatasetObject) {
        self.trainer = trainer; self.model = model; self.tokens = tokens
    }

    public var typeName: String { "Trainer" }
    public var summary: String {
        let s = trainer.state
        var text = "step \(s.global_step) of \(s.max_steps), \(tokens.examples.count) rows (\(tokens.mode) mode), "
            + "learning_rate=\(Value.format(trainer.args.learning_rate))"
        if let last = s.log_history.last { text += String(format: ", last logged loss %.4f", last.loss) }
        return text
    }
    public var fieldNames: [String] { ["args", "state", "log_history", "losses", "model", "train_output"] }
    public func field(_ name: String) -> Value? {
        switch name {
        case "args": return .object(TrainingArgumentsObject(trainer.args))
        case "state":
            let s = trainer.state
            return .object(RecordObject(typeName: "TrainerState", fields: [
                ("global_step", .int(s.global_step)), ("max_steps", .int(s.max_steps)), ("epoch", .double(s.epoch)),
                ("log_history", logHistory),
            ]))
        case "log_history": return logHistory
        case "losses": return .list(trainer.state.step_losses.map { .double($0) })
        case "model": return .object(model)
        case "train_output":
            guard let o = lastOutput else { return Value.none }
            return .object(RecordObject(typeName: "TrainOutput", fields: [
                ("global_step", .int(o.global_step)), ("train_runtime", .double(o.train_runtime)),
                ("train_samples_per_second", .double(o.train_samples_per_second)),
                ("train_steps_per_second", .double(o.train_steps_per_second)),
                ("train_loss", .double(o.train_loss)), ("epoch", .double(o.epoch)),
                ("tokens_per_second", .double(o.tokens_per_second)), ("stopped", .bool(o.stopped)),
            ]))
        default: return nil
        }
    }

    /// Every logged row as a record: step, epoch, loss, grad_norm, learning_rate (transformers' log_history).
    private var logHistory: Value {
        .list(trainer.state.log_history.map { e in
            .object(RecordObject(typeName: "LogEntry", fields: [
                ("step", .int(e.step)), ("epoch", .double(e.epoch)), ("loss", .double(e.loss)),
                ("grad_norm", .double(e.grad_norm)), ("learning_rate", .double(e.learning_rate)),
            ]))
        })
    }
}
