// Base versus fine-tuned on the same questions: both accuracies with intervals, the questions whose
// verdict changed, and McNemar's paired counts (only the discordant pairs carry information).
import Foundation

/// Two runs over the same questions compared pair by pair.
///
/// ```swift
/// let cmp = try ModelComparison(base: baseRun, tuned: tunedRun)
/// print(cmp.report)
/// // base  20.0% (95% CI 8.1%–41.6%, n = 20)
/// // tuned 35.0% (95% CI 18.1%–56.7%, n = 20)
/// // changed: 4 improved, 1 regressed, 15 unchanged; McNemar exact p = 0.375
/// ```
public struct ModelComparison: Equatable, Sendable {
    /// The run without the adapter.
    public let base: EvaluationRun
    /// The run with the adapter.
    public let tuned: EvaluationRun
    /// Pairs (base, tuned) over the questions both runs finished, in evaluation order.
    public let pairs: [(base: ExampleResult, tuned: ExampleResult)]

    public static func == (a: ModelComparison, b: ModelComparison) -> Bool { a.base == b.base && a.tuned == b.tuned }

    /// Pairs the runs by split index; both must have evaluated the same selection.
    public init(base: EvaluationRun, tuned: EvaluationRun) throws {
        guard base.selectedIndices == tuned.selectedIndices else {
            throw EvaluationError.mismatchedRuns("the two runs evaluated different questions (\(base.selectedIndices.count) and \(tuned.selectedIndices.count) selected); compare runs on the same rows and seed")
        }
        let tunedByIndex = Dictionary(tuned.examples.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        var pairs: [(ExampleResult, ExampleResult)] = []
        for b in base.examples {
            guard let t = tunedByIndex[b.index] else { continue }
            guard b.fullQuestion == t.fullQuestion, b.groundTruth == t.groundTruth else {
                throw EvaluationError.mismatchedRuns("example \(b.index) has different questions in the two runs; were they run on the same split?")
            }
            pairs.append((b, t))
        }
        self.base = base
        self.tuned = tuned
        self.pairs = pairs
    }

    /// Correct in both.
    public var bothCorrect: Int { pairs.filter { $0.base.isCorrect && $0.tuned.isCorrect }.count }
    /// Wrong before, right after.
    public var improved: [(base: ExampleResult, tuned: ExampleResult)] { pairs.filter { !$0.base.isCorrect && $0.tuned.isCorrect } }
    /// Right before, wrong after.
    public var regressed: [(base: ExampleResult, tuned: ExampleResult)] { pairs.filter { $0.base.isCorrect && !$0.tuned.isCorrect } }
    /// Wrong in both.
    public var neitherCorrect: Int { pairs.filter { !$0.base.isCorrect && !$0.tuned.isCorrect }.count }

    /// Base accuracy on the paired questions.
    public var baseInterval: WilsonInterval { WilsonInterval(successes: pairs.filter(\.base.isCorrect).count, n: pairs.count) }
    /// Fine-tuned accuracy on the paired questions.
    public var tunedInterval: WilsonInterval { WilsonInterval(successes: pairs.filter(\.tuned.isCorrect).count, n: pairs.count) }

    /// McNemar's exact two-sided p-value: the discordant pairs against a fair coin.
    public var mcnemarExactP: Double { Self.mcnemarExactP(improved: improved.count, regressed: regressed.count) }

    /// `min(1, 2 · P(X ≤ min(b, c)))` for X ~ Binomial(b + c, 1/2).
    public static func mcnemarExactP(improved b: Int, regressed c: Int) -> Double {
        let n = b + c
        guard n > 0 else { return 1 }
        var tail = 0.0
        for i in 0...min(b, c) { tail += exp(logChoose(n, i) - Double(n) * log(2.0)) }
        return min(1, 2 * tail)
    }

    static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    }

    /// The level below which McNemar's p marks a difference as significant.
    public static let significance = 0.05

    /// True when the fine-tuned model is significantly worse: more regressions than improvements with
    /// McNemar's p below `significance`.
    public var significantRegression: Bool { Self.significantRegression(improved: improved.count, regressed: regressed.count) }

    /// The same verdict from the counts alone (what a sweep keeps of each run).
    public static func significantRegression(improved: Int, regressed: Int) -> Bool {
        regressed > improved && mcnemarExactP(improved: improved, regressed: regressed) < significance
    }

    /// One line when the fine-tuned model is significantly worse (nil otherwise): a lower answer loss does not
    /// make such a model a better assistant.
    public var regressionWarning: String? {
        guard significantRegression else { return nil }
        return String(format: "warning: the adapter made the model significantly worse on these questions: %d regressed, %d improved "
                      + "(McNemar exact p = %.3g < %.2g); do not use it as it is", regressed.count, improved.count, mcnemarExactP, Self.significance)
    }

    /// Both accuracies, the McNemar counts, and each changed question.
    public var report: String {
        var lines = ["base  \(baseInterval)", "tuned \(tunedInterval)"]
        lines.append(String(format: "changed: %d improved, %d regressed, %d unchanged (%d both correct, %d both wrong); McNemar exact p = %.3g",
                            improved.count, regressed.count, bothCorrect + neitherCorrect, bothCorrect, neitherCorrect, mcnemarExactP))
        if pairs.count < base.selectedIndices.count {
            lines.append("(compared on the \(pairs.count) of \(base.selectedIndices.count) questions both runs finished)")
        }
        if let regressionWarning { lines.append(regressionWarning) }
        if let b = base.riskCoverageReport(title: "base, answered when most confident"),
           let t = tuned.riskCoverageReport(title: "tuned, answered when most confident") {
            lines += [b, t]
        }
        for (title, list) in [("improved", improved), ("regressed", regressed)] where !list.isEmpty {
            lines.append("\(title):")
            for p in list {
                lines.append("  [\(p.base.index)] truth: \(p.base.groundTruth)")
                lines.append("      base:  \(NotebookReport.cut(p.base.prediction, 60))")
                lines.append("      tuned: \(NotebookReport.cut(p.tuned.prediction, 60))")
            }
        }
        return lines.joined(separator: "\n")
    }
}
