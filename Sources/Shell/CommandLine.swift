import Foundation
import Kernels
import Language
import Notebook
import NotebookFormat

/// The `medrepl` command line: the interactive shell, scripts, `-c`, notebooks, and the docs.
///
/// ```swift
/// exit(MedreplCommandLine.main(CommandLine.arguments))
/// ```
public enum MedreplCommandLine {
    public static let usage = """
    medrepl \(MedreplVersion.string): LoRA fine-tuning of Llama-family models on medical QA, on a CPU.

    usage:
      medrepl                          the interactive shell (commands from standard input when it is not a terminal)
      medrepl -c 'COMMANDS'            run commands given here (';' or newlines between them)
      medrepl run FILE                 run a file of commands
      medrepl run NOTEBOOK.mednb... [--check] [--update] [-p NAME=VALUE]... [--cell ID | --from ID]
                                       run each notebook's cells in order in a fresh session, streaming outputs
          --check                      compare each cell's output with the recorded one; a diff per difference, exit 1
          --update                     write this run's outputs back into the notebook (atomically)
          -p NAME=VALUE                override a name set in the notebook's [parameters] cell
          --cell ID, --from ID         run one cell, or from one cell to the end (after the parameters cell)
      medrepl student TEACHER.mednb [-o STUDENT.mednb]
                                       write the student copy of an exercise notebook (solutions stubbed, hidden checks removed)
      medrepl grade SUBMISSION.mednb... [--teacher TEACHER.mednb] [--csv FILE] [--feedback DIR] [--timeout S]
                                       grade students' copies with the teacher's checks: one prints its report, several
                                       a line per student and a summary per exercise (docs/exercises.md)
          --teacher FILE               the teacher's notebook (guessed beside a single X.student.mednb)
          --csv FILE                   write one row per student: points per exercise, total, percent, integrity, notes
          --feedback DIR               write DIR/STUDENT.md per student: points, what was missing, the teacher's hints
          --timeout S                  stop a student's cell after S seconds (default 300; an exercise's timeout= wins)
      medrepl check-exercises STUDENT.mednb [--timeout S]
                                       run your copy as grading does and show its visible checks' results (no points)
      medrepl export-training NOTEBOOK.mednb DIR [-p NAME=VALUE]...
                                       the notebook's training run as a transformers + peft + accelerate project for GPUs:
                                       its cells run up to `train`, which does not (docs/scaling.md)
      medrepl device [seconds=S]       the CPU, its vector units, the BLAS kernel in use and a measured sgemm speed
      medrepl docs                     print the language reference (docs/language.md), also --help-language
      medrepl --help | --version

    Inside medrepl, 'help' lists the verbs and 'help VERB' explains one.
    """

    /// Runs medrepl with its arguments (the program name first); returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        var args = Array(arguments.dropFirst())
        guard let first = args.first else {
            return isatty(STDIN_FILENO) != 0 ? interactive() : runScript(readStandardInput(), file: "<stdin>")
        }
        switch first {
        case "-h", "--help", "help":
            print(usage)
            return 0
        case "-V", "--version", "version":
            print("medrepl \(MedreplVersion.string)")
            return 0
        case "--help-language", "docs":
            print(Help.languageReference(Registry.standard()))
            return 0
        case "-c":
            guard args.count == 2 else { return usageError(args.count < 2 ? "-c needs the commands to run: medrepl -c 'help'" : "-c takes one argument; quote the commands") }
            return runScript(args[1], file: "<command line>")
        case "run":
            args.removeFirst()
            return run(args)
        case "-":
            return runScript(readStandardInput(), file: "<stdin>")
        case "student":
            return student(Array(args.dropFirst()))
        case "grade":
            return grade(Array(args.dropFirst()))
        case "check-exercises":
            return checkExercises(Array(args.dropFirst()))
        case "export-training":
            return exportTrainingCommand(Array(args.dropFirst()))
        case "device":
            // The machine check users reach for first: `medrepl device` runs the verb of that name.
            return runScript(args.joined(separator: " "), file: "<command line>")
        default:
            if first.hasPrefix("-") {
                let hint = Suggest.closest(to: first, in: ["--help", "--version", "--help-language", "-c"]).map { "; did you mean '\($0)'?" } ?? ""
                return usageError("unknown option '\(first)'\(hint)")
            }
            let hint = Suggest.closest(to: first, in: ["run", "docs", "help", "version", "student", "grade", "check-exercises", "export-training"]).map { "did you mean 'medrepl \($0)'?" }
                ?? (FileManager.default.fileExists(atPath: first) ? "to run a file: medrepl run \(first)" : "commands go after -c: medrepl -c '\(first)'")
            return usageError("unknown command '\(first)'; \(hint)")
        }
    }

    static func usageError(_ message: String) -> Int32 {
        fputs("medrepl: \(message)\n(see medrepl --help)\n", stderr)
        return 2
    }

    static func interactive() -> Int32 {
        let session = Session(registry: .standard(), output: .standardOutput())
        // colour only on a terminal that wants it (https://no-color.org); recordings stay plain either way
        let env = ProcessInfo.processInfo.environment
        session.output.colour = isatty(STDOUT_FILENO) != 0 && env["NO_COLOR"].map(\.isEmpty) ?? true && env["TERM"] != "dumb"
        if let notice = BLASHealth.startupNotice() { session.writeLine(notice) }
        return Shell(session: session).run()
    }

    static func readStandardInput() -> String {
        String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Runs commands; the first error stops them, goes to standard error, and gives status 1.
    static func runScript(_ text: String, file: String) -> Int32 {
        Interrupts.install()
        let session = Session(registry: .standard(), output: .standardOutput())
        // Recorded as the shell records, so `save` in a script writes what ran before it.
        switch session.runRecorded(text, file: file) {
        case nil: return session.exitRequested ?? 0
        case is CancelledError?:
            fputs("interrupted\n", stderr)
            return 130
        case let error?:
            fputs("\(error)\n", stderr)
            return 1
        }
    }

    /// `medrepl run FILE ...`: a notebook when it ends in .mednb (or starts with `%% mednb`), else a command file.
    static func run(_ arguments: [String]) -> Int32 {
        var options = NotebookRunOptions()
        var files: [String] = []
        var i = 0
        let flags = ["--check", "--update", "-p", "--param", "--cell", "--from"]
        while i < arguments.count {
            let a = arguments[i]
            func value() -> String? {
                if let eq = a.firstIndex(of: "="), a.hasPrefix("--") { return String(a[a.index(after: eq)...]) }
                i += 1
                return i < arguments.count ? arguments[i] : nil
            }
            let flag = a.hasPrefix("--") ? String(a.prefix { $0 != "=" }) : a
            switch flag {
            case "--check": options.check = true
            case "--update": options.update = true
            case "-p", "--param":
                guard let v = value(), let p = parameterOption(v) else { return usageError("-p needs NAME=VALUE, as in -p rows=20") }
                options.parameters.append(p)
            case "--cell":
                guard let v = value() else { return usageError("--cell needs a cell id") }
                options.onlyCell = v
            case "--from":
                guard let v = value() else { return usageError("--from needs a cell id") }
                options.fromCell = v
            default:
                if a.hasPrefix("-") {
                    let hint = Suggest.closest(to: flag, in: flags).map { "; did you mean '\($0)'?" } ?? ""
                    return usageError("unknown option '\(a)' for run\(hint)")
                }
                files.append(a)
            }
            i += 1
        }
        guard !files.isEmpty else { return usageError("run needs a file: medrepl run notebooks/finetune.mednb") }
        if options.onlyCell != nil && options.fromCell != nil { return usageError("give --cell or --from, not both") }
        if options.check && options.update { return usageError("give --check or --update, not both") }
        // Several notebooks (`medrepl run notebooks/*.mednb --check`): each in its own session; the
        // worst status wins, and an interrupt stops them all.
        var status: Int32 = 0
        for path in files {
            let one = runFile(path, options: options, alone: files.count == 1)
            status = max(status, one)
            if one == 130 || one == 2 { break }
        }
        return status
    }

    static func runFile(_ path: String, options: NotebookRunOptions, alone: Bool) -> Int32 {
        guard let data = FileManager.default.contents(atPath: path) else {
            fputs("medrepl: cannot read \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")\n", stderr)
            return 1
        }
        let text = String(decoding: data, as: UTF8.self)
        let isNotebook = path.hasSuffix(".mednb") || text.hasPrefix("%% mednb")
        guard isNotebook else {
            if options.check || options.update || !options.parameters.isEmpty || options.onlyCell != nil || options.fromCell != nil {
                return usageError("--check, --update, -p, --cell and --from apply to .mednb notebooks; \(path) is a command file")
            }
            guard alone else { return usageError("run takes several files only when they are all notebooks; \(path) is a command file") }
            return runScript(text, file: path)
        }
        return runNotebook(path: path, text: text, options: options)
    }

    static func runNotebook(path: String, text: String, options: NotebookRunOptions) -> Int32 {
        Interrupts.install()
        let document: NotebookDocument
        do { document = try NotebookDocument.parse(text, file: path) } catch {
            fputs("\(error)\n", stderr)
            return 1
        }
        let session = Session(registry: .standard(), output: OutputSink())
        var runner = NotebookRunner(document: document, name: path, session: session, options: options)
        if options.check, isatty(STDERR_FILENO) != 0 {
            runner.progress = { id in fputs("\u{1B}[2K\rchecking \(path) cell \(id)...\r", stderr) }
        }
        do {
            let report = try runner.run()
            if options.update && !report.interrupted {
                try report.updated.write(to: path)
                fputs("\(path): updated \(report.cellsRun) cell\(report.cellsRun == 1 ? "" : "s")\n", stderr)
            }
            if let failed = report.failedCell, !options.check {
                fputs("\(path): stopped at cell '\(failed)'\n", stderr)
            }
            return report.exitStatus
        } catch {
            fputs("\(error)\n", stderr)
            return 1
        }
    }
}
