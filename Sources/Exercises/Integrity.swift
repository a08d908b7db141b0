import NotebookFormat

/// The teacher's cells a student should leave as they are, compared with a submission (like nbgrader's
/// read-only cells): every cell of the teacher's file but its exercise and hidden cells (prose, set-up,
/// parameters, visible checks), matched by id. Recorded outputs and trailing spaces do not count; the
/// student copy `medrepl student` writes is intact. Grading always runs the teacher's version, so a
/// change costs no points and earns none; it is reported.
///
/// ```swift
/// Integrity.changes(from: teacher, to: student)   // ["cell 'setup' was changed", "cell 'intro' was deleted"]
/// ```
public enum Integrity {
    /// One line per changed or deleted cell, in the teacher's order; empty when all are intact.
    public static func changes(from teacher: NotebookDocument, to student: NotebookDocument) -> [String] {
        var lines: [String] = []
        for cell in teacher.cells where isProtected(cell) {
            guard let theirs = student.cell(id: cell.id) else {
                lines.append("cell '\(cell.id)' was deleted")
                continue
            }
            if theirs.kind != cell.kind || content(of: theirs) != content(of: cell) {
                lines.append("cell '\(cell.id)' was changed")
            }
        }
        return lines
    }

    /// True for a cell the student should not change: all but exercise and hidden cells.
    static func isProtected(_ cell: Cell) -> Bool {
        !cell.tags.contains(StudentCopy.exerciseTag) && !cell.tags.contains(StudentCopy.hiddenTag)
    }

    /// A cell's text as compared: its prose or its commands (not their outputs), each line without trailing
    /// spaces, blank lines at the end dropped.
    static func content(of cell: Cell) -> [String] {
        let text = cell.kind == .prose ? cell.text : cell.entries.map(\.command).joined(separator: "\n")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            String(line.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
        }
        while lines.last == "" { lines.removeLast() }
        return lines
    }
}
