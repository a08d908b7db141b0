import Foundation
import Support
import Weights

/// One row of the training log, as transformers logs it every `logging_steps`.
public struct LogEntry: Sendable, Equatable {
    public var step: Int
    public var epoch: Double
    /// Mean of the optimizer-step losses since the previous row.
    public var loss: Double
    /// Gradient norm of the last step before clipping.
    public var grad_norm: Double
    /// The learning rate used by the last step.
    public var learning_rate: Double

    /// The header of the notebook's table.
    public static let tableHeader = "Step | Training Loss"
    /// A row of the notebook's table, such as `  10 | 2.983400`.
    public var tableRow: String { String(format: "%4d | %.6f", step, loss) }

    var dictionary: [String: Any?] {
        ["step": step, "epoch": epoch, "loss": loss, "grad_norm": grad_norm, "learning_rate": learning_rate]
    }

    init(step: Int, epoch: Double, loss: Double, grad_norm: Double, learning_rate: Double) {
        self.step = step; self.epoch = epoch; self.loss = loss; self.grad_norm = grad_norm; self.learning_rate = learning_rate
    }

    /// The same entry with every float as an exact decimal string (see `TrainerState.exact`).
    var exactDictionary: [String: Any?] {
        ["step": step, "epoch": "\(epoch)", "loss": "\(loss)", "grad_norm": "\(grad_norm)", "learning_rate": "\(learning_rate)"]
    }

    init(_ d: [String: Any], file: String) throws {
        func num(_ k: String) throws -> Double {
            guard let v = TrainerState.exact(d[k]) else { throw LoraError("\(file): log_history entry lacks \(k)") }
            return v
        }
        self.init(step: Int(try num("step")), epoch: try num("epoch"), loss: try num("loss"),
                  grad_norm: try num("grad_norm"), learning_rate: try num("learning_rate"))
    }
}

/// One evaluation on the held-out rows, as transformers logs it (`eval_loss`, `eval_runtime`, ...).
public struct EvalEntry: Sendable, Equatable {
    public var step: Int
    public var epoch: Double
    /// Σ token losses / Σ targets over every evaluation row: the training loss's normalisation, no update.
    public var eval_loss: Double
    public var eval_runtime: Double
    public var eval_samples_per_second: Double
    public var eval_steps_per_second: Double

    public init(step: Int, epoch: Double, eval_loss: Double, eval_runtime: Double, eval_samples_per_second: Double,
                eval_steps_per_second: Double) {
        self.step = step; self.epoch = epoch; self.eval_loss = eval_loss; self.eval_runtime = eval_runtime
        self.eval_samples_per_second = eval_samples_per_second; self.eval_steps_per_second = eval_steps_per_second
    }

    var dictionary: [String: Any?] {
        ["step": step, "epoch": epoch, "eval_loss": eval_loss, "eval_runtime": eval_runtime,
         "eval_samples_per_second": eval_samples_per_second, "eval_steps_per_second": eval_steps_per_second]
    }

    /// The same entry with every float as an exact decimal string (see `TrainerState.exact`).
    var exactDictionary: [String: Any?] {
        ["step": step, "epoch": "\(epoch)", "eval_loss": "\(eval_loss)", "eval_runtime": "\(eval_runtime)",
         "eval_samples_per_second": "\(eval_samples_per_second)", "eval_steps_per_second": "\(eval_steps_per_second)"]
    }

    init(_ d: [String: Any], file: String) throws {
        func num(_ k: String) throws -> Double {
            guard let v = TrainerState.exact(d[k]) else { throw LoraError("\(file): an evaluation entry lacks \(k)") }
            return v
        }
        self.init(step: Int(try num("step")), epoch: try num("epoch"), eval_loss: try num("eval_loss"),
                  eval_runtime: try num("eval_runtime"), eval_samples_per_second: try num("eval_samples_per_second"),
                  eval_steps_per_second: try num("eval_steps_per_second"))
    }
}

/// A row of the loss table: the training loss logged at `step`, the validation loss computed there, or both.
public struct LossTableRow: Sendable, Equatable {
    public var step: Int
    public var training: Double?
    public var validation: Double?

    public init(step: Int, training: Double? = nil, validation: Double? = nil) {
        self.step = step; self.training = training; self.validation = validation
    }

    /// The header, with transformers' third column when there is a validation loss.
    public static func header(validation: Bool) -> String {
        validation ? "Step | Training Loss | Validation Loss" : LogEntry.tableHeader
    }

    /// `  10 | 2.983400 | 3.101200`; a value not computed at this step reads `No log`, as in transformers' table.
    public func text(validation: Bool) -> String {
        func cell(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "No log" }
        let row = String(format: "%4d | ", step) + cell(training)
        guard validation else { return row }
        return row.padding(toLength: 15, withPad: " ", startingAt: 0) + " | " + cell(self.validation)
    }
}

/// Where training stands: steps done, the log, and the running sums that make resume exact.
public struct TrainerState: Sendable, Equatable {
    public var global_step = 0
    public var epoch: Double = 0
    public var max_steps = 0
    public var log_history: [LogEntry] = []
    /// The loss of every optimizer step so far (the loss curve).
    public var step_losses: [Double] = []
    /// Σ step losses that were logged (transformers' `_total_loss_scalar`).
    var total_loss: Double = 0
    /// Σ step losses since the last log row (transformers' `tr_loss`).
    var loss_since_log: Double = 0
    var last_logged_step = 0
    /// Every evaluation on the held-out rows.
    public var eval_history: [EvalEntry] = []
    /// The best `eval_loss` so far and its step (transformers' `best_metric`, `best_global_step`).
    public var best_metric: Double?
    public var best_global_step: Int?
    /// Evaluations in a row without an improvement (EarlyStoppingCallback's counter).
    public var evaluations_without_improvement = 0
    /// True once early stopping ended the run.
    public var stopped_early = false

    /// transformers' `log_history`: the training rows and the evaluations, by step (an evaluation after the
    /// training row of its step).
    var mergedLogHistory: [[String: Any?]] {
        let rows = log_history.map { ($0.step, 0, $0.dictionary) } + eval_history.map { ($0.step, 1, $0.dictionary) }
        return rows.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
    }

    func dictionary(args: TrainingArguments) -> [String: Any?] {
        ["global_step": global_step, "epoch": epoch, "max_steps": max_steps, "num_train_epochs": args.num_train_epochs,
         "logging_steps": args.logging_steps, "eval_steps": args.evaluationInterval, "save_steps": args.save_steps,
         "train_batch_size": args.per_device_train_batch_size,
         "best_metric": best_metric, "best_global_step": best_global_step, "best_model_checkpoint": nil,
         "should_training_stop": stopped_early,
         "log_history": mergedLogHistory.map { $0 as Any? },
         // Resume must continue bit for bit, and Foundation's JSON number parsing is not always correctly
         // rounded: the running sums and the log are kept again as decimal strings that Double(String) reads exactly.
         "medrepl": ["total_loss": "\(total_loss)", "loss_since_log": "\(loss_since_log)", "last_logged_step": last_logged_step,
                     "step_losses": step_losses.map { "\($0)" as Any? },
                     "log_history": log_history.map { $0.exactDictionary as Any? },
                     "eval_history": eval_history.map { $0.exactDictionary as Any? },
                     "best_metric": best_metric.map { "\($0)" }, "best_global_step": best_global_step,
                     "evaluations_without_improvement": evaluations_without_improvement,
                     "stopped_early": stopped_early] as [String: Any?]]
    }

    /// A number written by `dictionary`: an exact decimal string, or a plain JSON number.
    static func exact(_ v: Any?) -> Double? {
        if let s = v as? String { return Double(s) }
        return (v as? NSNumber)?.doubleValue
    }

    init() {}

    init(json data: Data, file: String) throws {
        let d = try JSONFile.object(data, file: file)
        guard let step = d["global_step"] as? Int else { throw LoraError("\(file): global_step is missing") }
        guard let m = d["medrepl"] as? [String: Any], let losses = (m["step_losses"] as? [Any])?.compactMap(Self.exact),
              let total = Self.exact(m["total_loss"]), let since = Self.exact(m["loss_since_log"]),
              let last = m["last_logged_step"] as? Int else {
            throw LoraError("\(file): the medrepl section (running loss sums) is missing; not a medrepl checkpoint")
        }
        global_step = step
        epoch = (d["epoch"] as? NSNumber)?.doubleValue ?? 0
        max_steps = d["max_steps"] as? Int ?? 0
        log_history = try (m["log_history"] as? [[String: Any]] ?? d["log_history"] as? [[String: Any]] ?? []).map { try LogEntry($0, file: file) }
        step_losses = losses
        total_loss = total; loss_since_log = since; last_logged_step = last
        eval_history = try (m["eval_history"] as? [[String: Any]] ?? []).map { try EvalEntry($0, file: file) }
        best_metric = Self.exact(m["best_metric"])
        best_global_step = m["best_global_step"] as? Int
        evaluations_without_improvement = m["evaluations_without_improvement"] as? Int ?? 0
        stopped_early = m["stopped_early"] as? Bool ?? false
    }
}

/// What `Trainer.train` returns: transformers' TrainOutput and its metrics.
public struct TrainOutput: Sendable, Equatable {
    public var global_step: Int
    public var train_runtime: Double
    public var train_samples_per_second: Double
    public var train_steps_per_second: Double
    /// Mean loss of the optimizer steps run in this call.
    public var train_loss: Double
    public var epoch: Double
    /// Real (non-padding) tokens processed per second.
    public var tokens_per_second: Double
    /// True when `shouldStop` ended training early.
    public var stopped: Bool
    /// True when early stopping (`early_stopping_patience`) ended the run.
    public var early_stopped: Bool = false
    /// True when `load_best_model_at_end` put the best evaluation's adapter back.
    public var loaded_best: Bool = false

    /// `{'train_runtime': 12.3456, 'train_samples_per_second': ..., 'train_loss': ..., 'epoch': 1.0}` as transformers prints it.
    public var summary: String {
        String(format: "{'train_runtime': %.4f, 'train_samples_per_second': %.3f, 'train_steps_per_second': %.3f, 'train_loss': %@, 'epoch': %@}",
               train_runtime, train_samples_per_second, train_steps_per_second, "\(train_loss)", JSONText.number(epoch))
    }
}
