// Accuracy of the answers a model is most sure of: what an assistant that abstains below a confidence would
// still answer, and how often it would be right (selective prediction's risk-coverage curve, read at a few points).
import Foundation

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

    /// The answers sorted by confidence, most confident first (ties in their given order), cut at each coverage.
    /// Empty when there are no answers.
    public init(confidences: [Double], correct: [Bool], coverages: [Double] = [1, 0.8, 0.5, 0.2]) {
        precondition(confidences.count == correct.count, "one verdict per confidence")
        let order = confidences.indices.sorted { confidences[$0] > confidences[$1] || (confidences[$0] == confidences[$1] && $0 < $1) }
        let n = order.count
        rows = n == 0 ? [] : coverages.map { c in
            let k = min(n, max(1, Int((c * Double(n)).rounded())))
            let kept = order.prefix(k)
            return Row(coverage: c, answered: k, accuracy: WilsonInterval(successes: kept.filter { correct[$0] }.count, n: k),
                       threshold: confidences[kept.last!])
        }
    }

    /// One line per coverage: `  80% answered (16 of 20): 50.0% correct (95% CI 28.0%–72.0%), confidence ≥ 0.41`.
    public var table: String {
        let n = rows.first?.answered ?? 0
        return rows.map { r in
            String(format: "  %3.0f%% answered (%d of %d): %.1f%% correct (95%% CI %.1f%%–%.1f%%), confidence ≥ %.2f",
                   r.coverage * 100, r.answered, n, r.accuracy.proportion * 100, r.accuracy.lower * 100, r.accuracy.upper * 100, r.threshold)
        }.joined(separator: "\n")
    }
}
