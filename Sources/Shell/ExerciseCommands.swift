import Exercises
import Foundation
import Language
import Notebook
import NotebookFormat

/// `medrepl student` and `medrepl grade`: exercise notebooks from the command line (docs/exercises.md).
extension MedreplCommandLine {
    /// `medrepl student TEACHER.mednb [-o STUDENT.mednb]`
    static func student(_ arguments: [String]) -> Int32 {
        var teacherPath: String?
        var outputPath: String?
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            switch a {
            case "-o", "--output":
                i += 1
                guard i < arguments.count else { return usageError("-o needs the student file: medrepl student T.mednb -o S.mednb") }
                outputPath = arguments[i]
            default:
                if a.hasPrefix("-") { return usageError("unknown option '\(a)' for student") }
                guard teacherPath == nil else { return usageError("student takes one teacher notebook") }
                teacherPath = a
            }
            i += 1
        }
        guard let teacherPath else { return usageError("student needs the teacher's notebook: medrepl student exercises.teacher.mednb") }
        let out = outputPath ?? StudentCopy.defaultPath(forTeacher: teacherPath)
        guard URL(fileURLWithPath: out).standardizedFileURL != URL(fileURLWithPath: teacherPath).standardizedFileURL else {
            return usageError("the student copy would replace the teacher's file; give another name with -o")
        }
        do {
            let teacher = try NotebookDocument.load(path: teacherPath)
            let copy = try StudentCopy.make(from: teacher, file: teacherPath)
            try copy.write(to: out)
            let count = try StudentCopy.exercises(in: teacher, file: teacherPath).count
            print("wrote \(out): \(count) exercise\(count == 1 ? "" : "s"), solutions stubbed, hidden checks removed")
            return 0
        } catch {
            fputs("\(error)\n", stderr)
            return 1
        }
    }

    /// `medrepl grade STUDENT.mednb [--teacher TEACHER.mednb]`: prints the report; status 0 whatever the score.
    static func grade(_ arguments: [String]) -> Int32 {
        var studentPath: String?
        var teacherPath: String?
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--teacher" || a == "-t" {
                i += 1
                guard i < arguments.count else { return usageError("--teacher needs the teacher's notebook") }
                teacherPath = arguments[i]
            } else if a.hasPrefix("--teacher=") {
                teacherPath = String(a.dropFirst("--teacher=".count))
            } else if a.hasPrefix("-") {
                return usageError("unknown option '\(a)' for grade")
            } else {
                guard studentPath == nil else { return usageError("grade takes one student notebook") }
                studentPath = a
            }
            i += 1
        }
        guard let studentPath else { return usageError("grade needs the student's notebook: medrepl grade S.mednb --teacher T.mednb") }
        if teacherPath == nil, studentPath.hasSuffix(".student.mednb") {
            let guess = String(studentPath.dropLast(".student.mednb".count)) + ".teacher.mednb"
            if FileManager.default.fileExists(atPath: guess) { teacherPath = guess }
        }
        guard let teacherPath else { return usageError("grade needs the teacher's notebook: --teacher T.mednb") }
        Interrupts.install()
        do {
            let teacher = try NotebookDocument.load(path: teacherPath)
            let student = try NotebookDocument.load(path: studentPath)
            let folder = URL(fileURLWithPath: studentPath).deletingLastPathComponent().standardizedFileURL
            var grader = Grader(teacher: teacher, teacherName: teacherPath, student: student, studentName: studentPath, directory: folder,
                                registry: .standard())
            if isatty(STDERR_FILENO) != 0 {
                grader.progress = { id in fputs("\u{1B}[2K\rgrading cell \(id)...\r", stderr) }
            }
            let report = try grader.grade()
            if isatty(STDERR_FILENO) != 0 { fputs("\u{1B}[2K\r", stderr) }
            print(report.text)
            return 0
        } catch {
            fputs("\(error)\n", stderr)
            return 1
        }
    }
}
