// Accuracy of the answers a model is most sure of: what an assistant that abstains below a confidence would
// still answer, and how often it would be right (selective prediction's risk-coverage curve, read at a few points).
import Foundation
import Llama

/// The most confident 100%, 80%, 50% and 20% of the answers: how many, their accuracy with its Wilson interval,
/// and the confidence from which they are answered (`ask ... abstain_below=` that threshold keeps them).
///
/// ```swift
/// let rc = RiskCoverage(confidences: [0.9, 0.4, 0.7, 0.2], correct: [true, false, true, false])
/// rc.rows[2]   // coverage 0.5: the 2 most confident, 2 correct, answered from confidence 0.7
/// print(rc.table)
/// ```
public struct RiskCoverage: Equatable, Sendable {
    public struct Row: Equatable, Sendable {
        /// The share of the questions answered (1, 0.8, ...).
        public var coverage: Double
        /// The answers kept: round(coverage x n), at least 1.
        public var answered: Int
        public var accuracy: WilsonInterval
        /// The lowest confidence among the answers kept.
        public var threshold: Double
    }
    public var rows: [Row]
    /// How many answers there are in all.
    public var total: Int

    /// The answers sorted by confidence, most confident first (ties in their given order), cut at each coverage.
    /// Empty when there are no answers.
    public init(confidences: [Double], correct: [Bool], coverages: [Double] = [1, 0.8, 0.5, 0.2]) {
        precondition(confidences.count == correct.count, "one verdict per confidence")
        let order = confidences.indices.sorted { confidences[$0] > confidences[$1] || (confidences[$0] == confidences[$1] && $0 < $1) }
        let n = order.count
        total = n
        rows = n == 0 ? [] : coverages.map { c in
            let k = min(n, max(1, Int((c * Double(n)).rounded())))
            let kept = order.prefix(k)
            return Row(coverage: c, answered: k, accuracy: WilsonInterval(successes: kept.filter { correct[$0] }.count, n: k),
                       threshold: confidences[kept.last!])
        }
    }

    /// One line per coverage: `  80% answered (16 of 20): 50.0% correct (95% CI 28.0%–72.0%), confidence ≥ 0.414`. The
    /// threshold is rounded down, so that `abstain_below=` the number shown keeps those answers.
    public var table: String {
        let n = total
        return rows.map { r in
            String(format: "  %3.0f%% answered (%d of %d): %.1f%% correct (95%% CI %.1f%%–%.1f%%), confidence ≥ ",
                   r.coverage * 100, r.answered, n, r.accuracy.proportion * 100, r.accuracy.lower * 100, r.accuracy.upper * 100)
                + Self.roundedDown(r.threshold)
        }.joined(separator: "\n")
    }

    /// A threshold written short and rounded down: `0.621`, or for the tiny probabilities of whole answers `3.1e-05`.
    static func roundedDown(_ x: Double) -> String {
        guard x > 0 else { return "0" }
        if x >= 0.01 { return String(format: "%.3f", (x * 1000).rounded(.down) / 1000) }
        let scale = pow(10, floor(log10(x)) - 1)
        return String(format: "%.1e", (x / scale).rounded(.down) * scale)
    }
}

/// Which of an answer's confidences orders the answers (`risk_coverage RESULTS by=`).
public enum ConfidenceMeasure: String, CaseIterable, Sendable {
    /// The mean probability of the answer's tokens (what `ask ... abstain_below=` compares).
    case mean
    /// The lowest probability among the answer's tokens.
    case min
    /// The probability of the whole answer (the product of its tokens').
    case answer

    public func value(_ c: AnswerConfidence) -> Double {
        switch self {
        case .mean: c.meanTokenProbability
        case .min: c.minimumTokenProbability
        case .answer: c.answerProbability
        }
    }
}

extension EvaluationRun {
    /// The risk-coverage table of the finished examples ordered by `measure`; nil when there are none or
    /// one has no confidence (a generator that gives no log-probabilities).
    public func riskCoverage(by measure: ConfidenceMeasure = .mean) -> RiskCoverage? {
        let c = examples.compactMap { $0.confidence.map(measure.value) }
        guard !examples.isEmpty, c.count == examples.count else { return nil }
        return RiskCoverage(confidences: c, correct: examples.map(\.isCorrect))
    }

    /// The table under a title naming the measure, as `evaluate` and `compare` print it; nil as ``riskCoverage(by:)``.
    public func riskCoverageReport(by measure: ConfidenceMeasure = .mean, title: String = "answered when most confident") -> String? {
        guard let rc = riskCoverage(by: measure) else { return nil }
        let what = measure == .mean ? "the answer's mean token probability, which ask ... abstain_below= compares"
            : measure == .min ? "lowest token probability of the answer" : "probability of the whole answer"
        return "\(title) (confidence: \(what)):\n" + rc.table
    }
}
