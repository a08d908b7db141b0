import Foundation
import Language
import NotebookFormat

/// The exercises of a teacher notebook and the student copy made from it (docs/exercises.md).
///
/// A command cell tagged `exercise` is one exercise: its id names it, its commands are the teacher's
/// solution. Cells tagged `hidden` hold the checks that grade the exercise before them; they are left
/// out of the student copy. Cells tagged `visible` hold checks too, kept in the copy so the student can
/// run them (`medrepl check-exercises`). In the copy, an exercise cell keeps only its stub:
/// - `# TODO ...` comment lines, as written;
/// - `# stub: CODE` lines, as `CODE` (code given to the student);
/// - `answer ID """..."""` with the text replaced by a `TODO` placeholder;
/// - and when none of these is there, one `# TODO: write your solution here` line.
///
/// ```swift
/// let teacher = try NotebookDocument.load(path: "notebooks/exercises/written.teacher.mednb")
/// let student = try StudentCopy.make(from: teacher)
/// try student.write(to: "notebooks/exercises/written.student.mednb")
/// ```
public enum StudentCopy {
    /// The tag of a cell holding an exercise (the student's work area).
    public static let exerciseTag = "exercise"
    /// The tag of a cell of checks removed from the student copy.
    public static let hiddenTag = "hidden"
    /// The tag of a cell of checks kept in the student copy (graded like hidden ones, the teacher's version running).
    public static let visibleTag = "visible"
    /// How an unwritten answer starts; `check_answer` reads it as "not attempted".
    public static let answerPlaceholderPrefix = "TODO"
    static let answerPlaceholder = "TODO: write your answer here"
    static let defaultStub = "# TODO: write your solution here"

    /// The exercises of a teacher notebook, in order, each with the hidden cells that grade it.
    public struct Exercise: Sendable {
        public var id: String
        /// Index of the exercise cell in the teacher notebook.
        public var cellIndex: Int
        /// Indices of its check cells (hidden and visible) in the teacher notebook.
        public var checkIndices: [Int]
    }

    /// True for a cell of checks, hidden or visible.
    public static func isCheckCell(_ cell: Cell) -> Bool {
        cell.kind == .command && (cell.tags.contains(hiddenTag) || cell.tags.contains(visibleTag))
    }

    /// Finds the exercises; a hidden or visible cell belongs to the nearest exercise cell above it.
    public static func exercises(in teacher: NotebookDocument, file: String = "<teacher>") throws -> [Exercise] {
        var list: [Exercise] = []
        for (i, cell) in teacher.cells.enumerated() where cell.kind == .command {
            let roles = [exerciseTag, hiddenTag, visibleTag].filter { cell.tags.contains($0) }
            if roles.count > 1 {
                throw NotebookFormatError(file: file, line: cell.line,
                                          message: "cell '\(cell.id)' cannot be tagged both [\(roles[0])] and [\(roles[1])]")
            }
            if roles == [exerciseTag] { list.append(Exercise(id: cell.id, cellIndex: i, checkIndices: [])) }
            if let role = roles.first, role != exerciseTag {
                guard !list.isEmpty else {
                    throw NotebookFormatError(file: file, line: cell.line,
                                              message: "\(role) cell '\(cell.id)' comes before any cell tagged [exercise]; put its checks after the exercise they grade")
                }
                list[list.count - 1].checkIndices.append(i)
            }
        }
        return list
    }

    /// The student copy: hidden cells removed, exercise cells reduced to their stubs, outputs cleared
    /// (visible check cells stay, their outputs cleared too).
    public static func make(from teacher: NotebookDocument, file: String = "<teacher>") throws -> NotebookDocument {
        let exerciseCount = try exercises(in: teacher, file: file).count
        guard exerciseCount > 0 else {
            throw NotebookFormatError(file: file, line: 1, message: "no cell is tagged [exercise], so there is nothing to hand out")
        }
        var copy = teacher
        copy[header: "params"] = nil
        copy.cells = []
        for cell in teacher.cells {
            if cell.tags.contains(hiddenTag) { continue }
            var c = cell
            if cell.kind == .command {
                c.entries = cell.tags.contains(exerciseTag)
                    ? stub(of: cell).map { Entry(command: $0) }
                    : cell.entries.map { Entry(command: $0.command) }
            }
            copy.cells.append(c)
        }
        return copy
    }

    /// The commands an exercise cell holds in the student copy.
    public static func stub(of cell: Cell) -> [String] {
        var commands: [String] = []
        for entry in cell.entries {
            let command = entry.command
            if command.hasPrefix("# TODO") {
                commands.append(command)
            } else if command.hasPrefix("# stub:") {
                commands.append(String(command.dropFirst("# stub:".count).drop { $0 == " " }))
            } else if let id = answerID(command) {
                commands.append("answer \(id) \"\"\"\n\(answerPlaceholder)\n\"\"\"")
            }
        }
        return commands.isEmpty ? [defaultStub] : commands
    }

    /// The ID of an `answer ID ...` command, or nil for any other command.
    static func answerID(_ command: String) -> String? {
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\n" }).prefix(2)
        guard words.count == 2, words[0] == "answer", Parser.isName(String(words[1])) else { return nil }
        return String(words[1])
    }

    /// True when the student's cell still holds exactly the stub (blank lines and outer spaces aside).
    public static func isUntouched(_ studentCell: Cell, teacherCell: Cell) -> Bool {
        func normal(_ commands: [String]) -> [String] {
            commands.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        }
        return normal(studentCell.entries.map(\.command)) == normal(stub(of: teacherCell))
    }

    /// Where the student copy of `teacherPath` goes by default: `X.teacher.mednb` -> `X.student.mednb`,
    /// else `X.mednb` -> `X.student.mednb`.
    public static func defaultPath(forTeacher teacherPath: String) -> String {
        var base = teacherPath
        if base.hasSuffix(".mednb") { base.removeLast(".mednb".count) }
        if base.hasSuffix(".teacher") { base.removeLast(".teacher".count) }
        return base + ".student.mednb"
    }
}
