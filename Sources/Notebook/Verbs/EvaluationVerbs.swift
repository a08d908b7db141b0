// Evaluation verbs: the notebook's protocol exactly, the careful protocol, results as live objects,
// base versus fine-tuned with the adapter switched off and on, and the answers' teacher-forced loss.
import Datasets
import Evaluation
import Foundation
import Language
import Llama
import Support
import Tokenizers

/// A live object that holds a question/answer dataset (the `Dataset` object of the dataset verbs).
/// Evaluation verbs take any such object, or a file path, as their DATA.
public protocol QADatasetHolder: LiveObject {
    /// The rows.
    var dataset: QADataset { get }
}

extension VerbGroup {
    /// Evaluating a model on question/answer rows.
    public static var evaluation: VerbGroup {
        VerbGroup("Evaluation", intro: """
            Evaluate a model on question/answer rows: `protocol=notebook` reproduces the notebook's evaluation \
            (20 sampled test rows after the first 200, the question cut to 100 characters, sampling, its printout \
            and evaluation_results.json); `protocol=careful` (the default) uses whole questions in the model's chat \
            template, greedy decoding, any number of rows, both matchers and a Wilson interval beside every accuracy. \
            Progress goes to standard error; Ctrl-C keeps the examples finished so far.
            """, verbs: [evaluateVerb, incorrectVerb, correctVerb, detailVerb, riskCoverageVerb, writeResultsVerb, loadResultsVerb, agreementVerb, compareVerb, comparisonsVerb, answerLossVerb, sweepVerb])
    }

    // MARK: shared parameters

    static var selectionKeywords: [Parameter] {
        [Parameter("train_rows", .int, optional: true,
                   help: "rows before the test range (notebook: 200; careful and answer_loss: 0, the whole DATA)"),
         Parameter("seed", .int, optional: true,
                   help: "random.seed for sampling rows (notebook: the session seed; careful: none, the first rows in order)"),
         Parameter("question", .string, default: .string(QAColumns.medicalO1.question), help: "question column when DATA is a file"),
         Parameter("answer", .string, default: .string(QAColumns.medicalO1.answer), help: "answer column when DATA is a file")]
    }

    static var carefulKeywords: [Parameter] {
        [TemplateChoice.parameter(extra: ["plain"], help: "careful prompt: the model's chat template (auto), a named one, the notebook's, or plain text"),
         Parameter("batch", .int, default: .int(8), help: "prompts generated together (careful protocol)"),
         Parameter("matcher", .choice(AnswerMatchers.names), default: .string(ScoringRule.normalised.rawValue),
                   help: "what counts as correct in the careful protocol")]
    }

    /// The generation settings the evaluation verbs take (their `seed=` picks rows; the sampler's seed is the session's).
    static let samplingSettings = ["max_new_tokens", "do_sample", "temperature", "top_p"]

    static var samplingKeywords: [Parameter] {
        GenerationConfig.settings.parameters(defaults: .notebook, only: samplingSettings).map {
            $0.name == "do_sample" ? Parameter("do_sample", .bool, optional: true, help: "sample (notebook: true) or greedy (careful: false)") : $0
        }
    }

    static let modelParameter = Parameter("model", .object("Model"), help: "the model (its adapter as it is switched)")
    static let evaluationDataParameter = Parameter("data", .any, help: "a Dataset, or a JSON/JSONL file of question/answer rows",
                                         completion: .path(extensions: ["json", "jsonl"]))
    static let resultsParameter = Parameter("results", .object("Results"))

    // MARK: evaluate

    static var evaluateVerb: Verb {
        Verb("evaluate", summary: "Evaluate a model: the notebook's protocol exactly, or the careful one (default).",
             details: """
             protocol=notebook: test rows are the rows after train_rows (200); k (20) of them are picked with \
             Python's random.seed(seed); random.sample; each question is cut to 100 characters in the notebook's \
             Llama-3 prompt ending "The answer is:"; sampling with temperature 0.3, top_p 0.9, 50 new tokens. \
             Prints the notebook's report and writes evaluation_results.json (output=) with its keys.
             protocol=careful: whole questions in the model's chat template, greedy, `batch` prompts at a time \
             with the KV cache, limit= rows (all by default), the normalised matcher with negation flags; prints \
             the accuracy with its Wilson 95% interval and n. output= and csv= write the JSON and CSV.
             """,
             positional: [modelParameter, evaluationDataParameter],
             keywords: [protocolParameter,
                        Parameter("k", .int, default: .int(20), help: "rows sampled by the notebook protocol"),
                        Parameter("limit", .int, optional: true, help: "rows evaluated by the careful protocol (default: all)")]
                + selectionKeywords + samplingKeywords + carefulKeywords
                + [Parameter("output", .path, optional: true, help: "the notebook's JSON (notebook default: evaluation_results.json)"),
                   Parameter("csv", .path, optional: true, help: "also write one CSV row per example")],
             examples: ["results = evaluate model data protocol=notebook",
                        "results = evaluate model test limit=200 csv=careful.csv"], makes: "Results") { inv, session in
            let model = try inv.object("model", as: ModelObject.self)
            let data = try dataset(inv, session)
            let notebook = try usesNotebookProtocol(inv, model)
            let run = notebook ? try runNotebook(inv, session, model: model, data: data)
                               : try runCareful(inv, session, model: model, data: data)
            try reportStop(run, session)
            if let output = try inv.optionalString("output") ?? (notebook ? "evaluation_results.json" : nil) {
                try run.writeNotebookJSON(to: session.resolvePath(output).path)
                session.writeLine("Results saved to \(output)")
            }
            if let csv = try inv.optionalString("csv") {
                try run.writeCSV(to: session.resolvePath(csv).path)
                session.writeLine("CSV saved to \(csv)")
            }
            return .object(ResultsObject(run: run, modelLabel: modelLabel(model)))
        }
    }

    static func runNotebook(_ inv: Invocation, _ session: Session, model: ModelObject, data: QADataset) throws -> EvaluationRun {
        var evaluation = NotebookEvaluationProtocol(trainingRows: try inv.optionalInt("train_rows") ?? 200,
                                                    k: try positive(inv, "k"), seed: try inv.optionalInt("seed") ?? session.seed)
        evaluation.settings = try sampling(inv, session, doSample: true)
        guard data.count > evaluation.trainingRows else {
            throw EvaluationError.emptyTestSet("the test range is empty: \(data.name) has \(data.count) rows and train_rows=\(evaluation.trainingRows) leaves none (give a smaller train_rows)")
        }
        let test = try data.split(at: evaluation.trainingRows).test
        try checkSample(inv, evaluation, testCount: test.count)   // k too large: fail before loading anything
        warnTrained(test, session, model, protocolName: "notebook")
        let flag = CancellationFlag()
        let bar = ProgressBar.enabled ? ProgressBar(total: evaluation.k, label: "eval", unit: "ex") : nil
        let estimate = EvaluationEstimate(total: evaluation.k, session: session)
        var done = 0
        let generator = try makeGenerator(model, addSpecialTokens: true) { n in
            done += n
            estimate.add(n)
            bar?.update(done)
            if session.takeInterrupt() { flag.cancel() }
        }
        let run = try evaluation.run(test: test, generator: generator, cancellation: flag) { session.writeLine($0) }
        bar?.finish()
        return run
    }

    static func runCareful(_ inv: Invocation, _ session: Session, model: ModelObject, data: QADataset) throws -> EvaluationRun {
        let tokenizer = try model.requireTokenizer()
        let test = try heldOut(try testRows(inv, data, defaultTrainRows: 0), inv, session, model,
                               adapterScored: model.lora?.adapterEnabled ?? false)
        let (prompt, special) = try carefulPrompt(inv, tokenizer)
        var careful = try carefulEvaluation(inv, session, prompt: prompt)
        careful.limit = try rowLimit(inv, session, testCount: test.count)
        let selected = try careful.selectIndices(testCount: test.count)
        let flag = CancellationFlag(poll: { session.takeInterrupt() })
        let estimate = EvaluationEstimate(total: selected.count, session: session)
        let generator = try makeGenerator(model, addSpecialTokens: special) { n in estimate.add(n) }
        let run = try careful.run(test: test, generator: generator, cancellation: flag)
        guard !run.examples.isEmpty || run.stopReason == .cancelled else { throw failure(run) }
        session.writeLine(run.summary)
        session.writeLine(run.matchCountsLine)
        if let table = run.riskCoverageReport() { session.writeLine(table) }
        if run.total > 0 && run.emptyPredictions == run.total {
            session.writeLine("warning: the model produced no text for any of the \(run.total) questions (check the template and max_new_tokens)")
        }
        return run
    }

    static func carefulEvaluation(_ inv: Invocation, _ session: Session, prompt: @escaping @Sendable (String) -> String) throws -> CarefulEvaluation {
        CarefulEvaluation(prompt: prompt, settings: try sampling(inv, session, doSample: false),
                          limit: try inv.optionalInt("limit"), sampleSeed: try inv.optionalInt("seed"),
                          batchSize: try positive(inv, "batch"),
                          rule: ScoringRule(rawValue: try inv.string("matcher")) ?? .normalised,
                          showProgress: ProgressBar.enabled)
    }

    /// An evaluation that stopped on a generator error before any example: its message as an error.
    static func failure(_ run: EvaluationRun) -> Error {
        EvaluationError.invalidArgument(run.stopReason.map { "\($0)" } ?? "no example was evaluated")
    }

    /// Says how an interrupted or failed run ended: the finished examples are kept.
    static func reportStop(_ run: EvaluationRun, _ session: Session) throws {
        switch run.stopReason {
        case nil: return
        case .cancelled?:
            session.writeLine("interrupted: kept the \(run.total) finished example\(run.total == 1 ? "" : "s") of \(run.selectedIndices.count)")
        case .generatorFailed?:
            if run.examples.isEmpty { throw failure(run) }
            session.writeLine("stopped: \(run.stopReason!); kept the \(run.total) finished examples of \(run.selectedIndices.count)")
        }
    }

    // MARK: result lists

    static var incorrectVerb: Verb {
        Verb("incorrect", summary: "List the examples judged incorrect.",
             positional: [resultsParameter],
             keywords: [Parameter("n", .int, optional: true, help: "how many (default: all)")],
             examples: ["incorrect results", "incorrect results n=5"]) { inv, session in
            let results = try inv.object("results", as: ResultsObject.self)
            listExamples(results.run.incorrect, title: "incorrect", n: try inv.optionalInt("n"), results.run, session)
            return .none
        }
    }

    static var correctVerb: Verb {
        Verb("correct", summary: "List the examples judged correct, with their match type and flags.",
             positional: [resultsParameter],
             keywords: [Parameter("n", .int, default: .int(5), help: "how many")],
             examples: ["correct results", "correct results n=20"]) { inv, session in
            let results = try inv.object("results", as: ResultsObject.self)
            listExamples(results.run.correct, title: "correct", n: try inv.int("n"), results.run, session)
            return .none
        }
    }

    static func listExamples(_ list: [ExampleResult], title: String, n: Int?, _ run: EvaluationRun, _ session: Session) {
        let shown = list.prefix(max(0, n ?? list.count))
        session.writeLine("\(title): \(list.count) of \(run.total)" + (shown.count < list.count ? " (first \(shown.count) shown)" : ""))
        for e in shown {
            var verdict = e.matchType(run.rule).rawValue
            if !e.flags.isEmpty { verdict += ", " + e.flags.map(\.rawValue).joined(separator: ", ") }
            session.writeLine("  [\(e.index)] \(cut(e.question, 80))")
            session.writeLine("      truth: \(e.groundTruth) | prediction: \(cut(e.prediction, 60)) (\(verdict))")
        }
    }

    static var detailVerb: Verb {
        Verb("detail", summary: "Show one example in full: question, truth, prediction, both matchers, raw output.",
             positional: [resultsParameter, Parameter("index", .int, help: "the example's index, as shown in brackets by incorrect/correct")],
             examples: ["detail results 7296"]) { inv, session in
            let results = try inv.object("results", as: ResultsObject.self)
            let index = try inv.int("index")
            guard let e = results.run.examples.first(where: { $0.index == index }) else {
                let known = results.run.examples.prefix(10).map { String($0.index) }.joined(separator: ", ")
                throw inv.error("no example with index \(index) in these results", at: "index",
                                hint: known.isEmpty ? "the results hold no examples" : "indices are the bracketed numbers: \(known)\(results.run.total > 10 ? ", ..." : "")")
            }
            session.writeLine(results.run.detail(e))
            if e.fullQuestion != e.question { session.writeLine("  whole question: \(e.fullQuestion)") }
            session.writeLine("  raw output:   \(Value.quote(e.rawOutput))")
            if let c = e.confidence { session.writeLine("  confidence:   \(c) (of the answer's tokens)") }
            return .none
        }
    }

    static var riskCoverageVerb: Verb {
        Verb("risk_coverage", summary: "Accuracy of the answers the model was most sure of: the top 100%, 80%, 50% and 20%.",
             positional: [resultsParameter],
             keywords: [Parameter("by", .choice(ConfidenceMeasure.allCases.map(\.rawValue)), default: .string("mean"),
                                  help: "which confidence orders the answers: the mean or lowest token probability of the answer, or the whole answer's probability")],
             examples: ["risk_coverage results", "risk_coverage results by=min"]) { inv, session in
            let results = try inv.object("results", as: ResultsObject.self)
            let measure = ConfidenceMeasure(rawValue: try inv.string("by")) ?? .mean
            guard let table = results.run.riskCoverageReport(by: measure) else {
                throw inv.error(results.run.examples.isEmpty ? "these results hold no examples"
                                : results.run.protocolName == "loaded" ? "predictions read from a file carry no confidences"
                                : "these results carry no confidences: their generator gave no token probabilities", at: "results",
                                hint: results.run.protocolName == "loaded" ? "evaluate the model to get them: results = evaluate MODEL DATA" : nil)
            }
            session.writeLine(table)
            return .none
        }
    }

    static var writeResultsVerb: Verb {
        Verb("write_results", summary: "Write results as the notebook's JSON or as CSV (atomically).",
             positional: [resultsParameter, Parameter("path", .path, help: "the file to write")],
             keywords: [Parameter("format", .choice(["json", "csv"]), optional: true, help: "default: from the extension (.csv, else json)")],
             examples: ["write_results results evaluation_results.json", "write_results results results.csv"]) { inv, session in
            let results = try inv.object("results", as: ResultsObject.self)
            let path = try inv.string("path")
            let format = try inv.optionalString("format") ?? (path.lowercased().hasSuffix(".csv") ? "csv" : "json")
            let url = session.resolvePath(path)
            if format == "csv" { try results.run.writeCSV(to: url.path) } else { try results.run.writeNotebookJSON(to: url.path) }
            session.writeLine("wrote \(results.run.total) examples to \(path) (\(format))")
            return .none
        }
    }

    // MARK: compare

    static var compareVerb: Verb {
        Verb("compare", summary: "Evaluate the model with its adapter off, then on, on the same questions and settings.",
             details: """
             Both accuracies with their intervals, McNemar's paired counts, the questions whose verdict changed, \
             and the ground-truth answers' loss before and after. The adapter is switched, never reloaded, and \
             left as it was.
             """,
             positional: [modelParameter, evaluationDataParameter],
             keywords: [protocolParameter,
                        Parameter("limit", .int, default: .int(200), help: "rows compared (careful)"),
                        Parameter("k", .int, default: .int(20), help: "rows sampled (notebook protocol)"),
                        Parameter("answer_loss", .bool, default: .bool(true), help: "also measure the answers' loss before and after"),
                        Parameter("output", .path, optional: true, help: "a JSON file for the figures, for `comparisons` to put beside others"),
                        Parameter("label", .string, optional: true,
                                  help: "the row's name in `comparisons` (default: how the adapter was trained, notebook or default, else adapter)")]
                + selectionKeywords + samplingKeywords + carefulKeywords,
             examples: ["cmp = compare model test limit=200", "cmp = compare model data protocol=notebook output=outputs/comparison.json"]) { inv, session in
            let model = try inv.object("model", as: ModelObject.self)
            guard let lora = model.lora else {
                throw inv.error("model \(model.source) has no LoRA adapter, so there is nothing to compare with the base",
                                at: "model", hint: "attach one first (apply_lora and train, or load_adapter), or use evaluate for the base alone")
            }
            let data = try dataset(inv, session)
            let tokenizer = try model.requireTokenizer()
            let wasEnabled = lora.adapterEnabled
            defer { lora.adapterEnabled = wasEnabled }
            let flag = CancellationFlag(poll: { session.takeInterrupt() })
            let check: (Int) -> Void = { _ in _ = flag.isCancelled }
            let runs: (EvaluationRun, EvaluationRun)
            let test: QADataset
            var scoringPrompt: (String) -> String = { $0 }
            var answerPrefix = "", special = true
            let notebookProtocol = try usesNotebookProtocol(inv, model)
            if notebookProtocol {
                var evaluation = NotebookEvaluationProtocol(trainingRows: try inv.optionalInt("train_rows") ?? 200,
                                                            k: try positive(inv, "k"), seed: try inv.optionalInt("seed") ?? session.seed)
                evaluation.settings = try sampling(inv, session, doSample: true)
                test = try testRows(inv, data, defaultTrainRows: evaluation.trainingRows)
                try checkSample(inv, evaluation, testCount: test.count)
                warnTrained(test, session, model, protocolName: "notebook")
                scoringPrompt = { evaluation.prompt(for: $0) }
                answerPrefix = " "
                lora.adapterEnabled = false
                let before = try evaluation.run(test: test, generator: try makeGenerator(model, addSpecialTokens: true, onBatch: check), cancellation: flag)
                lora.adapterEnabled = true
                let after = try evaluation.run(test: test, generator: try makeGenerator(model, addSpecialTokens: true, onBatch: check), cancellation: flag)
                runs = (before, after)
            } else {
                test = try heldOut(try testRows(inv, data, defaultTrainRows: 0), inv, session, model, adapterScored: true)
                let (prompt, s) = try carefulPrompt(inv, tokenizer)
                var careful = try carefulEvaluation(inv, session, prompt: prompt)
                careful.limit = try rowLimit(inv, session, testCount: test.count)
                scoringPrompt = prompt
                special = s
                lora.adapterEnabled = false
                let before = try careful.run(test: test, generator: try makeGenerator(model, addSpecialTokens: s, onBatch: check), cancellation: flag, label: "base")
                lora.adapterEnabled = true
                let after = try careful.run(test: test, generator: try makeGenerator(model, addSpecialTokens: s, onBatch: check), cancellation: flag, label: "tuned")
                runs = (before, after)
            }
            for run in [runs.0, runs.1] where run.examples.isEmpty && run.stopReason != .cancelled { throw failure(run) }
            let comparison = try ModelComparison(base: runs.0, tuned: runs.1)
            var losses: (AnswerLoss, AnswerLoss)? = nil
            let (scored, written) = notebookProtocol ? (test, nil) : asTrained(test, model)
            if try inv.bool("answer_loss"), !flag.isCancelled, !comparison.pairs.isEmpty {
                let indices = comparison.pairs.map(\.base.index)
                lora.adapterEnabled = false
                let before = try measureLoss(session, model, tokenizer, scored, indices, scoringPrompt, answerPrefix, special, flag, label: "loss base")
                lora.adapterEnabled = true
                let after = try measureLoss(session, model, tokenizer, scored, indices, scoringPrompt, answerPrefix, special, flag, label: "loss tuned")
                losses = (before, after)
            }
            let object = ComparisonObject(comparison: comparison, lossBefore: losses?.0, lossAfter: losses?.1,
                                          answersWritten: losses == nil ? nil : written)
            session.writeLine(object.report)
            if flag.isCancelled {
                session.writeLine("interrupted: compared the \(comparison.pairs.count) questions both runs finished")
            }
            if let output = try inv.optionalString("output"), !comparison.pairs.isEmpty {
                let summary = ComparisonSummary(comparison, pipeline: try inv.optionalString("label") ?? model.trainedMode ?? "adapter",
                                                protocol: notebookProtocol ? "notebook" : "careful",
                                                lossBefore: losses?.0, lossAfter: losses?.1, answersWritten: losses == nil ? nil : written)
                try summary.write(to: session.resolvePath(output).path)
                session.writeLine("Comparison saved to \(output)")
            }
            return .object(object)
        }
    }

    /// `comparisons FILE...`: saved comparisons side by side.
    static var comparisonsVerb: Verb {
        Verb("comparisons", summary: "Put comparisons saved by `compare ... output=` side by side, one row each.",
             details: "The main job (scripts/main.sh) ends with it: the notebook's pipeline and the careful one, each tuned model "
                + "against its base on held-out questions, with intervals, McNemar's counts and the answer loss.",
             rest: Parameter("files", .path, help: "JSON files written by compare output="),
             examples: ["comparisons outputs/comparison-notebook.json outputs/comparison-default.json"]) { inv, session in
            let files = inv.rest.map(\.text)
            guard !files.isEmpty else {
                throw inv.error("no files given: name the files compare output= wrote",
                                hint: "usage: comparisons FILE...; e.g. comparisons outputs/comparison-notebook.json outputs/comparison-default.json")
            }
            let rows = try files.map { try ComparisonSummary.read(from: session.resolvePath($0).path, shown: $0) }
            session.writeLine(ComparisonSummary.table(rows))
            return .none
        }
    }

    // MARK: answer loss

    static var answerLossVerb: Verb {
        Verb("answer_loss", summary: "The ground-truth answers' mean teacher-forced loss and perplexity given the questions.",
             details: "A metric that moves even when exact match does not. The prompt is the careful protocol's (template=).",
             positional: [modelParameter, evaluationDataParameter],
             keywords: [Parameter("limit", .int, optional: true, help: "rows scored (default: all)")]
                + selectionKeywords + [carefulKeywords[0]],
             examples: ["answer_loss model test limit=200"]) { inv, session in
            let model = try inv.object("model", as: ModelObject.self)
            let data = try dataset(inv, session)
            let tokenizer = try model.requireTokenizer()
            let test = try heldOut(try testRows(inv, data, defaultTrainRows: 0), inv, session, model,
                                   adapterScored: model.lora?.adapterEnabled ?? false)
            let notebook = try inv.string("template") == TemplateChoice.notebook
            let (prompt, special) = try carefulPrompt(inv, tokenizer)
            var selection = CarefulEvaluation()
            selection.limit = try rowLimit(inv, session, testCount: test.count)
            selection.sampleSeed = try inv.optionalInt("seed")
            let indices = try selection.selectIndices(testCount: test.count)
            let flag = CancellationFlag()
            let (scored, written) = notebook ? (test, nil) : asTrained(test, model)
            let loss = try measureLoss(session, model, tokenizer, scored, indices, prompt, notebook ? " " : "", special, flag, label: "loss")
            session.writeLine(loss.description + (written.map { ", \(AnswerLoss.writtenNote($0))" } ?? "") + " [\(modelLabel(model))]")
            if loss.stoppedEarly { session.writeLine("interrupted: scored \(loss.examples.count) of \(indices.count) answers") }
            return .double(loss.meanLoss)
        }
    }

    /// The rows with their answers written as the adapter was trained to give them (`"The answer is X."` after
    /// default-mode training on sentences), and that format; the rows unchanged and nil otherwise. The answer loss
    /// then measures what training lowered, with the same text for the base and the tuned model.
    static func asTrained(_ test: QADataset, _ model: ModelObject) -> (QADataset, AnswerFormat?) {
        guard let format = model.trainedAnswerFormat, format != .bare else { return (test, nil) }
        return (test.answers(writtenAs: format), format)
    }

    /// Scores the answers with a progress bar; Ctrl-C stops between answers and keeps those scored.
    static func measureLoss(_ session: Session, _ model: ModelObject, _ tokenizer: any Tokenizer, _ test: QADataset, _ indices: [Int],
                            _ prompt: (String) -> String, _ answerPrefix: String, _ special: Bool,
                            _ flag: CancellationFlag, label: String) throws -> AnswerLoss {
        let bar = ProgressBar.enabled ? ProgressBar(total: indices.count, label: label, unit: "ex") : nil
        var done = 0
        let scorer = ProgressScorer(base: ModelAnswerGenerator(model: model.inferenceModel(), tokenizer: tokenizer, addSpecialTokens: special),
                                    answerPrefix: answerPrefix) {
            done += 1
            bar?.update(done)
            if session.takeInterrupt() { flag.cancel() }
        }
        let loss = try AnswerLoss.measure(test: test, indices: indices, scorer: scorer, prompt: prompt, cancellation: flag)
        bar?.finish()
        return loss
    }

    // MARK: helpers

    /// DATA as a dataset: a `Dataset` object, or a file loaded with the question=/answer= columns.
    static func dataset(_ inv: Invocation, _ session: Session) throws -> QADataset {
        let data: QADataset
        switch inv.value("data") {
        case .string(let path):
            data = try loadQADataset(path, at: "data", inv, session)
        case .object(let o):
            if let holder = o as? any QADatasetHolder {
                data = holder.dataset
            } else {
                throw inv.error("'\(inv.verb.name)' needs question/answer rows as data, not a \(o.typeName)", at: "data",
                                hint: "give a Dataset (data = load_dataset PATH) or a JSON file path")
            }
        default:
            throw inv.error("'\(inv.verb.name)' needs question/answer rows as data", at: "data",
                            hint: "give a Dataset (data = load_dataset PATH) or a JSON file path")
        }
        guard !data.isEmpty else {
            throw EvaluationError.emptyTestSet("\(data.name) has no rows to evaluate")
        }
        return data
    }

    static let protocolParameter = Parameter("protocol", .choice(["careful", "notebook", "auto"]), default: .string("careful"),
                                             help: "which protocol; auto: the one matching how the adapter was trained in this session (tokenize_dataset mode=notebook: notebook, else careful)")

    /// Whether `protocol=` asks for the notebook's protocol: by name, or with `auto` because the adapter was
    /// trained on the notebook's format (so a notebook's evaluation cell follows its `mode`).
    static func usesNotebookProtocol(_ inv: Invocation, _ model: ModelObject) throws -> Bool {
        switch try inv.string("protocol") {
        case "notebook": return true
        case "auto": return model.trainedMode == "notebook"
        default: return false
        }
    }

    /// After `train` in this session, the careful protocol leaves out the rows whose questions the adapter
    /// was trained on, unless `train_rows=` chooses the range (then it only says how many it includes);
    /// either way one line tells the user, so a training row's score is never read as held-out accuracy.
    /// `adapterScored`: whether the adapter takes part in the scores (compare always switches it on; with it off,
    /// the base model never saw the rows).
    static func heldOut(_ test: QADataset, _ inv: Invocation, _ session: Session, _ model: ModelObject,
                        adapterScored: Bool) throws -> QADataset {
        let (trained, untrained) = test.rows.reduce(into: ([QARow](), [QARow]())) {
            if model.trainedQuestions.contains($1.question) { $0.0.append($1) } else { $0.1.append($1) }
        }
        guard !trained.isEmpty, adapterScored else { return test }
        let which = "rows " + rowRanges(trained.map(\.sourceRow)) + " of \(test.name)"
        if inv.has("train_rows") {
            session.writeLine("note: \(trained.count) of the \(test.count) rows evaluated were trained on (\(which)): their scores are not held-out accuracy")
            return test
        }
        var kept = test
        kept.rows = untrained
        guard !kept.rows.isEmpty else {
            throw inv.error("every row of \(test.name) was trained on in this session, so none is held out", at: "data",
                            hint: "evaluate other rows (select, or a test file), or give train_rows= to score these anyway")
        }
        session.writeLine("held out: \(kept.count) rows, leaving out the \(trained.count) the adapter was trained on (\(which)); train_rows= chooses the rows instead")
        return kept
    }

    /// The notebook protocol keeps its own test range (the notebook's); it says when that range holds trained rows.
    static func warnTrained(_ test: QADataset, _ session: Session, _ model: ModelObject, protocolName: String) {
        let trained = test.rows.filter { model.trainedQuestions.contains($0.question) }
        guard !trained.isEmpty else { return }
        session.writeLine("note: the \(protocolName) protocol's test range holds \(trained.count) rows the adapter was trained on "
                          + "(rows \(rowRanges(trained.map(\.sourceRow)))); give train_rows= past them for held-out accuracy")
    }

    /// [0, 1, 2, 5, 7, 8] -> "0–2, 5, 7–8" (the first six runs, then "…").
    static func rowRanges(_ rows: [Int]) -> String {
        var runs: [ClosedRange<Int>] = []
        for r in rows.sorted() {
            if let last = runs.last, r == last.upperBound + 1 { runs[runs.count - 1] = last.lowerBound...r } else { runs.append(r...r) }
        }
        let parts = runs.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)–\($0.upperBound)" }
        return parts.count > 6 ? parts.prefix(6).joined(separator: ", ") + ", …" : parts.joined(separator: ", ")
    }

    /// The rows after `train_rows` (or `defaultTrainRows`), or a clear error when none are left.
    static func testRows(_ inv: Invocation, _ data: QADataset, defaultTrainRows: Int) throws -> QADataset {
        let trainRows = try inv.optionalInt("train_rows") ?? defaultTrainRows
        guard trainRows >= 0 else { throw inv.error("train_rows must be ≥ 0, got \(trainRows)", at: "train_rows") }
        guard data.count > trainRows else {
            throw EvaluationError.emptyTestSet("the test range is empty: \(data.name) has \(data.count) rows and train_rows=\(trainRows) leaves none (give a smaller train_rows)")
        }
        return trainRows == 0 ? data : try data.split(at: trainRows).test
    }

    /// The rows `limit=` asks for, at most the test rows: a larger limit evaluates every row, and says so
    /// in one line when the user gave it (a default larger than the data is silent). nil: every row.
    static func rowLimit(_ inv: Invocation, _ session: Session, testCount n: Int) throws -> Int? {
        guard let limit = try inv.optionalInt("limit") else { return nil }
        guard limit >= 1 else { throw inv.error("limit must be at least 1, got \(limit)", at: "limit") }
        if limit > n {
            if inv.has("limit") { session.writeLine("limit=\(limit) is more than the \(n) test row\(n == 1 ? "" : "s"): evaluating all \(n)") }
            return n
        }
        return limit
    }

    /// The notebook protocol's sample of `k` test rows: too large a `k` is an error naming the verb's
    /// own options (`k=`, `train_rows=`), before any model work.
    static func checkSample(_ inv: Invocation, _ evaluation: NotebookEvaluationProtocol, testCount n: Int) throws {
        do { _ = try evaluation.selectIndices(testCount: n) } catch EvaluationError.sampleLargerThanPopulation(let k, let population) {
            let rows = "the \(population) test row\(population == 1 ? "" : "s") (the rows after the first \(evaluation.trainingRows))"
            let ways = [inv.option("k").map { "\($0)\(population) or less" }, inv.option("train_rows").map { "a smaller \($0)" }]
            throw inv.error("k=\(k) is more than \(rows)", at: inv.has("k") ? "k" : "train_rows",
                            hint: "give " + ways.compactMap { $0 }.joined(separator: ", or "))
        }
    }

    /// The decoding settings from the keywords; `doSample` is the protocol's default.
    static func sampling(_ inv: Invocation, _ session: Session, doSample: Bool) throws -> GenerationConfig {
        var g = GenerationConfig.notebook
        g.do_sample = doSample
        g.seed = UInt64(truncatingIfNeeded: session.seed)
        try GenerationConfig.settings.store(inv, into: &g, session: session, only: samplingSettings)
        guard g.max_new_tokens >= 1 else { throw inv.error("max_new_tokens must be at least 1, got \(g.max_new_tokens)", at: "max_new_tokens") }
        return g
    }

    static func positive(_ inv: Invocation, _ name: String) throws -> Int {
        let v = try inv.int(name)
        guard v >= 1 else { throw inv.error("\(name) must be at least 1, got \(v)", at: name) }
        return v
    }

    /// The careful prompt for `template=` and whether its encoding adds BOS/EOS (a chat template
    /// writes its own special tokens; the notebook's text and plain text go through `tokenizer(prompt)`).
    static func carefulPrompt(_ inv: Invocation, _ tokenizer: any Tokenizer) throws -> (@Sendable (String) -> String, Bool) {
        carefulPrompt(named: try inv.string("template"), tokenizer)
    }

    /// The careful protocol's prompt for a `template=` name (auto: the tokenizer's chat template), and whether
    /// encoding adds special tokens.
    static func carefulPrompt(named name: String, _ tokenizer: any Tokenizer) -> (@Sendable (String) -> String, Bool) {
        let instruction = CarefulEvaluation.instruction
        switch name {
        case "plain": return (CarefulEvaluation.defaultPrompt, true)
        case TemplateChoice.notebook:
            let notebook = NotebookEvaluationProtocol(questionCharacters: Int.max)
            return ({ notebook.prompt(for: $0) }, true)
        default:
            let chat = TemplateChoice.chat(named: name) { ChatTemplate.detect(jinja: tokenizer.chatTemplate ?? "") }
            guard let chat else { return (CarefulEvaluation.defaultPrompt, true) }   // no chat template: plain text
            return ({ chat.prompt(question: "\(instruction)\n\n\($0)") }, false)
        }
    }

    /// A generator over the model as it is now (adapter on or off), with a per-batch callback.
    static func makeGenerator(_ model: ModelObject, addSpecialTokens: Bool, onBatch: @escaping (Int) -> Void) throws -> ModelAnswerGenerator {
        ModelAnswerGenerator(model: model.inferenceModel(), tokenizer: try model.requireTokenizer(),
                             addSpecialTokens: addSpecialTokens, onBatch: onBatch)
    }

    static func modelLabel(_ model: ModelObject) -> String {
        guard let lora = model.lora else { return model.source }
        return model.source + (lora.adapterEnabled ? ", adapter on" : ", adapter off")
    }

    static func cut(_ text: String, _ n: Int) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.count > n ? String(flat.prefix(n)) + "..." : flat
    }
}
