import Foundation
import Language
import NotebookFormat
import Testing

// `save` keeps the replay promise (issue 14): what a session saves replays with `run --check`, with
// timings recorded as patterns, commands Ctrl-C stopped recorded to stop at the same point, scripts
// recorded like the prompt, and `--update` keeping the recorded parameters and patterns.
@Suite struct SaveReplayTests {
    static func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-save-\(UUID().uuidString)-\(name)")
    }

    static func check(_ doc: NotebookDocument, in session: Session) throws -> (NotebookRunReport, String) {
        var options = NotebookRunOptions(); options.check = true
        var log = ""
        let report = try NotebookRunner(document: doc, name: "saved.mednb", session: session, options: options,
                                        log: { log += $0 }).run()
        return (report, log)
    }

    // MARK: volatile figures

    // MARK: save and replay

    @Test func aSessionWithAStoppedTrainAResumedTrainAndAStoppedAskReplaysWithCheck() throws {
        let (session, output) = try TrainingVerbsTests.tinySession()
        let dir = Self.scratch("run"), saved = Self.scratch("saved.mednb")
        defer { try? FileManager.default.removeItem(at: dir); try? FileManager.default.removeItem(at: saved) }
        let setup = """
            data = load_dataset "\(TrainingVerbsTests.medqa)"
            part = select data 0 4
            texts = format_prompts part template="\(TrainingVerbsTests.chatml)"
            cfg = lora_config r=4 lora_alpha=8 lora_dropout=0
            apply_lora model cfg
            tokens = tokenize_dataset texts tok mode=notebook max_length=128
            args = training_args output_dir="\(dir.path)" max_steps=6 logging_steps=1 gradient_accumulation_steps=2 warmup_steps=0 learning_rate=0.01 save_steps=0
            trainer = make_trainer model args tokens
            """
        #expect(session.runRecorded(setup, file: "[1]") == nil)
        let trainer = try #require(TrainingVerbsTests.trainer(session))
        // Ctrl-C during step 2, then `train` again continues to the end.
        trainer.afterStep = { step in if step == 2 { session.interrupt() } }
        #expect(session.runRecorded("train trainer progress=false", file: "[2]") is CancelledError)
        trainer.afterStep = nil
        #expect(session.runRecorded("train trainer progress=false curve=false", file: "[3]") == nil)
        // Ctrl-C while the reply streams: the reply keeps its first pieces.
        let stream = session.output.stream
        var pieces = 0, armed = true
        session.output.stream = { text in
            stream?(text)
            if armed { pieces += 1; if pieces == 3 { session.interrupt(); armed = false } }
        }
        #expect(session.runRecorded(#"ask model "What causes anemia?" max_new_tokens=60 template=chatml"#, file: "[4]") == nil)
        session.output.stream = stream
        #expect(output().contains("(stopped)"))
        #expect(session.runRecorded("save \"\(saved.path)\"", file: "[5]") == nil)

        let doc = try NotebookDocument.load(path: saved.path)
        let commands = doc.cells.flatMap(\.entries).map(\.command)
        #expect(commands.contains("train trainer progress=false until_step=2"), "\(commands)")
        #expect(commands.contains("train trainer progress=false curve=false"))
        let ask = try #require(commands.first { $0.hasPrefix("ask") })
        #expect(ask.hasPrefix(#"ask model "What causes anemia?" max_new_tokens="#) && !ask.contains("=60 ") && ask.hasSuffix(" template=chatml"), "\(ask)")
        let recorded = doc.cells.flatMap(\.entries).flatMap(\.output)
        #expect(!recorded.contains("(stopped)") && !recorded.contains("interrupted"))
        #expect(recorded.contains { $0.hasPrefix(#"\{'train_runtime': [\d.,]+,"#) })
        #expect(!doc.cells.contains { $0.tags.contains(NotebookRunner.interruptedTag) })

        // A fresh session with the same model replays it: every cell the same.
        let (fresh, _) = try TrainingVerbsTests.tinySession()
        let (report, log) = try Self.check(doc, in: fresh)
        #expect(report.diffs.isEmpty && report.failedCell == nil, "\(log)")
        #expect(report.cellsRun == doc.cells.count)
    }

    @Test func aCommandStoppedWhereNoKeywordReplaysItIsMarkedAndNotCompared() throws {
        let (session, _) = NotebookFixtures.session()
        let saved = Self.scratch("sleep.mednb")
        defer { try? FileManager.default.removeItem(at: saved) }
        session.interrupt()
        #expect(session.runRecorded("x = 1; sleep 1", file: "[1]") is CancelledError)
        #expect(session.runRecorded("print x; save \"\(saved.path)\"", file: "[2]") == nil)
        let doc = try NotebookDocument.load(path: saved.path)
        #expect(doc.cells.map(\.tags) == [[], [NotebookRunner.interruptedTag], []])
        let (report, log) = try Self.check(doc, in: NotebookFixtures.session().0)
        #expect(report.exitStatus == 0 && report.notCompared == ["c2"], "\(log)")
        #expect(log.contains("1 not compared (interrupted when recorded: c2)"))
    }

    @Test func savingBeforeAnythingRanSaysWhy() throws {
        let (session, _) = NotebookFixtures.session()
        let error = session.runRecorded("save \"\(Self.scratch("none.mednb").path)\"", file: "[1]")
        #expect("\(error.map { "\($0)" } ?? "")".contains("nothing to save yet"))
    }

    /// `medrepl -c` and standard input record like the prompt: `save` writes what ran before it.
    @Test(.enabled(if: NotebookFixtures.binary != nil, "the medrepl binary is not built next to the tests"))
    func scriptsRecordWhatRanBeforeSave() throws {
        let binary = try #require(NotebookFixtures.binary)
        for viaStandardInput in [false, true] {
            let saved = Self.scratch("script.mednb")
            defer { try? FileManager.default.removeItem(at: saved) }
            let script = #"x = 3; print "took 1.25 s at 52 tok/s"; print x; save "\#(saved.path)""#
            let result = viaStandardInput
                ? try NotebookFixtures.run(binary, [], stdin: script + "\n", timeout: 60)
                : try NotebookFixtures.run(binary, ["-c", script], timeout: 60)
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("saved 3 cells to"), "\(result.out)")
            let replay = try NotebookFixtures.run(binary, ["run", saved.path, "--check"], timeout: 60)
            #expect(replay.status == 0 && replay.out.contains("3 cells checked, 0 differ - ok"), "\(replay.out)\(replay.err)")
        }
    }

    // MARK: --update

    @Test func updateWithAParameterKeepsTheOtherRecordedParametersAndPatterns() throws {
        let text = """
            %% mednb 1
            %% medrepl 0.1.0
            %% params rows=2 label="b"

            %% cell params [parameters]
              $ rows = 200
              $ label = "a"

            %% cell show
              $ print rows
              2
              $ print label
              b
              $ print "took 1.5 s"
              took \\d+\\.\\d+ s (re)
            """
        let path = Self.scratch("update.mednb")
        defer { try? FileManager.default.removeItem(at: path) }
        let doc = try NotebookDocument.parse(text, file: path.path)
        var options = NotebookRunOptions(); options.update = true
        options.parameters = [("label", #""c""#)]
        let report = try NotebookRunner(document: doc, name: "update.mednb", session: NotebookFixtures.session().0,
                                        options: options, log: { _ in }).run()
        #expect(report.updated[header: "params"] == #"rows=2 label="c""#)
        let outputs = report.updated.cells[1].entries.map(\.output)
        #expect(outputs == [["2"], ["c"], [#"took \d+\.\d+ s (re)"#]])
    }
}
