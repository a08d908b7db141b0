import Datasets
import Evaluation
import Foundation
import Language
import Support
import Training

/// One point of a sweep's grid: the settings a run changes from the base `lora_config` and `training_args`.
struct SweepSettings: Codable, Equatable, Hashable {
    var learning_rate: Double
    var r: Int
    var lora_alpha: Double
    var num_train_epochs: Double
    var lora_dropout: Double
    /// The training rows by their answers' format (`sentence`, `bare`, `self`; `2:bare` when two sets share one).
    var answers: String?
    var target_modules: [String]?

    var text: String {
        "learning_rate=\(Value.format(learning_rate)) r=\(r) lora_alpha=\(Value.format(lora_alpha)) "
            + "num_train_epochs=\(Value.format(num_train_epochs)) lora_dropout=\(Value.format(lora_dropout))"
            + (answers.map { " answers=\($0)" } ?? "") + (target_modules.map { " target_modules=" + Self.modules($0) } ?? "")
    }

    /// `q,k,v,o,gate,up,down` (the projections without `_proj`).
    static func modules(_ names: [String]) -> String {
        names.map { $0.hasSuffix("_proj") ? String($0.dropLast(5)) : $0 }.joined(separator: ",")
    }
}

/// A finished run of a sweep: its settings and how it scored on the validation rows.
struct SweepRecord: Codable, Equatable {
    var settings: SweepSettings
    var correct: Int
    var n: Int
    var answerLoss: Double
    var improved: Int
    var regressed: Int
    var trainLoss: Double
    var seconds: Double

    var accuracy: WilsonInterval { WilsonInterval(successes: correct, n: n) }
    var mcnemarP: Double { ModelComparison.mcnemarExactP(improved: improved, regressed: regressed) }
}

/// What `sweep` returns: the runs, best first, and the best settings as objects to train with.
public final class SweepObject: LiveObject {
    let records: [SweepRecord]
    let baseAccuracy: WilsonInterval
    let baseLoss: Double
    let bestLora: LoraConfig
    let bestArgs: TrainingArguments
    /// The training rows the best run trained on (one of TOKENS).
    let bestTokens: TokenizedDatasetObject

    init(records: [SweepRecord], baseAccuracy: WilsonInterval, baseLoss: Double, bestLora: LoraConfig, bestArgs: TrainingArguments,
         bestTokens: TokenizedDatasetObject) {
        self.records = records; self.baseAccuracy = baseAccuracy; self.baseLoss = baseLoss
        self.bestLora = bestLora; self.bestArgs = bestArgs; self.bestTokens = bestTokens
    }

    public var typeName: String { "Sweep" }
    public var summary: String {
        guard let best = records.first else { return "no finished runs" }
        return "\(records.count) run\(records.count == 1 ? "" : "s"); best \(best.settings.text): \(best.accuracy) against the base's \(baseAccuracy)"
    }
    public var fieldNames: [String] { ["runs", "best_lora", "best_args", "best_tokens", "table"] }
    public func field(_ name: String) -> Value? {
        switch name {
        case "runs": return .int(records.count)
        case "best_lora": return .object(LoraConfigObject(bestLora))
        case "best_args": return .object(TrainingArgumentsObject(bestArgs))
        case "best_tokens": return .object(bestTokens)
        case "table": return .string(table)
        default: return nil
        }
    }

    /// The runs, best first, under a line for the base model.
    var table: String {
        func cell(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        let accuracyWidth = ([baseAccuracy] + records.map(\.accuracy)).map { "\($0)".count }.max() ?? 10
        let answersWidth = max(7, records.map { ($0.settings.answers ?? "").count }.max() ?? 0)
        let modulesWidth = max(7, records.map { SweepSettings.modules($0.settings.target_modules ?? []).count }.max() ?? 0)
        var lines = ["rank | learning_rate | r   | alpha | epochs | dropout | " + cell("answers", answersWidth) + " | "
                     + cell("modules", modulesWidth) + " | " + cell("accuracy", accuracyWidth)
                     + " | answer loss | vs base | p     | train loss | time",
                     "base |               |     |       |        |         | " + cell("", answersWidth) + " | " + cell("", modulesWidth)
                     + " | " + cell("\(baseAccuracy)", accuracyWidth)
                     + " | " + String(format: "%11.4f", baseLoss) + " |         |       |            |"]
        for (i, r) in records.enumerated() {
            let s = r.settings
            lines.append(cell("\(i + 1)", 4) + " | " + cell(Value.format(s.learning_rate), 13) + " | " + cell("\(s.r)", 3) + " | "
                         + cell(Value.format(s.lora_alpha), 5) + " | " + cell(Value.format(s.num_train_epochs), 6) + " | "
                         + cell(Value.format(s.lora_dropout), 7) + " | " + cell(s.answers ?? "", answersWidth) + " | "
                         + cell(SweepSettings.modules(s.target_modules ?? []), modulesWidth) + " | " + cell("\(r.accuracy)", accuracyWidth) + " | "
                         + String(format: "%11.4f | %7@ | %5.3f | %10.4f | %.0f s", r.answerLoss, "+\(r.improved) -\(r.regressed)" as NSString,
                                  r.mcnemarP, r.trainLoss, r.seconds))
        }
        return lines.joined(separator: "\n")
    }
}

extension VerbGroup {
    /// `sweep MODEL TOKENS VALIDATION`: short trainings over a grid of settings, each scored on validation rows.
    static var sweepVerb: Verb {
        Verb("sweep", summary: "Train short runs over a grid of settings from one base, score each on validation rows, and return the best settings.",
             details: "Each run starts from a fresh adapter (the `lora=` settings, default lora_config's) and trains on TOKENS with the "
                + "`args=` arguments (default: the notebook's, batch 1, accumulation 4, warmup 10, 1 epoch), changed by the lists given: "
                + "learning_rate=[...], r=[...], lora_alpha=[...] (default 2·r for each r), num_train_epochs=[...], lora_dropout=[...], "
                + "target_modules=[[...], [...]]; TOKENS may be a list of tokenized sets to try, e.g. the same rows with bare and "
                + "sentence answers (each is named by its answer_format); "
                + "every combination, or sample=N of them drawn with the session's seed. Each is scored on the first `limit` validation "
                + "rows with the careful protocol (accuracy with its interval, the answers' loss, questions gained and lost against the "
                + "base model and McNemar's p); keep the test rows out of it. The table is sorted by `metric`; `best_lora`, `best_args` and `best_tokens` "
                + "of the result train the winner. budget=SECONDS starts no run that would end past it; Ctrl-C stops the "
                + "run in progress and keeps the finished ones; output=FILE keeps finished runs as JSON lines and resume=true skips "
                + "those in it; adapters=DIR keeps each run's adapter (run-1, run-2, ...). The model's own adapter is put back at the end.",
             positional: [Parameter("model", .object("Model"), help: "the base model"),
                          Parameter("tokens", .any, help: "the training rows, from tokenize_dataset, or a list of such sets to try",
                                    completion: .objects(type: "TokenizedDataset")),
                          Parameter("data", .any, help: "validation rows: a Dataset or a JSON/JSONL file (not the test rows)",
                                    completion: .path(extensions: ["json", "jsonl"]))],
             keywords: [
                Parameter("lora", .object("LoraConfig"), optional: true, help: "the LoRA settings runs start from (default: lora_config's)"),
                Parameter("args", .object("TrainingArguments"), optional: true, help: "the training arguments runs start from (default: the notebook's)"),
                Parameter("learning_rate", .list, optional: true, help: "learning rates to try"),
                Parameter("r", .list, optional: true, help: "ranks to try"),
                Parameter("lora_alpha", .list, optional: true, help: "alphas to try (default: 2·r for each r)"),
                Parameter("num_train_epochs", .list, optional: true, help: "epochs to try"),
                Parameter("lora_dropout", .list, optional: true, help: "dropouts to try"),
                Parameter("target_modules", .list, optional: true, help: "lists of modules to try, as in [[\"q_proj\", \"v_proj\"], [\"all-linear\"]]"),
                Parameter("sample", .int, optional: true, help: "try this many combinations drawn at random instead of all"),
                Parameter("limit", .int, default: .int(100), help: "validation rows scored per run"),
                Parameter("metric", .choice(["accuracy", "answer_loss"]), default: .string("accuracy"),
                          help: "sort by accuracy (then answer loss), or by answer loss"),
                Parameter("budget", .double, optional: true, help: "seconds: no run starts that would end after them"),
                Parameter("output", .path, optional: true, help: "JSON Lines file of finished runs, written as each ends"),
                Parameter("resume", .bool, default: .bool(false), help: "skip the runs already in output="),
                Parameter("adapters", .path, optional: true, help: "folder to keep each run's adapter in (default: discarded)"),
             ] + selectionKeywords.filter { $0.name != "train_rows" } + samplingKeywords + carefulKeywords,
             examples: ["best = sweep model tokens validation learning_rate=[2e-4, 5e-5, 2e-5] r=[8, 16] budget=1800",
                        "best = sweep model [bare, sentences] validation learning_rate=[2e-4, 5e-5] limit=77",
                        "best = sweep model tokens validation learning_rate=[1e-4, 2e-5] output=sweep.jsonl resume=true"]) { inv, session in
            try runSweep(inv, session)
        }
    }

    /// What `lora_config` with no options gives: the notebook's adapter, seeded by the session.
    static func defaultLoraConfig(_ session: Session) -> LoraConfig {
        var config = LoraConfig.notebook
        config.seed = UInt64(session.seed)
        return config
    }

    /// TOKENS: one tokenized set, or a list of them, each labelled by its answer format (`2:bare` when two share one).
    static func tokenSets(_ inv: Invocation) throws -> [(label: String, set: TokenizedDatasetObject)] {
        let value = inv.value("tokens")
        let items: [Value]
        if case .list(let list) = value { items = list } else { items = [value] }
        let sets = try items.map { item -> TokenizedDatasetObject in
            guard case .object(let o) = item, let set = o as? TokenizedDatasetObject else {
                throw inv.error("TOKENS must be tokenized rows (tokenize_dataset) or a list of them, not \(item.typeName)", at: "tokens",
                                hint: "tokens = tokenize_dataset texts model")
            }
            guard !set.examples.isEmpty else { throw inv.error("the training rows are empty", at: "tokens") }
            return set
        }
        guard !sets.isEmpty else { throw inv.error("the list of training sets is empty", at: "tokens") }
        let formats = sets.map(\.answerFormat)
        return sets.enumerated().map { i, set in
            (formats.filter { $0 == set.answerFormat }.count > 1 ? "\(i + 1):\(set.answerFormat)" : set.answerFormat, set)
        }
    }

    static func runSweep(_ inv: Invocation, _ session: Session) throws -> Value {
        let model = try inv.object("model", as: ModelObject.self)
        let tokenSets = try tokenSets(inv)
        /// The set a run trains on: the one its `answers` names (the only one when TOKENS is not a list).
        func trainingRows(_ s: SweepSettings) -> TokenizedDatasetObject { tokenSets.first { $0.label == s.answers }?.set ?? tokenSets[0].set }
        let tokenizer = try model.requireTokenizer()
        let validation = try dataset(inv, session)
        let trainedOn = Set(tokenSets.flatMap(\.set.questions))
        let overlap = validation.rows.filter { trainedOn.contains($0.question) }.count
        if overlap > 0 { session.writeLine("note: \(overlap) validation rows are also training rows; their scores are not held-out") }

        // The base settings and the grid.
        var baseLora = try inv.has("lora") ? inv.object("lora", as: LoraConfigObject.self).config : defaultLoraConfig(session)
        baseLora.base_model_name_or_path = baseLora.base_model_name_or_path ?? model.source
        var baseArgs: TrainingArguments
        if inv.has("args") {
            baseArgs = try inv.object("args", as: TrainingArgumentsObject.self).arguments
        } else {
            baseArgs = .notebook(output_dir: NSTemporaryDirectory() + "medrepl-sweep")
        }
        baseArgs.save_steps = 0
        func numbers(_ name: String) throws -> [Double]? {
            guard inv.has(name) else { return nil }
            let list = try inv.list(name)
            let values = list.compactMap(\.number)
            guard values.count == list.count, !values.isEmpty else { throw inv.error("\(name)= needs a list of numbers, as in \(name)=[1, 2]", at: name) }
            return values
        }
        let rates = try numbers("learning_rate") ?? [baseArgs.learning_rate]
        let ranks = try numbers("r").map { try $0.map { r -> Int in
            guard r == r.rounded(), abs(r) < 1e9 else { throw inv.error("r must be a whole number, got \(Value.format(r))", at: "r") }
            return Int(r)
        } } ?? [baseLora.r]
        let alphas = try numbers("lora_alpha")
        let epochs = try numbers("num_train_epochs") ?? [baseArgs.num_train_epochs]
        let dropouts = try numbers("lora_dropout") ?? [baseLora.lora_dropout]
        // each value of an axis in its setting's range: "learning_rate must be a finite number >= 0, got -1.0"
        func check<Root>(_ table: SettingsTable<Root>, _ name: String, _ values: [SettingValue]) throws {
            for v in values {
                do { try table[name]?.check(v) } catch let error as SettingError { throw inv.error(error.description, at: name) }
            }
        }
        try check(LoraConfig.settings, "r", ranks.map { .int($0) })
        try check(TrainingArguments.settings, "learning_rate", rates.map { .double($0) })
        for e in epochs {
            var args = baseArgs
            args.num_train_epochs = e
            do { try args.validate() } catch let error as SettingError { throw inv.error(error.description, at: error.name) }
        }
        try check(LoraConfig.settings, "lora_dropout", dropouts.map { .double($0) })
        try check(LoraConfig.settings, "lora_alpha", (alphas ?? []).map { .double($0) })
        var moduleLists: [[String]?] = [nil]
        if inv.has("target_modules") {
            moduleLists = try inv.list("target_modules").map { item -> [String]? in
                guard case .list(let names) = item, !names.isEmpty, names.allSatisfy({ if case .string = $0 { return true }; return false }) else {
                    throw inv.error("target_modules= needs a list of module lists, as in target_modules=[[\"q_proj\", \"v_proj\"], [\"all-linear\"]]",
                                    at: "target_modules")
                }
                var check = baseLora
                check.target_modules = names.map(\.text)
                do { _ = try LoraConfig(r: check.r, lora_alpha: check.lora_alpha, target_modules: check.target_modules) } catch let e as LoraError {
                    throw inv.error(e.description, at: "target_modules")
                }
                return check.target_modules
            }
        }
        var grid: [SweepSettings] = []
        for set in tokenSets { for modules in moduleLists {
        for lr in rates { for r in ranks { for a in alphas ?? [inv.has("r") ? Double(2 * r) : baseLora.lora_alpha] {
            for e in epochs { for d in dropouts {
                grid.append(SweepSettings(learning_rate: lr, r: r, lora_alpha: a, num_train_epochs: e, lora_dropout: d,
                                          answers: tokenSets.count > 1 ? set.label : nil, target_modules: modules))
            } }
        } } }
        } }
        if let k = try inv.optionalInt("sample") {
            guard k >= 1 else { throw inv.error("sample must be at least 1, got \(k)", at: "sample") }
            if k < grid.count {
                var random = PythonRandom(seed: session.seed)
                grid = try random.sample(grid, k: k)
            }
        }

        // Runs already finished (resume=true), from output=.
        let output = try inv.optionalString("output").map { session.resolvePath($0).path }
        var records: [SweepRecord] = []
        if try inv.bool("resume") {
            guard let output else { throw inv.error("resume=true reads the runs kept in output=", at: "resume", hint: "add output=FILE") }
            if let text = try? String(contentsOfFile: output, encoding: .utf8) {
                for (i, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
                    guard let record = try? JSONDecoder().decode(SweepRecord.self, from: Data(line.utf8)) else {
                        throw inv.error("\(output):\(i + 1): not a run this sweep wrote", at: "output", hint: "give another output= or resume=false")
                    }
                    records.append(record)
                }
            }
            let done = Set(records.map(\.settings))
            let skipped = grid.filter { done.contains($0) }.count
            if skipped > 0 { session.writeLine("resuming: \(skipped) of \(grid.count) runs are already in \(try inv.string("output"))") }
            grid.removeAll { done.contains($0) }
        }
        func keep() throws {
            guard let output else { return }
            let lines = try records.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: output)
        }

        // The base model once: what each run is compared with.
        let original = model.lora, originalQuestions = model.trainedQuestions, originalMode = model.trainedMode
        defer { model.lora = original; model.trainedQuestions = originalQuestions; model.trainedMode = originalMode }
        let (prompt, special) = try carefulPrompt(inv, tokenizer)
        var careful = try carefulEvaluation(inv, session, prompt: prompt)
        careful.limit = min(try positive(inv, "limit"), validation.count)
        careful.showProgress = false
        let flag = CancellationFlag(poll: { session.takeInterrupt() })
        func score(_ label: String) throws -> (EvaluationRun, AnswerLoss)? {
            let run = try careful.run(test: validation, generator: try makeGenerator(model, addSpecialTokens: special) { _ in },
                                      cancellation: flag, label: label)
            guard !flag.isCancelled else { return nil }
            guard !run.examples.isEmpty else { throw failure(run) }
            let loss = try measureLoss(session, model, tokenizer, validation, run.examples.map(\.index), prompt, "", special, flag, label: "loss")
            return flag.isCancelled ? nil : (run, loss)
        }
        model.lora = nil
        let sizes = tokenSets.map(\.set.examples.count)
        let rowsText = Set(sizes).count == 1 ? "\(sizes[0]) training rows" + (sizes.count > 1 ? " (\(tokenSets.map(\.label).joined(separator: ", ")))" : "")
            : zip(tokenSets, sizes).map { "\($1) (\($0.label))" }.joined(separator: " or ") + " training rows"
        session.writeLine("sweep: \(grid.count) run\(grid.count == 1 ? "" : "s") on \(rowsText), "
                          + "each scored on \(careful.limit!) validation rows; the base model first")
        guard let (baseRun, baseLoss) = try score("base") else {
            session.writeLine("interrupted before the first run")
            throw CancelledError()
        }

        let budget = try inv.optionalDouble("budget")
        let started = Date()
        let bar = ProgressBar.enabled ? ProgressBar(total: max(grid.count, 1), label: "sweep", unit: "run") : nil
        var stopped: String? = nil
        for (k, settings) in grid.enumerated() {
            let elapsed = Date().timeIntervalSince(started)
            let perRun = k > 0 ? elapsed / Double(k) : 0
            if let budget, elapsed + perRun > budget {
                stopped = "the budget of \(Value.format(budget)) s would be passed: stopped after \(k) of \(grid.count) runs"
                break
            }
            let runStart = Date()
            var cfg = baseLora
            cfg.r = settings.r; cfg.lora_alpha = settings.lora_alpha; cfg.lora_dropout = settings.lora_dropout
            if let modules = settings.target_modules { cfg.target_modules = modules }
            let tokens = trainingRows(settings)
            var args = baseArgs
            args.learning_rate = settings.learning_rate; args.num_train_epochs = settings.num_train_epochs; args.max_steps = -1
            let lora: LoraModel, trainer: Trainer
            do {
                lora = try LoraModel(base: model.base, lora: cfg)
                model.lora = lora
                trainer = try Trainer(model: lora, args: args, examples: tokens.examples, padTokenId: tokens.padTokenId)
            } catch let error as LoraError {
                throw inv.error(error.description, at: "lora")
            }
            var interrupted = false
            trainer.showProgress = false
            trainer.shouldStop = { if session.takeInterrupt() { interrupted = true; return true }; return false }
            bar?.update(k, info: settings.text)
            let out = try trainer.train()
            guard !interrupted, let (run, loss) = try score("run \(k + 1)") else {
                stopped = "interrupted: kept the \(records.count) finished run\(records.count == 1 ? "" : "s")"
                session.stoppedByInterrupt()   // a replay runs the whole sweep (resume=true with output= continues one)
                break
            }
            let cmp = try ModelComparison(base: baseRun, tuned: run)
            records.append(SweepRecord(settings: settings, correct: cmp.tunedInterval.successes, n: cmp.pairs.count,
                                       answerLoss: loss.meanLoss, improved: cmp.improved.count, regressed: cmp.regressed.count,
                                       trainLoss: out.train_loss, seconds: Date().timeIntervalSince(runStart)))
            let record = records.last!
            session.writeLine("run \(k + 1)/\(grid.count) \(settings.text): \(record.accuracy), answer loss "
                              + String(format: "%.4f", record.answerLoss) + ", +\(record.improved) -\(record.regressed) against the base, "
                              + String(format: "%.1f s", record.seconds))
            try keep()
            if let folder = try inv.optionalString("adapters") {
                try lora.adapter.save(to: session.resolvePath(folder).appendingPathComponent("run-\(records.count)"))
            }
            bar?.update(k + 1, info: settings.text)
        }
        if stopped == nil { bar?.finish() }

        let byLoss: (SweepRecord, SweepRecord) -> Bool = { $0.answerLoss < $1.answerLoss }
        let sorted = try inv.string("metric") == "answer_loss" ? records.sorted(by: byLoss)
            : records.sorted { $0.correct * $1.n != $1.correct * $0.n ? $0.correct * $1.n > $1.correct * $0.n : byLoss($0, $1) }
        guard let best = sorted.first else {
            session.writeLine(stopped ?? "no runs")
            throw stopped?.hasPrefix("interrupted") == true ? CancelledError() : inv.error("no run finished", hint: "give a larger budget=")
        }
        var bestLora = baseLora, bestArgs = baseArgs
        bestLora.r = best.settings.r; bestLora.lora_alpha = best.settings.lora_alpha; bestLora.lora_dropout = best.settings.lora_dropout
        if let modules = best.settings.target_modules { bestLora.target_modules = modules }
        bestArgs.learning_rate = best.settings.learning_rate; bestArgs.num_train_epochs = best.settings.num_train_epochs
        let result = SweepObject(records: sorted, baseAccuracy: baseRun.accuracy(under: careful.rule), baseLoss: baseLoss.meanLoss,
                                 bestLora: bestLora, bestArgs: bestArgs,
                                 bestTokens: trainingRows(best.settings))
        session.writeLine(result.table)
        if let stopped { session.writeLine(stopped) }
        if ModelComparison.significantRegression(improved: best.improved, regressed: best.regressed) {
            session.writeLine("warning: even the best run is significantly worse than the base model on these rows")
        }
        session.writeLine("best: \(best.settings.text); its settings are the result's best_lora and best_args"
                          + (tokenSets.count > 1 ? ", its training rows best_tokens" : ""))
        return .object(result)
    }
}
