// The careful evaluation's printout: the summary line, how each matcher judged, the flagged
// matches, and the first incorrect and correct examples (the shell's `show results`).
import Foundation

extension EvaluationRun {
    /// How many examples got each verdict from one matcher, e.g. "12 exact, 3 contained, 5 no_match".
    public func matchCounts(_ rule: ScoringRule) -> String {
        rule.matcher.verdicts.map { t in "\(examples.filter { $0.matchType(rule) == t }.count) \(t.rawValue)" }.joined(separator: ", ")
    }

    /// Every matcher's verdict counts, the run's own matcher first:
    /// `normalised matcher: 1 exact, 0 contained, 3 no_match; notebook matcher: ...`.
    public var matchCountsLine: String {
        ([rule] + ScoringRule.all.filter { $0 != rule }).map { "\($0.rawValue) matcher: \(matchCounts($0))" }.joined(separator: "; ")
    }

    /// A several-line report: summary, both matchers' verdicts, flagged matches, and up to `limit`
    /// incorrect and correct examples.
    ///
    /// ```swift
    /// print(run.report(limit: 5))
    /// ```
    public func report(limit: Int = 10) -> String {
        var lines = [summary, matchCountsLine]
        let flagged = self.flagged
        if !flagged.isEmpty {
            lines.append("flagged matches (likely false positives of the notebook matcher): \(flagged.count)")
            for e in flagged.prefix(limit) {
                lines.append("  [\(e.index)] " + e.flags.map(\.rawValue).joined(separator: ", ")
                             + ": truth \"\(e.groundTruth)\", prediction \"\(NotebookReport.cut(e.prediction, 60))\"")
            }
        }
        for (title, list) in [("incorrect", incorrect), ("correct", correct)] {
            lines.append("\(title) (\(list.count == 0 ? "none" : list.count > limit ? "first \(limit) of \(list.count)" : "\(list.count)")):")
            for e in list.prefix(limit) {
                lines.append("  [\(e.index)] \(NotebookReport.cut(e.question, 80))")
                lines.append("      truth: \(e.groundTruth) | prediction: \(NotebookReport.cut(e.prediction, 60))")
            }
        }
        lines.append(String(format: "time: %.1fs, %.2f s/example", seconds, secondsPerExample))
        return lines.joined(separator: "\n")
    }
}
