import Foundation
import Language
import Notebook
import Support
import Testing
import Weights

// Issue 14's messages: what a user sees when a name, a path, an option or a file system goes wrong
// says it in the tool's words (real options, plain reasons), never Foundation's or Python's.

@Suite struct UserMessageTests {
    /// A fresh folder and a session working in it (no network: the hub is an unreachable endpoint).
    static func setUp() throws -> (Session, () -> String, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-msg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let (session, output) = NotebookFixtures.session(environment: [
            "HOME": dir.path, "HF_HUB_CACHE": dir.appendingPathComponent("hub").path,
            "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        ])
        session.directory = dir
        return (session, output, dir)
    }

    static func error(_ session: Session, _ text: String) -> String {
        do {
            try session.run(text, file: "<command line>")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// Words of Foundation's and Python's messages that must never reach a user.
    static let foreignWording = ["NSCocoaErrorDomain", "The operation could not be completed", "URLError",
                                 "Sample larger than population", "localizedDescription", "Error Domain="]

    static func expectPlain(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for word in foreignWording {
            #expect(!message.contains(word), "\(message)", sourceLocation: sourceLocation)
        }
    }

    // MARK: file-system errors

    @Test func saveAdapterUnderAFileSaysAParentIsAFile() throws {
        let (session, _, dir) = try Self.setUp()
        try Data("x".utf8).write(to: dir.appendingPathComponent("afile"))
        try session.run("m = load_model \"\(ModelFixtures.tinyLlama)\"\nload_adapter m \"\(ModelFixtures.initialAdapter)\"")
        let message = Self.error(session, "save_adapter m afile/sub")
        Self.expectPlain(message)
        #expect(message.contains("afile/sub: cannot create the adapter folder: a parent of it (\(dir.appendingPathComponent("afile").path)) is a file, not a folder"), "\(message)")
    }

    @Test func fileSystemReasonsAreInPlainWords() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-fs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("f")
        try Data().write(to: file)
        let under = file.appendingPathComponent("x/y")
        do {
            try FileManager.default.createDirectory(at: under, withIntermediateDirectories: true)
            Issue.record("created a folder under a file")
        } catch {
            #expect(FileSystemError.reason(for: error, path: under.path) == "a parent of it (\(file.path)) is a file, not a folder")
        }
        #expect(FileSystemError.reason(errno: EACCES, path: "/x") == "permission denied")
        #expect(FileSystemError.reason(errno: ENOSPC, path: "/x") == "disk full")
        // AtomicFile (every writer) says the same.
        #expect(throws: FileSystemError.self) { try AtomicFile.write(Data(), to: under) }
        do { try AtomicFile.write(Data(), to: under) } catch {
            #expect("\(error)".hasSuffix("a parent of it (\(file.path)) is a file, not a folder"), "\(error)")
        }
    }

    // MARK: paths and hub ids

    @Test func aMistypedLocalPathIsAPathNotAHubID() throws {
        let (session, _, dir) = try Self.setUp()
        let models = dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: models.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf"))
        let nope = Self.error(session, "load_model models/nope.gguf")
        #expect(nope.contains("models/nope.gguf: no such file or folder"), "\(nope)")
        #expect(!nope.contains("download") && !nope.contains("Hugging Face"), "\(nope)")
        let near = Self.error(session, "load_model models/SmolLM2-135M-Instruct.Q4_0.gguf")
        #expect(near.contains("did you mean 'models/SmolLM2-135M-Instruct.Q4_1.gguf'?"), "\(near)")
        // The first folder exists: a path, even without an extension.
        #expect(Self.error(session, "load_model models/nope").contains("models/nope: no such file or folder"))
        for name in ["./x/y", "~/x/y", "org/data.json", "org/m.safetensors"] {
            guard case .path = ResourceName.classify(name, directory: dir) else { Issue.record("\(name) taken for a hub id"); continue }
        }
        #expect(ResourceName.classify("HuggingFaceTB/SmolLM2-135M-Instruct", directory: dir) == .hub(repo: "HuggingFaceTB/SmolLM2-135M-Instruct", revision: "main"))
        // Datasets and adapters follow the same rule.
        #expect(Self.error(session, "load_dataset models/qa.json").contains("no such file"))
        #expect(Self.error(session, "m = load_model \"\(ModelFixtures.tinyLlama)\"\nload_adapter m models/nope").contains("models/nope: no such file or folder"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("hub").path))
    }

    @Test func aFailedDownloadRemovesWhatItCreated() throws {
        let (session, _, dir) = try Self.setUp()
        let message = Self.error(session, "load_model someorg/somemodel")
        #expect(message.contains("cannot reach") || message.contains("connection"), "\(message)")
        Self.expectPlain(message)
        let hub = dir.appendingPathComponent("hub")
        #expect(!FileManager.default.fileExists(atPath: hub.appendingPathComponent("models--someorg--somemodel").path))
        #expect(!FileManager.default.fileExists(atPath: hub.path), "the cache folder it created is removed too")
        // A cache that was there stays, without the repository's folder.
        try FileManager.default.createDirectory(at: hub, withIntermediateDirectories: true)
        _ = Self.error(session, "load_model someorg/somemodel")
        #expect(try FileManager.default.contentsOfDirectory(atPath: hub.path).isEmpty)
    }

    // MARK: hints name real options

    @Test func loadDatasetWithOtherKeysNamesTheRealOptions() throws {
        let (session, _, dir) = try Self.setUp()
        try Data(#"[{"q": "Which?", "a": "this"}]"#.utf8).write(to: dir.appendingPathComponent("x.json"))
        let message = Self.error(session, "load_dataset x.json")
        #expect(!message.contains("questionKey"), "\(message)")
        #expect(message.hasSuffix("name the columns: load_dataset x.json question=\"q\" answer=\"a\""), "\(message)")
        try session.run("d = load_dataset x.json question=\"q\" answer=\"a\"")
    }
}

/// Hints and limits of the evaluation verbs, on the tiny model.
@Suite struct EvaluationHintTests {
    static func message(_ session: Session, _ command: String) -> String {
        do { try session.run(command); return "" } catch { return "\(error)" }
    }

    @Test func limitLargerThanTheRowsEvaluatesThemAllAndSaysSo() throws {
        let (session, output, _) = try EvaluationVerbsTests.setUp(rows: 3)
        try session.run("results = evaluate model \"qa.json\" limit=50 max_new_tokens=2")
        #expect(output().contains("limit=50 is more than the 3 test rows: evaluating all 3\n"), "\(output())")
        #expect(try EvaluationVerbsTests.results(session).total == 3)
    }

    @Test func tooLargeKNamesTheVerbsOptionsInPlainWords() throws {
        let (session, _, _) = try EvaluationVerbsTests.setUp(rows: 5)
        let text = Self.message(session, "evaluate model \"qa.json\" protocol=notebook k=10 train_rows=0")
        UserMessageTests.expectPlain(text)
        #expect(text.contains("k=10 is more than the 5 test rows (the rows after the first 0)"), "\(text)")
        #expect(text.hasSuffix("give k=5 or less, or a smaller train_rows="), "\(text)")
    }

    /// Every `NAME=` a hint or error of these verbs names is an option of the verb that printed it.
    @Test func hintsNameOnlyOptionsTheVerbHas() throws {
        let (session, _, dir) = try EvaluationVerbsTests.setUp(rows: 5)
        try Data(#"[{"q": "What causes scurvy?", "a": "Vitamin C deficiency"}]"#.utf8).write(to: dir.appendingPathComponent("other.json"))
        let registry = Registry.standard()
        let cases = ["evaluate model \"qa.json\" protocol=notebook k=10 train_rows=0",
                     "evaluate model \"qa.json\" protocol=notebook",
                     "evaluate model \"qa.json\" train_rows=9",
                     "evaluate model \"qa.json\" limit=0",
                     "evaluate model \"other.json\"",
                     "answer_loss model \"other.json\"",
                     "compare model \"qa.json\"",
                     "load_dataset other.json",
                     "load_dataset other.json question=\"x\""]
        let pattern = try NSRegularExpression(pattern: #"(?<![\w.])([a-z][a-z_]*)(?:=(?!=)| ≤)"#)
        for command in cases {
            let verb = try #require(registry.verb(named: String(command.split(separator: " ")[0])))
            let names = Set(verb.allParameters.map(\.name))
            let text = Self.message(session, command)
            #expect(!text.isEmpty, "\(command) did not fail")
            // Only the message and hint: the echoed command line under the caret is the user's own text.
            let said = text.split(separator: "\n").enumerated().filter { $0.offset == 0 || $0.offset > 2 }.map(\.element).joined(separator: "\n")
            let range = NSRange(said.startIndex..., in: said)
            for match in pattern.matches(in: said, range: range) {
                let name = String(said[Range(match.range(at: 1), in: said)!])
                #expect(names.contains(name), "\(command): names '\(name)=', which '\(verb.name)' does not have: \(said)")
            }
            // Swift argument labels (`questionKey:`) are no options of the language.
            #expect(said.range(of: #"\b[a-z]+[A-Z][A-Za-z]*:"#, options: .regularExpression) == nil, "\(command): \(said)")
        }
    }
}
