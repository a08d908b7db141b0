import Foundation
import NotebookFormat
import TestSupport
import Testing

/// The notebooks of Tests/NotebookTests/Fixtures (the notebook tests replay them too).
func fixture(_ name: String) -> URL { Repository.url("Tests/NotebookTests/Fixtures").appendingPathComponent(name) }

@Suite struct FormatTests {
    static let fixtureNames = ["basics.mednb", "stops-on-error.mednb"]

    @Test(arguments: fixtureNames) func readingAndWritingGivesTheSameBytes(name: String) throws {
        let text = try String(contentsOf: fixture(name), encoding: .utf8)
        let doc = try NotebookDocument.parse(text, file: name)
        #expect(doc.serialized() == text)
        #expect(try NotebookDocument.parse(doc.serialized()) == doc)
    }

    @Test func structureOfTheBasicsNotebook() throws {
        let doc = try NotebookDocument.load(path: fixture("basics.mednb").path)
        #expect(doc[header: "medrepl"] == "0.1.0")
        #expect(doc[header: "seed"] == "7")
        #expect(doc.cells.map(\.id) == ["intro", "settings", "values", "about-checks", "checks", "patterns", "expected-error", "skipped"])
        #expect(doc.cells[0].kind == .prose && doc.cells[0].text.hasPrefix("# A small notebook\n\nProse"))
        #expect(doc.parametersCell?.id == "settings")
        let values = try #require(doc.cell(id: "values"))
        #expect(values.entries[2].command == "xs = [1, 2.5,\n      \"three\"]")
        #expect(values.entries[2].output.isEmpty)
        #expect(values.entries[3].output == ["[1, 2.5, \"three\"]"])
        #expect(values.line == 15 && values.entries[0].line == 16)
        #expect(doc.cell(id: "expected-error")?.tags == ["raises"])
    }

    @Test func emptyOutputLinesAndBlankLinesInOutput() throws {
        let text = "%% mednb 1\n%% medrepl 0.1.0\n\n%% cell a\n  $ print \"x\\n\\ny\"\n  x\n  \n  y\n"
        let doc = try NotebookDocument.parse(text)
        #expect(doc.cells[0].entries[0].output == ["x", "", "y"])
        #expect(doc.serialized() == text)
        // An editor that strips trailing spaces leaves an empty line; it still reads as output.
        let stripped = try NotebookDocument.parse(text.replacingOccurrences(of: "  \n", with: "\n"))
        #expect(stripped == doc)
    }

    @Test func builtInMemoryAndWrittenAtomically() throws {
        var doc = NotebookDocument()
        doc[header: "model"] = "m.gguf"
        doc.cells = [Cell(kind: .prose, id: "p", text: "Hello"),
                     Cell(kind: .command, id: "c", tags: ["skip"], entries: [Entry(command: "a\nb", output: ["1"])])]
        let expected = "%% mednb 1\n%% medrepl 0.1.0\n%% model m.gguf\n\n%% md p\nHello\n\n%% cell c [skip]\n  $ a\n  > b\n  1\n"
        #expect(doc.serialized() == expected)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mednb-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.mednb").path
        try doc.write(to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.mednb"])   // no temp file left
    }
}

@Suite struct OutputMatchTests {
    @Test func patterns() {
        #expect(OutputMatch.lineMatches("took \\d+\\.\\d s (re)", "took 12.5 s"))
        #expect(!OutputMatch.lineMatches("took \\d+ s (re)", "took 12.5 s"))
        #expect(OutputMatch.lineMatches("saved to /tmp/* (glob)", "saved to /tmp/run-1/adapter"))
        #expect(OutputMatch.lineMatches("a?c (glob)", "abc"))
        #expect(!OutputMatch.lineMatches("a\\?c (glob)", "abc"))
        #expect(OutputMatch.matches(expected: ["start", "...", "end"], actual: ["start", "1", "2", "end"]))
        #expect(OutputMatch.matches(expected: ["start", "...", "end"], actual: ["start", "end"]))
        #expect(!OutputMatch.matches(expected: ["start", "...", "end"], actual: ["start", "1"]))
        #expect(OutputMatch.matches(expected: ["..."], actual: []))
    }

    @Test func unifiedDiffHasHunksWithFileLines() {
        let lines = OutputMatch.diff(expected: ["a", "b", "c", "d", "e", "f", "g", "h", "i"],
                                     actual: ["a", "b", "c", "d", "E", "f", "g", "h", "i"])
        let diff = OutputMatch.unifiedDiff(lines, fromName: "old", toName: "new", firstLine: 10)
        #expect(diff == "--- old\n+++ new\n@@ -11,7 +11,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n")
        #expect(OutputMatch.unifiedDiff(OutputMatch.diff(expected: ["x"], actual: ["x"]), fromName: "a", toName: "b") == "")
    }
}

@Suite struct MarkdownExportTests {
    @Test func proseCommandsAndOutputs() throws {
        let doc = try NotebookDocument.parse("%% mednb 1\n%% medrepl 0.1.0\n%% seed 3\n\n%% md a\n# Title\n\n%% cell b [raises]\n  $ print \"```\"\n  ```\n")
        #expect(MarkdownExport.render(doc, title: "t.mednb") == """
            <!-- t.mednb, exported by medrepl 0.1.0; edit the .mednb, not this file -->

            > Recorded with medrepl 0.1.0, seed 3.

            # Title

            *Cell `b`: expected to fail.*

            ````medrepl
            print "```"
            ````

            ````text
            ```
            ````

            """)
    }
}

@Suite struct MarkdownChartTests {
    /// A chart a cell wrote (`wrote PATH.svg: ...`) is shown under the cell, linked as the caller says.
    @Test func chartsACellWroteAreShownAsImages() throws {
        let text = """
            %% mednb 1

            %% cell train
              $ loss_curve trainer
              training loss (2 steps)
              wrote outputs/run/loss_curve.svg: the training loss and the learning rate by step
              $ export markdown to=notes.md
              wrote notes.md
            """
        let doc = try NotebookDocument.parse(text, file: "t.mednb")
        let md = MarkdownExport.render(doc, title: "t.mednb") { "../" + $0 }
        #expect(md.contains("```\n\n![loss_curve.svg](../outputs/run/loss_curve.svg)"))
        #expect(!md.contains("](notes.md)") && !md.contains("](../notes.md)"))
    }
}

@Suite struct HTMLExportTests {
    @Test func patternsReadAsTheirFixedParts() {
        #expect(OutputMatch.readable(#"  10 \| 2\.73\d* \| 1\.70\d* (re)"#) == "  10 | 2.73… | 1.70…")
        #expect(OutputMatch.readable(#"\{'train_runtime': [\d.,]+, 'epoch': 1\.0\} (re)"#) == "{'train_runtime': …, 'epoch': 1.0}")
        #expect(OutputMatch.readable("tokenized 4 rows: * tokens (glob)") == "tokenized 4 rows: … tokens")
        #expect(OutputMatch.readable("plain | line (x)") == "plain | line (x)")
    }

    /// One page: prose rendered, commands and readable outputs escaped, a chart a cell wrote drawn inline.
    @Test func aPageWithProseOutputsAndChartsInline() throws {
        let text = """
            %% mednb 1
            %% model smollm2

            %% md intro
            # Title <1>

            Some `code` and **bold** and a [link](https://example.org).

            - one
            - two

            | a | b |
            |---|---|
            | 1 | 2 |

            %% cell train
              $ x = 1
              $ loss_curve trainer
              loss 2\\.5\\d* (re)
              wrote outputs/run/loss_curve.svg: the training loss and the learning rate by step
              $ loss_curve gone
              wrote outputs/gone.svg: the training loss and the learning rate by step
            """
        let doc = try NotebookDocument.parse(text, file: "t.mednb")
        let svg = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n<svg xmlns=\"http://www.w3.org/2000/svg\"><polyline points=\"0,0 1,1\"/></svg>\n"
        let html = HTMLExport.render(doc, title: "t.mednb") { $0 == "outputs/run/loss_curve.svg" ? svg : nil }
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<title>t.mednb</title>"))
        #expect(html.contains("<h1>Title &lt;1&gt;</h1>"))
        #expect(html.contains("Some <code>code</code> and <strong>bold</strong> and a <a href=\"https://example.org\">link</a>."))
        #expect(html.contains("<ul><li>one</li><li>two</li></ul>"))
        #expect(html.contains("<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"))
        #expect(html.contains("<pre class=\"command\">$ x = 1\n$ loss_curve trainer</pre>"))
        #expect(html.contains("loss 2.5…"))
        #expect(html.contains("<figure><svg xmlns=\"http://www.w3.org/2000/svg\"><polyline") && !html.contains("<?xml"))
        #expect(html.contains("the chart outputs/gone.svg is not there any more"))
        #expect(!html.contains("<script"))
    }
}
