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
    /// Why the student's cell was stopped (`stopped after 60 s (the exercise's time limit)`); nil when it ran to its end.
    /// A stopped exercise earns nothing: its checks do not run.
    public var stopped: String? = nil

    public init(id: String, points: Double, earned: Double, attempted: Bool, checks: [CheckResult], notes: [String], stopped: String? = nil) {
        self.id = id; self.points = points; self.earned = earned; self.attempted = attempted; self.checks = checks; self.notes = notes
        self.stopped = stopped
    }
}

/// What `medrepl grade` found: points per exercise and in total, with feedback.
public struct GradeReport: Sendable {
    public var student: String
    public var teacher: String
    public var exercises: [ExerciseGrade]
    /// Remarks about the run as a whole: student cells left out, teacher cells that failed.
    public var notes: [String]
    /// The teacher's cells the student changed or deleted (`cell 'setup' was changed`); empty when all are intact.
    public var integrity: [String] = []

    public init(student: String, teacher: String, exercises: [ExerciseGrade], notes: [String], integrity: [String] = []) {
        self.student = student; self.teacher = teacher; self.exercises = exercises; self.notes = notes; self.integrity = integrity
    }

    public var points: Double { exercises.reduce(0) { $0 + $1.points } }
    public var earned: Double { exercises.reduce(0) { $0 + $1.earned } }
    /// The share of the points earned, in whole percent (0 when nothing is worth points).
    public var percent: Int { points > 0 ? Int((100 * earned / points).rounded()) : 0 }

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
            if let stopped = e.stopped { lines.append("      " + stopped) }
            for c in e.checks where c.score < c.points {
                lines.append("      \(c.label): \(c.message.isEmpty ? "failed" : c.message)")
                if let hint = c.hint { lines.append("        hint: " + hint) }
            }
        }
        for change in integrity { lines.append("integrity: \(change) (the teacher's version ran)") }
        for note in notes { lines.append("note: " + note) }
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
/// it the teacher's check cells (hidden and visible) run, and only their results count. Cells the student
/// added run after the cell they follow. The student's cells run confined: paths resolve inside the
/// student's folder, the environment holds no secrets, and verbs that open other notebooks, write
/// notebooks, store credentials or quit are refused. The language itself runs no shell commands. A
/// student's cell runs within a time limit: its exercise's `timeout=`, else `timeLimit`.
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
    /// Seconds a student's cell may run when its exercise gives no `timeout=`; nil for no limit.
    public var timeLimit: Double? = Grader.defaultTimeLimit
    /// True when every cell is the student's (`medrepl check-exercises` runs a student's file alone): all run
    /// confined and within the time limits.
    public var confinesEveryCell = false

    /// Verbs the student's cells may not use while grading.
    public static let refusedVerbs = ["open", "runcell", "save", "export", "login", "exit"]
    /// The time limit of a student's cell, in seconds, when neither the exercise nor the caller gives one.
    public static let defaultTimeLimit = 300.0

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
        var report = GradeReport(student: studentName, teacher: teacherName, exercises: [], notes: [],
                                 integrity: Integrity.changes(from: teacher, to: student))

        // The student's cells by id, and the cells the student added, after the known cell they follow.
        let teacherIDs = Set(teacher.cells.map(\.id))
        var studentCells: [String: Cell] = [:]
        var added: [String: [Cell]] = [:]
        var previousKnown = ""
        for cell in student.cells {
            if teacherIDs.contains(cell.id) { previousKnown = cell.id; studentCells[cell.id] = cell; continue }
            guard cell.kind == .command else { continue }
            if StudentCopy.isCheckCell(cell) {
                report.notes.append("the student's cell '\(cell.id)' is tagged [\(cell.tags.contains(StudentCopy.hiddenTag) ? "hidden" : "visible")] and was not run")
                continue
            }
            added[previousKnown, default: []].append(cell)
        }

        let owner = Dictionary(uniqueKeysWithValues: exercises.flatMap { e in e.checkIndices.map { ($0, e.id) } })
        var grades = Dictionary(uniqueKeysWithValues: try outline().map { ($0.id, $0) })

        func runAdded(after id: String) {
            for cell in added[id] ?? [] where !cell.tags.contains("skip") {
                let outcome = run(cell, in: session, confined: true, limit: timeLimit)
                for error in outcome.errors { report.notes.append("the student's cell '\(cell.id)' failed: \(error)") }
                if let stopped = outcome.stopped { report.notes.append("the student's cell '\(cell.id)' was \(stopped)") }
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
                // The teacher's limit: a student who edits the marker of their copy does not change it.
                let outcome = run(mine, in: session, confined: true, limit: cell.timeout ?? timeLimit, exerciseLimit: cell.timeout != nil)
                grades[cell.id]?.notes += outcome.errors.map { "your cell failed: \($0)" }
                grades[cell.id]?.stopped = outcome.stopped
            } else if let exerciseID = owner[index] {
                // Checks of an untouched exercise would only repeat "not attempted"; those of a stopped one see half its work.
                guard let grade = grades[exerciseID], grade.attempted, grade.stopped == nil else { continue }
                let outcome = run(cell, in: session, confined: confinesEveryCell, limit: confinesEveryCell ? timeLimit : nil, checks: true)
                grades[exerciseID]?.checks += outcome.checks
                if let stopped = outcome.stopped { report.notes.append("the cell '\(cell.id)' was \(stopped)") }
            } else {
                let outcome = run(cell, in: session, confined: confinesEveryCell, limit: confinesEveryCell ? timeLimit : nil)
                if !cell.tags.contains("raises") {
                    for error in outcome.errors { report.notes.append("the teacher's cell '\(cell.id)' failed: \(error)") }
                }
                if let stopped = outcome.stopped { report.notes.append("the cell '\(cell.id)' was \(stopped)") }
            }
        }
        for e in exercises {
            var g = grades[e.id]!
            g.earned = g.attempted && g.stopped == nil ? min(g.points, g.checks.reduce(0) { $0 + $1.score }) : 0
            report.exercises.append(g)
        }
        return report
    }

    /// The teacher's exercises in order, each with what it is worth (the points of its checks, counted from
    /// the teacher's file) and nothing earned yet.
    public func outline() throws -> [ExerciseGrade] {
        let verbs = Grader.gradingRegistry(from: registry).verbNames
        return try StudentCopy.exercises(in: teacher, file: teacherName).map { e in
            let points = e.checkIndices.reduce(0.0) { total, i in
                total + Grader.declaredChecks(in: teacher.cells[i].entries.map(\.command), verbs: verbs).reduce(0) { $0 + $1.points }
            }
            return ExerciseGrade(id: e.id, points: points, earned: 0, attempted: false, checks: [], notes: [])
        }
    }

    /// What running one cell gave: its errors' first lines, the checks of a check cell, and why it was
    /// stopped, if it was.
    struct CellOutcome {
        var errors: [String] = []
        var checks: [CheckResult] = []
        var stopped: String?
    }

    /// Runs a cell's commands one by one (an error ends only its own command), within `limit` seconds when
    /// given: the limit stops the running command, and the commands after it do not run.
    ///
    /// For a check cell (`checks`), each command's checks are its results, and a command that fails before
    /// its checks ran counts those that did not run as failed, with the error as their message.
    func run(_ cell: Cell, in session: Session, confined: Bool, limit: Double? = nil, exerciseLimit: Bool = false,
             checks: Bool = false) -> CellOutcome {
        progress?(cell.id)
        session.pathRoot = confined ? directory : nil
        session.environment = confined ? Grader.studentEnvironment(environment) : environment
        defer { session.pathRoot = nil; session.environment = environment }
        let timer = limit.map { TimeLimit(seconds: $0, session: session) }
        var outcome = CellOutcome()
        var line = 1
        for entry in cell.entries {
            if timer?.expired == true { break }
            let before = session.checks.count
            let (_, error) = session.runCaptured(entry.command, file: "[\(cell.id)]", firstLine: line)
            line += entry.command.split(separator: "\n", omittingEmptySubsequences: false).count
            session.exitRequested = nil
            guard checks else {
                if let error, timer?.expired != true { outcome.errors.append(Grader.firstLine(error)) }
                continue
            }
            let recorded = session.checks[before...]
            outcome.checks += recorded
            guard let error else { continue }
            for check in Grader.declaredChecks(in: [entry.command], verbs: session.registry.verbNames).dropFirst(recorded.count) {
                outcome.checks.append(CheckResult(label: check.label, passed: false, message: Grader.firstLine(error),
                                                  points: check.points, hint: check.hint))
            }
        }
        if let timer, timer.end() {
            outcome.stopped = "stopped after \(GradeReport.format(timer.seconds)) s ("
                + (exerciseLimit ? "the exercise's time limit)" : "the time limit for a cell while grading)")
        }
        return outcome
    }

    /// A `check` or `check_answer` command as the teacher wrote it: what it is called, worth, and hints.
    struct DeclaredCheck {
        var label: String
        var points: Double
        var hint: String?
    }

    /// The `check` and `check_answer` commands of a cell's commands, in order: `label=` or what they test,
    /// `points=` (1 by default) and `hint=`.
    static func declaredChecks(in commands: [String], verbs: Set<String>) -> [DeclaredCheck] {
        var checks: [DeclaredCheck] = []
        for command in commands {
            guard let statements = try? Parser.parse(SourceText(file: "<checks>", text: command), verbs: verbs) else { continue }
            for s in statements where s.verb == "check" || s.verb == "check_answer" {
                func argument(_ name: String) -> Expr.Kind? { s.arguments.first { $0.name == name }?.value.kind }
                var points = 1.0
                switch argument("points") {
                case .int(let i)?: points = Double(i)
                case .double(let d)?: points = d
                default: break
                }
                let positional = s.arguments.filter { $0.name == nil }.compactMap { Grader.literalText($0.value.kind) }
                let described = s.verb == "check_answer" ? "answer " + (positional.first ?? "") : positional.joined(separator: " ")
                checks.append(DeclaredCheck(label: argument("label").flatMap(Grader.literalText) ?? described, points: points,
                                            hint: argument("hint").flatMap(Grader.literalText)))
            }
        }
        return checks
    }

    /// The text of a literal argument as written (a string's text, a word, a number); nil for a list.
    static func literalText(_ kind: Expr.Kind) -> String? {
        switch kind {
        case .string(let parts):
            return parts.map { part -> String in
                switch part {
                case .text(let t): return t
                case .env(let name, _): return "${\(name)}"
                }
            }.joined()
        case .rawString(let s), .word(let s), .op(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return Value.format(d)
        case .list: return nil
        }
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
