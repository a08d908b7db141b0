// CSV as RFC 4180 writes it: fields with commas, quotes or line breaks quoted, quotes doubled, CRLF or LF line ends.
import Foundation

/// Reading and writing CSV (RFC 4180).
///
/// ```swift
/// CSV.field("a, b")                          // "\"a, b\""
/// CSV.table([["student", "notes"], ["alice", "said \"hi\", twice"]])   // "student,notes\r\nalice,\"said \"\"hi\"\", twice\"\r\n"
/// try CSV.parse("index,label\r\n3,correct\r\n", file: "labels.csv").map(\.fields)   // [["index", "label"], ["3", "correct"]]
/// ```
public enum CSV {
    /// One field, quoted when RFC 4180 requires it.
    public static func field(_ text: String) -> String {
        let needsQuotes = text.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        return needsQuotes ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// A free-text field (a name, a note) that a spreadsheet must show as text: one beginning with `=`, `+`, `-`
    /// or `@` would be read as a formula, so it gets a leading `'` (OWASP's advice for CSV injection).
    ///
    /// ```swift
    /// CSV.text("=HYPERLINK(\"x\")")   // "'=HYPERLINK(\"x\")"
    /// ```
    public static func text(_ value: String) -> String {
        guard let first = value.first, "=+-@".contains(first) else { return value }
        return "'" + value
    }

    /// Rows of fields as a CSV text, each row ended by CRLF.
    public static func table(_ rows: [[String]]) -> String {
        rows.map { $0.map(field).joined(separator: ",") + "\r\n" }.joined()
    }

    /// One record and the line it starts on (1-based).
    public struct Record: Equatable, Sendable {
        public var line: Int
        public var fields: [String]
        public init(line: Int, fields: [String]) { self.line = line; self.fields = fields }
    }

    /// The records of a CSV text (blank lines skipped). A quote left open is an error naming the file and the line
    /// where the field began.
    public static func parse(_ text: String, file: String) throws -> [Record] {
        var records: [Record] = [], record: [String] = [], field = ""
        var inQuotes = false, fieldStarted = false, line = 1, quoteLine = 1, recordLine = 1
        var chars = Array(text.unicodeScalars)[...]
        if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }
        func endRecord() {
            if fieldStarted || !field.isEmpty || !record.isEmpty { record.append(field); records.append(Record(line: recordLine, fields: record)) }
            record = []; field = ""; fieldStarted = false
        }
        var i = chars.startIndex
        while i < chars.endIndex {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if chars.index(after: i) < chars.endIndex && chars[chars.index(after: i)] == "\"" {
                        field.unicodeScalars.append("\""); i = chars.index(after: i)
                    } else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                inQuotes = true; fieldStarted = true; quoteLine = line
            } else if c == "," {
                record.append(field); field = ""; fieldStarted = true
            } else if c == "\r" || c == "\n" {
                if c == "\r", chars.index(after: i) < chars.endIndex, chars[chars.index(after: i)] == "\n" { i = chars.index(after: i) }
                endRecord(); line += 1; recordLine = line
            } else {
                field.unicodeScalars.append(c)
            }
            i = chars.index(after: i)
        }
        if inQuotes { throw CSVError(file: file, line: quoteLine, message: "a quoted field is never closed") }
        endRecord()
        return records
    }
}

/// A CSV file that cannot be read: `labels.csv:4: a quoted field is never closed`.
public struct CSVError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int
    public var message: String
    public init(file: String, line: Int, message: String) { self.file = file; self.line = line; self.message = message }
    /// `file:line: message`, or `file: message` for the file as a whole (line 0).
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

extension CSV {
    /// A text file's contents for a reader that names it in its errors: `labels.csv: no such file`,
    /// `labels.csv: cannot read: it is a folder`, never Foundation's wording.
    public static func readText(_ path: String, shownAs name: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CSVError(file: name, line: 0, message: "no such file")
        }
        guard !isDirectory.boolValue else { throw CSVError(file: name, line: 0, message: "cannot read: it is a folder, not a file") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CSVError(file: name, line: 0, message: "cannot read: " + FileSystemError.reason(for: error, path: path))
        }
        guard let text = String(data: data, encoding: .utf8) else { throw CSVError(file: name, line: 0, message: "not UTF-8 text") }
        return text
    }
}
