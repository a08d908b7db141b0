import Foundation
import Language
import Support

extension Session {
    /// Runs commands while recording what they write. An error is written into the output too
    /// (that is what a notebook records for a failing command) and returned.
    ///
    /// ```swift
    /// let (output, error) = session.runCaptured("print 1", file: "<cell>")
    /// ```
    public func runCaptured(_ text: String, file: String, firstLine: Int = 1, columnOffset: Int = 0) -> (output: String, error: Error?) {
        output.beginCapture()
        var failure: Error? = nil
        do {
            try run(text, file: file, firstLine: firstLine, columnOffset: columnOffset)
        } catch {
            failure = error
            let text = error is CancelledError ? "interrupted" : "\(error)"
            write(text.hasSuffix("\n") ? text : text + "\n")
        }
        return (output.endCapture(), failure)
    }
}

/// How `medrepl run NOTEBOOK` runs: which cells, compare or update, parameter overrides.
public struct NotebookRunOptions: Sendable {
    /// Compare each cell's output with the recorded one; report unified diffs.
    public var check = false
    /// Write the new outputs back into the file.
    public var update = false
    /// `-p name=value` overrides, in the order given; values are language literals.
    public var parameters: [(name: String, value: String)] = []
    /// Run only this cell (after the parameters cell).
    public var onlyCell: String?
    /// Run from this cell to the end (after the parameters cell).
    public var fromCell: String?
    public init() {}
}

/// What a notebook run found.
public struct NotebookRunReport {
    public var cellsRun = 0
    /// Unified diffs of cells whose output differs from the recorded one (with `--check`).
    public var diffs: [(cell: String, diff: String)] = []
    /// Cells tagged [interrupted] whose output `--check` did not compare.
    public var notCompared: [String] = []
    /// The cell that failed and stopped the run, if any.
    public var failedCell: String?
    public var interrupted = false
    /// The notebook with this run's outputs, as `--update` writes it.
    public var updated: NotebookDocument
    /// Non-zero when the run failed, was interrupted, or (with `--check`) found differences.
    public var exitStatus: Int32 {
        if interrupted { return 130 }
        return failedCell != nil || !diffs.isEmpty ? 1 : 0
    }
}

/// An error in running a notebook as asked (an unknown cell id or parameter name).
public struct NotebookRunError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a notebook's cells in order in one session.
///
/// ```swift
/// var options = NotebookRunOptions(); options.check = true
/// let report = try NotebookRunner(document: nb, name: "a.mednb", session: session, options: options).run()
/// ```
public struct NotebookRunner {
    public var document: NotebookDocument
    /// The file name errors and diffs show.
    public var name: String
    public var session: Session
    public var options: NotebookRunOptions
    /// Where cell banners and diffs go (standard output by default).
    public var log: (String) -> Void
    /// With `--check`, told the id of each cell as it starts (the command line shows it on standard
    /// error, so a long cell in CI is not silent); nil for none.
    public var progress: ((String) -> Void)?

    public init(document: NotebookDocument, name: String, session: Session, options: NotebookRunOptions,
                log: @escaping (String) -> Void = { ProgressBar.willWrite($0); fputs($0, stdout); fflush(stdout) }) {
        self.document = document; self.name = name; self.session = session; self.options = options; self.log = log
    }

    /// The tag `save` gives a command Ctrl-C stopped where no keyword replays it to the same point: it runs,
    /// and `--check` says it did not compare its output.
    public static let interruptedTag = "interrupted"

    /// Overrides for this run: with `--check` and `--update`, those the outputs were recorded with, then `-p`.
    var overrides: [(name: String, value: String)] {
        var list: [(name: String, value: String)] = []
        if options.check || options.update, let recorded = document[header: "params"] {
            list = NotebookRunner.parseParams(recorded)
        }
        for p in options.parameters {
            list.removeAll { $0.name == p.name }
            list.append(p)
        }
        return list
    }

    /// `rows=20 mode="notebook"` -> [("rows", "20"), ("mode", "\"notebook\"")]
    public static func parseParams(_ text: String) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        var rest = Substring(text)
        while let eq = rest.firstIndex(of: "=") {
            let name = rest[..<eq].trimmingCharacters(in: .whitespaces)
            var valueEnd = rest.index(after: eq)
            var inQuote = false, escaped = false
            while valueEnd < rest.endIndex {
                let c = rest[valueEnd]
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inQuote.toggle() } else if c == " " && !inQuote { break }
                valueEnd = rest.index(after: valueEnd)
            }
            out.append((name, String(rest[rest.index(after: eq)..<valueEnd])))
            rest = rest[valueEnd...].drop { $0 == " " }
        }
        return out
    }

    /// Turns `-p` text into a value: a literal of the language, or else the text itself.
    func parameterValue(_ text: String) -> Value {
        if let statements = try? Parser.parse(SourceText(file: "-p", text: "x = " + text), verbs: []),
           statements.count == 1, let expr = statements[0].expression {
            switch expr.kind {
            case .int, .double, .string, .rawString, .list:
                if let v = try? session.evaluate(expr, as: .any, source: statements[0].source) { return v }
            case .word(let w) where w == "true" || w == "false" || w == "none":
                if let v = try? session.evaluate(expr, as: .any, source: statements[0].source) { return v }
            default: break
            }
        }
        return .string(text)
    }

    public func run() throws -> NotebookRunReport {
        var report = NotebookRunReport(updated: document)
        let parametersIndex = document.cells.firstIndex { $0.tags.contains("parameters") }
        var start = 0, end = document.cells.count
        if let id = options.onlyCell ?? options.fromCell {
            guard let i = document.index(ofCell: id) else {
                throw NotebookRunError("\(name): no cell '\(id)'" + (Suggest.hint(for: id, in: document.cells.map(\.id)).map { "; \($0)" } ?? ""))
            }
            start = i
            if options.onlyCell != nil { end = i + 1 }
        }
        let overrides = overrides
        if !overrides.isEmpty && parametersIndex == nil {
            throw NotebookRunError("\(name): -p needs a cell tagged [parameters], and this notebook has none")
        }
        var order = Array(start..<end)
        if let p = parametersIndex, p < start { order.insert(p, at: 0) }

        for index in order {
            let cell = document.cells[index]
            guard cell.kind == .command else {
                if !options.check { log("\n%% md \(cell.id)\n" + (cell.text.isEmpty ? "" : cell.text + "\n")) }
                continue
            }
            if cell.tags.contains("skip") { continue }
            if !options.check { log("\n%% cell \(cell.id)\(cell.bracket)\n") }
            report.cellsRun += 1
            if options.check { progress?(cell.id) }
            var newEntries: [Entry] = []
            var failure: Error? = nil
            var commandLine = 1
            for entry in cell.entries {
                if !options.check {
                    let lines = entry.command.split(separator: "\n", omittingEmptySubsequences: false)
                    log(lines.enumerated().map { ($0.offset == 0 ? "  $ " : "  > ") + $0.element + "\n" }.joined())
                }
                let savedStream = session.output.stream
                if options.check { session.output.stream = nil } else {
                    session.output.stream = indentingStream(log)
                }
                // Errors name the cell and the line among its commands, so recorded errors do not
                // change when the file is renamed or lines are added above the cell.
                let (text, error) = session.runCaptured(entry.command, file: "[\(cell.id)]", firstLine: commandLine)
                commandLine += entry.command.split(separator: "\n", omittingEmptySubsequences: false).count
                session.output.stream = savedStream
                var newEntry = entry
                newEntry.output = VolatileText.update(recorded: entry.output, actual: Entry.outputLines(text))
                newEntries.append(newEntry)
                if let error { failure = error; break }
                if session.exitRequested != nil { break }
            }
            // Entries after a failure keep their recorded output but did not run.
            let ran = newEntries.count
            let actualEntries = newEntries + cell.entries.dropFirst(ran).map { Entry(command: $0.command, output: [], line: $0.line) }
            report.updated.cells[index].entries = newEntries + cell.entries.dropFirst(ran)
            if index == parametersIndex, failure == nil {
                try applyOverrides(overrides, parametersCell: cell)
            }
            if failure is CancelledError {
                report.interrupted = true
                log("\(name): interrupted in cell '\(cell.id)'\(options.update ? "; the notebook was not changed" : "")\n")
                return report
            }
            let expectsError = cell.tags.contains("raises")
            if options.check && cell.tags.contains(NotebookRunner.interruptedTag) {
                report.notCompared.append(cell.id)
            } else if options.check && !cell.tags.contains("ignore-output") {
                let diff = cellDiff(cell, actualEntries: actualEntries)
                if !diff.isEmpty { report.diffs.append((cell.id, diff)); log(diff) }
            }
            if expectsError && failure == nil {
                report.failedCell = cell.id
                log("\(name):\(cell.line): cell '\(cell.id)' is tagged [raises] but ran without an error\n")
                break
            }
            if let failure, !expectsError {
                report.failedCell = cell.id
                if options.check {
                    log("\(name):\(cell.line): cell '\(cell.id)' failed:\n\(failure)\n")
                }
                break
            }
            if session.exitRequested != nil { break }
        }
        report.updated.header = updatedHeader(overrides: overrides)
        if options.check {
            let verdict = report.diffs.isEmpty && report.failedCell == nil ? "ok" : "FAILED"
            let skipped = report.notCompared.isEmpty ? "" : ", \(report.notCompared.count) not compared (interrupted when recorded: "
                + report.notCompared.joined(separator: ", ") + ")"
            log("\(name): \(report.cellsRun) cell\(report.cellsRun == 1 ? "" : "s") checked, \(report.diffs.count) differ\(skipped)\(report.failedCell.map { ", stopped at '\($0)'" } ?? "") - \(verdict)\n")
        }
        return report
    }

    /// After the parameters cell: each `-p` name must be one the cell set; give it the new value.
    func applyOverrides(_ overrides: [(name: String, value: String)], parametersCell: Cell) throws {
        for (pname, text) in overrides {
            guard session.value(named: pname) != nil else {
                let known = session.names
                throw NotebookRunError("\(name): -p \(pname): the parameters cell '\(parametersCell.id)' sets no '\(pname)'"
                                       + (Suggest.hint(for: pname, in: known).map { "; \($0)" } ?? ""))
            }
            session.set(pname, parameterValue(text))
        }
    }

    /// The header as `--update` writes it: this medrepl's version, the model and seed the engine
    /// reported, and the overrides the outputs came from (the recorded ones, with `-p` over them).
    func updatedHeader(overrides: [(name: String, value: String)]) -> [NotebookDocument.HeaderField] {
        var doc = document
        doc[header: "medrepl"] = MedreplVersion.string
        if let model = session.provenance["model"] { doc[header: "model"] = model }
        if let seed = session.provenance["seed"] { doc[header: "seed"] = seed }
        if options.update {
            doc[header: "params"] = overrides.isEmpty ? nil : overrides.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
        }
        return doc.header
    }

    /// The cell as recorded versus as run, commands included, as a unified diff (empty when equal).
    func cellDiff(_ cell: Cell, actualEntries: [Entry]) -> String {
        var lines: [OutputMatch.DiffLine] = []
        for (recorded, actual) in zip(cell.entries, actualEntries) {
            let commandLines = recorded.command.split(separator: "\n", omittingEmptySubsequences: false)
            for (k, line) in commandLines.enumerated() { lines.append(.same((k == 0 ? "  $ " : "  > ") + line)) }
            if OutputMatch.matches(expected: recorded.output, actual: actual.output) {
                lines += recorded.output.map { .same("  " + $0) }
            } else {
                lines += OutputMatch.diff(expected: recorded.output.map { "  " + $0 }, actual: actual.output.map { "  " + $0 })
            }
        }
        return OutputMatch.unifiedDiff(lines, fromName: "\(name) cell \(cell.id) (recorded)",
                                       toName: "\(name) cell \(cell.id) (this run)", firstLine: cell.line + 1)
    }

    /// Streams output indented by two spaces, the way it will be recorded.
    func indentingStream(_ log: @escaping (String) -> Void) -> (String) -> Void {
        var atLineStart = true
        return { text in
            var out = ""
            for ch in text {
                if atLineStart && ch != "\n" { out += "  " }
                out.append(ch)
                atLineStart = ch == "\n"
            }
            log(out)
        }
    }
}
