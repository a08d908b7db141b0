// Result files: the notebook's evaluation_results.json (its keys, its layout) and a CSV, both
// written atomically so an interrupted write never leaves half a file.
import Datasets
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
        return CSV.table([header] + rows)
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

extension EvaluationRun {
    /// Predictions read back from a CSV (`write_results ... .csv`, or one a teacher wrote by hand), judged again by
    /// every matcher: the matcher columns in the file are not trusted. Needs `ground_truth` and `prediction` columns;
    /// `index` (default: the row's number from 0), `question`, `source_row` and `aliases` (`|` between them) are read
    /// when present; `table` adds aliases by answer (an alias file).
    ///
    /// ```swift
    /// let run = try EvaluationRun.fromCSV(text, file: "predictions.csv", rule: .normalised)
    /// ```
    public static func fromCSV(_ text: String, file: String, rule: ScoringRule = .normalised,
                               aliases table: AliasTable = AliasTable([:])) throws -> EvaluationRun {
        let records = try CSV.parse(text, file: file)
        guard let header = records.first else { throw CSVError(file: file, line: 1, message: "the file is empty") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        func column(_ name: String) -> Int? { names.firstIndex(of: name) }
        guard let truthColumn = column("ground_truth"), let predictionColumn = column("prediction") else {
            if file.lowercased().hasSuffix(".json") {
                throw CSVError(file: file, line: 0, message: "predictions are read from a CSV, and this is JSON; "
                               + "write_results RESULTS predictions.csv writes one")
            }
            throw CSVError(file: file, line: header.line, message: "the header needs ground_truth and prediction columns (found "
                           + header.fields.joined(separator: ", ") + ")")
        }
        let indexColumn = column("index"), questionColumn = column("question"), sourceRowColumn = column("source_row"),
            aliasColumn = column("aliases")
        var run = EvaluationRun(protocolName: "loaded", rule: rule, settings: .greedy(max_new_tokens: 0), selectedIndices: [])
        var seen = Set<Int>()
        for (n, r) in records.dropFirst().enumerated() {
            guard r.fields.count == names.count else {
                throw CSVError(file: file, line: r.line, message: "\(r.fields.count) fields where the header has \(names.count)")
            }
            func value(_ c: Int?) -> String? { c.map { r.fields[$0] } }
            var index = n
            if let raw = value(indexColumn) {
                guard let i = Int(raw.trimmingCharacters(in: .whitespaces)) else {
                    throw CSVError(file: file, line: r.line, message: "index \"\(raw)\" is not a whole number")
                }
                index = i
            }
            guard seen.insert(index).inserted else { throw CSVError(file: file, line: r.line, message: "index \(index) appears twice") }
            let truth = r.fields[truthColumn], prediction = r.fields[predictionColumn]
            var aliases = value(aliasColumn).map(QARow.splitAliases) ?? []
            for a in table.aliases(for: truth) where !aliases.contains(a) { aliases.append(a) }
            let question = value(questionColumn) ?? ""
            run.examples.append(ExampleResult(index: index, sourceRow: value(sourceRowColumn).flatMap { Int($0) } ?? index,
                                              question: question, fullQuestion: question, groundTruth: truth, aliases: aliases,
                                              prompt: "", rawOutput: prediction, prediction: prediction, seconds: 0, confidence: nil,
                                              rule: rule))
            run.selectedIndices.append(index)
        }
        guard !run.examples.isEmpty else { throw CSVError(file: file, line: header.line, message: "no predictions after the header") }
        return run
    }
}
