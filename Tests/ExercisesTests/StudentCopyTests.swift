import Exercises
import Foundation
import NotebookFormat
import TestSupport
import Testing

/// The student copy of an exercise notebook: solutions stubbed, hidden cells and outputs dropped.
@Suite struct StudentCopyTests {
    static let teacherPath = Repository.url("Tests/NotebookTests/Fixtures/exercises/small.teacher.mednb").path

    static func teacher() throws -> NotebookDocument { try NotebookDocument.load(path: teacherPath) }

    @Test func studentCopyStubsSolutionsDropsHiddenCellsAndClearsOutputs() throws {
        let teacher = try Self.teacher()
        let copy = try StudentCopy.make(from: teacher)
        #expect(copy.cells.map(\.id) == teacher.cells.filter { !$0.tags.contains("hidden") }.map(\.id))
        #expect(copy.cells.allSatisfy { $0.entries.allSatisfy { $0.output.isEmpty } })
        #expect(copy.cell(id: "settings")!.entries.map(\.command) == ["# TODO: set rank and alpha"])
        #expect(copy.cell(id: "rate")!.entries.map(\.command) == ["rate = 0"])
        #expect(copy.cell(id: "mlm")!.entries.map(\.command) == ["answer mlm \"\"\"\nTODO: write your answer here\n\"\"\""])
        #expect(copy.cell(id: "setup")!.entries.map(\.command) == ["base_rate = 2e-4"])
        // No solution text survives anywhere in the copy.
        let text = copy.serialized()
        #expect(!text.contains("rank = 16") && !text.contains("autoregressive") && !text.contains("next token")
                && !text.contains("check rate ~=") && !text.contains("check_answer") && !text.contains("hint"))
        // Visible checks stay for the student to run (outputs cleared); the exercise keeps its time limit.
        #expect(copy.cell(id: "rate-try")!.entries == [Entry(command: "check rate > 0 label=\"rate is above 0\"")])
        #expect(copy.cell(id: "rate")!.timeout == 2 && text.contains("%% cell rate [exercise, timeout=2]\n"))
        #expect(try StudentCopy.exercises(in: teacher)[1].checkIndices.map { teacher.cells[$0].id } == ["rate-try", "rate-checks"])
        // The copy is itself a valid notebook that runs.
        #expect(try NotebookDocument.parse(text) == copy)
        #expect(StudentCopy.defaultPath(forTeacher: "a/b.teacher.mednb") == "a/b.student.mednb")
        #expect(StudentCopy.defaultPath(forTeacher: "a/b.mednb") == "a/b.student.mednb")
    }

    @Test func hiddenCellBeforeAnyExerciseIsAnError() throws {
        let doc = try NotebookDocument.parse("%% mednb 1\n\n%% cell c [hidden]\n  $ check 1 == 1\n", file: "t.mednb")
        #expect(throws: NotebookFormatError.self) { try StudentCopy.exercises(in: doc, file: "t.mednb") }
        let visible = try NotebookDocument.parse("%% mednb 1\n\n%% cell c [visible]\n  $ check 1 == 1\n", file: "t.mednb")
        #expect(throws: NotebookFormatError.self) { try StudentCopy.exercises(in: visible, file: "t.mednb") }
        let both = try NotebookDocument.parse("%% mednb 1\n\n%% cell e [exercise]\n  $ x = 1\n\n%% cell c [hidden, visible]\n  $ check 1 == 1\n", file: "t.mednb")
        #expect {
            try StudentCopy.exercises(in: both, file: "t.mednb")
        } throws: { "\($0)" == "t.mednb:6: cell 'c' cannot be tagged both [hidden] and [visible]" }
    }

    // MARK: the exercise notebooks of notebooks/exercises

    static let exerciseFolder = Repository.url("notebooks/exercises")

    static func teacherFiles() -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: exerciseFolder, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.lastPathComponent.hasSuffix(".teacher.mednb") }
            .sorted { $0.path < $1.path }
    }

    @Test func committedStudentCopiesAreUpToDate() throws {
        let teachers = Self.teacherFiles()
        #expect(!teachers.isEmpty)
        for url in teachers {
            let copy = try StudentCopy.make(from: NotebookDocument.load(path: url.path))
            let studentPath = StudentCopy.defaultPath(forTeacher: url.path)
            let committed = try String(contentsOfFile: studentPath, encoding: .utf8)
            #expect(committed == copy.serialized(), "regenerate: medrepl student \(url.lastPathComponent)")
        }
    }
}
