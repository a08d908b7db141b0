import Foundation
import Language
import Notebook
import NotebookFormat

/// `medrepl export-training`: a notebook's training run as a transformers + peft + accelerate project (docs/scaling.md).
extension MedreplCommandLine {
    /// `medrepl export-training NOTEBOOK DIR [-p NAME=VALUE]...`: runs the notebook's cells up to its `train`
    /// statement, which does not run (nor anything after it), and exports the trainer it names to DIR.
    static func exportTrainingCommand(_ arguments: [String]) -> Int32 {
        var options = NotebookRunOptions()
        var positional: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "-p" || a == "--param" || a.hasPrefix("--param=") {
                let v: String?
                if a.hasPrefix("--param=") { v = String(a.dropFirst("--param=".count)) } else {
                    i += 1
                    v = i < arguments.count ? arguments[i] : nil
                }
                guard let v, let p = parameterOption(v) else { return usageError("-p needs NAME=VALUE, as in -p rows=200") }
                options.parameters.append(p)
            } else if a.hasPrefix("-") {
                let hint = Suggest.closest(to: a, in: ["-p", "--param"]).map { "; did you mean '\($0)'?" } ?? ""
                return usageError("unknown option '\(a)' for export-training\(hint)")
            } else {
                positional.append(a)
            }
            i += 1
        }
        guard positional.count == 2 else {
            return usageError(positional.count < 2 ? "export-training needs a notebook and a folder: medrepl export-training notebooks/finetune.mednb outputs/gpu-run"
                                                   : "export-training takes one notebook and one folder; got \(positional.count) names")
        }
        let (path, dir) = (positional[0], positional[1])
        guard let data = FileManager.default.contents(atPath: path) else {
            fputs("medrepl: cannot read \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")\n", stderr)
            return 1
        }
        Interrupts.install()
        let document: NotebookDocument
        do { document = try NotebookDocument.parse(String(decoding: data, as: UTF8.self), file: path) } catch {
            fputs("\(error)\n", stderr)
            return 1
        }
        let session = Session(registry: .standard(), output: .standardOutput())
        session.provenance["notebook"] = path
        var train: Statement?
        session.beforeStatement = { statement in
            if statement.verb == "train" { train = statement; session.exitRequested = 0 }
        }
        // The cells run as `medrepl run` runs them, shown as they go; the notebook file is not changed.
        let runner = NotebookRunner(document: document, name: path, session: session, options: options)
        do {
            let report = try runner.run()
            if report.interrupted { return 130 }
            if let failed = report.failedCell {
                fputs("\(path): stopped at cell '\(failed)' before reaching train; nothing was exported\n", stderr)
                return 1
            }
            guard let train else {
                fputs("medrepl: \(path) has no train statement: export-training exports the run that `train TRAINER` would start\n", stderr)
                return 1
            }
            session.beforeStatement = nil
            session.exitRequested = nil
            print("\n\(path): stopped before `\(train.text.trimmingCharacters(in: .whitespacesAndNewlines))` (not run)")
            try Notebook.exportTraining(before: train, to: dir, session: session)
            return 0
        } catch is CancelledError {
            fputs("interrupted\n", stderr)
            return 130
        } catch {
            fputs("\(error)\n", stderr)
            return 1
        }
    }

    /// `-p NAME=VALUE` → (NAME, VALUE); nil without a name or `=`.
    static func parameterOption(_ value: String) -> (name: String, value: String)? {
        guard let eq = value.firstIndex(of: "="), eq != value.startIndex else { return nil }
        return (String(value[..<eq]), String(value[value.index(after: eq)...]))
    }
}
