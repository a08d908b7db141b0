import Foundation
import Testing
import Kernels
import Llama
import Training

// Issue 19: the validation loss on held-out rows, the best adapter kept, early stopping, and resume with all three.

@Suite struct ValidationTests {
    /// Held-out rows: a prompt masked with -100 and an answer, as mode=default makes them, of several lengths.
    static func heldOut(_ n: Int, seed: UInt64 = 99) -> [TokenizedExample] {
        TinyLlama.examples(n, maxLen: 16, seed: seed).map { ex in
            let cut = max(1, ex.input_ids.count / 2)
            return TokenizedExample(input_ids: ex.input_ids, labels: ex.input_ids.enumerated().map { $0.offset < cut ? -100 : $0.element })
        }
    }

    static func trainer(_ args: TrainingArguments, eval: [TokenizedExample], dropout: Double = 0.1,
                        examples: [TokenizedExample] = TinyLlama.examples(10)) throws -> Trainer {
        let t = try Trainer(model: try TinyLlama.model(dropout: dropout), args: args, examples: examples,
                            padTokenId: 0, evalExamples: eval)
        t.showProgress = false
        return t
    }

    /// Σ −log softmax(logits[t])[labels[t+1]] over the targets, / their count: from the logits, in Double, one row at a time.
    static func independentLoss(_ model: LoraModel, _ rows: [TokenizedExample]) throws -> Double {
        var sum = 0.0, count = 0
        let V = model.config.vocab_size
        for row in rows {
            let logits = try model.logits(try TrainingBatch(input_ids: [row.input_ids], labels: [row.labels]))
            for t in 0..<(row.input_ids.count - 1) where row.labels[t + 1] != -100 {
                let z = logits[(t * V)..<((t + 1) * V)].map(Double.init)
                let top = z.max()!
                let logSum = log(z.reduce(0) { $0 + exp($1 - top) }) + top
                sum += logSum - z[row.labels[t + 1]]
                count += 1
            }
        }
        return sum / Double(count)
    }

    @Test func validationLossIsTheHeldOutRowsLossWithNoUpdate() throws {
        var args = TrainerTests.args(TrainingPaths.scratch("eval"), maxSteps: 4)
        args.eval_steps = 2
        args.per_device_eval_batch_size = 3   // batches of 3, 3, 1: the loss does not depend on the batching
        let eval = Self.heldOut(7)
        let t = try Self.trainer(args, eval: eval)
        var seen: [(step: Int, loss: Double, independent: Double)] = []
        t.onEval = { entry in seen.append((entry.step, entry.eval_loss, (try? Self.independentLoss(t.model, eval)) ?? .nan)) }
        let before = t.model.adapter.snapshot()
        let first = try t.evaluate()
        #expect(t.model.adapter.snapshot() == before)   // no update
        #expect(abs(first.eval_loss - (try Self.independentLoss(t.model, eval))) < 1e-5)
        try t.train()
        #expect(seen.map(\.step) == [2, 4] && t.state.eval_history.map(\.step) == [2, 4])
        for s in seen { #expect(abs(s.loss - s.independent) < 1e-5, "step \(s.step): \(s.loss) vs \(s.independent)") }
        // trainer_state.json's log_history in transformers' layout: a training row, then the evaluation of its step
        let dir = try t.saveCheckpoint()
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("trainer_state.json"))) as! [String: Any]
        let history = state["log_history"] as! [[String: Any]]
        #expect(history.map { $0["step"] as! Int } == [1, 2, 2, 3, 4, 4])
        #expect(history[2]["eval_loss"] != nil && history[2]["loss"] == nil && history[1]["loss"] != nil)
        #expect(state["best_metric"] as? Double == t.state.best_metric && state["best_global_step"] as? Int == t.state.best_global_step)
    }

    /// Rows that teach one token everywhere and a high learning rate: the held-out loss rises. Early
    /// stopping counts evaluations without an improvement and stops at the patience-th, and the adapter put back
    /// is the one of the best evaluation.
    @Test func earlyStoppingStopsAtThePatienceAndTheBestAdapterComesBack() throws {
        var args = TrainerTests.args(TrainingPaths.scratch("early"), maxSteps: 30)
        args.learning_rate = 0.05
        args.warmup_steps = 0
        args.eval_steps = 2
        args.early_stopping_patience = 2
        args.load_best_model_at_end = true
        let same = [TokenizedExample](repeating: TokenizedExample(input_ids: [1] + [Int](repeating: 7, count: 12)), count: 10)
        let t = try Self.trainer(args, eval: Self.heldOut(6), examples: same)
        var adapters: [Int: [[Float]]] = [:]
        t.onEval = { adapters[$0.step] = t.model.adapter.snapshot() }
        let out = try t.train()
        let losses = t.state.eval_history.map(\.eval_loss)
        // where the patience runs out, counted here from the losses alone
        var best = Double.infinity, without = 0, stopAt: Int?
        for (i, l) in losses.enumerated() {
            if l < best { best = l; without = 0 } else { without += 1 }
            if without >= 2 { stopAt = t.state.eval_history[i].step; break }
        }
        print("eval losses \(losses.map { String(format: "%.3f", $0) }), stopped at \(t.state.global_step)")
        #expect(stopAt != nil && out.early_stopped && t.state.global_step == stopAt && t.state.global_step < 30)
        let bestStep = t.state.eval_history[losses.firstIndex(of: losses.min()!)!].step
        #expect(t.state.best_global_step == bestStep && bestStep < t.state.global_step)
        #expect(out.loaded_best && t.model.adapter.snapshot() == adapters[bestStep])
    }

    /// Stopped after a checkpoint and resumed: the same evaluations, the same best adapter put back, the same
    /// final values as one uninterrupted run (dropout on).
    @Test func resumeWithEvaluationEqualsUninterrupted() throws {
        func args(_ dir: URL) -> TrainingArguments {
            var a = TrainerTests.args(dir, maxSteps: 8)
            a.learning_rate = 0.05
            a.eval_steps = 2
            a.load_best_model_at_end = true
            a.early_stopping_patience = 3
            return a
        }
        let full = try Self.trainer(args(TrainingPaths.scratch("eval-full")), eval: Self.heldOut(5))
        try full.train()

        let dir = TrainingPaths.scratch("eval-resume")
        var a = args(dir)
        a.save_steps = 2
        let first = try Self.trainer(a, eval: Self.heldOut(5))
        var steps = 0
        first.onStep = { s, _ in steps = s }
        first.shouldStop = { steps >= 4 }
        let stopped = try first.train()
        #expect(stopped.stopped && !stopped.loaded_best)   // a stop is not the end: nothing is put back yet
        let second = try Self.trainer(a, eval: Self.heldOut(5))
        try second.train(resumeFrom: try #require(Trainer.latestCheckpoint(in: dir)))
        #expect(second.state.eval_history.map(\.eval_loss) == full.state.eval_history.map(\.eval_loss))
        #expect(second.state.best_global_step == full.state.best_global_step)
        #expect(second.model.adapter.snapshot() == full.model.adapter.snapshot())
    }

    @Test func settingsThatNeedHeldOutRowsSaySo() throws {
        var args = TrainerTests.args(TrainingPaths.scratch("no-eval"))
        args.load_best_model_at_end = true
        do {
            _ = try Self.trainer(args, eval: [])
            Issue.record("load_best_model_at_end without rows was accepted")
        } catch {
            #expect("\(error)".contains("load_best_model_at_end=true needs held-out rows"))
        }
        #expect(LossTableRow(step: 10, training: 2.9834, validation: nil).text(validation: true) == "  10 | 2.983400 | No log")
        #expect(LossTableRow(step: 2, validation: 3.5).text(validation: true) == "   2 | No log   | 3.500000")
        #expect(LossTableRow(step: 10, training: 2.9834).text(validation: false) == "  10 | 2.983400")
    }
}
