import Exercises
import Foundation
import Language
import Notebook
import NotebookFormat
import TestSupport
import Testing

/// Exercise notebooks with the standard verbs: `check_answer` in a session, grading, and the confinement
/// of a student's code (the rubric and the student copy alone: ExercisesTests).
@Suite struct ExerciseTests {
    static let teacherPath = NotebookFixtures.fixture("exercises/small.teacher.mednb").path

    static func teacher() throws -> NotebookDocument { try NotebookDocument.load(path: teacherPath) }

    /// A scratch folder for a student's notebook and anything it writes.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-exercises-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func grade(_ student: NotebookDocument, in folder: URL? = nil) throws -> GradeReport {
        try Grader(teacher: teacher(), teacherName: "small.teacher.mednb", student: student, studentName: "student.mednb",
                   directory: folder ?? scratch(), registry: .standard(), environment: ["HOME": "/tmp", "HF_TOKEN": "hf_secret"]).grade()
    }

    /// The student copy with an exercise cell's commands replaced.
    static func answered(_ doc: NotebookDocument, _ id: String, _ commands: [String]) -> NotebookDocument {
        var doc = doc
        let i = doc.index(ofCell: id)!
        doc.cells[i].entries = commands.map { Entry(command: $0) }
        return doc
    }

    // MARK: written answers

    @Test func checkAnswerRecordsPartialCreditInTheSession() throws {
        let (session, output) = NotebookFixtures.session()
        try session.run("""
            answer q1 "The model is causal."
            check_answer q1 keys=["causal", "next token"] points=2
            check_answer q2 keys=["x"]
            show answers
            """)
        #expect(session.checks.count == 2)
        #expect(session.checks[0].score == 1 && !session.checks[0].passed && session.checks[0].points == 2)
        #expect(session.checks[1].score == 0 && session.checks[1].message == "not attempted")
        #expect(output().contains("FAIL: answer q1 (1/2 points): missing: next token"))
        #expect(output().contains("FAIL: answer q2 (0/1 points): not attempted"))
        #expect(output().contains("q1 = \"The model is causal.\""))
    }

    // MARK: grading

    @Test func teacherFileGradesFull() throws {
        let report = try Self.grade(Self.teacher())
        #expect(report.points == 8 && report.earned == 8)
        #expect(report.exercises.map(\.id) == ["settings", "rate", "mlm"])
        #expect(report.exercises.allSatisfy { $0.attempted && $0.earned == $0.points })
        #expect(report.integrity.isEmpty)
        #expect(report.text.hasSuffix("total 8 / 8 points (100%)"))
    }

    @Test func untouchedStudentCopyGradesZeroAsNotAttempted() throws {
        let report = try Self.grade(StudentCopy.make(from: Self.teacher()))
        #expect(report.earned == 0 && report.points == 8)
        #expect(report.exercises.allSatisfy { !$0.attempted })
        #expect(report.integrity.isEmpty)   // the copy as handed out: every cell the student should keep is intact
        #expect(report.text.components(separatedBy: "not attempted").count - 1 == 3)
    }

    @Test func wrongAnswersAreGradedWrongWithFeedback() throws {
        var student = try StudentCopy.make(from: Self.teacher())
        student = Self.answered(student, "settings", ["rank = 8", "alpha = 32"])
        student = Self.answered(student, "rate", ["rate = undefined_name"])
        student = Self.answered(student, "mlm", ["answer mlm \"\"\"\nThe masked language model is on, which hides some words to guess.\n\"\"\""])
        let report = try Self.grade(student)
        let byID = Dictionary(uniqueKeysWithValues: report.exercises.map { ($0.id, $0) })
        #expect(byID["settings"]!.attempted && byID["settings"]!.earned == 1)     // alpha right, rank wrong
        #expect(byID["rate"]!.earned == 0 && byID["rate"]!.notes.first!.contains("unknown name 'undefined_name'"))
        #expect(byID["mlm"]!.earned == 0)
        let text = report.text
        #expect(text.contains("rank is 16: expected 16, got 8"))
        #expect(text.contains("missing: causal (or autoregressive); next token (or following token)"))
        #expect(text.contains("says what is wrong: masked language model is on"))
        #expect(text.contains("rate is the base rate: unknown name 'rate'"))   // the check that could not run, by its label
        #expect(text.contains("hint: the set-up cell names the base rate"))
        #expect(text.hasSuffix("total 1 / 8 points (13%)"))
    }

    @Test func studentChecksAndAddedCellsEarnNothing() throws {
        var student = try StudentCopy.make(from: Self.teacher())
        student = Self.answered(student, "settings", ["rank = 16", "alpha = 32", "check 1 == 1 points=100"])
        student.cells.append(Cell(kind: .command, id: "mine", entries: [Entry(command: "check true points=50")]))
        student.cells.append(Cell(kind: .command, id: "fake-hidden", tags: ["hidden"], entries: [Entry(command: "check true points=50")]))
        let report = try Self.grade(student)
        #expect(report.earned == 3 && report.points == 8)
        #expect(report.notes.contains { $0.contains("'fake-hidden' is tagged [hidden] and was not run") })
    }

    @Test func studentCodeIsConfinedToItsFolder() throws {
        let folder = try Self.scratch()
        let outside = folder.deletingLastPathComponent().appendingPathComponent("medrepl-escape-\(UUID().uuidString).md")
        var student = try StudentCopy.make(from: Self.teacher())
        student = Self.answered(student, "settings", [
            "rank = 16", "alpha = 32",
            "secret = \"${HF_TOKEN}\"",
            "save \(outside.path)",
            "export markdown \(Self.teacherPath) to=../\(outside.lastPathComponent)",
            "exit 3",
        ])
        let report = try Self.grade(student, in: folder)
        let notes = report.exercises[0].notes
        #expect(notes.contains { $0.contains("environment variable HF_TOKEN is not set") })
        #expect(notes.contains { $0.contains("'save' is not available while grading") })
        #expect(notes.contains { $0.contains("'exit' is not available while grading") })
        #expect(!FileManager.default.fileExists(atPath: outside.path))
        // `export` reads the teacher's file only through a path inside the student's folder, so it fails.
        #expect(notes.contains { $0.contains("'export' is not available while grading") })
        #expect(report.exercises[0].earned == 3)   // the rest of the cell still ran and was checked
    }

    // MARK: the exercise notebooks of notebooks/exercises

    static let exerciseFolder = Repository.url("notebooks/exercises")

    @Test func writtenQuestionsGradeFullForTheTeacherAndZeroUntouched() throws {
        let url = Self.exerciseFolder.appendingPathComponent("questions.teacher.mednb")
        let teacher = try NotebookDocument.load(path: url.path)
        let full = try Grader(teacher: teacher, student: teacher, directory: Self.exerciseFolder, registry: .standard(), environment: [:]).grade()
        #expect(full.exercises.count >= 9)
        #expect(full.earned == full.points, "\(full.text)")
        let copy = try StudentCopy.make(from: teacher)
        let none = try Grader(teacher: teacher, student: copy, directory: Self.exerciseFolder, registry: .standard(), environment: [:]).grade()
        #expect(none.earned == 0 && none.exercises.allSatisfy { !$0.attempted })
    }
}

/// The agreement exercise: the teacher's labels earn every point, none are not attempted, and a student who calls
/// every prediction correct misses the negated answers and the agreement with a careful reading.
@Suite struct AgreementExerciseTests {
    @Test func teacherFullUntouchedZeroAndEverythingCorrectOnlyTheCount() throws {
        let folder = ExerciseTests.exerciseFolder
        let teacher = try NotebookDocument.load(path: folder.appendingPathComponent("agreement.teacher.mednb").path)
        let full = try Grader(teacher: teacher, student: teacher, directory: folder, registry: .standard(), environment: [:]).grade()
        #expect(full.exercises.map(\.id) == ["labels", "errors"])
        #expect(full.earned == full.points && full.points == 8, "\(full.text)")
        let copy = try StudentCopy.make(from: teacher)
        let none = try Grader(teacher: teacher, student: copy, directory: folder, registry: .standard(), environment: [:]).grade()
        #expect(none.earned == 0 && none.exercises.allSatisfy { !$0.attempted })
        var lazy = copy
        let all = [0, 1, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 25, 29, 32, 35, 36, 39, 40, 41, 44]
        lazy.cells[lazy.index(ofCell: "labels")!].entries = [Entry(command: "mine = agreement results correct=\(all) incorrect=[]")]
        let graded = try Grader(teacher: teacher, student: lazy, directory: folder, registry: .standard(), environment: [:]).grade()
        #expect(graded.exercises[0].earned == 2 && graded.exercises[0].points == 5, "\(graded.text)")   // the count and the synonym
        #expect(graded.text.contains("the negated answer (17) is a false positive of the notebook matcher: the list does not contain 17"))
        #expect(graded.text.contains("your labels agree with a careful reading: expected a value >= 0.4, got 0.0"))
    }
}

/// The code exercises need the training verbs (`lora_config`, `training_args`) but no model.
@Suite struct CodeExerciseTests {
    static let hasTrainingVerbs = Registry.standard().verb(named: "lora_config") != nil
        && Registry.standard().verb(named: "training_args") != nil

    @Test(.enabled(if: hasTrainingVerbs, "the training verbs lora_config and training_args are not registered"))
    func codeExercisesGradeFullForTheTeacherAndZeroUntouched() throws {
        let folder = ExerciseTests.exerciseFolder
        let teacher = try NotebookDocument.load(path: folder.appendingPathComponent("code.teacher.mednb").path)
        let full = try Grader(teacher: teacher, student: teacher, directory: folder, registry: .standard(), environment: [:]).grade()
        #expect(full.exercises.map(\.id) == ["lora", "args", "accuracy"])
        #expect(full.earned == full.points && full.points == 17, "\(full.text)")
        let copy = try StudentCopy.make(from: teacher)
        let none = try Grader(teacher: teacher, student: copy, directory: folder, registry: .standard(), environment: [:]).grade()
        #expect(none.earned == 0 && none.exercises.allSatisfy { !$0.attempted })
        // A rank of 8 and the default accumulation lose exactly those checks' points.
        var wrong = copy
        wrong.cells[wrong.index(ofCell: "lora")!].entries = [Entry(command:
            "cfg = lora_config r=8 lora_alpha=32 lora_dropout=0.05 target_modules=[\"q_proj\", \"k_proj\", \"v_proj\", \"o_proj\", \"gate_proj\", \"up_proj\", \"down_proj\"]")]
        let graded = try Grader(teacher: teacher, student: wrong, directory: folder, registry: .standard(), environment: [:]).grade()
        #expect(graded.exercises[0].earned == 4 && graded.exercises[0].points == 5)
        #expect(graded.text.contains("rank 16: expected 16, got 8"))
    }
}
