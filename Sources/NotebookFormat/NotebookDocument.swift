import Foundation
import Language
import Support

/// A `.mednb` notebook in memory: header, then prose and command cells. docs/mednb.md is the spec.
///
/// ```swift
/// let nb = try NotebookDocument.load(path: "notebooks/finetune.mednb")
/// for cell in nb.cells where cell.kind == .command { print(cell.id, cell.entries.count) }
/// try nb.write(to: "notebooks/finetune.mednb")   // atomic
/// ```
public struct NotebookDocument: Equatable, Sendable {
    /// The format version this medrepl reads and writes.
    public static let formatVersion = 1
    /// Cell tags medrepl understands.
    public static let knownTags = ["skip", "ignore-output", "interrupted", "raises", "parameters", "exercise", "hidden", "visible"]
    /// Cell options medrepl understands, written `key=value` among the tags: `[exercise, timeout=60]`.
    public static let knownOptions = ["timeout"]

    /// Header fields after `%% mednb 1`, in file order ("medrepl", "model", "seed", "params", ...).
    public var header: [HeaderField]
    public var cells: [Cell]

    public struct HeaderField: Equatable, Sendable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) { self.key = key; self.value = value }
    }

    public init(header: [HeaderField] = [HeaderField("medrepl", MedreplVersion.string)], cells: [Cell] = []) {
        self.header = header; self.cells = cells
    }

    /// A header value by key.
    public subscript(header key: String) -> String? {
        get { header.first { $0.key == key }?.value }
        set {
            if let v = newValue {
                if let i = header.firstIndex(where: { $0.key == key }) { header[i].value = v } else { header.append(HeaderField(key, v)) }
            } else {
                header.removeAll { $0.key == key }
            }
        }
    }

    public func cell(id: String) -> Cell? { cells.first { $0.id == id } }
    public func index(ofCell id: String) -> Int? { cells.firstIndex { $0.id == id } }

    /// The cell tagged `parameters`, if any.
    public var parametersCell: Cell? { cells.first { $0.tags.contains("parameters") } }
}

/// One cell: prose (markdown) or commands with their recorded output.
public struct Cell: Equatable, Sendable {
    public enum Kind: String, Sendable { case prose = "md", command = "cell" }
    public var kind: Kind
    /// Stable id: letters, digits, `-` and `_`; unique in the notebook.
    public var id: String
    public var tags: [String]
    /// Options written `key=value` among the tags, in file order (`NotebookDocument.knownOptions`).
    public var options: [CellOption] = []
    /// The markdown of a prose cell (no trailing newline).
    public var text: String
    /// The commands of a command cell, each with the output recorded under it.
    public var entries: [Entry]
    /// The line of the cell's `%%` marker in the file it was read from (0 when built in memory).
    public var line: Int

    public init(kind: Kind, id: String, tags: [String] = [], text: String = "", entries: [Entry] = [], line: Int = 0) {
        self.kind = kind; self.id = id; self.tags = tags; self.text = text; self.entries = entries; self.line = line
    }

    public static func == (a: Cell, b: Cell) -> Bool {
        a.kind == b.kind && a.id == b.id && a.tags == b.tags && a.options == b.options && a.text == b.text && a.entries == b.entries
    }

    /// An option's value by key (`cell[option: "timeout"]`), nil when not given.
    public subscript(option key: String) -> String? { options.first { $0.key == key }?.value }

    /// The time limit in seconds of `timeout=S` (checked when the notebook was read); nil for none.
    ///
    /// ```swift
    /// // %% cell train-it [exercise, timeout=60]
    /// cell.timeout   // 60.0
    /// ```
    public var timeout: Double? { self[option: "timeout"].flatMap(Double.init) }

    /// The marker's bracket as written in a file, `" [exercise, timeout=60]"`, or "" for a cell with neither tags nor options.
    public var bracket: String {
        let words = tags + options.map { "\($0.key)=\($0.value)" }
        return words.isEmpty ? "" : " [" + words.joined(separator: ", ") + "]"
    }
}

/// A `key=value` option in a cell marker's brackets: `%% cell train-it [exercise, timeout=60]`.
public struct CellOption: Equatable, Sendable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}

/// A command (one or more lines) and the output lines recorded under it.
public struct Entry: Equatable, Sendable {
    public var command: String
    /// Recorded output lines; may hold patterns (`... (re)`, `... (glob)`, a lone `...`).
    public var output: [String]
    /// The line of the command's `  $ ` in the file (0 when built in memory).
    public var line: Int

    public init(command: String, output: [String] = [], line: Int = 0) {
        self.command = command; self.output = output; self.line = line
    }
    public static func == (a: Entry, b: Entry) -> Bool { a.command == b.command && a.output == b.output }

    /// Splits captured output into the lines a notebook records.
    public static func outputLines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    }
}

/// A notebook that cannot be read, with the file and line.
public struct NotebookFormatError: Error, CustomStringConvertible, LocalizedError {
    public var file: String
    public var line: Int
    public var message: String
    public init(file: String, line: Int, message: String) { self.file = file; self.line = line; self.message = message }
    public var description: String { "\(file):\(line): \(message)" }
    public var errorDescription: String? { description }
}

extension NotebookDocument {
    /// Reads and parses a notebook file.
    public static func load(path: String) throws -> NotebookDocument {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw NotebookFormatError(file: path, line: 0, message: "cannot read the notebook: \(FileSystemError.reason(for: error, path: path))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw NotebookFormatError(file: path, line: 1, message: "the notebook is not valid UTF-8 text")
        }
        return try parse(text, file: path)
    }

    /// Parses notebook text; `file` names it in errors.
    public static func parse(_ text: String, file: String = "<notebook>") throws -> NotebookDocument {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        func fail(_ line: Int, _ message: String) -> NotebookFormatError {
            NotebookFormatError(file: file, line: line, message: message)
        }
        guard let first = lines.first else { throw fail(1, "empty file: a notebook starts with '%% mednb 1'") }
        let firstWords = first.split(separator: " ", omittingEmptySubsequences: true)
        guard firstWords.count == 3, firstWords[0] == "%%", firstWords[1] == "mednb" else {
            throw fail(1, "not a medrepl notebook: the first line must be '%% mednb \(formatVersion)'")
        }
        guard Int(firstWords[2]) == formatVersion else {
            throw fail(1, "format version \(firstWords[2]) is not supported; this medrepl reads version \(formatVersion)")
        }
        var doc = NotebookDocument(header: [], cells: [])
        var i = 1
        // Header: `%% key value` lines up to the first blank line.
        while i < lines.count, !lines[i].isEmpty {
            let line = lines[i]
            guard line.hasPrefix("%% ") else { throw fail(i + 1, "the header holds only '%% key value' lines; end it with a blank line") }
            let rest = line.dropFirst(3)
            let key = String(rest.prefix { $0 != " " })
            guard key != "md" && key != "cell" else { throw fail(i + 1, "put a blank line between the header and the first cell") }
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw fail(i + 1, "bad header key '\(key)'")
            }
            guard !doc.header.contains(where: { $0.key == key }) else { throw fail(i + 1, "header key '\(key)' is given twice") }
            doc.header.append(HeaderField(key, String(rest.dropFirst(key.count).drop { $0 == " " })))
            i += 1
        }
        var ids: [String: Int] = [:]
        var current: Cell? = nil
        var pendingBlank = 0   // blank lines not yet known to be output or separator
        var proseLines: [String] = []
        func finish() {
            guard var cell = current else { return }
            if cell.kind == .prose {
                while proseLines.last == "" { proseLines.removeLast() }
                cell.text = proseLines.joined(separator: "\n")
                proseLines = []
            }
            doc.cells.append(cell)
            current = nil
        }
        while i < lines.count {
            let line = lines[i]
            let number = i + 1
            i += 1
            if line.hasPrefix("%%") {
                finish()
                pendingBlank = 0
                current = try parseMarker(line, number: number, fail: fail)
                if let previous = ids[current!.id] {
                    throw fail(number, "cell id '\(current!.id)' is already used on line \(previous)")
                }
                ids[current!.id] = number
                continue
            }
            guard current != nil else {
                if line.isEmpty { continue }
                throw fail(number, "text outside a cell: start prose with '%% md ID' and commands with '%% cell ID'")
            }
            if current!.kind == .prose {
                proseLines.append(line)
                continue
            }
            if line.isEmpty { pendingBlank += 1; continue }
            if line.hasPrefix("  $ ") || line == "  $" {
                pendingBlank = 0
                current!.entries.append(Entry(command: String(line.dropFirst(4)), output: [], line: number))
            } else if line.hasPrefix("  > ") || line == "  >" {
                guard let last = current!.entries.last, last.output.isEmpty, pendingBlank == 0 else {
                    throw fail(number, "'  > ' continues a command, so it must follow a '  $ ' line directly")
                }
                current!.entries[current!.entries.count - 1].command = last.command + "\n" + String(line.dropFirst(4))
            } else if line.hasPrefix("  ") {
                guard !current!.entries.isEmpty else {
                    throw fail(number, "output before any command: a command line starts with '  $ '")
                }
                let n = current!.entries.count - 1
                current!.entries[n].output += Array(repeating: "", count: pendingBlank)
                pendingBlank = 0
                current!.entries[n].output.append(String(line.dropFirst(2)))
            } else {
                throw fail(number, "in a command cell, lines start with '  $ ' (a command), '  > ' (its next line) or two spaces (output)")
            }
        }
        finish()
        return doc
    }

    static func parseMarker(_ line: String, number: Int, fail: (Int, String) -> NotebookFormatError) throws -> Cell {
        var rest = Substring(line.dropFirst(2))
        guard rest.first == " " else { throw fail(number, "write a cell marker as '%% md ID' or '%% cell ID [tags]'") }
        rest = rest.drop { $0 == " " }
        let kindWord = String(rest.prefix { $0 != " " })
        guard let kind = Cell.Kind(rawValue: kindWord) else {
            let hint = Suggest.closest(to: kindWord, in: ["md", "cell"]).map { " (did you mean '\($0)'?)" } ?? ""
            throw fail(number, "unknown cell kind '\(kindWord)'\(hint): a cell is '%% md ID' (prose) or '%% cell ID' (commands)")
        }
        rest = rest.dropFirst(kindWord.count).drop { $0 == " " }
        let id = String(rest.prefix { $0 != " " && $0 != "[" })
        guard !id.isEmpty else { throw fail(number, "the cell needs an id: '%% \(kindWord) my-id'") }
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw fail(number, "cell id '\(id)' may hold only letters, digits, '-' and '_'")
        }
        rest = rest.dropFirst(id.count).drop { $0 == " " }
        var cell = Cell(kind: kind, id: id, line: number)
        if !rest.isEmpty {
            guard rest.first == "[", rest.last == "]" else { throw fail(number, "tags go in brackets after the id: '%% cell \(id) [skip]'") }
            // Commas or spaces between them: `[exercise, timeout=60]` or `[exercise timeout=60]`.
            let words = rest.dropFirst().dropLast().split { $0 == "," || $0 == " " || $0 == "\t" }.map(String.init)
            for word in words {
                if let eq = word.firstIndex(of: "=") {
                    cell.options.append(try parseOption(key: String(word[..<eq]), value: String(word[word.index(after: eq)...]),
                                                        in: cell, number: number, fail: fail))
                } else {
                    guard knownTags.contains(word) else {
                        let hint = Suggest.closest(to: word, in: knownTags + knownOptions).map { " (did you mean '\($0)'?)" } ?? ""
                        throw fail(number, "unknown tag '\(word)'\(hint); tags are \(knownTags.joined(separator: ", "))")
                    }
                    cell.tags.append(word)
                }
            }
            if kind == .prose && !words.isEmpty { throw fail(number, "prose cells take no tags") }
        }
        return cell
    }

    /// One `key=value` option of a cell marker, its value checked: `timeout=` takes a positive number of seconds.
    static func parseOption(key: String, value: String, in cell: Cell, number: Int,
                            fail: (Int, String) -> NotebookFormatError) throws -> CellOption {
        guard knownOptions.contains(key) else {
            let hint = Suggest.closest(to: key, in: knownOptions).map { " (did you mean '\($0)='?)" } ?? ""
            throw fail(number, "unknown cell option '\(key)='\(hint); options are \(knownOptions.map { $0 + "=" }.joined(separator: ", "))")
        }
        guard cell[option: key] == nil else { throw fail(number, "cell option '\(key)=' is given twice") }
        switch key {
        case "timeout":
            guard let seconds = Double(value), seconds.isFinite, seconds > 0 else {
                throw fail(number, "timeout=\(value) is not a time limit: give a number of seconds, as in [exercise, timeout=60]")
            }
        default: break
        }
        return CellOption(key, value)
    }

    /// The notebook as text, in canonical form: parsing it back gives the same document, and a
    /// canonical file reads and writes back to the same bytes.
    public func serialized() -> String {
        var out = "%% mednb \(NotebookDocument.formatVersion)\n"
        for field in header { out += "%% \(field.key) \(field.value)\n" }
        for cell in cells {
            out += "\n%% \(cell.kind.rawValue) \(cell.id)\(cell.bracket)\n"
            switch cell.kind {
            case .prose:
                if !cell.text.isEmpty { out += cell.text + "\n" }
            case .command:
                for entry in cell.entries {
                    let commandLines = entry.command.split(separator: "\n", omittingEmptySubsequences: false)
                    for (k, line) in commandLines.enumerated() { out += (k == 0 ? "  $ " : "  > ") + line + "\n" }
                    for line in entry.output { out += "  " + line + "\n" }
                }
            }
        }
        return out
    }

    /// Writes the notebook atomically: a temporary file in the same folder, then a rename, so an
    /// interrupted write never leaves half a notebook.
    public func write(to path: String) throws {
        try AtomicFile.write(serialized(), to: path)
    }
}
