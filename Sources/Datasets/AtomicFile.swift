// Files medrepl writes appear whole or not at all: written to a temporary file in the same folder,
// then renamed over the target (rename is atomic within one file system).
import Foundation

/// An error writing a file, naming it.
public struct FileWriteError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The file that could not be written.
    public let path: String
    /// The system's reason.
    public let reason: String
    public var description: String { "\(path): cannot write: \(reason)" }
    public var errorDescription: String? { description }
}

/// Atomic file writing.
///
/// ```swift
/// try AtomicFile.write(Data("hello\n".utf8), to: "out/results.csv")
/// ```
public enum AtomicFile {
    /// Writes `data` to `path` through a temporary file and a rename; on failure the old file, if
    /// any, is untouched and no temporary file is left behind.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(UInt32.random(in: 0...UInt32.max)).tmp")
        do {
            try data.write(to: temp)
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw FileWriteError(path: path, reason: (error as NSError).localizedFailureReason ?? error.localizedDescription)
        }
        if rename(temp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw FileWriteError(path: path, reason: reason)
        }
    }
}

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
