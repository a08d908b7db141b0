import Foundation
import Language
import NotebookFormat

/// What `medrepl check-exercises` does: runs a student's notebook alone, confined and within time limits
/// as grading runs it, and gives the result of each visible check without points. The teacher's hidden
/// checks are not in the student's file; grading runs them too.
///
/// ```swift
/// let report = try SelfCheck.run(student, name: "alice.mednb", directory: folder, registry: .standard())
/// print(SelfCheck.text(report))
/// ```
public enum SelfCheck {
    /// Runs every cell of the student's notebook as a student's cell, each exercise followed by its visible checks.
    public static func run(_ notebook: NotebookDocument, name: String, directory: URL, registry: Registry,
                           environment: [String: String] = ProcessInfo.processInfo.environment,
                           timeLimit: Double? = Grader.defaultTimeLimit) throws -> GradeReport {
        var grader = Grader(teacher: notebook, teacherName: name, student: notebook, studentName: name, directory: directory,
                            registry: registry, environment: environment)
        grader.confinesEveryCell = true
        grader.timeLimit = timeLimit
        return try grader.grade()
    }

    /// The results by exercise: `ok:` or `FAIL:` with the message and hint, and no points.
    public static func text(_ report: GradeReport) -> String {
        var lines = ["checking \(report.student): the visible checks (no points)"]
        let width = max(8, report.exercises.map(\.id.count).max() ?? 0)
        for e in report.exercises {
            let head = "  " + e.id.padding(toLength: width, withPad: " ", startingAt: 0)
            guard e.attempted else { lines.append(head + "  not attempted yet"); continue }
            if let stopped = e.stopped { lines.append(head + "  " + stopped); continue }
            lines.append(e.checks.isEmpty ? head + "  no visible checks" : "  " + e.id)
            for note in e.notes { lines.append("      " + note) }
            for c in e.checks {
                lines.append(c.score >= c.points ? "      ok: \(c.label)" : "      FAIL: \(c.label): \(c.message.isEmpty ? "failed" : c.message)")
                if c.score < c.points, let hint = c.hint { lines.append("        hint: " + hint) }
            }
        }
        for note in report.notes { lines.append("note: " + note) }
        lines.append("Grading runs the teacher's hidden checks as well as these.")
        return lines.joined(separator: "\n")
    }
}
