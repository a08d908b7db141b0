/// CSV as RFC 4180 writes it: CRLF line ends, a field quoted when it holds a comma, a quote or a line
/// break, quotes inside doubled. The evaluation results and the class grades are written with it.
///
/// ```swift
/// CSVText.table([["student", "notes"], ["alice", "said \"hi\", twice"]])
/// // "student,notes\r\nalice,\"said \"\"hi\"\", twice\"\r\n"
/// ```
public enum CSVText {
    /// One CSV field, quoted when RFC 4180 requires it.
    public static func field(_ field: String) -> String {
        let needsQuotes = field.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        return needsQuotes ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }

    /// Rows of fields as a CSV text, each row ended by CRLF.
    public static func table(_ rows: [[String]]) -> String {
        rows.map { $0.map(field).joined(separator: ",") + "\r\n" }.joined()
    }
}
