import Foundation
import Testing
import Kernels
import Llama
import Training

struct TrainerTests {
    static func args(_ dir: URL, maxSteps: Int = 6) -> TrainingArguments {
        var a = TrainingArguments(output_dir: dir.path)
        a.max_steps = maxSteps
        a.per_device_train_batch_size = 2
        a.gradient_accumulation_steps = 2
        a.learning_rate = 5e-3
        a.warmup_steps = 2
        a.logging_steps = 1
        a.save_steps = 0
        a.seed = 11
        return a
    }

    static func trainer(_ args: TrainingArguments, examples: [TokenizedExample] = TinyLlama.examples(10), dropout: Double = 0.1) throws -> Trainer {
        let model = try TinyLlama.model(dropout: dropout)
        let t = try Trainer(model: model, args: args, examples: examples, padTokenId: 0)
        t.showProgress = false
        return t
    }

    static func values(_ t: Trainer) -> [[Float]] { t.model.adapter.snapshot() }

    @Test func schedulerIsLinearWarmupThenLinearDecay() {
        let s = LinearSchedule(baseLearningRate: 2e-4, warmupSteps: 10, totalSteps: 50)
        #expect(s.learningRate(atStep: 0) == 0)
        #expect(abs(s.learningRate(atStep: 5) - 1e-4) < 1e-12)
        #expect(abs(s.learningRate(atStep: 10) - 2e-4) < 1e-12)
        #expect(abs(s.learningRate(atStep: 30) - 1e-4) < 1e-12)
        #expect(s.learningRate(atStep: 50) == 0)
    }

    @Test func stepsLogsAndSummary() throws {
        var args = Self.args(TrainingPaths.scratch("log"))
        args.logging_steps = 2
        let t = try Self.trainer(args)
        #expect(t.microBatchesPerEpoch == 5 && t.stepsPerEpoch == 3)   // 10 rows, batch 2, accumulation 2
        var rows: [String] = []
        t.onLog = { rows.append($0.tableRow) }
        let out = try t.train()
        #expect(out.global_step == 6 && !out.stopped)
        #expect(t.state.log_history.map(\.step) == [2, 4, 6])
        #expect(rows.count == 3)
        // each logged loss is the mean of the step losses since the previous row
        let l = t.state.step_losses
        #expect(abs(t.state.log_history[1].loss - (l[2] + l[3]) / 2) < 1e-12)
        #expect(abs(out.train_loss - l.reduce(0, +) / 6) < 1e-12)
        #expect(t.state.epoch == 2)
        #expect(l.last! < l.first!)    // it learns
        #expect(out.summary.hasPrefix("{'train_runtime': "))
        let curve = LossCurve.render(l, width: 30, height: 6)
        #expect(curve.split(separator: "\n").count == 9)
    }

    /// The arena is sized before the first step for the largest pass of the run (here the longest rows
    /// come last), so no step allocates a larger one.
    @Test func activationArenaIsSizedOnceForTheWholeRun() throws {
        var args = Self.args(TrainingPaths.scratch("arena"), maxSteps: 9)
        args.max_tokens_per_pass = 40
        args.shuffle = false
        let examples = TinyLlama.examples(8, maxLen: 6) + TinyLlama.examples(4, maxLen: 30, seed: 9)
        let t = try Self.trainer(args, examples: examples)
        var bytes: [Int] = []
        t.onStep = { _, _ in bytes.append(t.model.activationBytes) }
        try t.train()
        #expect(bytes.count == 9 && Set(bytes).count == 1, "arena bytes per step: \(bytes)")
        // and it is the largest pass's size, not more: the model alone grows to the same size
        let fresh = try TinyLlama.model(dropout: 0.1)
        for step in 0..<9 {
            for pass in try t.microBatches(forStep: step).map({ [$0] }) { _ = try fresh.forwardBackward(pass, lossDivisor: 1) }
        }
        #expect(fresh.activationBytes <= bytes[0])
    }

    @Test func stopRequestKeepsTheTrainedState() throws {
        let t = try Self.trainer(Self.args(TrainingPaths.scratch("stop")))
        var calls = 0
        t.shouldStop = { calls += 1; return calls > 2 }
        let before = Self.values(t)
        let out = try t.train()
        #expect(out.stopped && out.global_step == 2)
        #expect(Self.values(t) != before)
    }

    /// Stopping after a checkpoint and resuming from it gives bit-identical adapter values and the same log
    /// as one uninterrupted run (dropout on, shuffling on, accumulation, warmup and decay).
    @Test func resumeEqualsUninterrupted() throws {
        let full = try Self.trainer(Self.args(TrainingPaths.scratch("full")))
        try full.train()

        let dir = TrainingPaths.scratch("resume")
        var args = Self.args(dir)
        args.save_steps = 2
        args.save_total_limit = 2
        let first = try Self.trainer(args)
        var steps = 0
        first.onStep = { s, _ in steps = s }
        first.shouldStop = { steps >= 4 }
        try first.train()
        #expect(Trainer.checkpoints(in: dir).map(\.lastPathComponent) == ["checkpoint-2", "checkpoint-4"])

        let second = try Self.trainer(args)   // a fresh process: new model, new optimizer
        let latest = try #require(Trainer.latestCheckpoint(in: dir))
        try second.train(resumeFrom: latest)
        #expect(Self.values(second) == Self.values(full))
        #expect(second.state.log_history == full.state.log_history)
        #expect(second.state.step_losses == full.state.step_losses)
        // save_total_limit 2 keeps the newest two
        #expect(Trainer.checkpoints(in: dir).map(\.lastPathComponent) == ["checkpoint-4", "checkpoint-6"])
        // resuming with other batching would replay other data: refused, naming the field
        var other = args
        other.per_device_train_batch_size = 1
        do {
            try Self.trainer(other).train(resumeFrom: latest)
            Issue.record("resume with another batch size was accepted")
        } catch {
            #expect("\(error)".contains("per_device_train_batch_size"))
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("checkpoint-6").path).sorted()
        #expect(files == ["adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors", "rng_state.json",
                          "scheduler.json", "trainer_state.json", "training_args.json", "training_run.json"])
    }

    @Test func nonFiniteLossStopsAndKeepsTheLastGoodState() throws {
        var args = Self.args(TrainingPaths.scratch("nan"), maxSteps: 4)
        args.warmup_steps = 0
        args.max_grad_norm = 0
        args.learning_rate = 1e30            // the first update blows the adapter up
        let t = try Self.trainer(args, dropout: 0)
        var afterStep1: [[Float]] = []
        t.onStep = { s, _ in if s == 1 { afterStep1 = Self.values(t) } }
        do {
            try t.train()
            Issue.record("training with lr 1e30 did not stop")
        } catch let e as NonFiniteLossError {
            #expect(e.step == 2)
            #expect(e.description.contains("step 2"))
            #expect(t.state.global_step == 1)
            #expect(Self.values(t) == afterStep1)
        }
    }

    @Test func badDatasetsAreClearErrors() throws {
        let args = Self.args(TrainingPaths.scratch("bad"))
        #expect(throws: LoraError.self) { try Self.trainer(args, examples: []) }
        let filtered = [TokenizedExample(input_ids: [1, 5, 6], labels: [-100, -100, -100])]
        #expect(throws: LoraError.self) { try Self.trainer(args, examples: filtered) }
        var fixed = args
        fixed.padding = .maxLength(8)
        do {
            _ = try Self.trainer(fixed, examples: TinyLlama.examples(4, maxLen: 8) + [TokenizedExample(input_ids: Array(1...9))])
            Issue.record("a row longer than max_length was accepted")
        } catch {
            #expect("\(error)".contains("example 4"))
        }
        // a run whose activations cannot fit is refused before it starts, with advice
        var huge = args
        huge.per_device_train_batch_size = 50_000_000
        do {
            _ = try Self.trainer(huge)
            Issue.record("a run needing far more memory than available was accepted")
        } catch {
            #expect("\(error)".contains("activations") && "\(error)".contains("gradient_checkpointing"))
        }
        var noSteps = args
        noSteps.gradient_accumulation_steps = 0
        #expect(throws: LoraError.self) { try Self.trainer(noSteps) }
    }

    /// A failing write (a full disk) while saving a checkpoint leaves no checkpoint folder and no temporary files.
    @Test func failedCheckpointWritesNothing() throws {
        let dir = TrainingPaths.scratch("full-disk")
        var args = Self.args(dir, maxSteps: 2)
        args.save_steps = 1
        let t = try Self.trainer(args)
        var written = 0
        t.writeFile = { data, url in
            written += 1
            if written == 5 { throw LoraError("\(url.path): No space left on device") }
            try data.write(to: url)
        }
        #expect(throws: LoraError.self) { try t.train() }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [])
        // an output_dir that is a file
        let file = TrainingPaths.scratch("file").appendingPathComponent("out")
        try Data("x".utf8).write(to: file)
        var bad = Self.args(file, maxSteps: 1)
        bad.save_steps = 1
        let t2 = try Self.trainer(bad)
        do {
            try t2.train()
            Issue.record("saving into a file path succeeded")
        } catch {
            #expect("\(error)".contains(file.path))
        }
    }
}
