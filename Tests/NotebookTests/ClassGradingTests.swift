import Exercises
import Foundation
import NotebookFormat
import Testing

/// Grading a class (issue 21): `medrepl grade` over many submissions, its CSV and feedback files, the
/// integrity of the cells a student should keep, time limits, visible checks and the wrong inputs a
/// hurried teacher types.
@Suite struct ClassGradingTests {
    static let teacherPath = ExerciseTests.teacherPath

    /// A class in a fresh folder, in the order graded: the untouched copy, the teacher's solutions, a partial
    /// answer (a name with a comma, and an added cell that fails), a copy whose prose and set-up were
    /// tampered with, one whose rate exercise never ends (`sleep 3600`, the exercise's limit is 2 s), and a
    /// file that is no notebook.
    static func makeClass() throws -> (folder: URL, paths: [String]) {
        let folder = try ExerciseTests.scratch()
        let teacher = try ExerciseTests.teacher()
        let copy = try StudentCopy.make(from: teacher)
        var partial = ExerciseTests.answered(copy, "settings", ["rank = 8", "alpha = 32"])
        partial = ExerciseTests.answered(partial, "rate", ["rate = base_rate"])
        partial = ExerciseTests.answered(partial, "mlm", ["answer mlm \"The model is causal: it reads the words before.\""])
        partial.cells.append(Cell(kind: .command, id: "mine", entries: [Entry(command: "x = nothing")]))
        var tampered = ExerciseTests.answered(copy, "rate", ["rate = base_rate"])
        tampered.cells.removeAll { $0.id == "intro" }
        tampered.cells[tampered.index(ofCell: "setup")!].entries = [Entry(command: "base_rate = 1")]
        var runaway = ExerciseTests.answered(copy, "settings", ["rank = 16", "alpha = 32"])
        runaway = ExerciseTests.answered(runaway, "rate", ["sleep 3600", "rate = base_rate"])
        let students: [(String, NotebookDocument)] = [("untouched", copy), ("perfect", teacher), ("smith, jo", partial),
                                                       ("tampered", tampered), ("runaway", runaway)]
        var paths: [String] = []
        for (name, doc) in students {
            let path = folder.appendingPathComponent(name + ".mednb").path
            try doc.write(to: path)
            paths.append(path)
        }
        let broken = folder.appendingPathComponent("broken.mednb").path
        try "hello\n".write(toFile: broken, atomically: true, encoding: .utf8)
        return (folder, paths + [broken])
    }

    static let expectedCSV = [
        "student,settings,rate,mlm,total,percent,integrity,notes",
        "untouched,0,0,0,0,0,ok,",
        "perfect,3,2,3,8,100,ok,",
        "\"smith, jo\",1,2,1,4,50,ok,the student's cell 'mine' failed: unknown name 'nothing'",
        "tampered,0,2,0,2,25,cell 'intro' was deleted; cell 'setup' was changed,",
        "runaway,3,0,0,3,38,ok,rate: stopped after 2 s (the exercise's time limit)",
        "broken,,,,,,,line 1: not a medrepl notebook: the first line must be '%% mednb 1'",
    ].map { $0 + "\r\n" }.joined()

    @Test(.enabled(if: NotebookFixtures.binary != nil, "needs the medrepl binary"))
    func aClassGivesTheExpectedCSVFeedbackAndSummary() throws {
        let (folder, paths) = try Self.makeClass()
        let csv = folder.appendingPathComponent("grades.csv"), feedback = folder.appendingPathComponent("feedback")
        let started = Date()
        let run = try NotebookFixtures.run(NotebookFixtures.binary!, ["grade"] + paths + ["--teacher", Self.teacherPath,
                                           "--csv", csv.path, "--feedback", feedback.path])
        #expect(run.status == 0, "\(run.err)")
        #expect(Date().timeIntervalSince(started) < 60)   // the runaway was stopped, not waited for
        #expect(try String(contentsOf: csv, encoding: .utf8) == Self.expectedCSV)
        #expect(run.out.contains("graded 5 of 6 submissions against \(Self.teacherPath)\n"))
        #expect(run.out.contains("  tampered   2 / 8  (25%)  integrity: cell 'intro' was deleted; cell 'setup' was changed\n"))
        #expect(run.out.contains("settings  1.4 / 3     3 of 5     rank is 16 (1)\n"))
        #expect(run.out.contains("mlm       0.8 / 3     2 of 5     next token (or following token) (1)\n"))

        let files = try FileManager.default.contentsOfDirectory(atPath: feedback.path).sorted()
        #expect(files == ["broken.md", "perfect.md", "runaway.md", "smith, jo.md", "tampered.md", "untouched.md"])
        let regexSyntax = try NSRegularExpression(pattern: #"\\|\*|\(\?|\[[^\]]*\]"#)
        for name in files {
            let text = try String(contentsOf: feedback.appendingPathComponent(name), encoding: .utf8)
            #expect(regexSyntax.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil, "\(name):\n\(text)")
        }
        let partial = try String(contentsOf: feedback.appendingPathComponent("smith, jo.md"), encoding: .utf8)
        #expect(partial.contains("## mlm: 1 / 3 points\n\n- answer mlm: missing: next token (or following token); mask\n"
                                 + "  - hint: think of what the model predicts at each position\n"))
        #expect(partial.contains("## settings: 1 / 3 points\n\n- rank is 16: expected 16, got 8\n"))
        let runaway = try String(contentsOf: feedback.appendingPathComponent("runaway.md"), encoding: .utf8)
        #expect(runaway.contains("Your cell was stopped after 2 s (the exercise's time limit), so its checks did not run."))
        let tampered = try String(contentsOf: feedback.appendingPathComponent("tampered.md"), encoding: .utf8)
        #expect(tampered.contains("- cell 'setup' was changed: grading used the teacher's version\n"))
    }

    @Test func summaryPerExerciseCountsAttemptsMeansAndMissingIdeas() throws {
        let (_, paths) = try Self.makeClass()
        var grader = ClassGrader(teacher: try ExerciseTests.teacher(), teacherName: "small.teacher.mednb", registry: .standard(),
                                 environment: [:])
        grader.timeLimit = 30
        let grades = try grader.grade(paths.filter { !$0.hasSuffix("runaway.mednb") })
        #expect(grades.submissions.map(\.student) == ["untouched", "perfect", "smith, jo", "tampered", "broken"])
        let s = grades.summaries
        #expect(s.map(\.id) == ["settings", "rate", "mlm"])
        #expect(s[0].mean == 1 && s[0].attempted == 2 && s[0].graded == 4)
        #expect(s[0].mostMissing?.what == "rank is 16" && s[0].mostMissing?.count == 1)
        #expect(s[1].mean == 1.5 && s[1].attempted == 3 && s[1].mostMissing == nil)
        #expect(s[2].mean == 1 && s[2].attempted == 2 && s[2].mostMissing?.what == "next token (or following token)")
        #expect(grades.submissions.last?.failure == "line 1: not a medrepl notebook: the first line must be '%% mednb 1'")
    }

    @Test func integrityFlagsChangedAndDeletedCellsOnly() throws {
        let teacher = try ExerciseTests.teacher()
        var student = try StudentCopy.make(from: teacher)
        #expect(Integrity.changes(from: teacher, to: student).isEmpty)
        // Outputs, trailing spaces and the student's own cells are no change; exercise answers are the student's.
        student.cells[student.index(ofCell: "setup")!].entries = [Entry(command: "base_rate = 2e-4   ", output: ["whatever"])]
        student.cells[student.index(ofCell: "intro")!].text += "  \n\n"
        student = ExerciseTests.answered(student, "settings", ["rank = 16"])
        student.cells.append(Cell(kind: .command, id: "extra", entries: [Entry(command: "print 1")]))
        #expect(Integrity.changes(from: teacher, to: student).isEmpty)
        // Prose, set-up and visible checks are protected.
        student.cells[student.index(ofCell: "settings-task")!].text = "Set rank to anything."
        student.cells[student.index(ofCell: "rate-try")!].entries = [Entry(command: "check true label=\"rate is above 0\"")]
        student.cells.removeAll { $0.id == "mlm-task" }
        #expect(Integrity.changes(from: teacher, to: student)
                == ["cell 'settings-task' was changed", "cell 'rate-try' was changed", "cell 'mlm-task' was deleted"])
        // A student's edit of a visible check changes nothing in grading: the teacher's version runs.
        student = ExerciseTests.answered(student, "rate", ["rate = 0"])
        let report = try ExerciseTests.grade(student)
        #expect(report.exercises[1].earned == 0 && report.text.contains("integrity: cell 'rate-try' was changed (the teacher's version ran)"))
    }

    @Test func anExerciseOverItsTimeLimitIsStoppedAndScoresNothing() throws {
        var student = try StudentCopy.make(from: ExerciseTests.teacher())
        student = ExerciseTests.answered(student, "rate", ["rate = base_rate", "sleep 3600", "print 1"])
        student = ExerciseTests.answered(student, "mlm", ["answer mlm \"causal: the next token, nothing masked\""])
        let started = Date()
        let report = try ExerciseTests.grade(student)
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(report.exercises[1].stopped == "stopped after 2 s (the exercise's time limit)" && report.exercises[1].earned == 0)
        #expect(report.exercises[1].notes.isEmpty)   // the interrupt is the stop, not an error of the cell
        #expect(report.exercises[2].earned == 3)     // the next exercise runs as usual: the limit's interrupt did not leak
        // An added cell over the default limit is stopped too.
        student.cells.append(Cell(kind: .command, id: "slow", entries: [Entry(command: "sleep 3600")]))
        var grader = Grader(teacher: try ExerciseTests.teacher(), student: ExerciseTests.answered(student, "rate", ["rate = base_rate"]),
                            directory: try ExerciseTests.scratch(), registry: .standard(), environment: [:])
        grader.timeLimit = 1
        let slow = try grader.grade()
        #expect(slow.notes == ["the student's cell 'slow' was stopped after 1 s (the time limit for a cell while grading)"])
        #expect(slow.earned == 5)
    }

    @Test(.enabled(if: NotebookFixtures.binary != nil, "needs the medrepl binary"))
    func checkExercisesShowsVisibleChecksWithoutPoints() throws {
        let folder = try ExerciseTests.scratch()
        let path = folder.appendingPathComponent("me.mednb").path
        let copy = try StudentCopy.make(from: ExerciseTests.teacher())
        try copy.write(to: path)
        let before = try NotebookFixtures.run(NotebookFixtures.binary!, ["check-exercises", path])
        #expect(before.status == 0)
        #expect(before.out == """
            checking \(path): the visible checks (no points)
              settings  not attempted yet
              rate
                  FAIL: rate is above 0: expected a value > 0, got 0
              mlm       not attempted yet
            Grading runs the teacher's hidden checks as well as these.

            """)
        try ExerciseTests.answered(copy, "rate", ["rate = 0.5"]).write(to: path)
        let after = try NotebookFixtures.run(NotebookFixtures.binary!, ["check-exercises", path])
        #expect(after.out.contains("  rate\n      ok: rate is above 0\n"))
    }

    @Test(.enabled(if: NotebookFixtures.binary != nil, "needs the medrepl binary"))
    func hurriedTeachersMistakesAreSaidPlainly() throws {
        let (folder, paths) = try Self.makeClass()
        let untouched = paths[0]
        func grade(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
            try NotebookFixtures.run(NotebookFixtures.binary!, ["grade"] + args)
        }
        let usage = "\n(see medrepl --help)\n"
        let noTeacher = try grade([untouched, paths[1]])
        #expect(noTeacher.status == 2 && noTeacher.err == "medrepl: grade needs the teacher's notebook: --teacher T.mednb" + usage)
        let glob = try grade([folder.path + "/subs/*.mednb", "--teacher", Self.teacherPath])
        #expect(glob.status == 2 && glob.err == "medrepl: no file matches '\(folder.path)/subs/*.mednb': check the folder and the pattern" + usage)
        let noCSV = try grade([untouched, "--teacher", Self.teacherPath, "--csv"])
        #expect(noCSV.status == 2 && noCSV.err == "medrepl: --csv needs the file to write, as in --csv grades.csv" + usage)
        let csvThenOption = try grade([untouched, "--teacher", Self.teacherPath, "--csv", "--feedback", "fb"])
        #expect(csvThenOption.err == noCSV.err)
        let notebookCSV = try grade([untouched, "--teacher", Self.teacherPath, "--csv", paths[1]])
        #expect(notebookCSV.status == 2 && notebookCSV.err.contains("--csv writes a table; '\(paths[1])' is a notebook's name (give grades.csv)"))
        let badTimeout = try grade([untouched, "--teacher", Self.teacherPath, "--timeout", "abc"])
        #expect(badTimeout.status == 2 && badTimeout.err.contains("--timeout needs a number of seconds, as in --timeout 300, not 'abc'"))
        let onlyFolder = try grade([folder.path, "--teacher", Self.teacherPath])
        #expect(onlyFolder.status == 2 && onlyFolder.err.hasPrefix(
            "medrepl: skipping \(folder.path): a folder, not a notebook (give its notebooks: \(folder.path)/*.mednb)\n"))
        // The teacher's file caught by a glob is left out; one student left prints the single report.
        let withTeacher = try grade([Self.teacherPath, untouched, "--teacher", Self.teacherPath])
        #expect(withTeacher.status == 0 && withTeacher.err == "medrepl: skipping \(Self.teacherPath): it is the teacher's notebook (--teacher)\n")
        #expect(withTeacher.out.hasPrefix("grading \(untouched) against") && withTeacher.out.hasSuffix("total 0 / 8 points (0%)\n"))
        // Alone, the teacher's file is graded: the teacher checking the checks gets every point.
        let teacherAlone = try grade([Self.teacherPath, "--teacher", Self.teacherPath])
        #expect(teacherAlone.status == 0 && teacherAlone.out.hasSuffix("total 8 / 8 points (100%)\n"), "\(teacherAlone)")
        // A missing file among several is that student's row; alone, it is an error.
        let ghost = folder.appendingPathComponent("ghost.mednb").path
        let csv = folder.appendingPathComponent("g.csv").path
        let withGhost = try grade([ghost, untouched, "--teacher", Self.teacherPath, "--csv", csv])
        #expect(withGhost.status == 0 && withGhost.out.contains("  ghost      not graded: cannot read the notebook: no such file or folder\n"))
        #expect(try String(contentsOfFile: csv, encoding: .utf8).contains("\r\nghost,,,,,,,cannot read the notebook: no such file or folder\r\n"))
        let ghostAlone = try grade([ghost, "--teacher", Self.teacherPath])
        #expect(ghostAlone.status == 1 && ghostAlone.err == "medrepl: \(ghost): cannot read the notebook: no such file or folder\n")
        let missingTeacher = try grade([untouched, "--teacher", ghost])
        #expect(missingTeacher.status == 1 && missingTeacher.err == "medrepl: the teacher's notebook \(ghost): cannot read the notebook: no such file or folder\n")
        let twice = try grade([untouched, untouched, "--teacher", Self.teacherPath])
        #expect(twice.status == 2 && twice.err.hasPrefix("medrepl: \(untouched) is given twice\n"))
    }
}
