import Foundation
import Language
import NotebookFormat
import Support

extension VerbGroup {
    /// Opening, running, saving and exporting notebooks from the shell.
    public static var notebooks: VerbGroup {
        VerbGroup("Notebooks", intro: "Open a `.mednb` notebook into the session, run its cells one by one, save what you typed as a new notebook.", verbs: [
            Verb("open", summary: "Open a notebook: its cells become available to `cells` and `runcell`.",
                 positional: [Parameter("path", .path, help: "the .mednb file", completion: .path(extensions: ["mednb"]))],
                 examples: ["open notebooks/finetune.mednb"]) { inv, session in
                let path = try inv.string("path")
                let doc = try NotebookDocument.load(path: session.resolvePath(path).path)
                session[state: OpenNotebook.self] = OpenNotebook(document: doc, path: path)
                let commandCells = doc.cells.filter { $0.kind == .command }.count
                session.writeLine("opened \(path): \(doc.cells.count) cells, \(commandCells) with commands; `cells` lists them, `runcell` runs the next")
                return .none
            },
            Verb("cells", summary: "List the cells of the open notebook: id, kind, tags and first line.",
                 examples: ["cells"]) { inv, session in
                let open = try openNotebook(inv, session)
                let doc = open.document
                let width = doc.cells.map(\.id.count).max() ?? 0
                for (i, cell) in doc.cells.enumerated() {
                    let marker = i == open.cursor ? ">" : " "
                    let first: String
                    switch cell.kind {
                    case .prose: first = cell.text.split(separator: "\n").first.map(String.init) ?? ""
                    case .command: first = cell.entries.first.map { "$ " + ($0.command.split(separator: "\n").first.map(String.init) ?? "") } ?? ""
                    }
                    let tags = cell.bracket.isEmpty ? "" : " " + cell.bracket
                    let kind = cell.kind.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)
                    session.writeLine("\(marker) \(kind) \(cell.id.padding(toLength: width, withPad: " ", startingAt: 0))  \(first.prefix(60))\(tags)")
                }
                return .none
            },
            Verb("runcell", summary: "Run a cell of the open notebook (the next command cell when no id is given).",
                 details: "Its commands run in this session, as if typed; a cell tagged `skip` runs only when named.",
                 positional: [Parameter("id", .string, optional: true, help: "the cell id")],
                 examples: ["runcell load-model", "runcell"]) { inv, session in
                let open = try openNotebook(inv, session)
                let doc = open.document
                let index: Int
                if let id = try inv.optionalString("id") {
                    guard let i = doc.index(ofCell: id) else {
                        throw inv.error("the notebook has no cell '\(id)'", at: "id", hint: Suggest.hint(for: id, in: doc.cells.map(\.id)))
                    }
                    index = i
                } else {
                    guard let i = doc.cells.indices.first(where: { $0 >= open.cursor && doc.cells[$0].kind == .command
                                                                   && !doc.cells[$0].tags.contains("skip") }) else {
                        throw inv.error("no command cells are left to run; `runcell ID` runs any cell")
                    }
                    index = i
                }
                let cell = doc.cells[index]
                guard cell.kind == .command else { throw inv.error("'\(cell.id)' is a prose cell") }
                session[state: OpenNotebook.self]?.cursor = index + 1
                session.writeLine("%% cell \(cell.id)")
                var commandLine = 1
                for entry in cell.entries {
                    session.writeLine("  $ " + entry.command.replacingOccurrences(of: "\n", with: "\n  > "))
                    session.output.beginCapture()
                    defer {
                        // Say when the output is not what the notebook recorded (on stderr: not part of the output).
                        let printed = Entry.outputLines(session.output.endCapture())
                        if !OutputMatch.matches(expected: entry.output, actual: printed) {
                            fputs("(cell \(cell.id): this output differs from the recorded one)\n", stderr)
                        }
                    }
                    try session.run(entry.command, file: "[\(cell.id)]", firstLine: commandLine)
                    commandLine += entry.command.split(separator: "\n", omittingEmptySubsequences: false).count
                }
                return .none
            },
            Verb("save", summary: "Save the commands typed in this session, with their outputs, as a new notebook.",
                 details: "It records the commands run before it however they came (the prompt, `-c`, standard input). "
                    + "Commands that failed, and notebook commands (`open`, `cells`, `runcell`, `save`, `export`), are left out; "
                    + "times, rates, measured figures and temporary paths are recorded as patterns; a command Ctrl-C stopped is "
                    + "recorded to stop at the same point (`train … until_step=N`, `ask … max_new_tokens=N`) or, where it cannot be, "
                    + "tagged [interrupted] so that a replay does not compare its output. "
                    + "So the saved notebook replays with `medrepl run FILE --check`.",
                 positional: [Parameter("path", .path, help: "the .mednb file to write", completion: .path(extensions: ["mednb"]))],
                 keywords: [Parameter("force", .bool, default: .bool(false), help: "replace an existing file")],
                 examples: ["save my-session.mednb"]) { inv, session in
                let path = try inv.string("path")
                let url = session.resolvePath(path)
                if FileManager.default.fileExists(atPath: url.path), !(try inv.bool("force")) {
                    throw inv.error("\(path) exists", at: "path", hint: "add force=true to replace it")
                }
                let doc = transcriptNotebook(session)
                guard !doc.cells.isEmpty else {
                    throw inv.error("nothing to save yet: no command has run without an error in this session",
                                    hint: "run some commands first, then save")
                }
                try doc.write(to: url.path)
                session.writeLine("saved \(doc.cells.count) cell\(doc.cells.count == 1 ? "" : "s") to \(path)")
                return .none
            },
            Verb("export", summary: "Export a notebook as Markdown or as one HTML page (prose, commands, outputs and charts).",
                 details: "markdown: prose as written, commands and outputs in code blocks, each SVG chart a cell wrote (loss_curve) "
                    + "linked as an image under its cell. html: one page that opens in any browser with nothing beside it, the "
                    + "prose rendered and the charts drawn inline.",
                 positional: [Parameter("format", .choice(["markdown", "html"]), help: "the output format"),
                              Parameter("notebook", .path, optional: true, help: "the .mednb file (default: the open notebook)",
                                        completion: .path(extensions: ["mednb"]))],
                 keywords: [Parameter("to", .path, optional: true, help: "the file to write (default: show it)")],
                 examples: ["export markdown notebooks/finetune.mednb to=finetune.md", "export html notebooks/finetune.mednb to=finetune.html"]) { inv, session in
                let doc: NotebookDocument
                let title: String
                if let path = try inv.optionalString("notebook") {
                    doc = try NotebookDocument.load(path: session.resolvePath(path).path)
                    title = (path as NSString).lastPathComponent
                } else {
                    let open = try openNotebook(inv, session)
                    doc = open.document
                    title = (open.path as NSString).lastPathComponent
                }
                let to = try inv.optionalString("to")
                let text: String
                if try inv.string("format") == "html" {
                    text = HTMLExport.render(doc, title: title) { chart in
                        try? String(contentsOf: session.resolvePath(chart), encoding: .utf8)
                    }
                } else if let to {
                    // a chart's path as the notebook's cells wrote it (from the working folder), seen from the .md's folder
                    let folder = session.resolvePath(to).deletingLastPathComponent().standardizedFileURL.pathComponents
                    text = MarkdownExport.render(doc, title: title) { chart in
                        let target = session.resolvePath(chart).standardizedFileURL.pathComponents
                        let shared = zip(folder, target).prefix { $0 == $1 }.count
                        return (Array(repeating: "..", count: folder.count - shared) + target.dropFirst(shared)).joined(separator: "/")
                    }
                } else {
                    text = MarkdownExport.render(doc, title: title)
                }
                if let to {
                    try AtomicFile.write(text, to: session.resolvePath(to).path)
                    session.writeLine("wrote \(to)")
                } else {
                    session.write(text)
                }
                return .none
            },
            Verb("params", summary: "Show a notebook's parameters: the names its [parameters] cell sets, and their values here.",
                 positional: [Parameter("notebook", .path, optional: true, help: "the .mednb file (default: the open notebook)",
                                        completion: .path(extensions: ["mednb"]))],
                 examples: ["params notebooks/finetune.mednb"]) { inv, session in
                let doc: NotebookDocument
                if let path = try inv.optionalString("notebook") {
                    doc = try NotebookDocument.load(path: session.resolvePath(path).path)
                } else {
                    doc = try openNotebook(inv, session).document
                }
                guard let cell = doc.parametersCell else {
                    session.writeLine("(the notebook has no cell tagged [parameters])")
                    return .none
                }
                session.writeLine("parameters cell '\(cell.id)'; override with -p NAME=VALUE")
                if let recorded = doc[header: "params"] { session.writeLine("recorded outputs came from: \(recorded)") }
                for entry in cell.entries {
                    let statements = (try? Parser.parse(SourceText(file: "", text: entry.command), verbs: session.registry.verbNames)) ?? []
                    for statement in statements {
                        guard let name = statement.target else { continue }
                        let written = entry.command.split(separator: "\n").first.map(String.init) ?? ""
                        let now = session.value(named: name).map { "   (here: \($0.display))" } ?? ""
                        session.writeLine("  \(written)\(now)")
                    }
                }
                return .none
            },
        ])
    }

    static func openNotebook(_ inv: Invocation, _ session: Session) throws -> OpenNotebook {
        guard let open = session[state: OpenNotebook.self] else { throw inv.error("no notebook is open", hint: "open one: open PATH.mednb") }
        return open
    }

    /// The session's transcript as a notebook: one command cell per successful entry, its volatile figures
    /// recorded as patterns (`VolatileText`). An entry Ctrl-C stopped where no keyword replays it to the
    /// same point is tagged `[interrupted]`: a replay runs it and does not compare its output.
    public static func transcriptNotebook(_ session: Session) -> NotebookDocument {
        let notebookVerbs: Set<String> = ["open", "cells", "runcell", "save", "export", "exit"]
        var doc = NotebookDocument()
        if let model = session.provenance["model"] { doc[header: "model"] = model }
        if let seed = session.provenance["seed"] { doc[header: "seed"] = seed }
        var number = 0
        for entry in session.transcript where !entry.failed {
            let statements = (try? Parser.parse(SourceText(file: "", text: entry.command), verbs: session.registry.verbNames)) ?? []
            if statements.isEmpty || statements.contains(where: { notebookVerbs.contains($0.verb ?? "") }) { continue }
            number += 1
            var cell = Cell(kind: .command, id: "c\(number)",
                            entries: [Entry(command: entry.command, output: VolatileText.record(Entry.outputLines(entry.output)))])
            if !entry.replaysExactly { cell.tags = [NotebookRunner.interruptedTag] }
            doc.cells.append(cell)
        }
        return doc
    }
}

/// The notebook `open` opened in a session (the session's state of this type), for `cells`, `runcell`,
/// `export` and `params`.
struct OpenNotebook {
    var document: NotebookDocument
    /// Its path as given to `open`.
    var path: String
    /// The index of the cell `runcell` with no id runs next.
    var cursor = 0
}
