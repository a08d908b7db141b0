import Foundation
import Language
import NotebookFormat
import Support

/// One submission of a class: the student's name, and the report or why there is none.
public struct Submission: Sendable {
    public var student: String
    public var path: String
    public var report: GradeReport?
    /// Why the submission was not graded (`line 1: not a medrepl notebook ...`); nil when it was.
    public var failure: String?

    public init(student: String, path: String, report: GradeReport? = nil, failure: String? = nil) {
        self.student = student; self.path = path; self.report = report; self.failure = failure
    }

    /// The student's name in a submission's file name: `subs/alice.mednb` and `alice.student.mednb` give "alice".
    public static func studentName(ofPath path: String) -> String {
        var name = URL(fileURLWithPath: path).lastPathComponent
        for suffix in [".mednb", ".student"] where name.hasSuffix(suffix) && name.count > suffix.count { name.removeLast(suffix.count) }
        return name
    }
}

/// How one exercise went across a class: its mean, how many tried it, and what was most often missing.
public struct ExerciseSummary: Sendable {
    public var id: String
    public var points: Double
    /// Mean points earned over the graded submissions.
    public var mean: Double
    /// Graded submissions whose cell was not the stub.
    public var attempted: Int
    public var graded: Int
    /// The idea (of a `check_answer`) or check (its label) most often missing among attempts, with how many missed it.
    public var mostMissing: (what: String, count: Int)?
}

/// A class's grades against one teacher file: one row per submission, the table `--csv` writes and the
/// summary `medrepl grade` prints.
///
/// ```swift
/// let grades = try ClassGrader(teacher: doc, teacherName: "t.teacher.mednb", registry: .standard()).grade(paths)
/// try AtomicFile.write(grades.csv, to: "grades.csv")
/// print(grades.text)
/// ```
public struct ClassGrades: Sendable {
    public var teacher: String
    /// The teacher's exercises in order, with what each is worth (nothing earned).
    public var exercises: [ExerciseGrade]
    public var submissions: [Submission]

    public init(teacher: String, exercises: [ExerciseGrade], submissions: [Submission]) {
        self.teacher = teacher; self.exercises = exercises; self.submissions = submissions
    }

    /// The CSV: `student`, one column per exercise (points earned), `total`, `percent`, `integrity` (`ok`, or
    /// the cells changed), `notes` (why a submission was not graded, cells stopped, the run's remarks). A
    /// submission not graded leaves its points empty. A name or note that a spreadsheet would read as a formula
    /// starts with `'`.
    public var csv: String {
        let header = ["student"] + exercises.map(\.id) + ["total", "percent", "integrity", "notes"]
        let rows = submissions.map { s -> [String] in
            // names and notes are free text: a file named '=cmd.mednb' must not become a spreadsheet formula
            guard let r = s.report else {
                return [CSV.text(s.student)] + Array(repeating: "", count: exercises.count + 3) + [CSV.text(s.failure ?? "not graded")]
            }
            let notes = r.exercises.compactMap { e in e.stopped.map { "\(e.id): \($0)" } } + r.notes
            return [CSV.text(s.student)] + r.exercises.map { GradeReport.format($0.earned) }
                + [GradeReport.format(r.earned), String(r.percent), r.integrity.isEmpty ? "ok" : r.integrity.joined(separator: "; "),
                   CSV.text(notes.joined(separator: "; "))]
        }
        return CSV.table([header] + rows)
    }

    /// Per exercise: the mean, attempts and the most often missing idea, over the graded submissions.
    public var summaries: [ExerciseSummary] {
        let reports = submissions.compactMap(\.report)
        return exercises.enumerated().map { index, exercise in
            let grades = reports.map { $0.exercises[index] }
            var counts: [String: Int] = [:], order: [String] = []
            for g in grades where g.attempted {
                var missed: [String] = []   // each at most once per student, in the teacher's order of checks
                for c in g.checks where c.score < c.points {
                    for what in c.missing.isEmpty ? [c.label] : c.missing where !missed.contains(what) { missed.append(what) }
                }
                for what in missed {
                    if counts[what] == nil { order.append(what) }
                    counts[what, default: 0] += 1
                }
            }
            // The most frequent; among equals, the first met (the teacher's order of checks).
            let top = order.max { counts[$0]! < counts[$1]! || counts[$0]! == counts[$1]! && order.firstIndex(of: $0)! > order.firstIndex(of: $1)! }
            return ExerciseSummary(id: exercise.id, points: exercise.points,
                                   mean: grades.isEmpty ? 0 : grades.reduce(0) { $0 + $1.earned } / Double(grades.count),
                                   attempted: grades.filter(\.attempted).count, graded: grades.count,
                                   mostMissing: top.map { ($0, counts[$0]!) })
        }
    }

    /// What `medrepl grade` prints for a class: a line per student, then the summary per exercise.
    public var text: String {
        let graded = submissions.filter { $0.report != nil }.count
        var lines = ["graded \(graded) of \(submissions.count) submission\(submissions.count == 1 ? "" : "s") against \(teacher)"]
        let nameWidth = max(7, submissions.map(\.student.count).max() ?? 0)
        for s in submissions {
            let name = s.student.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            guard let r = s.report else { lines.append("  \(name)  not graded: \(s.failure ?? "")"); continue }
            var line = "  \(name)  \(GradeReport.format(r.earned)) / \(GradeReport.format(r.points))  (\(r.percent)%)"
            if !r.integrity.isEmpty { line += "  integrity: " + r.integrity.joined(separator: "; ") }
            let stopped = r.exercises.filter { $0.stopped != nil }.map(\.id)
            if !stopped.isEmpty { line += "  stopped: " + stopped.joined(separator: ", ") }
            lines.append(line)
        }
        let width = max(8, exercises.map(\.id.count).max() ?? 0)
        lines.append("")
        lines.append("exercise".padding(toLength: width + 2, withPad: " ", startingAt: 0) + "mean        attempted  most often missing")
        for e in summaries {
            let mean = "\(GradeReport.format(e.mean)) / \(GradeReport.format(e.points))".padding(toLength: 12, withPad: " ", startingAt: 0)
            let attempts = "\(e.attempted) of \(e.graded)".padding(toLength: 11, withPad: " ", startingAt: 0)
            let missing = e.mostMissing.map { "\($0.what) (\($0.count))" } ?? "-"
            lines.append(e.id.padding(toLength: width + 2, withPad: " ", startingAt: 0) + mean + attempts + missing)
        }
        return lines.joined(separator: "\n")
    }
}

/// Grades every submission of a class against one teacher file. A submission that cannot be graded (its
/// file unreadable, not a notebook) gets a row with the reason and never stops the others; each runs in
/// its own session, confined to its own folder.
///
/// ```swift
/// let grades = try ClassGrader(teacher: doc, teacherName: "t.teacher.mednb", registry: .standard())
///     .grade(["subs/alice.mednb", "subs/bob.mednb"])
/// ```
public struct ClassGrader {
    public var teacher: NotebookDocument
    public var teacherName: String
    public var registry: Registry
    public var environment: [String: String]
    /// Seconds a student's cell may run when its exercise gives no `timeout=`.
    public var timeLimit: Double? = Grader.defaultTimeLimit
    /// Told the student and the cell id as each cell starts (for a progress line); nil for none.
    public var progress: ((String, String) -> Void)?

    public init(teacher: NotebookDocument, teacherName: String, registry: Registry,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.teacher = teacher; self.teacherName = teacherName; self.registry = registry; self.environment = environment
    }

    /// Grades the submissions in the order given. Throws only for the teacher's file (nothing to grade).
    public func grade(_ paths: [String]) throws -> ClassGrades {
        let outline = try Grader(teacher: teacher, teacherName: teacherName, student: teacher, directory: URL(fileURLWithPath: "/"),
                                 registry: registry, environment: environment).outline()
        guard !outline.isEmpty else {
            throw NotebookFormatError(file: teacherName, line: 1, message: "no cell is tagged [exercise], so there is nothing to grade")
        }
        let submissions = paths.map { path -> Submission in
            let student = Submission.studentName(ofPath: path)
            do {
                return Submission(student: student, path: path, report: try grader(for: path, student: student).grade())
            } catch {
                return Submission(student: student, path: path, failure: ClassGrader.reason(error))
            }
        }
        return ClassGrades(teacher: teacherName, exercises: outline, submissions: submissions)
    }

    /// The grader of one submission, in its own folder.
    public func grader(for path: String, student: String) throws -> Grader {
        let document = try NotebookDocument.load(path: path)
        var grader = Grader(teacher: teacher, teacherName: teacherName, student: document, studentName: path,
                            directory: URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL,
                            registry: registry, environment: environment)
        grader.timeLimit = timeLimit
        if let progress { grader.progress = { progress(student, $0) } }
        return grader
    }

    /// Why a notebook could not be graded, without its path (the row names the student): `line 1: not a medrepl notebook ...`.
    public static func reason(_ error: Error) -> String {
        guard let e = error as? NotebookFormatError else { return "\(error)" }
        return e.line > 0 ? "line \(e.line): \(e.message)" : e.message
    }
}
