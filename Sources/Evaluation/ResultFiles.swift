// Result files: the notebook's evaluation_results.json (its keys, its layout) and a CSV, both
// written atomically so an interrupted write never leaves half a file.
import Foundation
import Support

extension EvaluationRun {
    /// The notebook's `evaluation_results.json`: accuracy (a percentage), exact_matches,
    /// partial_matches, total, time_seconds, selected_indices, detailed_results (one object per
    /// example: index, question, ground_truth, prediction, correct, match_type), two-space indented
    /// like `json.dump(..., indent=2)`. Non-ASCII text is written as \u escapes, as Python does.
    public func notebookJSON() -> String {
        let details = examples.map { e in
            JSONText.Ordered([("index", e.index), ("question", e.question), ("ground_truth", e.groundTruth),
                              ("prediction", e.prediction), ("correct", e.isCorrect), ("match_type", e.matchType(rule).rawValue)])
        }
        return JSONText.encode(JSONText.Ordered([
            ("accuracy", accuracyPercent), ("exact_matches", exactMatches), ("partial_matches", partialMatches), ("total", total),
            ("time_seconds", seconds), ("selected_indices", selectedIndices), ("detailed_results", details),
        ]))
    }

    /// A CSV (RFC 4180: CRLF line ends, fields with commas, quotes or line breaks quoted, quotes doubled)
    /// with one row per example.
    public func csv() -> String {
        let header = ["index", "source_row", "question", "ground_truth", "prediction", "correct"]
            + AnswerMatchers.names.map { "\($0)_match" } + ["flags", "seconds"]
        let rows = examples.map { e in
            [String(e.index), String(e.sourceRow), e.question, e.groundTruth, e.prediction, e.isCorrect ? "true" : "false"]
                + AnswerMatchers.all.map { e.match($0).rawValue }
                + [e.flags.map(\.rawValue).joined(separator: ";"), String(format: "%.3f", e.seconds)]
        }
        return CSVText.table([header] + rows)
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
