// The results of one evaluation as live objects: per-example detail, counts, the accuracy with its
// interval, and the lists the notebook prints.
import Foundation
import Llama

/// Which matcher's verdict counts as correct: one of `AnswerMatchers.all`, by name.
public struct ScoringRule: RawRepresentable, Equatable, Hashable, Sendable {
    public let rawValue: String
    /// nil for a name no matcher has.
    public init?(rawValue: String) {
        guard AnswerMatchers.named(rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }
    public var matcher: any AnswerMatcher.Type { AnswerMatchers.named(rawValue)! }

    /// The notebook protocol's rule: the notebook's `check_accuracy`, exact or partial.
    public static let notebook = ScoringRule(rawValue: NotebookMatcher.name)!
    /// The careful protocol's default: the normalised matcher (exact or contained), not negated.
    public static let normalised = ScoringRule(rawValue: NormalisedMatcher.name)!
    /// A rule per registered matcher, in `AnswerMatchers.all` order.
    public static var all: [ScoringRule] { AnswerMatchers.names.compactMap(ScoringRule.init(rawValue:)) }
}

/// One evaluated question.
public struct ExampleResult: Equatable, Sendable {
    /// The row's index in the evaluated split (the notebook's sampled index).
    public var index: Int
    /// The row's 0-based position in its source file.
    public var sourceRow: Int
    /// The question as given to the model (100 characters in notebook mode).
    public var question: String
    /// The whole question from the dataset.
    public var fullQuestion: String
    /// The ground-truth answer.
    public var groundTruth: String
    /// The full prompt text.
    public var prompt: String
    /// What the generator returned.
    public var rawOutput: String
    /// The answer taken from the output (text after the last "The answer is:", stripped).
    public var prediction: String
    /// Every matcher's verdict, by matcher name (`AnswerMatchers.judge`).
    public var matches: [String: MatchType]
    /// Reasons to distrust the match.
    public var flags: [MatchFlag]
    /// Seconds spent generating.
    public var seconds: Double
    /// Correct under the run's ``ScoringRule``.
    public var isCorrect: Bool
    /// How sure the model was of the answer's tokens (the prediction's, or the whole reply's when the
    /// prediction is empty); nil when the generator gives no log-probabilities.
    public var confidence: AnswerConfidence? = nil
    /// The answer's aliases the matchers also accepted (`load_dataset ... aliases=`).
    public var aliases: [String] = []

    /// One matcher's verdict, as the notebook names it ("exact", "partial", "no_match", "contained").
    public func match(_ matcher: any AnswerMatcher.Type) -> MatchType { matches[matcher.name] ?? .none }
    /// The verdict under a rule.
    public func matchType(_ rule: ScoringRule) -> MatchType { match(rule.matcher) }
    /// Whether the example is correct under a rule.
    public func isCorrect(under rule: ScoringRule) -> Bool { rule.matcher.isCorrect(matchType(rule), flags: flags) }
}

extension ExampleResult {
    /// An example judged by every matcher against the answer and its aliases (``AnswerMatchers/judge``), and
    /// correct or not under `rule`: what the protocols and `load_results` build.
    public init(index: Int, sourceRow: Int, question: String, fullQuestion: String, groundTruth: String, aliases: [String],
                prompt: String, rawOutput: String, prediction: String, seconds: Double, confidence: AnswerConfidence?,
                rule: ScoringRule) {
        let judged = AnswerMatchers.judge(prediction: prediction, groundTruth: groundTruth, aliases: aliases)
        self.init(index: index, sourceRow: sourceRow, question: question, fullQuestion: fullQuestion, groundTruth: groundTruth,
                  prompt: prompt, rawOutput: rawOutput, prediction: prediction, matches: judged.matches, flags: judged.flags,
                  seconds: seconds, isCorrect: false, confidence: confidence, aliases: aliases)
        isCorrect = isCorrect(under: rule)
    }
}

/// Why an evaluation run ended before its last example. Not why one reply ended (its stop token or
/// `max_new_tokens`): that is Llama's `StopReason`.
///
/// ```swift
/// if run.stopReason == .cancelled { print("stopped: \(run.stopReason!)") }   // stopped: interrupted
/// ```
public enum EvaluationStopReason: Equatable, Sendable, CustomStringConvertible {
    /// The cancellation flag was set (Ctrl-C).
    case cancelled
    /// The generator threw; its message.
    case generatorFailed(index: Int, message: String)

    public var description: String {
        switch self {
        case .cancelled: return "interrupted"
        case .generatorFailed(let index, let message): return "generation failed on example \(index): \(message)"
        }
    }
}

/// A finished (or interrupted) evaluation.
///
/// ```swift
/// let run = try NotebookEvaluationProtocol().run(test: test, generator: model)
/// print(run.summary)                    // notebook: 6/20 correct = 30.0% (95% CI 14.5%–51.9%, n = 20) ...
/// for e in run.incorrect { print(e.question, e.prediction) }
/// try run.writeNotebookJSON(to: "evaluation_results.json")
/// try run.writeCSV(to: "evaluation_results.csv")
/// ```
public struct EvaluationRun: Equatable, Sendable {
    /// "notebook" or "careful", for summaries.
    public var protocolName: String
    /// What counts as correct.
    public var rule: ScoringRule
    /// The decoding settings used.
    public var settings: GenerationConfig
    /// The split's indices chosen for evaluation, in evaluation order.
    public var selectedIndices: [Int]
    /// Finished examples, in evaluation order (fewer than selected when stopped early).
    public var examples: [ExampleResult]
    /// Wall-clock seconds for the whole run.
    public var seconds: Double
    /// Why the run ended early, or nil.
    public var stopReason: EvaluationStopReason?

    public init(protocolName: String, rule: ScoringRule, settings: GenerationConfig, selectedIndices: [Int],
                examples: [ExampleResult] = [], seconds: Double = 0, stopReason: EvaluationStopReason? = nil) {
        self.protocolName = protocolName
        self.rule = rule
        self.settings = settings
        self.selectedIndices = selectedIndices
        self.examples = examples
        self.seconds = seconds
        self.stopReason = stopReason
    }

    /// Examples evaluated.
    public var total: Int { examples.count }
    /// Examples counted correct.
    public var correctCount: Int { examples.filter(\.isCorrect).count }
    /// Notebook exact matches.
    public var exactMatches: Int { examples.filter { $0.match(NotebookMatcher.self) == .exact }.count }
    /// Notebook partial matches.
    public var partialMatches: Int { examples.filter { $0.match(NotebookMatcher.self) == .partial }.count }
    /// Correct / total as a percentage (0 when nothing was evaluated), computed as the notebook
    /// does (`correct / total * 100`, so the JSON's last digit matches Python's).
    public var accuracyPercent: Double { total > 0 ? Double(correctCount) / Double(total) * 100 : 0 }
    /// The accuracy's Wilson 95% interval.
    public var interval: WilsonInterval { WilsonInterval(successes: correctCount, n: total) }
    /// Seconds per finished example.
    public var secondsPerExample: Double { total > 0 ? seconds / Double(total) : 0 }
    /// The examples judged incorrect.
    public var incorrect: [ExampleResult] { examples.filter { !$0.isCorrect } }
    /// The examples judged correct.
    public var correct: [ExampleResult] { examples.filter(\.isCorrect) }
    /// Correct examples whose match carries a flag (likely false positives).
    public var flagged: [ExampleResult] { examples.filter { !$0.flags.isEmpty && $0.match(NotebookMatcher.self).isMatch } }
    /// Examples where the model produced no text.
    public var emptyPredictions: Int { examples.filter { $0.flags.contains(.emptyPrediction) }.count }

    /// Accuracy of the same examples under another rule (for the summary line).
    public func accuracy(under other: ScoringRule) -> WilsonInterval {
        WilsonInterval(successes: examples.filter { $0.isCorrect(under: other) }.count, n: total)
    }

    /// One line: protocol, correct/total, accuracy with its interval, the other matcher, settings.
    public var summary: String {
        var line = "\(protocolName): \(correctCount)/\(total) correct = \(interval)"
        for other in ScoringRule.all where other != rule {
            line += String(format: "; %@ matcher %.1f%%", other.rawValue, accuracy(under: other).proportion * 100)
        }
        line += "; \(settings)"
        if !flagged.isEmpty { line += "; \(flagged.count) flagged" }
        if emptyPredictions > 0 { line += "; \(emptyPredictions) empty prediction\(emptyPredictions == 1 ? "" : "s")" }
        if let stopReason { line += " [\(stopReason): \(total) of \(selectedIndices.count) examples]" }
        return line
    }

    /// Per-example detail, several lines.
    public func detail(_ e: ExampleResult) -> String {
        var lines = ["example \(e.index) (source row \(e.sourceRow)): \(e.isCorrect ? "correct" : "incorrect")"]
        lines.append("  question:     \(e.question)")
        lines.append("  ground truth: \(e.groundTruth)" + (e.aliases.isEmpty ? "" : " (or: " + e.aliases.joined(separator: " | ") + ")"))
        lines.append("  prediction:   \(e.prediction)")
        lines.append("  " + AnswerMatchers.all.map { "\($0.name): \(e.match($0).rawValue)" }.joined(separator: ", ")
                     + (e.flags.isEmpty ? "" : ", flags: " + e.flags.map(\.rawValue).joined(separator: ", ")))
        lines.append(String(format: "  time: %.2fs", e.seconds))
        return lines.joined(separator: "\n")
    }
}
