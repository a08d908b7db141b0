// The notebook's evaluation, reproduced exactly: the same sampled rows (Python's random, seed 42,
// k = 20), the question cut to 100 characters, the same prompt and sampling settings, the text
// after the last "The answer is:" as the prediction, `check_accuracy`, and the same printout and
// evaluation_results.json.
import Datasets
import Foundation
import Llama

/// An error that stops an evaluation before it starts.
public enum EvaluationError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// Nothing to evaluate: the split after the training range is empty.
    case emptyTestSet(String)
    /// More examples asked for than the split has.
    case sampleLargerThanPopulation(k: Int, population: Int)
    /// Two runs that should cover the same questions do not.
    case mismatchedRuns(String)
    /// A bad setting.
    case invalidArgument(String)
    /// A results file that is missing or not what it should be.
    case unreadableFile(String)

    public var description: String {
        switch self {
        case .emptyTestSet(let message), .mismatchedRuns(let message), .invalidArgument(let message), .unreadableFile(let message):
            return message
        case .sampleLargerThanPopulation(let k, let n):
            return k < 0 ? "cannot pick a negative number (\(k)) of examples"
                         : "cannot pick \(k) examples from a test set of \(n) row\(n == 1 ? "" : "s")"
        }
    }
    public var errorDescription: String? { description }
}

/// The notebook's evaluation protocol.
///
/// ```swift
/// let data = try QADataset.load(path: "data/medqa_small.json")
/// let protocol_ = NotebookEvaluationProtocol(trainingRows: 200)
/// let run = try protocol_.run(dataset: data, generator: model) { print($0) }
/// try run.writeNotebookJSON(to: "evaluation_results.json")
/// ```
public struct NotebookEvaluationProtocol: Sendable {
    /// The notebook's prompt: `{question}` is replaced by the question's first 100 characters.
    /// The notebook wrote the Llama-3 chat layout out as literal text and primed the answer with
    /// "The answer is:", whatever the model's own template. The notebook itself is not in this
    /// repository; this wording (including "Answer this medical question briefly: ") follows the
    /// evaluation issue's description of it, and is kept in this one constant so that a
    /// correction is a one-line change.
    public static let promptTemplate = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
        + "Answer this medical question briefly: {question}<|eot_id|>"
        + "<|start_header_id|>assistant<|end_header_id|>\n\nThe answer is:"
    /// The marker whose last occurrence precedes the prediction.
    public static let answerMarker = "The answer is:"

    /// Rows used for training; the test set is every row after them.
    public var trainingRows: Int
    /// Examples sampled from the test set.
    public var k: Int
    /// `random.seed(seed)` before sampling.
    public var seed: Int
    /// Characters of the question kept (Python's `question[:100]`).
    public var questionCharacters: Int
    /// Decoding settings.
    public var settings: GenerationConfig
    /// Seconds since some fixed point (injectable so tests print fixed times).
    public var clock: @Sendable () -> Double

    public init(trainingRows: Int = 200, k: Int = 20, seed: Int = 42, questionCharacters: Int = 100,
                settings: GenerationConfig = .notebook,
                clock: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }) {
        self.trainingRows = trainingRows
        self.k = k
        self.seed = seed
        self.questionCharacters = questionCharacters
        self.settings = settings
        self.clock = clock
    }

    /// Python's `text[:n]`: the first n Unicode scalars.
    public static func pythonPrefix(_ text: String, _ n: Int) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text.unicodeScalars.prefix(max(0, n)))
        return String(view)
    }

    /// The prompt for one question.
    public func prompt(for question: String) -> String {
        Self.promptTemplate.replacingOccurrences(of: "{question}", with: Self.pythonPrefix(question, questionCharacters))
    }

    /// The notebook's prediction: the decoded prompt-and-completion split on the marker, last part,
    /// stripped. The prompt ends with the marker, so this is the completion after its own last
    /// marker, if any.
    public static func extractPrediction(fromCompletion completion: String) -> String {
        var tail = Substring(completion)
        if let r = completion.range(of: answerMarker, options: .backwards) { tail = completion[r.upperBound...] }
        return pythonStrip(String(tail))
    }

    /// Python's `str.strip()`: whitespace removed from both ends.
    static func pythonStrip(_ s: String) -> String {
        let scalars = Array(s.unicodeScalars)
        func ws(_ u: Unicode.Scalar) -> Bool { u.properties.isWhitespace || (0x1C...0x1F).contains(u.value) }
        guard let first = scalars.firstIndex(where: { !ws($0) }), let last = scalars.lastIndex(where: { !ws($0) }) else { return "" }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[first...last])
        return String(view)
    }

    /// The test split's indices the notebook evaluates: `random.seed(seed); random.sample(range(n), k)`.
    public func selectIndices(testCount n: Int) throws -> [Int] {
        guard n > 0 else {
            throw EvaluationError.emptyTestSet("the test set is empty: the dataset has no rows after the first \(trainingRows) (training) rows")
        }
        var rng = PythonRandom(seed: seed)
        do {
            return try rng.sample(range: n, k: k)
        } catch {
            throw EvaluationError.sampleLargerThanPopulation(k: k, population: n)
        }
    }

    /// Runs the protocol on `dataset` (test rows = rows from `trainingRows` on), printing as the
    /// notebook prints through `output`. Stops early, keeping finished examples, when
    /// `cancellation` is set or the generator throws.
    public func run(dataset: QADataset, generator: some AnswerGenerator, cancellation: CancellationFlag? = nil,
                    output: (String) -> Void = { _ in }) throws -> EvaluationRun {
        guard trainingRows >= 0 else { throw EvaluationError.invalidArgument("trainingRows must be ≥ 0, got \(trainingRows)") }
        guard dataset.count > trainingRows else {
            throw EvaluationError.emptyTestSet("the test set is empty: \(dataset.name) has \(dataset.count) rows and the first \(trainingRows) are the training range")
        }
        let test = try dataset.split(at: trainingRows).test
        return try run(test: test, generator: generator, cancellation: cancellation, output: output)
    }

    /// Runs the protocol on an already separated test split.
    public func run(test: QADataset, generator: some AnswerGenerator, cancellation: CancellationFlag? = nil,
                    output: (String) -> Void = { _ in }) throws -> EvaluationRun {
        let indices = try selectIndices(testCount: test.count)
        let report = NotebookReport(protocol: self)
        output(report.header(testCount: test.count, indices: indices))
        var run = EvaluationRun(protocolName: "notebook", rule: .notebook, settings: settings, selectedIndices: indices)
        let start = clock()
        for (i, index) in indices.enumerated() {
            if cancellation?.isCancelled == true || Task.isCancelled { run.stopReason = .cancelled; break }
            let row = test[index]
            let question = Self.pythonPrefix(row.question, questionCharacters)
            let prompt = prompt(for: row.question)
            let t0 = clock()
            let reply: ScoredReply
            do {
                reply = try generator.generateScored(prompts: [prompt], config: settings) { _ in }[0]
            } catch {
                run.stopReason = .generatorFailed(index: index, message: "\(error)")
                break
            }
            let prediction = Self.extractPrediction(fromCompletion: reply.text)
            let example = ExampleResult(index: index, sourceRow: row.sourceRow, question: question, fullQuestion: row.question,
                                        groundTruth: row.answer, aliases: row.aliases, prompt: prompt, rawOutput: reply.text,
                                        prediction: prediction, seconds: clock() - t0, confidence: reply.confidence(of: prediction),
                                        rule: .notebook)
            run.examples.append(example)
            output(report.exampleBlock(example, number: i + 1, of: indices.count, soFar: run.examples))
        }
        run.seconds = clock() - start
        output(report.final(run))
        return run
    }
}

extension GenerationConfig {
    /// The notebook's `model.generate(max_new_tokens=50, temperature=0.3, top_p=0.9, do_sample=True)`. (The
    /// notebook leaves transformers' top_k = 50 on; medrepl's protocol has always kept every token, top_k = 0,
    /// and keeps doing so, so that recorded evaluations replay.)
    public static let notebook = GenerationConfig(max_new_tokens: 50, do_sample: true, temperature: 0.3, top_p: 0.9, top_k: 0)
}
