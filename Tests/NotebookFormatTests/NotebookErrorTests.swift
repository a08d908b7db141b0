import Foundation
import NotebookFormat
import TestSupport
import Testing

/// A notebook that cannot be read is an error naming the file and line, never a crash.
@Suite struct NotebookErrorTests {
    @Test func notebookErrorsNameFileAndLine() {
        func parseError(_ text: String) -> String {
            do { _ = try NotebookDocument.parse(text, file: "bad.mednb"); return "no error" } catch { return "\(error)" }
        }
        #expect(parseError("hello\n") == "bad.mednb:1: not a medrepl notebook: the first line must be '%% mednb 1'")
        #expect(parseError("%% mednb 2\n") == "bad.mednb:1: format version 2 is not supported; this medrepl reads version 1")
        #expect(parseError("%% mednb 1\n\n%% cel a\n") == "bad.mednb:3: unknown cell kind 'cel' (did you mean 'cell'?): a cell is '%% md ID' (prose) or '%% cell ID' (commands)")
        #expect(parseError("%% mednb 1\n\n%% cell a [skp]\n") == "bad.mednb:3: unknown tag 'skp' (did you mean 'skip'?); tags are skip, ignore-output, interrupted, raises, parameters, exercise, hidden, visible")
        #expect(parseError("%% mednb 1\n\n%% cell a [exercise timeout=abc]\n") == "bad.mednb:3: timeout=abc is not a time limit: give a number of seconds, as in [exercise, timeout=60]")
        #expect(parseError("%% mednb 1\n\n%% cell a [exercise, timeout=0]\n") == "bad.mednb:3: timeout=0 is not a time limit: give a number of seconds, as in [exercise, timeout=60]")
        #expect(parseError("%% mednb 1\n\n%% cell a [exercise, timout=5]\n") == "bad.mednb:3: unknown cell option 'timout=' (did you mean 'timeout='?); options are timeout=")
        #expect(parseError("%% mednb 1\n\n%% cell a [timeout=5, timeout=6]\n") == "bad.mednb:3: cell option 'timeout=' is given twice")
        #expect(parseError("%% mednb 1\n\n%% md a [timeout=5]\n") == "bad.mednb:3: prose cells take no tags")
        #expect(parseError("%% mednb 1\n\n%% cell a\n  out\n") == "bad.mednb:4: output before any command: a command line starts with '  $ '")
        #expect(parseError("%% mednb 1\n\n%% cell a\n  $ x = 1\nx\n") == "bad.mednb:5: in a command cell, lines start with '  $ ' (a command), '  > ' (its next line) or two spaces (output)")
        #expect(parseError("%% mednb 1\n\n%% md a\n\n%% cell a\n") == "bad.mednb:5: cell id 'a' is already used on line 3")
        #expect(parseError("%% mednb 1\n\nstray\n") == "bad.mednb:3: text outside a cell: start prose with '%% md ID' and commands with '%% cell ID'")
    }

    @Test func cellOptionsReadWithSpacesOrCommasAndWriteCanonically() throws {
        let doc = try NotebookDocument.parse("%% mednb 1\n\n%% cell a [exercise timeout=60]\n  $ x = 1\n\n%% cell b [timeout=2.5,skip]\n", file: "t.mednb")
        #expect(doc.cells[0].tags == ["exercise"] && doc.cells[0].options == [CellOption("timeout", "60")] && doc.cells[0].timeout == 60)
        #expect(doc.cells[1].tags == ["skip"] && doc.cells[1].timeout == 2.5)
        #expect(doc.serialized() == "%% mednb 1\n\n%% cell a [exercise, timeout=60]\n  $ x = 1\n\n%% cell b [skip, timeout=2.5]\n")
        #expect(try NotebookDocument.parse(doc.serialized()) == doc)
    }

    @Test func randomNotebooksParseOrFailWithALine() {
        let lines = ["%% mednb 1", "%% medrepl 0.1.0", "%% cell a", "%% cell b [skip]", "%% md c", "%% cell d [raises, skp]",
                     "  $ print 1", "  > 2", "  out", "  ", "", "prose", "%%", "%% md", "  $", "# title", "%% seed 1"]
        var rng = SplitMix64(seed: 7)
        var parsed = 0
        for _ in 0..<3000 {
            var text = rng.next(4) == 0 ? "" : "%% mednb 1\n"
            for _ in 0..<rng.next(10) { text += lines[rng.next(lines.count)] + "\n" }
            do {
                let doc = try NotebookDocument.parse(text, file: "r.mednb")
                parsed += 1
                #expect(try NotebookDocument.parse(doc.serialized()) == doc, "\(text)")
            } catch let e as NotebookFormatError {
                #expect(e.description.hasPrefix("r.mednb:\(e.line): "))
                #expect(e.line >= 1)
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        #expect(parsed > 100)
    }
}
