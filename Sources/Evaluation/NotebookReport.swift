// The notebook's printout of an evaluation: a block per example with the running accuracy, the
// totals, every incorrect example, the first five correct ones and an assessment band.
import Foundation
import Llama

/// Formats an evaluation as the notebook prints it.
///
/// ```swift
/// let report = NotebookReport(protocol: NotebookEvaluationProtocol())
/// print(report.final(run))
/// ```
public struct NotebookReport: Sendable {
    /// The protocol whose settings the printout names.
    public let evaluation: NotebookEvaluationProtocol
    /// Characters of the prediction shown per example.
    public static let predictionCharacters = 50
    static let rule = String(repeating: "=", count: 60)

    public init(protocol evaluation: NotebookEvaluationProtocol) { self.evaluation = evaluation }

    /// The lines printed before the first example.
    public func header(testCount: Int, indices: [Int]) -> String {
        [
            "Evaluating on \(indices.count) random test examples (random.seed(\(evaluation.seed)), \(testCount) test rows)",
            "Selected indices: [" + indices.map(String.init).joined(separator: ", ") + "]",
            "Generation: max_new_tokens=\(evaluation.settings.max_new_tokens), temperature=\(GenerationConfig.short(evaluation.settings.temperature)), "
                + "top_p=\(GenerationConfig.short(evaluation.settings.top_p)), do_sample=\(evaluation.settings.do_sample ? "True" : "False")",
        ].joined(separator: "\n")
    }

    /// The question as shown: its first 100 characters, with "..." when it was cut.
    static func shownQuestion(_ e: ExampleResult) -> String {
        e.question == e.fullQuestion ? e.question : e.question + "..."
    }

    /// The block printed after one example.
    public func exampleBlock(_ e: ExampleResult, number: Int, of total: Int, soFar: [ExampleResult]) -> String {
        let correct = soFar.filter(\.isCorrect).count
        let mark = e.isCorrect ? "✓ CORRECT (\(e.match(NotebookMatcher.self).rawValue))" : "✗ INCORRECT (\(e.match(NotebookMatcher.self).rawValue))"
        return [
            "",
            "Example \(number)/\(total) (index \(e.index))",
            Self.item("Question: ", Self.shownQuestion(e)),
            mark,
            Self.item("  Ground truth: ", e.groundTruth),
            Self.item("  Prediction:   ", Self.cut(e.prediction, Self.predictionCharacters)),
            String(format: "  Running accuracy: %d/%d (%.1f%%)", correct, soFar.count, 100 * Double(correct) / Double(max(soFar.count, 1))),
        ].joined(separator: "\n")
    }

    /// The first `n` characters (Python's `text[:n]`), with "..." when cut.
    static func cut(_ text: String, _ n: Int) -> String {
        text.unicodeScalars.count > n ? NotebookEvaluationProtocol.pythonPrefix(text, n) + "..." : text
    }

    /// The assessment band for an accuracy in percent.
    public static func assessment(accuracyPercent a: Double) -> String {
        switch a {
        case 80...: return "EXCELLENT: the model answers most questions correctly (≥ 80%)"
        case 60..<80: return "GOOD: the model answers a majority correctly (60-79%)"
        case 40..<60: return "MODERATE: the model is right about as often as wrong (40-59%)"
        case 20..<40: return "POOR: the model gets most questions wrong (20-39%)"
        default: return "VERY POOR: the model rarely answers correctly (< 20%)"
        }
    }

    /// Totals, all incorrect examples, the first five correct ones and the assessment.
    public func final(_ run: EvaluationRun) -> String {
        var lines = ["", Self.rule, "EVALUATION RESULTS", Self.rule]
        if let stop = run.stopReason {
            lines.append("Stopped early (\(stop)): \(run.total) of \(run.selectedIndices.count) examples evaluated")
        }
        lines += [
            "Total examples:   \(run.total)",
            "Exact matches:    \(run.exactMatches)",
            "Partial matches:  \(run.partialMatches)",
            String(format: "Accuracy:         %.2f%%", run.accuracyPercent),
            "Incorrect:        \(run.total - run.correctCount)",
            String(format: "Total time:       %.2fs", run.seconds),
            String(format: "Time per example: %.2fs", run.secondsPerExample),
        ]
        if run.emptyPredictions > 0 {
            lines.append("Warning: the model produced no text for \(run.emptyPredictions) of \(run.total) examples")
        }
        let incorrect = run.incorrect
        lines += ["", "INCORRECT EXAMPLES (\(incorrect.count)):"]
        if incorrect.isEmpty { lines.append("  (none)") }
        for e in incorrect { lines += exampleLines(e) }
        let correct = run.correct
        lines += ["", "CORRECT EXAMPLES (first \(min(5, correct.count)) of \(correct.count)):"]
        if correct.isEmpty { lines.append("  (none)") }
        for e in correct.prefix(5) { lines += exampleLines(e, match: e.match(NotebookMatcher.self)) }
        lines += ["", "ASSESSMENT: " + Self.assessment(accuracyPercent: run.accuracyPercent)]
        return lines.joined(separator: "\n")
    }

    private func exampleLines(_ e: ExampleResult, match: MatchType? = nil) -> [String] {
        [Self.item("  [\(e.index)] ", Self.shownQuestion(e) + (match.map { " (\($0.rawValue))" } ?? "")),
         Self.item("      Ground truth: ", e.groundTruth),
         Self.item("      Prediction:   ", Self.cut(e.prediction, Self.predictionCharacters))]
    }

    /// `label` then `text`, each further line of `text` indented under its first, so a multi-line
    /// prediction stays inside its item.
    static func item(_ label: String, _ text: String) -> String {
        label + text.split(separator: "\n", omittingEmptySubsequences: false)
            .joined(separator: "\n" + String(repeating: " ", count: label.count))
    }
}
