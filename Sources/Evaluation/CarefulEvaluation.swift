// Evaluation done right: whole questions in the model's own chat template, greedy decoding by
// default, any number of rows up to the whole split, the normalised matcher with negation flags,
// an interval beside every accuracy, a progress bar, and Ctrl-C that keeps finished examples.
import Datasets
import Foundation
import Llama
import Support

/// The careful evaluation protocol (medrepl's default outside notebook mode).
///
/// ```swift
/// var careful = CarefulEvaluation(prompt: { q in tokenizer.chatPrompt(user: q) })
/// careful.limit = 200                                   // nil: the whole split
/// let run = try careful.run(test: test, generator: model)
/// print(run.summary)   // careful: 57/200 correct = 28.5% (95% CI 22.7%–35.1%, n = 200); ...
/// ```
public struct CarefulEvaluation: Sendable {
    /// The instruction put before each question by ``defaultPrompt``.
    public static let instruction = "Answer this medical question with the answer only (a few words)."

    /// A model-neutral prompt for when no chat template is at hand; the shell passes the model's
    /// own template instead.
    public static let defaultPrompt: @Sendable (String) -> String = { question in
        "\(instruction)\n\nQuestion: \(question)\nAnswer:"
    }

    /// Makes the full prompt from a whole question (normally the model's chat template).
    public var prompt: @Sendable (String) -> String
    /// Decoding settings: greedy by default for a deterministic score.
    public var settings: GenerationConfig
    /// Rows evaluated; nil means the whole split.
    public var limit: Int?
    /// With a seed, the rows are `random.sample(range(n), limit)` with Python's random; without,
    /// the first `limit` rows in order.
    public var sampleSeed: Int?
    /// Prompts handed to the generator at once.
    public var batchSize: Int
    /// What counts as correct: the normalised matcher (default) or the notebook's.
    public var rule: ScoringRule
    /// Draw a progress bar on standard error.
    public var showProgress: Bool
    /// Seconds since a fixed point (injectable for tests).
    public var clock: @Sendable () -> Double

    public init(prompt: @escaping @Sendable (String) -> String = CarefulEvaluation.defaultPrompt,
                settings: GenerationConfig = .greedy(max_new_tokens: 50), limit: Int? = nil, sampleSeed: Int? = nil,
                batchSize: Int = 1, rule: ScoringRule = .normalised, showProgress: Bool = true,
                clock: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }) {
        self.prompt = prompt
        self.settings = settings
        self.limit = limit
        self.sampleSeed = sampleSeed
        self.batchSize = batchSize
        self.rule = rule
        self.showProgress = showProgress
        self.clock = clock
    }

    /// The split's indices to evaluate.
    public func selectIndices(testCount n: Int) throws -> [Int] {
        guard n > 0 else { throw EvaluationError.emptyTestSet("the test set is empty: nothing to evaluate") }
        let k = limit ?? n
        guard k > 0 else { throw EvaluationError.invalidArgument("the number of rows to evaluate must be at least 1, got \(k)") }
        guard k <= n else { throw EvaluationError.sampleLargerThanPopulation(k: k, population: n) }
        guard let seed = sampleSeed else { return Array(0..<k) }
        var rng = PythonRandom(seed: seed)
        return try rng.sample(range: n, k: k)
    }

    /// The careful prediction: the completion's first non-empty line (after a last "The answer is:",
    /// if the model wrote one), stripped. Later lines are explanation, and matching them would
    /// credit answers the model only mentioned.
    public static func extractPrediction(fromCompletion completion: String) -> String {
        let afterMarker = NotebookEvaluationProtocol.extractPrediction(fromCompletion: completion)
        let firstLine = afterMarker.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return NotebookEvaluationProtocol.pythonStrip(firstLine)
    }

    /// Judges one prediction with every matcher and the flags.
    public func judge(index: Int, row: QARow, prompt: String, completion: String, seconds: Double) -> ExampleResult {
        judge(index: index, row: row, prompt: prompt, reply: ScoredReply(text: completion), seconds: seconds)
    }

    /// Judges one scored reply: the verdicts, and the confidence of the prediction's tokens.
    public func judge(index: Int, row: QARow, prompt: String, reply: ScoredReply, seconds: Double) -> ExampleResult {
        let prediction = Self.extractPrediction(fromCompletion: reply.text)
        return ExampleResult(index: index, sourceRow: row.sourceRow, question: row.question, fullQuestion: row.question,
                             groundTruth: row.answer, aliases: row.aliases, prompt: prompt, rawOutput: reply.text, prediction: prediction,
                             seconds: seconds, confidence: reply.confidence(of: prediction), rule: rule)
    }

    /// Evaluates `test` with `generator`. Stops within one decode step when `cancellation` is set (the
    /// batch under way is dropped), or after a generator error, keeping the finished examples (see
    /// ``EvaluationRun/stopReason``). The progress bar moves from the first batch's first token.
    public func run(test: QADataset, generator: some AnswerGenerator, cancellation: CancellationFlag? = nil,
                    label: String = "eval") throws -> EvaluationRun {
        guard batchSize >= 1 else { throw EvaluationError.invalidArgument("batchSize must be at least 1, got \(batchSize)") }
        let indices = try selectIndices(testCount: test.count)
        var run = EvaluationRun(protocolName: "careful", rule: rule, settings: settings, selectedIndices: indices)
        let bar = showProgress ? ProgressBar(total: indices.count, label: label, unit: "ex") : nil
        bar?.update(0, info: "first batch of \(min(batchSize, indices.count))")
        let start = clock()
        var next = 0
        while next < indices.count {
            if cancellation?.isCancelled == true || Task.isCancelled { run.stopReason = .cancelled; break }
            let batch = Array(indices[next..<min(next + batchSize, indices.count)])
            let prompts = batch.map { prompt(test[$0].question) }
            let t0 = clock()
            let completions: [ScoredReply]
            do {
                // Progress and Ctrl-C at every decode step, not only between batches.
                completions = try generator.generateScored(prompts: prompts, config: settings) { step in
                    if cancellation?.isCancelled == true { throw GenerationStopped() }
                    bar?.update(run.total, info: "token \(step)/\(settings.max_new_tokens) of \(batch.count) answers")
                }
                guard completions.count == prompts.count else {
                    throw EvaluationError.invalidArgument("the generator returned \(completions.count) texts for \(prompts.count) prompts")
                }
            } catch is GenerationStopped {
                run.stopReason = .cancelled
                break
            } catch {
                run.stopReason = .generatorFailed(index: batch[0], message: "\(error)")
                break
            }
            let each = (clock() - t0) / Double(batch.count)
            for (j, index) in batch.enumerated() {
                run.examples.append(judge(index: index, row: test[index], prompt: prompts[j], reply: completions[j], seconds: each))
            }
            next += batch.count
            bar?.update(run.total, info: "acc \(run.correctCount)/\(run.total)")
        }
        run.seconds = clock() - start
        bar?.finish(info: "acc \(run.correctCount)/\(run.total)" + (run.stopReason.map { " (\($0))" } ?? ""))
        return run
    }

    /// Base versus fine-tuned on the same questions and settings: `base` and `tuned` are usually
    /// the same loaded model with its adapter switched off and on.
    ///
    /// ```swift
    /// let cmp = try careful.compare(test: test, base: model.withoutAdapter, tuned: model)
    /// print(cmp.report)
    /// ```
    public func compare(test: QADataset, base: some AnswerGenerator, tuned: some AnswerGenerator,
                        cancellation: CancellationFlag? = nil) throws -> ModelComparison {
        let before = try run(test: test, generator: base, cancellation: cancellation, label: "base")
        let after = try run(test: test, generator: tuned, cancellation: cancellation, label: "tuned")
        return try ModelComparison(base: before, tuned: after)
    }
}

extension GenerationConfig {
    /// The careful protocol's decoding: greedy, so that a score is a function of the model alone.
    public static func greedy(max_new_tokens: Int = 50) -> GenerationConfig {
        GenerationConfig(max_new_tokens: max_new_tokens, do_sample: false, top_k: 0)
    }
}
