import Foundation

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

    init(_ d: [String: Any], file: String) throws {
        func num(_ k: String) throws -> Double {
            guard let v = (d[k] as? NSNumber)?.doubleValue else { throw LoraError("\(file): log_history entry lacks \(k)") }
            return v
        }
        self.init(step: Int(try num("step")), epoch: try num("epoch"), loss: try num("loss"),
                  grad_norm: try num("grad_norm"), learning_rate: try num("learning_rate"))
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

    func dictionary(args: TrainingArguments) -> [String: Any?] {
        ["global_step": global_step, "epoch": epoch, "max_steps": max_steps, "num_train_epochs": args.num_train_epochs,
         "logging_steps": args.logging_steps, "save_steps": args.save_steps, "train_batch_size": args.per_device_train_batch_size,
         "log_history": log_history.map { $0.dictionary as Any? },
         "medrepl": ["total_loss": total_loss, "loss_since_log": loss_since_log, "last_logged_step": last_logged_step,
                     "step_losses": step_losses.map { $0 as Any? }] as [String: Any?]]
    }

    init() {}

    init(json data: Data, file: String) throws {
        guard let d = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw LoraError("\(file): not a JSON object") }
        guard let step = d["global_step"] as? Int else { throw LoraError("\(file): global_step is missing") }
        guard let m = d["medrepl"] as? [String: Any], let losses = m["step_losses"] as? [NSNumber],
              let total = (m["total_loss"] as? NSNumber)?.doubleValue, let since = (m["loss_since_log"] as? NSNumber)?.doubleValue,
              let last = m["last_logged_step"] as? Int else {
            throw LoraError("\(file): the medrepl section (running loss sums) is missing; not a medrepl checkpoint")
        }
        global_step = step
        epoch = (d["epoch"] as? NSNumber)?.doubleValue ?? 0
        max_steps = d["max_steps"] as? Int ?? 0
        log_history = try (d["log_history"] as? [[String: Any]] ?? []).map { try LogEntry($0, file: file) }
        step_losses = losses.map(\.doubleValue)
        total_loss = total; loss_since_log = since; last_logged_step = last
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

    /// `{'train_runtime': 12.3456, 'train_samples_per_second': ..., 'train_loss': ..., 'epoch': 1.0}` as transformers prints it.
    public var summary: String {
        String(format: "{'train_runtime': %.4f, 'train_samples_per_second': %.3f, 'train_steps_per_second': %.3f, 'train_loss': %@, 'epoch': %@}",
               train_runtime, train_samples_per_second, train_steps_per_second, "\(train_loss)", JSONText.number(epoch))
    }
}
