// Result files: the notebook's evaluation_results.json (its keys, its layout) and a CSV, both
// written atomically so an interrupted write never leaves half a file.
import Datasets
import Weights
import Foundation

extension EvaluationRun {
    /// The notebook's `evaluation_results.json`: accuracy (a percentage), exact_matches,
    /// partial_matches, total, time_seconds, selected_indices, detailed_results (one object per
    /// example: index, question, ground_truth, prediction, correct, match_type), two-space indented
    /// like `json.dump(..., indent=2)`. Non-ASCII text is written as \u escapes, as Python does.
    public func notebookJSON() -> String {
        var j = JSONWriter()
        j.open("{")
        j.key("accuracy"); j.number(accuracyPercent)
        j.key("exact_matches"); j.int(exactMatches)
        j.key("partial_matches"); j.int(partialMatches)
        j.key("total"); j.int(total)
        j.key("time_seconds"); j.number(seconds)
        j.key("selected_indices"); j.intArray(selectedIndices)
        j.key("detailed_results")
        j.open("[")
        for e in examples {
            j.element()
            j.open("{")
            j.key("index"); j.int(e.index)
            j.key("question"); j.string(e.question)
            j.key("ground_truth"); j.string(e.groundTruth)
            j.key("prediction"); j.string(e.prediction)
            j.key("correct"); j.bool(e.isCorrect)
            j.key("match_type"); j.string(e.matchType(rule).rawValue)
            j.close("}")
        }
        j.close("]")
        j.close("}")
        return j.text
    }

    /// A CSV (RFC 4180: CRLF line ends, fields with commas, quotes or line breaks quoted, quotes doubled)
    /// with one row per example.
    public func csv() -> String {
        let header = ["index", "source_row", "question", "ground_truth", "prediction", "correct"]
            + AnswerMatchers.names.map { "\($0)_match" } + ["flags", "seconds"]
        var lines = [header.map(Self.csvField).joined(separator: ",")]
        for e in examples {
            let fields = [String(e.index), String(e.sourceRow), e.question, e.groundTruth, e.prediction, e.isCorrect ? "true" : "false"]
                + AnswerMatchers.all.map { e.match($0).rawValue }
                + [e.flags.map(\.rawValue).joined(separator: ";"), String(format: "%.3f", e.seconds)]
            lines.append(fields.map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// One CSV field, quoted when RFC 4180 requires it.
    public static func csvField(_ field: String) -> String {
        let needsQuotes = field.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        return needsQuotes ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }

    /// Writes ``notebookJSON()`` atomically.
    public func writeNotebookJSON(to path: String) throws {
        try AtomicFile.write(Data(notebookJSON().utf8), to: path)
    }

    /// Writes ``csv()`` atomically.
    public func writeCSV(to path: String) throws {
        try AtomicFile.write(Data(csv().utf8), to: path)
    }
}

/// A JSON text builder with Python's `json.dump(indent=2)` layout.
struct JSONWriter {
    private(set) var text = ""
    private var depth = 0
    private var first = [true]

    mutating func open(_ bracket: String) {
        text += bracket
        depth += 1
        first.append(true)
    }

    mutating func close(_ bracket: String) {
        depth -= 1
        let wasEmpty = first.removeLast()
        if !wasEmpty { newline() }
        text += bracket
    }

    /// Starts an array element.
    mutating func element() {
        if !first[first.count - 1] { text += "," }
        first[first.count - 1] = false
        newline()
    }

    mutating func key(_ k: String) {
        element()
        text += Self.quoted(k) + ": "
    }

    mutating func string(_ s: String) { text += Self.quoted(s) }
    mutating func int(_ v: Int) { text += String(v) }
    mutating func bool(_ v: Bool) { text += v ? "true" : "false" }

    /// A float as Python's repr writes it (shortest round-trip; "25.0", not "25").
    mutating func number(_ v: Double) {
        if !v.isFinite { text += v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"); return }
        text += "\(v)"
    }

    /// An int list: Python's indent=2 puts each element on its own line.
    mutating func intArray(_ values: [Int]) {
        open("[")
        for v in values { element(); int(v) }
        close("]")
    }

    private mutating func newline() { text += "\n" + String(repeating: "  ", count: depth) }

    /// A JSON string with Python's `ensure_ascii=True` escaping.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.utf16 {
            switch u {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(u)!)
            default: out += String(format: "\\u%04x", u)
            }
        }
        return out + "\""
    }
}
