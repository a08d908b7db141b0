// Saving a dataset in its two-key JSON layout, whole or not at all (Support.AtomicFile).
import Foundation
import Support

extension QADataset {
    /// The rows as a JSON array in the dataset's two-key layout (two-space indent, UTF-8 text
    /// kept as is, like Python's `json.dump(rows, indent=2, ensure_ascii=False)`); mapped text is
    /// written under "text".
    public func jsonText() -> String {
        if rows.isEmpty { return "[]\n" }
        var parts: [String] = []
        for row in rows {
            var fields = ["    \(JSONText.quoted(columnNames.question)): \(JSONText.quoted(row.question))",
                          "    \(JSONText.quoted(columnNames.answer)): \(JSONText.quoted(row.answer))"]
            if let text = row.text { fields.append("    \"text\": \(JSONText.quoted(text))") }
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
