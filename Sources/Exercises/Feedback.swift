/// The feedback file a student gets (`medrepl grade ... --feedback DIR` writes `DIR/<student>.md`): each
/// exercise with its points, what fell short in words, and the teacher's hints; then the cells the
/// student changed. Idea names come from `AnswerRubric.name(of:)` and quoted patterns in messages are
/// read as words (`readable`), so no regular-expression syntax reaches the student.
///
/// ```swift
/// let text = Feedback.markdown(submission, teacher: "small.teacher.mednb")
/// // # Feedback for alice
/// //
/// // 4 / 7 points (57%), graded with small.teacher.mednb.
/// // ## rate: 0 / 1 points
/// // - rate is the base rate: expected 0.0002, got 0
/// //   - hint: the set-up cell names the base rate
/// ```
public enum Feedback {
    public static func markdown(_ submission: Submission, teacher: String) -> String {
        guard let report = submission.report else {
            return "# Feedback for \(submission.student)\n\nYour notebook could not be graded with \(fileName(teacher)): "
                + readable(submission.failure ?? "") + "\n"
        }
        var lines = ["# Feedback for \(submission.student)", "",
                     "\(GradeReport.format(report.earned)) / \(GradeReport.format(report.points)) points (\(report.percent)%), "
                        + "graded with \(fileName(teacher))."]
        for e in report.exercises {
            lines += ["", "## \(e.id): \(GradeReport.format(e.earned)) / \(GradeReport.format(e.points)) points", ""]
            guard e.attempted else { lines.append("Not attempted: the cell still holds what you were given."); continue }
            if let stopped = e.stopped { lines.append("Your cell was \(stopped), so its checks did not run.") }
            for note in e.notes { lines.append("- " + readable(note)) }
            let failed = e.checks.filter { $0.score < $0.points }
            for c in failed {
                lines.append("- " + readable(c.label) + ": " + readable(c.message.isEmpty ? "failed" : c.message))
                if let hint = c.hint { lines.append("  - hint: " + hint) }
            }
            if e.stopped == nil && e.notes.isEmpty && failed.isEmpty { lines.append("Every check passed.") }
        }
        if !report.integrity.isEmpty {
            lines += ["", "## Cells you were not meant to change", ""]
            lines += report.integrity.map { "- \($0): grading used the teacher's version" }
        }
        if !report.notes.isEmpty {
            lines += ["", "## Notes", ""]
            lines += report.notes.map { "- " + readable($0) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A message with each quoted pattern (a check's `matches '^[A-D]$'`) read as the words it most plainly
    /// matches (`AnswerRubric.plainWords`); text without pattern syntax is left as it is.
    ///
    /// ```swift
    /// Feedback.readable("reply matches '^[A-D]$'")   // "reply matches 'A'"
    /// ```
    public static func readable(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(where: { $0 == "'" || $0 == "\"" }) {
            let quote = rest[open]
            out += rest[..<open]
            let inner = rest[rest.index(after: open)...]
            guard let close = inner.firstIndex(of: quote) else { rest = rest[open...]; break }
            let body = String(inner[..<close])
            out += String(quote) + (isPattern(body) ? AnswerRubric.plainWords(body) : body) + String(quote)
            rest = inner[inner.index(after: close)...]
        }
        return out + rest
    }

    /// True for text holding regular-expression syntax.
    static func isPattern(_ text: String) -> Bool {
        text.contains { "\\*+[]|^$".contains($0) } || text.contains("(?")
    }

    /// The last part of a path, as feedback names the teacher's file.
    static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
