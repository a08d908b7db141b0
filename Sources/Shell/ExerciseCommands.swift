import Exercises
import Foundation
import Language
import Notebook
import NotebookFormat
import Support

/// `medrepl student`, `medrepl grade` and `medrepl check-exercises`: exercise notebooks from the command line (docs/exercises.md).
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

    /// `medrepl grade SUBMISSION.mednb... [--teacher T.mednb] [--csv FILE] [--feedback DIR] [--timeout S]`: one
    /// submission prints its report; several print a line per student and a summary per exercise. Status 0
    /// whatever the scores and however many submissions could not be graded (1 when the only one cannot).
    static func grade(_ arguments: [String]) -> Int32 {
        let options: GradeOptions
        do { options = try GradeOptions.parse(arguments, command: "grade", takes: ["--teacher", "-t", "--csv", "--feedback", "--timeout"]) } catch {
            return usageError("\(error)")
        }
        guard !options.paths.isEmpty else {
            return usageError("grade needs the students' notebooks: medrepl grade submissions/*.mednb --teacher T.mednb")
        }
        var teacherPath = options.teacher
        if teacherPath == nil, options.paths.count == 1, options.paths[0].hasSuffix(".student.mednb") {
            let guess = String(options.paths[0].dropLast(".student.mednb".count)) + ".teacher.mednb"
            if FileManager.default.fileExists(atPath: guess) { teacherPath = guess }
        }
        guard let teacherPath else { return usageError("grade needs the teacher's notebook: --teacher T.mednb") }
        let paths: [String]
        do {
            paths = try options.submissions(teacher: teacherPath)
            try options.checkOutputs()
        } catch { return usageError("\(error)") }

        Interrupts.install()
        let teacher: NotebookDocument
        do { teacher = try NotebookDocument.load(path: teacherPath) } catch {
            fputs("medrepl: the teacher's notebook \(teacherPath): \(ClassGrader.reason(error))\n", stderr)
            return 1
        }
        var grader = ClassGrader(teacher: teacher, teacherName: teacherPath, registry: .standard())
        grader.timeLimit = options.timeout
        if isatty(STDERR_FILENO) != 0 {
            grader.progress = { student, id in fputs("\u{1B}[2K\rgrading \(paths.count > 1 ? student + ": " : "")cell \(id)...\r", stderr) }
        }
        let grades: ClassGrades
        do { grades = try grader.grade(paths) } catch {
            fputs("medrepl: the teacher's notebook \(teacherPath): \(ClassGrader.reason(error))\n", stderr)
            return 1
        }
        if isatty(STDERR_FILENO) != 0 { fputs("\u{1B}[2K\r", stderr) }
        var status: Int32 = 0
        if paths.count == 1, let only = grades.submissions.first {
            if let report = only.report { print(report.text) } else {
                fputs("medrepl: \(only.path): \(only.failure ?? "not graded")\n", stderr)
                status = 1
            }
        } else {
            print(grades.text)
        }
        do {
            if let csv = options.csv {
                try AtomicFile.write(grades.csv, to: csv)
                print("wrote \(csv): \(grades.submissions.count) student\(grades.submissions.count == 1 ? "" : "s")")
            }
            if let folder = options.feedback {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for submission in grades.submissions {
                    try AtomicFile.write(Feedback.markdown(submission, teacher: teacherPath),
                                         to: URL(fileURLWithPath: folder).appendingPathComponent(submission.student + ".md").path)
                }
                print("wrote \(grades.submissions.count) feedback file\(grades.submissions.count == 1 ? "" : "s") to \(folder)")
            }
        } catch {
            fputs("medrepl: \(FileSystemError.plainDescription(of: error))\n", stderr)
            return 1
        }
        return status
    }

    /// `medrepl check-exercises STUDENT.mednb [--timeout S]`: the student's notebook run as grading runs it,
    /// each visible check's result shown without points.
    static func checkExercises(_ arguments: [String]) -> Int32 {
        let options: GradeOptions
        do { options = try GradeOptions.parse(arguments, command: "check-exercises", takes: ["--timeout"]) } catch {
            return usageError("\(error)")
        }
        guard options.paths.count == 1, let path = options.paths.first else {
            return usageError(options.paths.isEmpty ? "check-exercises needs your notebook: medrepl check-exercises exercises.student.mednb"
                              : "check-exercises takes one notebook")
        }
        Interrupts.install()
        do {
            let notebook = try NotebookDocument.load(path: path)
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL
            let report = try SelfCheck.run(notebook, name: path, directory: folder, registry: .standard(), timeLimit: options.timeout)
            print(SelfCheck.text(report))
            return 0
        } catch {
            fputs("medrepl: \(path): \(ClassGrader.reason(error))\n", stderr)
            return 1
        }
    }
}

/// The arguments of `medrepl grade` and `medrepl check-exercises`, read as a hurried teacher types them:
/// `--csv=FILE` or `--csv FILE`, an option without its value named, a glob that matched nothing, a folder,
/// or the teacher's own file among the submissions each said plainly.
struct GradeOptions {
    var paths: [String] = []
    var teacher: String?
    var csv: String?
    var feedback: String?
    var timeout = Grader.defaultTimeLimit

    /// A mistake in the arguments, in the user's words.
    struct Problem: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Reads the arguments; `takes` lists the options `command` accepts.
    static func parse(_ arguments: [String], command: String, takes: [String]) throws -> GradeOptions {
        var options = GradeOptions()
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            let flag = a.hasPrefix("--") ? String(a.prefix { $0 != "=" }) : a
            guard a.hasPrefix("-") && a != "-" else { options.paths.append(a); i += 1; continue }
            guard takes.contains(flag) else {
                let hint = Suggest.closest(to: flag, in: takes).map { "; did you mean '\($0)'?" } ?? ""
                throw Problem("unknown option '\(a)' for \(command)\(hint)")
            }
            let what = ["--csv": "the file to write, as in --csv grades.csv", "--feedback": "a folder, as in --feedback feedback",
                        "--timeout": "a number of seconds, as in --timeout 300"][flag] ?? "the teacher's notebook, as in --teacher T.mednb"
            var value: String?
            if let eq = a.firstIndex(of: "="), a.hasPrefix("--") { value = String(a[a.index(after: eq)...]) } else if i + 1 < arguments.count,
               !arguments[i + 1].hasPrefix("-") { i += 1; value = arguments[i] }
            guard let value, !value.isEmpty else { throw Problem("\(flag) needs \(what)") }
            switch flag {
            case "--csv": options.csv = value
            case "--feedback": options.feedback = value
            case "--timeout":
                guard let seconds = Double(value), seconds.isFinite, seconds > 0 else { throw Problem("\(flag) needs \(what), not '\(value)'") }
                options.timeout = seconds
            default: options.teacher = value
            }
            i += 1
        }
        return options
    }

    /// The submissions to grade: folders and, among several, the teacher's own file left out (said on standard error);
    /// a pattern the shell did not expand, or nothing left, is a mistake.
    func submissions(teacher: String) throws -> [String] {
        let fm = FileManager.default
        let teacherFile = URL(fileURLWithPath: teacher).resolvingSymlinksInPath().standardizedFileURL
        var kept: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            let exists = fm.fileExists(atPath: path, isDirectory: &isFolder)
            if !exists && path.contains(where: { "*?[".contains($0) }) {
                throw Problem("no file matches '\(path)': check the folder and the pattern")
            }
            if exists && isFolder.boolValue {
                fputs("medrepl: skipping \(path): a folder, not a notebook (give its notebooks: \(path.hasSuffix("/") ? path : path + "/")*.mednb)\n", stderr)
            } else if exists && paths.count > 1 && URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL == teacherFile {
                // Among a class it is a slip of the pattern; alone it is the teacher checking the checks (100%).
                fputs("medrepl: skipping \(path): it is the teacher's notebook (--teacher)\n", stderr)
            } else {
                kept.append(path)
            }
        }
        guard !kept.isEmpty else { throw Problem("no student notebook left to grade among \(paths.joined(separator: " "))") }
        var seen: [String: String] = [:]
        for path in kept {
            let name = Submission.studentName(ofPath: path)
            if let other = seen[name] {
                if other == path { throw Problem("\(path) is given twice") }
                throw Problem("\(other) and \(path) both name the student '\(name)'; the CSV row and the feedback file are named after the file, so rename one")
            }
            seen[name] = path
        }
        return kept
    }

    /// `--csv` names a file that can be written and is no notebook; `--feedback` is no file.
    func checkOutputs() throws {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        if let csv {
            if csv.hasSuffix(".mednb") { throw Problem("--csv writes a table; '\(csv)' is a notebook's name (give grades.csv)") }
            if fm.fileExists(atPath: csv, isDirectory: &isFolder), isFolder.boolValue {
                throw Problem("--csv needs a file name; '\(csv)' is a folder (give \(csv.hasSuffix("/") ? csv : csv + "/")grades.csv)")
            }
            let folder = URL(fileURLWithPath: csv).deletingLastPathComponent().path
            if !fm.fileExists(atPath: folder) { throw Problem("--csv \(csv): the folder \(folder) does not exist") }
        }
        if let feedback, fm.fileExists(atPath: feedback, isDirectory: &isFolder), !isFolder.boolValue {
            throw Problem("--feedback needs a folder; '\(feedback)' is a file")
        }
    }
}
