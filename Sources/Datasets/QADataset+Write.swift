// Saving a dataset in its two-key JSON layout, whole or not at all (Weights.AtomicFile).
import Foundation
import Weights

extension QADataset {
    /// The rows as a JSON array in the dataset's two-key layout (two-space indent, UTF-8 text
    /// kept as is, like Python's `json.dump(rows, indent=2, ensure_ascii=False)`); mapped text is
    /// written under "text".
    public func jsonText() -> String {
        func quoted(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
                default: out.unicodeScalars.append(u)
                }
            }
            return out + "\""
        }
        if rows.isEmpty { return "[]\n" }
        var parts: [String] = []
        for row in rows {
            var fields = ["    \(quoted(columnNames.question)): \(quoted(row.question))",
                          "    \(quoted(columnNames.answer)): \(quoted(row.answer))"]
            if let text = row.text { fields.append("    \"text\": \(quoted(text))") }
            parts.append("  {\n" + fields.joined(separator: ",\n") + "\n  }")
        }
        return "[\n" + parts.joined(separator: ",\n") + "\n]\n"
    }

    /// Saves the rows atomically as a JSON array file that ``load(path:columns:strict:)`` reads back.
    ///
    /// ```swift
    /// try data.filter(contains: "heart").write(to: "runs/cardiac.json")
    /// ```
    public func write(to path: String) throws {
        try AtomicFile.write(Data(jsonText().utf8), to: path)
    }
}
