import Foundation
import Kernels
import Support
import Weights

// Checkpoints: output_dir/checkpoint-N holds the adapter (peft layout), the optimizer moments, the scheduler,
// the generator state and trainer_state.json. A checkpoint is one AtomicFolder write, so a failure (a full disk)
// or a kill leaves no half-written checkpoint-N behind, and the next one removes what it left.

extension Trainer {
    public static let checkpointPrefix = "checkpoint-"

    /// The checkpoint folders of `outputDir`, oldest first (by step number).
    public static func checkpoints(in outputDir: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outputDir.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix(checkpointPrefix), let n = Int(name.dropFirst(checkpointPrefix.count)) else { return nil }
            return (n, outputDir.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The newest checkpoint of `outputDir`, or nil.
    public static func latestCheckpoint(in outputDir: URL) -> URL? { checkpoints(in: outputDir).last }

    /// Writes `output_dir/checkpoint-<global_step>` and removes checkpoints beyond `save_total_limit`.
    @discardableResult
    public func saveCheckpoint() throws -> URL {
        let out = URL(fileURLWithPath: args.output_dir)
        let fm = FileManager.default
        try FileSystemError.attempt("cannot create output_dir", path: out.path) {
            try fm.createDirectory(at: out, withIntermediateDirectories: true)
        }
        let final = out.appendingPathComponent("\(Self.checkpointPrefix)\(state.global_step)")
        // What an interrupted checkpoint left, whatever its step (this write cleans its own place too).
        WriteTemporaries.removeStale(in: out) { $0.hasPrefix(Self.checkpointPrefix) }
        do {
            try AtomicFolder.write(to: final, what: "the checkpoint folder") { temp in try writeCheckpointFiles(into: temp) }
        } catch {
            throw LoraError("saving checkpoint \(final.lastPathComponent) failed, nothing was written: \(error)")
        }
        if let limit = args.save_total_limit {
            for old in Self.checkpoints(in: out).dropLast(limit) { try? fm.removeItem(at: old) }
        }
        return final
    }

    /// The files of a checkpoint, written with `writeFile` into the folder `temp`.
    private func writeCheckpointFiles(into temp: URL) throws {
        let adapter = model.adapter
        try writeFile(try adapter.peftWeightsData(), temp.appendingPathComponent(LoraAdapter.weightsFileName))
        try writeFile(Data(adapter.peftConfigJSON().utf8), temp.appendingPathComponent(LoraAdapter.configFileName))
        try writeFile(try optimizerData(), temp.appendingPathComponent("optimizer.safetensors"))
        if let best = bestAdapter {   // load_best_model_at_end: the best evaluation's adapter, for a resumed run
            try writeFile(try adapter.peftWeightsData(values: best), temp.appendingPathComponent(Self.bestAdapterFileName))
        }
        let scheduler: [String: Any?] = ["last_epoch": state.global_step, "base_lrs": [args.learning_rate] as [Any?],
                                         "_last_lr": [schedule.learningRate(atStep: state.global_step)] as [Any?],
                                         "warmup_steps": schedule.warmupSteps, "total_steps": schedule.totalSteps,
                                         "optimizer_step": optimizer.stepCount]
        try writeFile(Data(JSONText.encode(scheduler).utf8), temp.appendingPathComponent("scheduler.json"))
        // Every random draw is a function of (seed, epoch) or (seed, step, micro-batch): the step is the state.
        let rng: [String: Any?] = ["seed": Int(truncatingIfNeeded: args.seed), "global_step": state.global_step,
                                   "generator": "splitmix64, counter-based per (seed, step, micro-batch) and (seed, epoch)"]
        try writeFile(Data(JSONText.encode(rng).utf8), temp.appendingPathComponent("rng_state.json"))
        try writeFile(Data(JSONText.encode(state.dictionary(args: args)).utf8), temp.appendingPathComponent(Self.stateFileName))
        try writeFile(Data(trainingRunJSON().utf8), temp.appendingPathComponent(Self.runFileName))
        try writeFile(Data(JSONText.encode(args.dictionary).utf8), temp.appendingPathComponent("training_args.json"))
    }

    /// transformers' `trainer_state.json` (the log in its layout, medrepl's exact running sums beside it).
    public static let stateFileName = "trainer_state.json"
    /// What made the run: `runRecord` (the files and rows the caller names), the arguments, the LoRA settings, the
    /// seed, the step reached, medrepl's version and the CPU kernel level.
    public static let runFileName = "training_run.json"

    /// `trainer_state.json` as it stands now.
    public func trainerStateJSON() -> String { JSONText.encode(state.dictionary(args: args)) }

    /// Both record files as they stand now, to save beside the adapter later without keeping the trainer (its
    /// optimizer moments and rows) alive.
    public func record() -> TrainingRecord { TrainingRecord(trainerState: trainerStateJSON(), trainingRun: trainingRunJSON()) }

    /// `training_run.json` as it stands now (see `runRecord`).
    public func trainingRunJSON() -> String {
        var record = runRecord
        record["medrepl_version"] = runRecordVersion
        record["kernel_level"] = KernelLevel.current.description
        record["cpu"] = CPUInfo.current.brand
        record["training_arguments"] = TrainingArguments.settings.dictionary(args)
        record["lora"] = LoraConfig.settings.dictionary(model.adapter.config)
        record["seed"] = Int(truncatingIfNeeded: args.seed)
        record["global_step"] = state.global_step
        record["max_steps"] = state.max_steps
        record["best_global_step"] = state.best_global_step
        return JSONText.encode(record)
    }

    /// The best evaluation's adapter in a checkpoint (peft's tensor names), when `load_best_model_at_end` kept one.
    public static let bestAdapterFileName = "best_adapter_model.safetensors"

    /// A resumed run must see the same data in the same order and draw the same dropout masks: refuse a checkpoint
    /// made with other batching, passes or seed.
    private func checkSameRun(_ dir: URL) throws {
        let url = dir.appendingPathComponent("training_args.json")
        let saved = try JSONFile.readObject(url, operation: "cannot read the checkpoint's training arguments")
        let current = args.dictionary
        for field in ["per_device_train_batch_size", "gradient_accumulation_steps", "seed", "shuffle", "padding_max_length",
                      "max_tokens_per_pass"] {
            let mine = current[field] ?? nil, theirs = saved[field]
            let same: Bool
            switch (mine, theirs) {
            case (nil, nil), (nil, is NSNull): same = true
            case (let a as Int, let b as NSNumber): same = a == b.intValue
            case (let a as Bool, let b as NSNumber): same = a == b.boolValue
            default: same = false
            }
            guard same else {
                throw LoraError("\(url.path): \(field) was \(theirs ?? "null") when the checkpoint was made, now \(mine.map { "\($0)" } ?? "null"): resume needs the same value")
            }
        }
    }

    private func optimizerData() throws -> Data {
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        for (i, t) in model.adapter.namedTensors().enumerated() {
            tensors.append((t.key + ".exp_avg", t.shape, optimizer.exp_avg[i].array))
            tensors.append((t.key + ".exp_avg_sq", t.shape, optimizer.exp_avg_sq[i].array))
        }
        var w = SafetensorsWriter(metadata: ["format": "pt"])
        for t in tensors { try w.add(t.name, shape: t.shape, floats: t.values) }
        return w.serialized()
    }

    /// Restores adapter values, optimizer moments and step, and the trainer state from a checkpoint folder.
    public func loadCheckpoint(_ dir: URL) throws {
        let stateURL = dir.appendingPathComponent("trainer_state.json")
        let stateData = try JSONFile.read(stateURL, operation: "cannot read the trainer state (not a checkpoint folder?)")
        let restored = try TrainerState(json: stateData, file: stateURL.path)
        guard restored.max_steps == state.max_steps else {
            throw LoraError("\(stateURL.path): the checkpoint was made for max_steps \(restored.max_steps), these arguments give \(state.max_steps)")
        }
        try checkSameRun(dir)
        let saved = try LoraAdapter.load(from: dir, model: model.config)
        let adapter = model.adapter
        guard saved.modules.count == adapter.modules.count, saved.config.r == adapter.config.r, saved.targets == adapter.targets else {
            throw LoraError("\(dir.path): the checkpoint's adapter (r \(saved.config.r), \(saved.targets.map(\.rawValue))) differs from the model's")
        }
        let optURL = dir.appendingPathComponent("optimizer.safetensors")
        let opt = try SafetensorsFile(url: optURL)
        for (i, t) in adapter.namedTensors().enumerated() {
            for (suffix, buffer) in [(".exp_avg", optimizer.exp_avg[i]), (".exp_avg_sq", optimizer.exp_avg_sq[i])] {
                let v = try opt.floats(t.key + suffix)
                guard v.count == buffer.count else { throw LoraError("\(optURL.path): \(t.key + suffix) has \(v.count) values, expected \(buffer.count)") }
                v.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: buffer.count) }
            }
        }
        var best: [[Float]]? = nil
        let bestURL = dir.appendingPathComponent(Self.bestAdapterFileName)
        if FileManager.default.fileExists(atPath: bestURL.path) {
            let file = try SafetensorsFile(url: bestURL)
            best = try adapter.namedTensors().map { t in
                let v = try file.floats(t.key)
                guard v.count == t.values.count else { throw LoraError("\(bestURL.path): \(t.key) has \(v.count) values, expected \(t.values.count)") }
                return v
            }
        }
        adapter.restore(saved.snapshot())
        optimizer.stepCount = restored.global_step
        state = restored
        bestAdapter = best
    }
}

/// What a run wrote about itself at its end: `trainer_state.json` and `training_run.json`, as text.
public struct TrainingRecord: Sendable, Equatable {
    public var trainerState: String
    public var trainingRun: String

    /// Writes both files into `directory`; returns their names.
    public func write(into directory: URL) throws -> [String] {
        try AtomicFile.write(Data(trainerState.utf8), to: directory.appendingPathComponent(Trainer.stateFileName))
        try AtomicFile.write(Data(trainingRun.utf8), to: directory.appendingPathComponent(Trainer.runFileName))
        return [Trainer.stateFileName, Trainer.runFileName]
    }
}
