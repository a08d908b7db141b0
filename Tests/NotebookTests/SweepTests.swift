import Foundation
import Language
import Testing

/// `sweep` on the tiny random model (issue 15): every combination runs and is scored, the table is sorted,
/// the budget stops it, Ctrl-C keeps the finished runs, and resume skips them.
@Suite struct SweepTests {
    static func prepared() throws -> (Session, () -> String, URL) {
        let (session, output) = try TrainingVerbsTests.tinySession()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try TrainingVerbsTests.prepare(session, outputDir: dir, extra: "save_steps=0")
        try session.run("validation = select data 4 8")
        return (session, output, dir)
    }

    static let sweep = "best = sweep model tokens validation args=args learning_rate=[0.01, 0.001] r=[2, 4] limit=3 max_new_tokens=2 template=chatml"

    @Test func everyCombinationIsScoredAndTheTableIsSorted() throws {
        let (session, output, dir) = try Self.prepared()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("sweep.jsonl").path
        try session.run(Self.sweep + " output=\"\(file)\" adapters=\"\(dir.path)/runs\"")
        let text = output()
        #expect(text.contains("sweep: 4 runs on 4 training rows, each scored on 3 validation rows; the base model first"), "\(text)")
        for k in 1...4 { #expect(text.contains("run \(k)/4 learning_rate="), "\(text)") }
        let rows = text.split(separator: "\n").filter { $0.range(of: #"^\d+ +\| "#, options: .regularExpression) != nil }
        try #require(rows.count == 4, "\(text)")
        // Sorted by accuracy, then answer loss: the answer-loss column never goes down within equal accuracy here.
        let losses = rows.map { Double($0.split(separator: "|")[9].trimmingCharacters(in: .whitespaces)) ?? .nan }
        let accuracies = rows.map { String($0.split(separator: "|")[8]) }
        for i in 1..<rows.count where accuracies[i] == accuracies[i - 1] { #expect(losses[i] >= losses[i - 1]) }
        #expect(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count == 4)
        for k in 1...4 { #expect(FileManager.default.fileExists(atPath: "\(dir.path)/runs/run-\(k)/adapter_config.json")) }
        // The best settings come back as objects to train with; the model keeps its own adapter.
        guard case .object(let best)? = session.value(named: "best") else { Issue.record("no result"); return }
        #expect(best.field("runs") == .int(4))
        guard case .object(let lora)? = best.field("best_lora"), case .object(let args)? = best.field("best_args") else { Issue.record("no best"); return }
        #expect(lora.typeName == "LoraConfig" && args.typeName == "TrainingArguments")
        try session.run("check model.adapter == true")
    }

    @Test func theBudgetStopsItAndResumeSkipsFinishedRuns() throws {
        let (session, output, dir) = try Self.prepared()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("sweep.jsonl").path
        // Ctrl-C during the second run: the first is kept in the file.
        let stream = session.output.stream
        session.output.stream = { text in stream?(text); if text.hasPrefix("run 1/4") { session.interrupt() } }
        try session.run(Self.sweep + " output=\"\(file)\"")
        session.output.stream = stream
        #expect(output().contains("interrupted: kept the 1 finished run"), "\(output())")
        #expect(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count == 1)
        // resume=true runs only the other three.
        let mark = output().count
        try session.run(Self.sweep + " output=\"\(file)\" resume=true")
        let resumed = String(output().dropFirst(mark))
        #expect(resumed.contains("resuming: 1 of 4 runs are already in"), "\(resumed)")
        #expect(resumed.contains("sweep: 3 runs") && !resumed.contains("run 4/"), "\(resumed)")
        #expect(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count == 4)
        // A budget too small for any run: it says so.
        let mark2 = output().count
        #expect(throws: (any Error).self) { try session.run(Self.sweep + " budget=0") }
        #expect(String(output().dropFirst(mark2)).contains("the budget of 0.0 s would be passed: stopped after 0 of 4 runs"), "\(output())")
    }

    /// Issue 15: the answer format (a list of tokenized sets) and the target modules are axes of the grid too.
    @Test func answerFormatsAndTargetModulesAreAxes() throws {
        let (session, output, dir) = try Self.prepared()
        defer { try? FileManager.default.removeItem(at: dir) }
        try session.run("""
            bare = tokenize_dataset part tok mode=default answer_format=bare max_length=64 template=chatml
            sentences = tokenize_dataset part tok mode=default max_length=64 template=chatml
            best = sweep model [bare, sentences] validation args=args learning_rate=[0.01] target_modules=[["q_proj"], ["q_proj", "v_proj"]] limit=3 max_new_tokens=2 template=chatml
            """)
        let text = output()
        #expect(text.contains("sweep: 4 runs on 4 training rows (bare, sentence), each scored on 3 validation rows"), "\(text)")
        let rows = text.split(separator: "\n").filter { $0.range(of: #"^\d+ +\| "#, options: .regularExpression) != nil }
        try #require(rows.count == 4, "\(text)")
        let cells = rows.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(Set(cells.map { "\($0[6]) \($0[7])" }) == ["bare q", "bare q,v", "sentence q", "sentence q,v"], "\(text)")
        guard case .object(let best)? = session.value(named: "best"), case .object(let lora)? = best.field("best_lora"),
              case .list(let modules)? = lora.field("target_modules") else { Issue.record("no best_lora"); return }
        #expect(modules.map(\.text) == (cells[0][7] == "q" ? ["q_proj"] : ["q_proj", "v_proj"]))
        // A wrong axis value gets an error naming the keyword.
        #expect(throws: (any Error).self) { try session.run("sweep model [bare, 3] validation args=args") }
        #expect(throws: (any Error).self) { try session.run("sweep model bare validation args=args target_modules=[\"q_proj\"]") }
    }

    /// Issue 15: after training on "The answer is X.", compare and answer_loss score the answers written that way
    /// (the loss training lowered), for the base and the tuned model alike, and say so.
    @Test func theAnswerLossScoresAnswersAsTheyWereTrained() throws {
        let (session, output, dir) = try Self.prepared()
        defer { try? FileManager.default.removeItem(at: dir) }
        try session.run("""
            sentences = tokenize_dataset part tok mode=default max_length=64 template=chatml
            trainer = make_trainer model args sentences
            train trainer
            cmp = compare model validation limit=3 max_new_tokens=2 template=chatml
            written = format_prompts validation answer_format=sentence
            direct = answer_loss model written limit=3 template=chatml
            after = cmp.answer_loss_after
            """)
        #expect(output().contains("answers written as trained (\"The answer is X.\")"), "\(output())")
        guard case .double(let after)? = session.value(named: "after"),
              case .double(let direct)? = session.value(named: "direct") else { Issue.record("no losses"); return }
        #expect(abs(after - direct) < 1e-9)   // (validation's answers are bare: without the rewriting they differ)
    }
}
