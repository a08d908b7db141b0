import Foundation
import Kernels
import Llama
import Support

/// Training stopped on a non-finite loss or gradient.
public struct NonFiniteLossError: Error, CustomStringConvertible, LocalizedError {
    /// The optimizer step (1-based) whose loss or gradient was not finite.
    public let step: Int
    public let loss: Double
    public let gradNorm: Double?
    public var description: String {
        let what = loss.isFinite ? "the gradient norm is \(gradNorm ?? .nan)" : "the loss is \(loss)"
        return "training stopped at step \(step): \(what). The update was not applied: the adapter keeps its state after step \(step - 1), the last good one. Try a lower learning_rate or check the data."
    }
    public var errorDescription: String? { description }
}

/// transformers' Trainer for a LoRA model: shuffled micro-batches, gradient accumulation normalised by the
/// total target count, clipping, AdamW with linear warmup and decay, logging, checkpoints and resume.
///
/// ```swift
/// let model = try LoraModel(config: config, weights: weights, lora: lora)
/// let trainer = try Trainer(model: model, args: args, examples: examples, padTokenId: 2)
/// trainer.onLog = { print($0.tableRow) }
/// trainer.shouldStop = { interrupted.load() }                  // checked at step boundaries
/// let out = try trainer.train()                                 // or train(resumeFrom: Trainer.latestCheckpoint(...))
/// print(out.summary); print(LossCurve.render(trainer.state.step_losses))
/// try model.adapter.save(to: URL(fileURLWithPath: args.output_dir))
/// ```
public final class Trainer: @unchecked Sendable {
    public let model: LoraModel
    public let args: TrainingArguments
    public let examples: [TokenizedExample]
    /// Held-out rows whose loss is computed every `args.evaluationInterval` steps (none: no evaluation).
    public let evalExamples: [TokenizedExample]
    public let builder: BatchBuilder
    /// Pre-built micro-batches used in this fixed order every epoch (instead of shuffled examples), or nil.
    public let fixedBatches: [TrainingBatch]?
    public let optimizer: AdamW
    public let schedule: LinearSchedule
    public internal(set) var state = TrainerState()
    /// Called with every log row (every `logging_steps`).
    public var onLog: (LogEntry) -> Void = { _ in }
    /// Called with every evaluation on the held-out rows.
    public var onEval: (EvalEntry) -> Void = { _ in }
    /// Called after each optimizer step, once its log row and evaluation are done, with (step, loss).
    public var onStep: (Int, Double) -> Void = { _, _ in }
    /// The adapter's values at the best evaluation (kept for `load_best_model_at_end`).
    public internal(set) var bestAdapter: [[Float]]?
    /// What the caller knows of where the run came from (model and data files with their SHA-256, the rows, the
    /// tokenization), written into `training_run.json` with the trainer's own settings (see `trainingRunJSON`).
    public var runRecord: [String: Any?] = [:]
    /// The version `training_run.json` names (the tool's; set by the caller, which knows it).
    public var runRecordVersion = "unknown"
    /// Checked at every step boundary; returning true ends training with the trained state kept.
    public var shouldStop: () -> Bool = { false }
    /// Draw a progress bar on standard error.
    public var showProgress = true
    /// How checkpoint files are written (atomically by default); replaceable to simulate failures.
    public var writeFile: (Data, URL) throws -> Void = { try AtomicFile.write($0, to: $1) }

    /// Micro-batches per epoch (the last may be smaller than the batch size).
    public let microBatchesPerEpoch: Int
    /// Optimizer steps per epoch: ceil(micro-batches / gradient_accumulation_steps).
    public let stepsPerEpoch: Int

    /// Trains on `examples`, batched `per_device_train_batch_size` at a time in a seeded shuffled order per epoch
    /// (`args.shuffle`), padded as `args.padding` says with `padTokenId`; evaluates on `evalExamples` (tokenized
    /// the same way) every `args.evaluationInterval` steps.
    public convenience init(model: LoraModel, args: TrainingArguments, examples: [TokenizedExample], padTokenId: Int,
                            evalExamples: [TokenizedExample] = []) throws {
        let builder = BatchBuilder(padding: args.padding, padTokenId: padTokenId)
        try builder.validate(examples)
        if !evalExamples.isEmpty { try builder.validate(evalExamples) }
        try self.init(model: model, args: args, examples: examples, builder: builder, fixedBatches: nil, evalExamples: evalExamples)
    }

    /// Trains on pre-built micro-batches in this order, every epoch (a fixed data order, as reference runs use).
    public convenience init(model: LoraModel, args: TrainingArguments, batches: [TrainingBatch]) throws {
        guard !batches.isEmpty else { throw LoraError("the training dataset is empty") }
        guard batches.contains(where: { $0.targetCount > 0 }) else {
            throw LoraError("every label of the training batches is -100: nothing to train on")
        }
        try self.init(model: model, args: args, examples: [], builder: BatchBuilder(padTokenId: 0), fixedBatches: batches, evalExamples: [])
    }

    private init(model: LoraModel, args: TrainingArguments, examples: [TokenizedExample], builder: BatchBuilder,
                 fixedBatches: [TrainingBatch]?, evalExamples: [TokenizedExample]) throws {
        do { try args.validate() } catch let error as SettingError { throw LoraError(error.description) }
        if args.needsEvaluation && evalExamples.isEmpty {
            throw LoraError(Self.evaluationRowsMissing(args))
        }
        self.model = model; self.args = args; self.examples = examples; self.builder = builder
        self.evalExamples = evalExamples
        self.fixedBatches = fixedBatches
        microBatchesPerEpoch = fixedBatches?.count
            ?? (examples.count + args.per_device_train_batch_size - 1) / args.per_device_train_batch_size
        stepsPerEpoch = (microBatchesPerEpoch + args.gradient_accumulation_steps - 1) / args.gradient_accumulation_steps
        let maxSteps = args.max_steps > 0 ? args.max_steps : Int((args.num_train_epochs * Double(stepsPerEpoch)).rounded(.up))
        state.max_steps = maxSteps
        optimizer = AdamW(adapter: model.adapter, beta1: args.adam_beta1, beta2: args.adam_beta2, eps: args.adam_epsilon,
                          weightDecay: args.weight_decay)
        schedule = LinearSchedule(baseLearningRate: args.learning_rate, warmupSteps: args.warmup_steps, totalSteps: maxSteps)
        model.gradientCheckpointing = args.gradient_checkpointing
        model.baseProductPrecision = args.bf16 ? .bf16 : .f32
        try checkActivationMemory()
    }

    /// Which setting asked for evaluation rows that were not given.
    public static func evaluationRowsMissing(_ args: TrainingArguments) -> String {
        let setting = args.load_best_model_at_end ? "load_best_model_at_end=true"
            : args.early_stopping_patience.map { "early_stopping_patience=\($0)" } ?? "eval_steps=\(args.evaluationInterval)"
        return "\(setting) needs held-out rows to evaluate, and the trainer has none"
    }

    /// Refuses, before the first step, a run whose largest pass would not fit in the memory left.
    private func checkActivationMemory(available: Int? = MemoryInfo.availableBytes()) throws {
        guard let available else { return }
        let lengths = fixedBatches.map { $0.map(\.sequenceLength) } ?? examples.map(\.input_ids.count)
        var longest = lengths.max() ?? 0
        if case .maxLength(let L) = args.padding { longest = min(longest, L) }
        let perMicroBatch = (fixedBatches?.map(\.batchSize).max() ?? args.per_device_train_batch_size) * longest
        let tokens = max(perMicroBatch, min(args.max_tokens_per_pass, perMicroBatch * args.gradient_accumulation_steps))
        let needed = model.activationBytes(tokens: tokens, rows: max(1, tokens / max(longest, 1)) + 1, maxLength: longest)
        guard needed <= available - available / 10 else {
            let advice = args.gradient_checkpointing ? "lower per_device_train_batch_size or max_tokens_per_pass"
                                                     : "set gradient_checkpointing, or lower per_device_train_batch_size or max_tokens_per_pass"
            throw LoraError("training needs about \(formatBytes(needed)) of activations for passes of \(tokens) tokens, but only \(formatBytes(available)) of memory is available: \(advice)")
        }
    }

    /// The micro-batches of optimizer step `step` (0-based), in order.
    public func microBatches(forStep step: Int) throws -> [TrainingBatch] {
        let epoch = step / stepsPerEpoch, inEpoch = step % stepsPerEpoch
        let first = inEpoch * args.gradient_accumulation_steps
        let last = min(first + args.gradient_accumulation_steps, microBatchesPerEpoch)
        if let fixed = fixedBatches { return Array(fixed[first..<last]) }
        let order = dataOrder(epoch: epoch)
        let bs = args.per_device_train_batch_size
        return try (first..<last).map { j in
            try builder.batch(order[(j * bs)..<min((j + 1) * bs, examples.count)].map { examples[$0] })
        }
    }

    /// The order the rows are read in during `epoch` (0-based): a seeded permutation with `args.shuffle`, else as given.
    public func dataOrder(epoch: Int) -> [Int] {
        args.shuffle ? TrainingRandom.permutation(examples.count, seed: args.seed, epoch: epoch) : Array(examples.indices)
    }

    /// The evaluation rows in batches of `per_device_eval_batch_size`, in order.
    func evaluationBatches() throws -> [TrainingBatch] {
        let bs = args.per_device_eval_batch_size
        return try stride(from: 0, to: evalExamples.count, by: bs).map { start in
            try builder.batch(Array(evalExamples[start..<min(start + bs, evalExamples.count)]))
        }
    }

    /// The loss of the evaluation rows with the adapter as it is: Σ token losses / Σ targets (the normalisation of
    /// the training loss), no dropout, no gradient, no update.
    public func evaluate() throws -> EvalEntry {
        let start = DispatchTime.now().uptimeNanoseconds
        let batches = try evaluationBatches()
        var lossSum: Double = 0, targets = 0
        for batch in batches {
            let (sum, count) = try model.loss(batch)
            lossSum += sum; targets += count
        }
        let runtime = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return EvalEntry(step: state.global_step, epoch: state.epoch, eval_loss: lossSum / Double(max(targets, 1)),
                         eval_runtime: runtime, eval_samples_per_second: runtime > 0 ? Double(evalExamples.count) / runtime : 0,
                         eval_steps_per_second: runtime > 0 ? Double(batches.count) / runtime : 0)
    }

    /// Evaluates, then keeps the best (a lower eval_loss) and counts evaluations without an improvement larger than
    /// `early_stopping_threshold`, as transformers' Trainer and EarlyStoppingCallback do.
    private func evaluateAndTrack() throws {
        let entry = try evaluate()
        state.eval_history.append(entry)
        let previous = state.best_metric
        if previous.map({ entry.eval_loss < $0 }) ?? true {
            state.best_metric = entry.eval_loss
            state.best_global_step = entry.step
            if args.load_best_model_at_end { bestAdapter = model.adapter.snapshot() }
        }
        if previous.map({ entry.eval_loss < $0 && $0 - entry.eval_loss > args.early_stopping_threshold }) ?? true {
            state.evaluations_without_improvement = 0
        } else {
            state.evaluations_without_improvement += 1
        }
        if let patience = args.early_stopping_patience, state.evaluations_without_improvement >= patience {
            state.stopped_early = true
        }
        onEval(entry)
    }

    /// Groups consecutive micro-batches into passes of at most `max_tokens_per_pass` trained tokens
    /// (a micro-batch larger than the budget is a pass of its own).
    func passes(_ micro: [TrainingBatch]) -> [[TrainingBatch]] {
        var out: [[TrainingBatch]] = [], current: [TrainingBatch] = [], tokens = 0
        for batch in micro {
            let n = batch.trainedTokenCount
            if !current.isEmpty && tokens + n > args.max_tokens_per_pass {
                out.append(current); current = []; tokens = 0
            }
            current.append(batch); tokens += n
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// One optimizer step: forward/backward of the step's micro-batches (loss normalised by their total target
    /// count), clipping, AdamW at the scheduled rate, then the log row when due. Returns the step's loss and the
    /// real tokens it read. A non-finite loss or gradient throws before any weight changes.
    private func optimizerStep() throws -> (loss: Double, realTokens: Int) {
        let step = state.global_step, adapter = model.adapter
        let micro = try microBatches(forStep: step)
        let targets = micro.reduce(0) { $0 + $1.targetCount }
        var lossSum: Double = 0, realTokens = 0
        for (i, pass) in passes(micro).enumerated() {
            let key = args.seed ^ TrainingRandom.mix(UInt64(step) &* 0x1_0000 &+ UInt64(i))
            lossSum += try model.forwardBackward(pass, lossDivisor: Double(max(targets, 1)), dropoutKey: key).lossSum
            realTokens += pass.reduce(0) { $0 + $1.realTokenCount }
        }
        let loss = lossSum / Double(max(targets, 1))
        let norm = clipGradientNorm(adapter, maxNorm: args.max_grad_norm)
        guard loss.isFinite, norm.isFinite else {
            adapter.zeroGradients()
            throw NonFiniteLossError(step: step + 1, loss: loss, gradNorm: norm)
        }
        let lr = schedule.learningRate(atStep: step)
        optimizer.step(learningRate: lr)
        adapter.zeroGradients()

        state.global_step += 1
        let microEnd = min((step % stepsPerEpoch + 1) * args.gradient_accumulation_steps, microBatchesPerEpoch)
        state.epoch = Double(step / stepsPerEpoch) + Double(microEnd) / Double(microBatchesPerEpoch)
        state.step_losses.append(loss)
        state.loss_since_log += loss
        if state.global_step % args.logging_steps == 0 {
            // transformers logs the mean of the step losses since the previous row
            let entry = LogEntry(step: state.global_step, epoch: state.epoch,
                                 loss: state.loss_since_log / Double(state.global_step - state.last_logged_step),
                                 grad_norm: norm, learning_rate: lr)
            state.total_loss += state.loss_since_log
            state.loss_since_log = 0
            state.last_logged_step = state.global_step
            state.log_history.append(entry)
            onLog(entry)
        }
        if !evalExamples.isEmpty && state.global_step % args.evaluationInterval == 0 { try evaluateAndTrack() }
        onStep(state.global_step, loss)
        return (loss, realTokens)
    }

    /// What the rest of a run should cost, measured before it starts.
    public struct Estimate: Sendable {
        /// Optimizer steps still to run.
        public var steps: Int
        /// Seconds for them, evaluations included: one pass timed now, scaled by the tokens of every pass.
        public var seconds: Double
        /// The pass that was timed: its tokens and seconds.
        public var measuredTokens: Int, measuredSeconds: Double
        /// The activation arena, sized for the largest pass of the run.
        public var activationBytes: Int
    }

    /// Times the first pass still to run (forward and backward, no dropout, the gradients thrown away: nothing
    /// changes) and scales it by the real tokens of every pass left, plus the evaluations (a forward only, about a
    /// third of a training pass). Sizes the activation arena for the run on the way.
    public func estimate() throws -> Estimate {
        let left = try (state.global_step..<state.max_steps).flatMap { passes(try microBatches(forStep: $0)) }
        let held = try evaluationBatches()
        model.reserveActivations(for: left + held.map { [$0] })
        guard let first = left.first else {
            return Estimate(steps: 0, seconds: 0, measuredTokens: 0, measuredSeconds: 0, activationBytes: model.activationBytes)
        }
        func tokens(_ pass: [TrainingBatch]) -> Int { pass.reduce(0) { $0 + $1.realTokenCount } }
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try model.forwardBackward(first, lossDivisor: 1, dropoutKey: nil)
        model.adapter.zeroGradients()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let perToken = seconds / Double(max(tokens(first), 1))
        let interval = args.evaluationInterval
        let evaluations = held.isEmpty ? 0 : state.max_steps / interval - state.global_step / interval
        let evalTokens = held.reduce(0) { $0 + $1.realTokenCount }
        let total = Double(left.reduce(0) { $0 + tokens($1) }) + Double(evaluations * evalTokens) / 3
        return Estimate(steps: state.max_steps - state.global_step, seconds: perToken * total, measuredTokens: tokens(first),
                        measuredSeconds: seconds, activationBytes: model.activationBytes)
    }

    /// Runs (or continues) training to `max_steps`. With `resumeFrom`, first restores that checkpoint.
    @discardableResult
    public func train(resumeFrom checkpoint: URL? = nil) throws -> TrainOutput {
        if let checkpoint { try loadCheckpoint(checkpoint) }
        let start = DispatchTime.now().uptimeNanoseconds
        let firstStep = state.global_step
        var realTokens = 0, interrupted = false, progressInfo = ""
        let bar = ProgressBar(total: state.max_steps, label: "train", unit: "step", startingAt: state.global_step)
        if showProgress { bar.update(state.global_step) }
        // The bar draws its last state itself; on a terminal it still needs its line ended (logs already have one).
        defer { if showProgress && (isatty(STDERR_FILENO) != 0 || state.global_step < state.max_steps) { bar.finish(info: progressInfo) } }
        model.adapter.zeroGradients()
        model.reserveActivations(for: try (state.global_step..<state.max_steps).flatMap { passes(try microBatches(forStep: $0)) }
                                      + evaluationBatches().map { [$0] })
        while state.global_step < state.max_steps && !state.stopped_early {
            if shouldStop() { interrupted = true; break }
            let (loss, tokens) = try optimizerStep()
            realTokens += tokens
            if args.save_steps > 0 && state.global_step % args.save_steps == 0 {
                try saveCheckpoint()
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            progressInfo = String(format: "loss %.4f | %.0f tok/s", loss, Double(realTokens) / max(elapsed, 1e-9))
            if showProgress { bar.update(state.global_step, info: progressInfo) }
        }
        // the run is over (all steps, or early stopping): the best evaluation's adapter goes back in
        var loadedBest = false
        if !interrupted, args.load_best_model_at_end, let best = bestAdapter {
            model.adapter.restore(best)
            loadedBest = true
        }
        let runtime = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let stepsRun = state.global_step - firstStep
        let samplesAll = args.max_steps > 0
            ? Double(args.max_steps * args.per_device_train_batch_size * args.gradient_accumulation_steps)
            : Double(fixedBatches.map { $0.reduce(0) { $0 + $1.batchSize } } ?? examples.count) * args.num_train_epochs
        let samples = samplesAll * Double(stepsRun) / Double(max(state.max_steps, 1))
        // transformers: the logged sums plus what was not logged yet, over the steps of this call.
        let runLosses = state.step_losses.suffix(stepsRun)
        return TrainOutput(global_step: state.global_step, train_runtime: runtime,
                           train_samples_per_second: runtime > 0 ? samples / runtime : 0,
                           train_steps_per_second: runtime > 0 ? Double(stepsRun) / runtime : 0,
                           train_loss: stepsRun > 0 ? runLosses.reduce(0, +) / Double(stepsRun) : 0,
                           epoch: state.epoch, tokens_per_second: runtime > 0 ? Double(realTokens) / runtime : 0,
                           stopped: interrupted, early_stopped: state.stopped_early, loaded_best: loadedBest)
    }
}
