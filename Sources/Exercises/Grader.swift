import Foundation
import Language
import NotebookFormat

/// One exercise's grade.
public struct ExerciseGrade: Sendable {
    public var id: String
    /// What the exercise is worth: the points of the checks in its hidden cells.
    public var points: Double
    public var earned: Double
    /// False when the student's cell still holds the stub, or is missing.
    public var attempted: Bool
    /// The checks that ran for it (only those of the teacher's hidden cells).
    public var checks: [CheckResult]
    /// Errors of the student's cell and other remarks.
    public var notes: [String]
}

/// What `medrepl grade` found: points per exercise and in total, with feedback.
public struct GradeReport: Sendable {
    public var student: String
    public var teacher: String
    public var exercises: [ExerciseGrade]
    /// Remarks about the run as a whole: student cells left out, teacher cells that failed.
    public var notes: [String]

    public var points: Double { exercises.reduce(0) { $0 + $1.points } }
    public var earned: Double { exercises.reduce(0) { $0 + $1.earned } }

    /// The report as `medrepl grade` prints it.
    public var text: String {
        var lines = ["grading \(student) against \(teacher)"]
        let width = max(8, exercises.map(\.id.count).max() ?? 0)
        for e in exercises {
            let status = !e.attempted ? "  not attempted" : e.earned >= e.points ? "  ok" : ""
            lines.append("  " + e.id.padding(toLength: width, withPad: " ", startingAt: 0)
                         + "  \(GradeReport.format(e.earned)) / \(GradeReport.format(e.points))" + status)
            guard e.attempted else { continue }
            for note in e.notes { lines.append("      " + note) }
            for c in e.checks where c.score < c.points {
                lines.append("      \(c.label): \(c.message.isEmpty ? "failed" : c.message)")
            }
        }
        for note in notes { lines.append("note: " + note) }
        let percent = points > 0 ? Int((100 * earned / points).rounded()) : 0
        lines.append("total \(GradeReport.format(earned)) / \(GradeReport.format(points)) points (\(percent)%)")
        return lines.joined(separator: "\n")
    }

    /// Points written short: `3`, `1.5`, `0.67` (`check_answer`'s result line too).
    public static func format(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        if r == r.rounded() { return String(Int(r)) }
        var s = String(format: "%.2f", r)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
}

/// Grades a student's copy of an exercise notebook against the teacher's file.
///
/// The teacher's cells run as written, except each exercise cell, which is the student's; right after
/// it the teacher's hidden checks run, and only their results count. Cells the student added run after
/// the cell they follow. The student's cells run confined: paths resolve inside the student's folder,
/// the environment holds no secrets, and verbs that open other notebooks, write notebooks, store
/// credentials or quit are refused. The language itself runs no shell commands.
///
/// The verbs are the caller's (`Registry.standard()` for `medrepl grade`), less those refused.
///
/// ```swift
/// let report = try Grader(teacher: teacherDoc, student: studentDoc, directory: folder, registry: .standard()).grade()
/// print(report.text)
/// ```
public struct Grader {
    public var teacher: NotebookDocument
    public var teacherName: String
    public var student: NotebookDocument
    public var studentName: String
    /// The student's folder: where relative paths resolve and which the student's code cannot leave.
    public var directory: URL
    /// The verbs the notebooks use; the student's cells get them less `refusedVerbs` (`gradingRegistry(from:)`).
    public var registry: Registry
    /// The process environment the teacher's cells see.
    public var environment: [String: String]
    /// Told the id of each cell as it starts (for a progress line); nil for none.
    public var progress: ((String) -> Void)?

    /// Verbs the student's cells may not use while grading.
    public static let refusedVerbs = ["open", "runcell", "save", "export", "login", "exit"]

    public init(teacher: NotebookDocument, teacherName: String = "<teacher>", student: NotebookDocument,
                studentName: String = "<student>", directory: URL, registry: Registry,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.teacher = teacher; self.teacherName = teacherName; self.student = student
        self.studentName = studentName; self.directory = directory; self.registry = registry; self.environment = environment
    }

    /// The environment the student's cells see: medrepl's own settings and cache folders, no tokens.
    public static func studentEnvironment(_ env: [String: String]) -> [String: String] {
        env.filter { key, _ in
            (key.hasPrefix("MEDREPL_") || ["HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "XDG_CACHE_HOME"].contains(key))
                && !key.contains("TOKEN")
        }
    }

    /// A copy of `registry` (`registry` itself is left as it is), less the verbs a student's file may not use.
    public static func gradingRegistry(from full: Registry) -> Registry {
        let registry = Registry(groups: full.groups)
        for name in refusedVerbs {
            // Same parameters, so any call parses and binds, and then is refused.
            guard var verb = registry.verb(named: name) else { continue }
            verb.summary = "Not available while grading."
            verb.handler = { _, _ in throw GradingError("'\(name)' is not available while grading a notebook") }
            registry.register(verb, group: "Refused while grading")
        }
        return registry
    }

    public func grade() throws -> GradeReport {
        let exercises = try StudentCopy.exercises(in: teacher, file: teacherName)
        guard !exercises.isEmpty else {
            throw NotebookFormatError(file: teacherName, line: 1, message: "no cell is tagged [exercise], so there is nothing to grade")
        }
        let session = Session(registry: Grader.gradingRegistry(from: registry), output: OutputSink(), environment: environment,
                              directory: directory)
        var report = GradeReport(student: studentName, teacher: teacherName, exercises: [], notes: [])

        // The student's cells by id, and the cells the student added, after the known cell they follow.
        let teacherIDs = Set(teacher.cells.map(\.id))
        var studentCells: [String: Cell] = [:]
        var added: [String: [Cell]] = [:]
        var previousKnown = ""
        for cell in student.cells {
            if teacherIDs.contains(cell.id) { previousKnown = cell.id; studentCells[cell.id] = cell; continue }
            guard cell.kind == .command else { continue }
            if cell.tags.contains(StudentCopy.hiddenTag) {
                report.notes.append("the student's cell '\(cell.id)' is tagged [hidden] and was not run")
                continue
            }
            added[previousKnown, default: []].append(cell)
        }

        let owner = Dictionary(uniqueKeysWithValues: exercises.flatMap { e in e.checkIndices.map { ($0, e.id) } })
        var grades: [String: ExerciseGrade] = [:]
        for e in exercises {
            let points = e.checkIndices.reduce(0.0) { $0 + Grader.checkPoints(in: teacher.cells[$1], verbs: session.registry.verbNames) }
            grades[e.id] = ExerciseGrade(id: e.id, points: points, earned: 0, attempted: false, checks: [], notes: [])
        }

        func runAdded(after id: String) {
            for cell in added[id] ?? [] where !cell.tags.contains("skip") {
                for error in run(cell, in: session, confined: true) {
                    report.notes.append("the student's cell '\(cell.id)' failed: \(error)")
                }
            }
        }
        runAdded(after: "")
        for (index, cell) in teacher.cells.enumerated() {
            defer { runAdded(after: cell.id) }
            guard cell.kind == .command, !cell.tags.contains("skip") else { continue }
            if cell.tags.contains(StudentCopy.exerciseTag) {
                guard let mine = studentCells[cell.id], mine.kind == .command else {
                    grades[cell.id]?.notes.append("the cell '\(cell.id)' is missing from the student's notebook")
                    continue
                }
                grades[cell.id]?.attempted = !StudentCopy.isUntouched(mine, teacherCell: cell)
                for error in run(mine, in: session, confined: true) {
                    grades[cell.id]?.notes.append("your cell failed: \(error)")
                }
            } else if let exerciseID = owner[index] {
                // Hidden checks of an untouched exercise would only repeat "not attempted".
                guard grades[exerciseID]?.attempted == true else { continue }
                grades[exerciseID]?.checks += runChecks(cell, in: session)
            } else {
                let errors = run(cell, in: session, confined: false)
                if !cell.tags.contains("raises") {
                    for error in errors { report.notes.append("the teacher's cell '\(cell.id)' failed: \(error)") }
                }
            }
        }
        for e in exercises {
            var g = grades[e.id]!
            g.earned = g.attempted ? min(g.points, g.checks.reduce(0) { $0 + $1.score }) : 0
            report.exercises.append(g)
        }
        return report
    }

    /// Runs a cell's commands one by one (an error ends only its own command); returns the errors'
    /// first lines.
    func run(_ cell: Cell, in session: Session, confined: Bool) -> [String] {
        progress?(cell.id)
        session.pathRoot = confined ? directory : nil
        session.environment = confined ? Grader.studentEnvironment(environment) : environment
        defer { session.pathRoot = nil; session.environment = environment }
        var errors: [String] = []
        var line = 1
        for entry in cell.entries {
            let (_, error) = session.runCaptured(entry.command, file: "[\(cell.id)]", firstLine: line)
            line += entry.command.split(separator: "\n", omittingEmptySubsequences: false).count
            session.exitRequested = nil
            if let error { errors.append(Grader.firstLine(error)) }
        }
        return errors
    }

    /// Runs a hidden cell; each command's checks are its results, and a command that fails before
    /// its checks ran counts them as failed, with the error as feedback.
    func runChecks(_ cell: Cell, in session: Session) -> [CheckResult] {
        progress?(cell.id)
        var results: [CheckResult] = []
        var line = 1
        for entry in cell.entries {
            let before = session.checks.count
            let (_, error) = session.runCaptured(entry.command, file: "[\(cell.id)]", firstLine: line)
            line += entry.command.split(separator: "\n", omittingEmptySubsequences: false).count
            session.exitRequested = nil
            let recorded = Array(session.checks[before...])
            results += recorded
            if let error {
                let expected = Grader.checkPoints(in: Cell(kind: .command, id: cell.id, entries: [entry]), verbs: session.registry.verbNames)
                let lost = expected - recorded.reduce(0) { $0 + $1.points }
                if lost > 0 {
                    results.append(CheckResult(label: "[\(cell.id)]:\(line - 1)", passed: false,
                                               message: Grader.firstLine(error), points: lost))
                }
            }
        }
        return results
    }

    /// The points the `check` and `check_answer` commands of a cell are worth (`points=`, 1 by default).
    static func checkPoints(in cell: Cell, verbs: Set<String>) -> Double {
        var total = 0.0
        for entry in cell.entries {
            guard let statements = try? Parser.parse(SourceText(file: cell.id, text: entry.command), verbs: verbs) else { continue }
            for s in statements where s.verb == "check" || s.verb == "check_answer" {
                var points = 1.0
                if let arg = s.arguments.first(where: { $0.name == "points" }) {
                    switch arg.value.kind {
                    case .int(let i): points = Double(i)
                    case .double(let d): points = d
                    default: break
                    }
                }
                total += points
            }
        }
        return total
    }

    /// The first line of an error, without the `[cell]:line:col: error:` prefix.
    static func firstLine(_ error: Error) -> String {
        let text = error is CancelledError ? "interrupted" : "\(error)"
        let first = text.split(separator: "\n").first.map(String.init) ?? text
        if let r = first.range(of: "error: ") { return String(first[r.upperBound...]) }
        return first
    }
}

/// A problem met while grading (a refused verb).
public struct GradingError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
