// Evaluation results as live objects: `show results`, `results.accuracy`, `results.interval.lower`,
// and the comparison of a model with its adapter off and on.
import Datasets
import Evaluation
import Foundation
import Language

/// One evaluation run living in the session (`results = evaluate model data`).
public final class ResultsObject: LiveObject {
    /// The run: settings, selected rows, finished examples.
    public let run: EvaluationRun
    /// Which model was evaluated, as the user loaded it (and whether its adapter was on).
    public let modelLabel: String

    public init(run: EvaluationRun, modelLabel: String) {
        self.run = run
        self.modelLabel = modelLabel
    }

    public var typeName: String { "Results" }
    /// "careful: 57/200 correct = 28.5% (95% CI 22.7%–35.1%, n = 200); ...".
    public var summary: String { run.summary }

    public var fieldNames: [String] {
        ["protocol", "model", "accuracy", "correct", "exact_matches", "partial_matches", "total", "selected",
         "interval", "time_seconds", "seconds_per_example", "empty_predictions", "flagged", "stopped", "settings",
         "selected_indices"]
    }

    public func field(_ name: String) -> Value? {
        switch name {
        case "protocol": return .string(run.protocolName)
        case "model": return .string(modelLabel)
        case "accuracy": return .double(run.accuracyPercent)
        case "correct": return .int(run.correctCount)
        case "exact_matches": return .int(run.exactMatches)
        case "partial_matches": return .int(run.partialMatches)
        case "total": return .int(run.total)
        case "selected": return .int(run.selectedIndices.count)
        case "interval": return .object(Self.intervalRecord(run.interval))
        case "time_seconds": return .double(run.seconds)
        case "seconds_per_example": return .double(run.secondsPerExample)
        case "empty_predictions": return .int(run.emptyPredictions)
        case "flagged": return .int(run.flagged.count)
        case "stopped": return run.stopReason.map { .string("\($0)") } ?? Value.none
        case "settings": return .string("\(run.settings)")
        case "selected_indices": return .list(run.selectedIndices.map { .int($0) })
        default: return nil
        }
    }

    /// `show results`: the summary, both matchers, flagged matches, the first incorrect and correct examples.
    public func details() -> String { "Results (\(modelLabel)): " + run.report(limit: 5) }

    /// An interval as fields in percent: lower, upper, n, the text.
    static func intervalRecord(_ ci: WilsonInterval) -> RecordObject {
        RecordObject(typeName: "Interval", fields: [
            ("accuracy", .double(ci.proportion * 100)), ("lower", .double(ci.lower * 100)),
            ("upper", .double(ci.upper * 100)), ("n", .int(ci.n)), ("text", .string(ci.description)),
        ])
    }
}

/// A model evaluated with its adapter off and on (`cmp = compare model data`).
public final class ComparisonObject: LiveObject {
    /// The paired runs.
    public let comparison: ModelComparison
    /// The ground-truth answers' loss with the adapter off and on, over the same rows.
    public let lossBefore: AnswerLoss?
    public let lossAfter: AnswerLoss?
    /// How the scored answers were written, when not as the dataset has them (as the adapter was trained).
    public let answersWritten: AnswerFormat?

    public init(comparison: ModelComparison, lossBefore: AnswerLoss?, lossAfter: AnswerLoss?, answersWritten: AnswerFormat? = nil) {
        self.comparison = comparison
        self.lossBefore = lossBefore
        self.lossAfter = lossAfter
        self.answersWritten = answersWritten
    }

    public var typeName: String { "Comparison" }
    public var summary: String {
        let c = comparison
        return "base \(c.baseInterval) → tuned \(c.tunedInterval); \(c.improved.count) improved, \(c.regressed.count) regressed"
    }

    public var fieldNames: [String] {
        ["base", "tuned", "base_accuracy", "tuned_accuracy", "improved", "regressed", "unchanged", "mcnemar_p",
         "answer_loss_before", "answer_loss_after"]
    }

    public func field(_ name: String) -> Value? {
        let c = comparison
        switch name {
        case "base": return .object(ResultsObject(run: c.base, modelLabel: "adapter off"))
        case "tuned": return .object(ResultsObject(run: c.tuned, modelLabel: "adapter on"))
        case "base_accuracy": return .double(c.baseInterval.proportion * 100)
        case "tuned_accuracy": return .double(c.tunedInterval.proportion * 100)
        case "improved": return .int(c.improved.count)
        case "regressed": return .int(c.regressed.count)
        case "unchanged": return .int(c.bothCorrect + c.neitherCorrect)
        case "mcnemar_p": return .double(c.mcnemarExactP)
        case "answer_loss_before": return lossBefore.map { .double($0.meanLoss) } ?? Value.none
        case "answer_loss_after": return lossAfter.map { .double($0.meanLoss) } ?? Value.none
        default: return nil
        }
    }

    /// The comparison report, with the answer loss line when it was measured.
    public var report: String {
        var text = comparison.report
        if let lossBefore, let lossAfter {
            text += "\n" + AnswerLoss.compare(before: lossBefore, after: lossAfter) + (answersWritten.map { ", \(AnswerLoss.writtenNote($0))" } ?? "")
        }
        return text
    }

    public func details() -> String { "Comparison:\n" + report }
}
