// A question/answer dataset: the rows the notebook trains on and evaluates.
import Foundation

/// One question/answer pair, with the prompt text `map` made from it.
public struct QARow: Equatable, Sendable {
    /// The question (the "Open-ended Verifiable Question" column).
    public var question: String
    /// The ground-truth answer (the "Ground-True Answer" column).
    public var answer: String
    /// The training text made by ``QADataset/map(template:)``; nil before mapping.
    public var text: String?
    /// The row's 0-based position in the file it was loaded from (stable across select/shuffle).
    public var sourceRow: Int
    /// Other ways to write the answer that are just as right ("cobalamin deficiency" for "Vitamin B12 deficiency"):
    /// the matchers accept a prediction that matches the answer or any of these. From `load_dataset ... aliases=`.
    public var aliases: [String]

    public init(question: String, answer: String, text: String? = nil, sourceRow: Int = 0, aliases: [String] = []) {
        self.question = question
        self.answer = answer
        self.text = text
        self.sourceRow = sourceRow
        self.aliases = aliases
    }
}

/// The column names of a dataset's question and answer.
public struct QAColumns: Equatable, Sendable {
    public var question: String
    public var answer: String
    /// The column of the answer's aliases (a list of strings, or one string with `|` between them); nil for none.
    /// A row without it has no aliases.
    public var aliases: String?
    public init(question: String, answer: String, aliases: String? = nil) {
        self.question = question
        self.answer = answer
        self.aliases = aliases
    }
    /// FreedomIntelligence/medical-o1-verifiable-problem's layout.
    public static let medicalO1 = QAColumns(question: "Open-ended Verifiable Question", answer: "Ground-True Answer")
}

/// An in-memory question/answer dataset with the notebook's operations.
///
/// Every operation returns a new dataset; rows keep their ``QARow/sourceRow``.
///
/// ```swift
/// let data = try QADataset.load(path: "data/medqa_small.json")
/// print(data.summary)            // QADataset(medqa_small.json): 320 rows, columns [...]
/// let train = try data.select(0..<200).map(template: .notebookLlama3)
/// let test = try data.split(at: 200).test
/// print(train.preview(limit: 3))
/// ```
public struct QADataset: Sendable {
    /// The rows, in dataset order.
    public var rows: [QARow]
    /// The source's column names.
    public var columnNames: QAColumns
    /// Where the rows came from (file name or hub id), for summaries and messages.
    public var name: String
    /// What loading kept and skipped.
    public var loadReport: LoadReport

    public init(rows: [QARow], columns: QAColumns = .medicalO1, name: String = "rows",
                loadReport: LoadReport? = nil) {
        self.rows = rows
        self.columnNames = columns
        self.name = name
        self.loadReport = loadReport ?? LoadReport(files: [], rowsRead: rows.count, rowsLoaded: rows.count)
    }

    /// Number of rows.
    public var count: Int { rows.count }
    /// True when there are no rows.
    public var isEmpty: Bool { rows.isEmpty }
    /// The row at `index` (0-based). Use ``row(_:)`` for a checked lookup.
    public subscript(index: Int) -> QARow { rows[index] }

    /// The row at `index`, or an error naming the valid range.
    public func row(_ index: Int) throws -> QARow {
        guard rows.indices.contains(index) else {
            throw DatasetError.outOfRange("row \(index) is outside \(name), which has \(count) rows (0..<\(count))")
        }
        return rows[index]
    }

    /// Column names, as the source spelled them, plus "text" once mapped.
    public var columns: [String] {
        var c = [columnNames.question, columnNames.answer]
        if rows.contains(where: { $0.text != nil }) { c.append("text") }
        return c
    }

    /// All questions, in order.
    public var questions: [String] { rows.map(\.question) }
    /// All answers, in order.
    public var answers: [String] { rows.map(\.answer) }

    /// One line: name, row count and columns.
    public var summary: String {
        "QADataset(\(name)): \(count) row\(count == 1 ? "" : "s"), columns ["
            + columns.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }

    /// A text table of the first `limit` rows (from `offset`), each cell cut to `width` characters.
    ///
    /// ```
    /// row | Open-ended Verifiable Question          | Ground-True Answer
    /// ----+-----------------------------------------+-------------------
    ///   0 | Which vitamin deficiency causes scurvy? | Vitamin C
    /// ```
    public func preview(limit: Int = 5, offset: Int = 0, width: Int = 60) -> String {
        let start = max(0, min(offset, count))
        let shown = Array(rows[start..<min(count, start + max(0, limit))])
        let hasText = shown.contains { $0.text != nil }
        var header = ["row", columnNames.question, columnNames.answer]
        if hasText { header.append("text") }
        var table = [header]
        for (i, r) in shown.enumerated() {
            var cells = [String(start + i), Self.cell(r.question, width), Self.cell(r.answer, width)]
            if hasText { cells.append(Self.cell(r.text ?? "", width)) }
            table.append(cells)
        }
        let widths = header.indices.map { c in table.map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, s in
                c == 0 ? String(repeating: " ", count: widths[c] - s.count) + s
                       : s + String(repeating: " ", count: widths[c] - s.count)
            }.joined(separator: " | ").trimmingTrailingSpaces()
        }
        var out = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "-+-")]
        out += table.dropFirst().map(line)
        if count > start + shown.count { out.append("... \(count - start - shown.count) more rows") }
        return out.joined(separator: "\n")
    }

    /// A cell: newlines shown as spaces, cut to `width` characters with an ellipsis.
    private static func cell(_ text: String, _ width: Int) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ")
        return flat.count <= width ? flat : String(flat.prefix(max(1, width - 1))) + "…"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

extension QARow {
    /// An alias text as written in a column or file: alternatives separated by `|`, each trimmed, empty ones dropped.
    public static func splitAliases(_ text: String) -> [String] {
        text.split(separator: "|").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}

/// Aliases by answer, as an alias file lists them: an answer is found as written, or else without regard to case
/// and surrounding spaces.
///
/// ```swift
/// let table = AliasTable(["Vitamin B12 deficiency": ["cobalamin deficiency"]])
/// table.aliases(for: "vitamin b12 deficiency ")   // ["cobalamin deficiency"]
/// ```
public struct AliasTable: Sendable {
    public let exact: [String: [String]]
    let loose: [String: [String]]
    public init(_ table: [String: [String]]) {
        exact = table
        var loose: [String: [String]] = [:]
        for (answer, list) in table { loose[Self.key(answer), default: []] += list }
        self.loose = loose
    }
    public var count: Int { exact.count }
    public func aliases(for answer: String) -> [String] { exact[answer] ?? loose[Self.key(answer)] ?? [] }
    static func key(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
}

extension QARow {
    /// The row's aliases with those the table lists for its answer added (each once).
    public func addingAliases(from table: AliasTable) -> QARow {
        var copy = self
        for a in table.aliases(for: answer) where !copy.aliases.contains(a) { copy.aliases.append(a) }
        return copy
    }
}

extension QADataset {
    /// The rows with the aliases the table lists for their answers; returns the dataset and how many rows got some.
    ///
    /// ```swift
    /// let (data2, n) = data.addingAliases(AliasTable(["Vitamin B12 deficiency": ["cobalamin deficiency"]]))
    /// ```
    public func addingAliases(_ table: AliasTable) -> (QADataset, rowsWithAliases: Int) {
        var copy = self
        copy.rows = rows.map { $0.addingAliases(from: table) }
        return (copy, rows.filter { !table.aliases(for: $0.answer).isEmpty }.count)
    }
}
