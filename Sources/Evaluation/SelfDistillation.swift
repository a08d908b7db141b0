// Rejection-sampling fine-tuning's training rows: the base model answers each training question, and where
// the careful matcher judges its answer right the row keeps the model's own words; elsewhere the dataset's
// answer. Training on them teaches the answers it lacked without rewriting, in one or two words, the
// answers it already gave well (issue 15: the bare answers cost SmolLM2 half its held-out accuracy).
import Datasets
import Foundation

/// Builds self-distilled rows from a careful run of the base model over the training rows.
///
/// ```swift
/// let run = try CarefulEvaluation(batchSize: 8).run(test: train, generator: base)
/// let (rows, kept) = SelfDistillation.rows(train, run: run)   // kept: rows answered in the model's words
/// ```
public enum SelfDistillation {
    /// `data` with each answer replaced by the run's prediction where the run judged it correct. Rows the run
    /// did not reach keep their answers. Returns how many rows took the model's words.
    public static func rows(_ data: QADataset, run: EvaluationRun) -> (dataset: QADataset, kept: Int) {
        var out = data, kept = 0
        for example in run.examples where example.isCorrect && out.rows.indices.contains(example.index) {
            let words = example.prediction.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !words.isEmpty else { continue }
            out.rows[example.index].answer = words
            kept += 1
        }
        return (out, kept)
    }
}
