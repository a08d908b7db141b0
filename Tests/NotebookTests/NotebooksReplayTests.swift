import Foundation
import Language
import Notebook
import NotebookFormat
import TestSupport
import Testing

/// The shipped notebooks replay: `medrepl run notebooks/X.mednb --check` with the short parameter
/// set their outputs were recorded with (the `params` header), on the real default model.
///
/// They run in one test, in order, because `evaluate.mednb` and `ask.mednb` load the adapter that
/// `finetune.mednb` saves.
@Suite struct NotebooksReplayTests {
    static let notebooks = Repository.url("notebooks")

    /// The default model, found as the notebooks' `load_model smollm2` finds it; nil when absent.
    static var modelPath: String? { Repository.smolLM2?.path }

    static var skipReason: String? {
        if modelPath == nil { return "the default model SmolLM2-135M-Instruct.Q4_1.gguf is not in models/ or MEDREPL_MODEL_DIR" }
        let registry = Registry.standard()
        for verb in ["load_model", "apply_lora", "train", "evaluate", "compare", "ask"] where registry.verb(named: verb) == nil {
            return "the engine verb '\(verb)' is not registered"
        }
        return nil
    }

    @Test(.enabled(if: skipReason == nil, "\(skipReason ?? "")"))
    func shippedNotebooksReplayWithTheirRecordedParameters() throws {
        // The notebooks write outputs/ and evaluation_results.json where they run: a scratch folder that sees
        // the repository's data/ and the model, so the test leaves the checkout as it found it.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-replay-\(getpid())")
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("models"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try FileManager.default.createSymbolicLink(at: scratch.appendingPathComponent("data"),
                                                   withDestinationURL: Repository.url("data"))
        let model = URL(fileURLWithPath: Self.modelPath!)
        try FileManager.default.createSymbolicLink(at: scratch.appendingPathComponent("models/\(model.lastPathComponent)"),
                                                   withDestinationURL: model)
        for name in ["finetune.mednb", "evaluate.mednb", "ask.mednb", "quantization.mednb", "safety.mednb"] {
            let path = Self.notebooks.appendingPathComponent(name).path
            let document = try NotebookDocument.load(path: path)
            #expect(document[header: "params"] != nil, "\(name) records its CI parameters in the header")
            let session = Session(registry: .standard(), output: OutputSink(), directory: scratch)
            session.receivesInterrupts = false   // other suites send SIGINT to this process
            var options = NotebookRunOptions()
            options.check = true
            var log = ""
            let report = try NotebookRunner(document: document, name: name, session: session, options: options,
                                            log: { log += $0 }).run()
            #expect(report.failedCell == nil && report.diffs.isEmpty, "\(log)")
        }
    }

    @Test func everyNotebookParsesAndHasAParametersCell() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.notebooks.path).filter { $0.hasSuffix(".mednb") }
        #expect(Set(names).isSuperset(of: ["finetune.mednb", "evaluate.mednb", "ask.mednb", "quantization.mednb", "safety.mednb"]))
        let verbs = Registry.standard().verbNames
        for name in names {
            let document = try NotebookDocument.load(path: Self.notebooks.appendingPathComponent(name).path)
            #expect(document.parametersCell != nil, "\(name) has no [parameters] cell")
            // Every command parses against the full registry, so a renamed verb shows here without a model.
            for cell in document.cells where cell.kind == .command {
                for entry in cell.entries {
                    #expect(throws: Never.self, "\(name) cell \(cell.id)") {
                        try Parser.parse(SourceText(file: name, text: entry.command), verbs: verbs)
                    }
                }
            }
        }
    }

    @Test func examplesParseAgainstTheRegistry() throws {
        let folder = Repository.url("examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".medrepl") }
        #expect(files.count >= 5)
        let verbs = Registry.standard().verbNames
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(throws: Never.self, "examples/\(file)") { try Parser.parse(SourceText(file: file, text: text), verbs: verbs) }
        }
    }
}
