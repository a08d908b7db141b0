// A teacher-forced metric that moves even when exact match does not: the mean loss of the
// ground-truth answer's tokens given the question, and its perplexity.
import Datasets
import Foundation

/// The ground-truth answers' loss under a model.
///
/// ```swift
/// let before = try AnswerLoss.measure(test: test, indices: run.selectedIndices, scorer: base, prompt: careful.prompt)
/// let after = try AnswerLoss.measure(test: test, indices: run.selectedIndices, scorer: tuned, prompt: careful.prompt)
/// print(AnswerLoss.compare(before: before, after: after))
/// // answer loss 3.412 → 1.874 (perplexity 30.3 → 6.5) over 20 answers, 61 tokens
/// ```
public struct AnswerLoss: Equatable, Sendable, CustomStringConvertible {
    /// Per example: split index, mean loss over its answer tokens, token count.
    public var examples: [(index: Int, loss: Double, tokens: Int)]
    /// True when cancelled before the last example.
    public var stoppedEarly: Bool

    /// What follows a loss measured on answers rewritten as the model was trained to give them.
    public static func writtenNote(_ format: AnswerFormat) -> String {
        "answers written as trained (\(format.apply("X").debugDescription))"
    }

    public init(examples: [(index: Int, loss: Double, tokens: Int)], stoppedEarly: Bool = false) {
        self.examples = examples
        self.stoppedEarly = stoppedEarly
    }

    public static func == (a: AnswerLoss, b: AnswerLoss) -> Bool {
        a.stoppedEarly == b.stoppedEarly && a.examples.count == b.examples.count
            && zip(a.examples, b.examples).allSatisfy { $0.index == $1.index && $0.loss == $1.loss && $0.tokens == $1.tokens }
    }

    /// Answer tokens scored.
    public var tokens: Int { examples.reduce(0) { $0 + $1.tokens } }
    /// Token-weighted mean loss (nats per answer token).
    public var meanLoss: Double {
        tokens > 0 ? examples.reduce(0) { $0 + $1.loss * Double($1.tokens) } / Double(tokens) : .nan
    }
    /// exp(mean loss).
    public var perplexity: Double { exp(meanLoss) }

    /// "answer loss 1.874 (perplexity 6.5) over 20 answers, 61 tokens".
    public var description: String {
        String(format: "answer loss %.3f (perplexity %.1f) over %d answers, %d tokens", meanLoss, perplexity, examples.count, tokens)
            + (stoppedEarly ? " (stopped early)" : "")
    }

    /// Scores each selected row's answer given its prompt.
    public static func measure(test: QADataset, indices: [Int], scorer: some AnswerScorer,
                               prompt: (String) -> String, cancellation: CancellationFlag? = nil) throws -> AnswerLoss {
        guard !indices.isEmpty else { throw EvaluationError.emptyTestSet("no rows to score") }
        var result = AnswerLoss(examples: [], stoppedEarly: false)
        for index in indices {
            if cancellation?.isCancelled == true { result.stoppedEarly = true; break }
            let row = try test.row(index)
            let (loss, tokens) = try scorer.answerLoss(prompt: prompt(row.question), answer: row.answer)
            guard loss.isFinite, tokens > 0 else {
                throw EvaluationError.invalidArgument("the scorer returned loss \(loss) over \(tokens) tokens for example \(index) (answer \"\(row.answer)\")")
            }
            result.examples.append((index, loss, tokens))
        }
        return result
    }

    /// "answer loss 3.412 → 1.874 (perplexity 30.3 → 6.5) over 20 answers, 61 tokens".
    public static func compare(before: AnswerLoss, after: AnswerLoss) -> String {
        String(format: "answer loss %.3f → %.3f (perplexity %.1f → %.1f) over %d answers, %d tokens",
               before.meanLoss, after.meanLoss, before.perplexity, after.perplexity, after.examples.count, after.tokens)
    }
}
