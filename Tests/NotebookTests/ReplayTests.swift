import Foundation
import Language
import Notebook
import NotebookFormat
import Testing

/// Runs the committed notebooks the way `medrepl run NOTEBOOK --check` does.
@Suite struct ReplayTests {
    func run(_ doc: NotebookDocument, _ options: NotebookRunOptions, name: String = "nb.mednb") throws -> (NotebookRunReport, String, Session) {
        let (session, _) = NotebookFixtures.session()
        var log = ""
        let report = try NotebookRunner(document: doc, name: name, session: session, options: options, log: { log += $0 }).run()
        return (report, log, session)
    }

    func fixture(_ name: String) throws -> NotebookDocument {
        try NotebookDocument.load(path: NotebookFixtures.fixture(name).path)
    }

    var check: NotebookRunOptions { var o = NotebookRunOptions(); o.check = true; return o }

    @Test func basicsReplaysCleanly() throws {
        let (report, log, session) = try run(fixture("basics.mednb"), check)
        #expect(report.exitStatus == 0, "\(log)")
        #expect(report.cellsRun == 5)
        #expect(report.diffs.isEmpty)
        #expect(log.hasSuffix("nb.mednb: 5 cells checked, 0 differ - ok\n"))
        #expect(session.value(named: "rows") == .int(200))
        #expect(report.updated == (try fixture("basics.mednb")))   // patterns kept, nothing rewritten
    }

    @Test func aChangedOutputGivesADiffAndStatusOne() throws {
        var doc = try fixture("basics.mednb")
        let i = try #require(doc.index(ofCell: "values"))
        doc.cells[i].entries[1].output = ["rows: 201 name: base"]
        let (report, log, _) = try run(doc, check)
        #expect(report.exitStatus == 1)
        #expect(report.diffs.map(\.cell) == ["values"])
        #expect(log.contains("""
            --- nb.mednb cell values (recorded)
            +++ nb.mednb cell values (this run)
            @@ -16,6 +16,6 @@
               $ seed 7
               $ print "rows:" rows "name:" name
            -  rows: 201 name: base
            +  rows: 200 name: base
            """))
        // --update takes the new output, and only where it differs.
        var update = NotebookRunOptions(); update.update = true
        let (updated, _, _) = try run(doc, update)
        #expect(updated.updated == (try fixture("basics.mednb")))
    }

    @Test func parametersAreOverriddenAndRecorded() throws {
        var options = NotebookRunOptions(); options.update = true
        options.parameters = [("rows", "5"), ("name", "\"tuned\"")]
        let (report, _, session) = try run(fixture("basics.mednb"), options)
        #expect(session.value(named: "rows") == .int(5))
        #expect(session.value(named: "name") == .string("tuned"))
        #expect(report.updated[header: "params"] == "rows=5 name=\"tuned\"")
        let values = try #require(report.updated.cell(id: "values"))
        #expect(values.entries[1].output == ["rows: 5 name: tuned"])
        // The parameters cell keeps its defaults; --check replays with the recorded overrides.
        #expect(report.updated.cell(id: "settings") == (try fixture("basics.mednb")).cell(id: "settings"))
        let (replayed, log, _) = try run(report.updated, check)
        #expect(replayed.exitStatus == 0, "\(log)")
    }

    @Test func unknownParameterAndCellAreErrors() throws {
        var options = NotebookRunOptions(); options.parameters = [("rowz", "1")]
        #expect(throws: NotebookRunError.self) { try run(fixture("basics.mednb"), options) }
        do { _ = try run(fixture("basics.mednb"), options) } catch {
            #expect("\(error)" == "nb.mednb: -p rowz: the parameters cell 'settings' sets no 'rowz'; did you mean 'rows'?")
        }
        var cellOptions = NotebookRunOptions(); cellOptions.onlyCell = "valuez"
        do { _ = try run(fixture("basics.mednb"), cellOptions); Issue.record("no error") } catch {
            #expect("\(error)" == "nb.mednb: no cell 'valuez'; did you mean 'values'?")
        }
    }

    @Test func oneCellOrFromACellRunsAfterTheParameters() throws {
        var options = check; options.onlyCell = "checks"
        let (report, log, _) = try run(fixture("basics.mednb"), options)
        #expect(report.exitStatus == 0, "\(log)")
        #expect(report.cellsRun == 2)   // settings, then checks
        options.onlyCell = nil; options.fromCell = "patterns"
        let (from, _, _) = try run(fixture("basics.mednb"), options)
        #expect(from.cellsRun == 3)     // settings, patterns, expected-error
    }

    @Test func aFailingCellStopsTheRunWithItsErrorRecorded() throws {
        let (report, log, session) = try run(fixture("stops-on-error.mednb"), check)
        #expect(report.failedCell == "broken")
        #expect(report.diffs.isEmpty, "\(log)")   // the recorded error is what happened
        #expect(report.exitStatus == 1)
        #expect(log.contains("nb.mednb:12: cell 'broken' failed:"))
        #expect(session.value(named: "n") == .int(1))
        #expect(report.cellsRun == 2)
    }

    @Test func aRaisesCellThatSucceedsIsReported() throws {
        let doc = try NotebookDocument.parse("%% mednb 1\n%% medrepl 0.1.0\n\n%% cell a [raises]\n  $ n = 1\n")
        let (report, log, _) = try run(doc, check)
        #expect(report.failedCell == "a")
        #expect(log.contains("cell 'a' is tagged [raises] but ran without an error"))
    }

    @Test func aSavedSessionReplays() throws {
        let (session, _) = NotebookFixtures.session()
        for command in ["x = 2", "print x", "bad verb", "check x == 2", "xs = [1,\n  2]"] {
            let (output, error) = session.runCaptured(command, file: "[t]")
            session.transcript.append(TranscriptEntry(command: command, output: output, failed: error != nil))
        }
        let doc = VerbGroup.transcriptNotebook(session)
        #expect(doc.serialized() == """
            %% mednb 1
            %% medrepl 0.1.0

            %% cell c1
              $ x = 2

            %% cell c2
              $ print x
              2

            %% cell c3
              $ check x == 2
              ok: x == 2

            %% cell c4
              $ xs = [1,
              >   2]

            """)
        let (report, log, _) = try run(try NotebookDocument.parse(doc.serialized()), check)
        #expect(report.exitStatus == 0, "\(log)")
    }

    @Test func saveWritesTheTranscriptAndWillNotOverwrite() throws {
        let (session, output) = NotebookFixtures.session()
        session.transcript = [TranscriptEntry(command: "print 5", output: "5\n", failed: false)]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-save-\(getpid()).mednb").path
        defer { unlink(path) }
        try session.run("save \(path)")
        #expect(output() == "saved 1 cell to \(path)\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "%% mednb 1\n%% medrepl 0.1.0\n\n%% cell c1\n  $ print 5\n  5\n")
        #expect(throws: LanguageError.self) { try session.run("save \(path)") }
        try session.run("save \(path) force=true")
    }

    @Test func shellVerbsOpenCellsRuncell() throws {
        let (session, output) = NotebookFixtures.session()
        try session.run("open \(NotebookFixtures.fixture("basics.mednb").path)\nruncell settings\nruncell\nprint xs.2")
        #expect(output().hasSuffix("%% cell settings\n  $ rows = 200\n  $ name = \"base\"\n%% cell values\n  $ seed 7\n  $ print \"rows:\" rows \"name:\" name\nrows: 200 name: base\n  $ xs = [1, 2.5,\n  >       \"three\"]\n  $ xs\n[1, 2.5, \"three\"]\n  $ xs.1\n2.5\nthree\n"))
        #expect(throws: LanguageError.self) { try session.run("runcell nope") }
    }

    @Test func ctrlCStopsTheRunAndLeavesTheNotebookAlone() throws {
        let doc = try NotebookDocument.parse("%% mednb 1\n%% medrepl 0.1.0\n\n%% cell a\n  $ sleep 30\n\n%% cell b\n  $ print 1\n  1\n")
        let (session, _) = NotebookFixtures.session()
        let signaller = Thread { usleep(100_000); session.interrupt() }
        signaller.start()
        var options = NotebookRunOptions(); options.update = true
        var log = ""
        let report = try NotebookRunner(document: doc, name: "nb.mednb", session: session, options: options, log: { log += $0 }).run()
        #expect(report.interrupted && report.exitStatus == 130)
        #expect(report.cellsRun == 1)
        #expect(log.hasSuffix("nb.mednb: interrupted in cell 'a'; the notebook was not changed\n"))
    }

    @Test func paramsCellsAndMarkdownExportVerbs() throws {
        let (session, output) = NotebookFixtures.session()
        let path = NotebookFixtures.fixture("basics.mednb").path
        try session.run("params \(path)\nopen \(path)\ncells")
        #expect(output().hasPrefix("""
            parameters cell 'settings'; override with -p NAME=VALUE
              rows = 200
              name = "base"
            opened \(path): 8 cells, 6 with commands; `cells` lists them, `runcell` runs the next
            > md   intro           # A small notebook
              cell settings        $ rows = 200  [parameters]
              cell values          $ seed 7
              md   about-checks    Checks write `ok` or `FAIL` and go on.
              cell checks          $ check rows == 200
              cell patterns        $ device seconds=0
              cell expected-error  $ assert rows > 1000  [raises]
              cell skipped         $ sleep 100  [skip]

            """))
        let markdownPath = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-export-\(getpid()).md").path
        defer { unlink(markdownPath) }
        try session.run("export markdown to=\(markdownPath)")
        let markdown = try String(contentsOfFile: markdownPath, encoding: .utf8)
        #expect(markdown.contains("# A small notebook\n\nProse cells are Markdown."))
        #expect(markdown.contains("```medrepl\nrows = 200\nname = \"base\"\n```"))
        #expect(markdown.contains("```text\nrows: 200 name: base\n[1, 2.5, \"three\"]\n2.5\n```"))
    }
}
