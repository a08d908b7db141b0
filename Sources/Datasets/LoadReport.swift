// What a load kept and what it skipped, and why.
import Foundation

/// Why one source row was not loaded.
public enum SkipReason: Error, Hashable, Sendable, CustomStringConvertible {
    /// The row lacks a column (its name).
    case missingKey(String)
    /// The column holds a number, null, array... (column name, the JSON kind found).
    case notAString(key: String, found: String)
    /// The column's string is not valid UTF-8.
    case invalidUTF8(key: String)
    /// The row is not a JSON object.
    case notAnObject(found: String)
    /// A JSON Lines line that is not valid JSON (the parser's message).
    case malformedLine(String)

    public var description: String {
        switch self {
        case .missingKey(let key): return "missing key \"\(key)\""
        case .notAString(let key, let found): return "\"\(key)\" is a \(found), not a string"
        case .invalidUTF8(let key): return "\"\(key)\" is not valid UTF-8"
        case .notAnObject(let found): return "row is a \(found), not an object"
        case .malformedLine(let message): return "malformed JSON line (\(message))"
        }
    }

    /// The reason without row-specific detail, used to group counts.
    var group: String {
        switch self {
        case .malformedLine: return "malformed JSON line"
        default: return description
        }
    }
}

/// One skipped source row: its file, 0-based row number, the line it starts on, and why.
public struct SkippedRow: Equatable, Sendable, CustomStringConvertible {
    /// The file the row is in.
    public let file: String
    /// 0-based row number (JSON Lines: counting non-blank lines).
    public let row: Int
    /// 1-based line the row starts on.
    public let line: Int
    /// Why it was skipped.
    public let reason: SkipReason
    public init(file: String, row: Int, line: Int, reason: SkipReason) {
        self.file = file; self.row = row; self.line = line; self.reason = reason
    }
    /// "data.json:12: row 3: missing key "Ground-True Answer"".
    public var description: String { "\(file):\(line): row \(row): \(reason)" }
}

/// The outcome of loading one or more files: rows read, kept and skipped with reasons.
///
/// ```swift
/// let (data, report) = try QADataset.loadWithReport(path: "data/medqa_small.json")
/// print(report.summary)   // "read 320 rows from medqa_small.json, loaded 320, skipped 0"
/// ```
public struct LoadReport: Equatable, Sendable, CustomStringConvertible {
    /// The files read, in order.
    public var files: [String]
    /// Rows seen in the files.
    public var rowsRead: Int
    /// Rows kept.
    public var rowsLoaded: Int
    /// Every skipped row with its reason.
    public var skipped: [SkippedRow]

    public init(files: [String] = [], rowsRead: Int = 0, rowsLoaded: Int = 0, skipped: [SkippedRow] = []) {
        self.files = files
        self.rowsRead = rowsRead
        self.rowsLoaded = rowsLoaded
        self.skipped = skipped
    }

    /// Skipped-row counts per reason, most frequent first.
    public var skippedByReason: [(reason: String, count: Int)] {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for s in skipped {
            if counts[s.reason.group] == nil { order.append(s.reason.group) }
            counts[s.reason.group, default: 0] += 1
        }
        return order.map { ($0, counts[$0]!) }.sorted { $0.count > $1.count }
    }

    /// One line: "read 201 rows from a.json, loaded 198, skipped 3: 2 missing key "Ground-True Answer" (rows 5, 9); ...".
    public var summary: String {
        let names = files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
        var line = "read \(rowsRead) rows from \(names), loaded \(rowsLoaded), skipped \(skipped.count)"
        if !skipped.isEmpty {
            let parts = skippedByReason.map { group -> String in
                let rows = skipped.filter { $0.reason.group == group.reason }.map(\.row)
                let shown = rows.prefix(5).map(String.init).joined(separator: ", ") + (rows.count > 5 ? ", ..." : "")
                return "\(group.count) \(group.reason) (row\(rows.count == 1 ? "" : "s") \(shown))"
            }
            line += ": " + parts.joined(separator: "; ")
        }
        return line
    }

    public var description: String { summary }

    mutating func merge(_ other: LoadReport) {
        files += other.files
        rowsRead += other.rowsRead
        rowsLoaded += other.rowsLoaded
        skipped += other.skipped
    }
}
