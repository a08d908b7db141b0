import Foundation
import TestSupport
import Testing

// Issue 16: a writer killed at any step of saving a folder of files (save_adapter, export_model, a trainer's
// checkpoint) leaves a reader the complete old folder or the complete new one, never a mix, and the next
// write to the same place removes what the killed one left, and nothing else.
//
// The writer is the medrepl binary with MEDREPL_TEST_STOP_WRITE_AFTER=N (Support.WriteTemporaries.step, a
// test-only hook), which sends itself SIGKILL at the N-th step of its writes: a file written to its
// temporary name, a file renamed into place, the folder staged, the folder exchanged with the old one.
@Suite(.serialized) struct InterruptedWriteTests {
    static let fixtures = Repository.url("Tests/Fixtures")

    /// A fresh folder holding two small model folders with the tiny BPE tokenizer beside their weights:
    /// `m1` (tiny-llama) and `m2` (tiny-llama-tied).
    static func setUp() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-kill-\(UUID().uuidString)")
        for (name, fixture) in [("m1", "tiny-llama"), ("m2", "tiny-llama-tied")] {
            let model = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
            for file in ["config.json", "model.safetensors"] {
                try FileManager.default.copyItem(at: fixtures.appendingPathComponent("\(fixture)/\(file)"), to: model.appendingPathComponent(file))
            }
            for file in ["tokenizer.json", "tokenizer_config.json"] {
                try FileManager.default.copyItem(at: fixtures.appendingPathComponent("tiny-bpe/\(file)"), to: model.appendingPathComponent(file))
            }
        }
        return dir
    }

    /// Runs `script` (commands, one a line) with the binary in `dir`, stopped at write step `stopAfter`.
    static func medrepl(_ binary: URL, _ script: String, in dir: URL, stopAfter: Int? = nil) throws -> (status: Int32, out: String, err: String) {
        let file = dir.appendingPathComponent("script-\(UUID().uuidString).txt")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        var environment = ProcessInfo.processInfo.environment
        environment["MEDREPL_TEST_STOP_WRITE_AFTER"] = stopAfter.map(String.init)
        return try NotebookFixtures.run(binary, ["run", file.path], environment: environment, timeout: 120)
    }

    /// The files of a folder and their bytes (the folders within by their relative paths).
    static func snapshot(_ url: URL, leaving: Set<String> = []) -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: url.path)
        while let path = enumerator?.nextObject() as? String {
            var isFolder: ObjCBool = false
            let full = url.appendingPathComponent(path)
            guard !leaving.contains(path), FileManager.default.fileExists(atPath: full.path, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            files[path] = try? Data(contentsOf: full)
        }
        return files
    }

    static func entries(_ url: URL) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted() }

    /// Kills `write` at each of its steps in turn. Before each kill `target` holds what `rewrite` writes (plus a
    /// file of the user's); after it, a reader must find exactly `rewrite`'s files or `write`'s; then `rewrite`
    /// runs again, and must leave no temporary beside or in `target`. Returns the steps seen.
    static func killAtEachStep(_ binary: URL, in dir: URL, target: URL, write: String, rewrite: String,
                               sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        let parent = target.deletingLastPathComponent()
        #expect(try medrepl(binary, write, in: dir).status == 0, sourceLocation: sourceLocation)
        let new = snapshot(target)
        #expect(try medrepl(binary, rewrite, in: dir).status == 0, sourceLocation: sourceLocation)
        let old = snapshot(target)
        #expect(!new.isEmpty && new != old, "the two writes must differ for the test to mean anything", sourceLocation: sourceLocation)
        // The user's own files: one in the folder, one beside it with a name like a temporary's.
        try "my notes".write(to: target.appendingPathComponent("notes.txt"), atomically: false, encoding: .utf8)
        try "mine".write(to: parent.appendingPathComponent(".something.tmp"), atomically: false, encoding: .utf8)
        let before = entries(parent)

        var steps: [String] = []
        for n in 1...40 {
            let killed = try medrepl(binary, write, in: dir, stopAfter: n)
            if killed.status == 0 { break }
            #expect(killed.status == 128 + SIGKILL, "step \(n): \(killed)", sourceLocation: sourceLocation)
            let marker = "killed after write step \(n) ("
            let said = killed.err.split(separator: "\n").first { $0.contains(marker) }.flatMap { line in
                line.range(of: marker).map { String(line[$0.upperBound...].dropLast()) }
            }
            steps.append(said ?? "?")
            let seen = snapshot(target, leaving: ["notes.txt"])
            #expect(seen == old || seen == new,
                    "step \(n) (\(steps.last!)): a reader sees a mix: \(seen.keys.sorted().map { "\($0): \(seen[$0] == old[$0] ? "old" : seen[$0] == new[$0] ? "new" : "other")" })",
                    sourceLocation: sourceLocation)
            #expect(snapshot(target)["notes.txt"] == Data("my notes".utf8), "step \(n)", sourceLocation: sourceLocation)

            #expect(try medrepl(binary, rewrite, in: dir).status == 0, sourceLocation: sourceLocation)
            #expect(entries(parent) == before, "step \(n): litter beside the folder after the next write", sourceLocation: sourceLocation)
            #expect(snapshot(target, leaving: ["notes.txt"]) == old, "step \(n)", sourceLocation: sourceLocation)
            #expect(!entries(target).contains { $0.hasPrefix(".") }, "step \(n): litter in the folder", sourceLocation: sourceLocation)
        }
        #expect(Self.text(parent.appendingPathComponent(".something.tmp")) == "mine", sourceLocation: sourceLocation)
        return steps
    }

    static func text(_ url: URL) -> String? { try? String(contentsOf: url, encoding: .utf8) }

    @Test(.enabled(if: NotebookFixtures.binary != nil, "the medrepl binary is not built next to the tests"))
    func saveAdapterKilledAtEachStep() throws {
        let binary = try #require(NotebookFixtures.binary), dir = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        func save(r: Int) -> String {
            "m = load_model \"\(dir.path)/m1\"\ncfg = lora_config r=\(r) lora_alpha=\(2 * r)\napply_lora m cfg\nsave_adapter m \"\(dir.path)/out/adapter\""
        }
        let steps = try Self.killAtEachStep(binary, in: dir, target: dir.appendingPathComponent("out/adapter"), write: save(r: 4), rewrite: save(r: 2))
        // Four files (weights, config, two tokenizer files), each written then renamed; staged; exchanged.
        #expect(steps.count == 10, "\(steps)")
        #expect(steps.first == "adapter_model.safetensors written to its temporary name", "\(steps)")
        #expect(steps.last?.hasPrefix("adapter exchanged with the old folder") == true, "\(steps)")
    }

    @Test(.enabled(if: NotebookFixtures.binary != nil, "the medrepl binary is not built next to the tests"))
    func exportModelKilledAtEachStep() throws {
        let binary = try #require(NotebookFixtures.binary), dir = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        func export(_ model: String) -> String { "m = load_model \"\(dir.path)/\(model)\"\nexport_model m \"\(dir.path)/merged\"" }
        let steps = try Self.killAtEachStep(binary, in: dir, target: dir.appendingPathComponent("merged"), write: export("m2"), rewrite: export("m1"))
        #expect(steps.count == 10 && steps.first == "model.safetensors written to its temporary name", "\(steps)")
    }

    /// A trainer killed while writing a checkpoint: every checkpoint-N a reader finds is whole, and the next
    /// run's checkpoints remove what the killed one left.
    @Test(.enabled(if: NotebookFixtures.binary != nil, "the medrepl binary is not built next to the tests"))
    func checkpointKilledAtEachStep() throws {
        let binary = try #require(NotebookFixtures.binary), dir = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("m1/config.json"))) as? [String: Any])
        config["vocab_size"] = 600
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("random.json"))
        let out = dir.appendingPathComponent("run")
        let train = """
            t = load_tokenizer "\(dir.path)/m1"
            m = load_model "\(dir.path)/random.json" init=random seed=3 tokenizer=t
            data = load_dataset "\(Repository.root.path)/data/medqa_small.json"
            part = select data 0 4
            texts = format_prompts part template="\(TrainingVerbsTests.chatml)"
            cfg = lora_config r=4 lora_alpha=8 lora_dropout=0
            apply_lora m cfg
            tokens = tokenize_dataset texts t max_length=64
            args = training_args output_dir="\(out.path)" max_steps=2 save_steps=1 logging_steps=1 gradient_accumulation_steps=2 warmup_steps=0 learning_rate=0.01
            trainer = make_trainer m args tokens
            train trainer progress=false curve=false
            """
        let files = ["adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors", "rng_state.json", "scheduler.json",
                     "trainer_state.json", "training_args.json", "training_run.json"]
        func checkpointsAreWhole(_ when: String) {
            for name in Self.entries(out) where name.hasPrefix("checkpoint-") {
                let folder = out.appendingPathComponent(name)
                #expect(Self.entries(folder) == files, "\(when): \(name) holds \(Self.entries(folder))")
                let state = (try? JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("trainer_state.json")))) as? [String: Any]
                #expect(state?["global_step"] as? Int == Int(name.dropFirst("checkpoint-".count)), "\(when): \(name)")
            }
        }
        #expect(try Self.medrepl(binary, train, in: dir).status == 0)
        try "mine".write(to: out.appendingPathComponent(".something.tmp"), atomically: false, encoding: .utf8)
        // checkpoint-1: seven files written and renamed, the folder staged and exchanged for the old one.
        for n in 1...16 {
            let killed = try Self.medrepl(binary, train, in: dir, stopAfter: n)
            #expect(killed.status == 128 + SIGKILL, "step \(n): \(killed)")
            checkpointsAreWhole("killed at step \(n)")
            #expect(try Self.medrepl(binary, train, in: dir).status == 0)
            #expect(Self.entries(out) == [".something.tmp", "checkpoint-1", "checkpoint-2"], "step \(n): \(Self.entries(out))")
            checkpointsAreWhole("after step \(n)'s rerun")
        }
    }
}
