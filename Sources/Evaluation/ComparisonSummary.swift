import Datasets
import Foundation
import Support

// What `compare ... output=FILE` keeps of a comparison: enough to put several pipelines side by side later
// (`comparisons FILE...`), without the examples. A small JSON object, written atomically.

/// The figures of one base-against-tuned comparison.
///
/// ```swift
/// let summary = ComparisonSummary(comparison, pipeline: "default", protocol: "careful", lossBefore: a, lossAfter: b)
/// try summary.write(to: "outputs/comparison-default.json")
/// print(ComparisonSummary.table([try .read(from: "outputs/comparison-default.json")]))
/// ```
public struct ComparisonSummary: Codable, Equatable, Sendable {
    /// How the adapter was trained (`notebook`, `default`), or a label the user gave.
    public var pipeline: String
    /// The evaluation protocol (`notebook`, `careful`).
    public var `protocol`: String
    /// Questions compared (both runs finished).
    public var questions: Int
    public var base_correct: Int
    public var tuned_correct: Int
    public var improved: Int
    public var regressed: Int
    public var mcnemar_p: Double
    /// Mean loss of the ground-truth answers with the adapter off and on (absent when not measured).
    public var answer_loss_before: Double?
    public var answer_loss_after: Double?
    /// How the scored answers were written when not as the dataset has them (`sentence`).
    public var answers_written: String?

    public init(_ c: ModelComparison, pipeline: String, protocol: String, lossBefore: AnswerLoss?, lossAfter: AnswerLoss?,
                answersWritten: AnswerFormat? = nil) {
        self.pipeline = pipeline
        self.protocol = `protocol`
        questions = c.pairs.count
        base_correct = c.baseInterval.successes
        tuned_correct = c.tunedInterval.successes
        improved = c.improved.count
        regressed = c.regressed.count
        mcnemar_p = c.mcnemarExactP
        answer_loss_before = lossBefore?.meanLoss
        answer_loss_after = lossAfter?.meanLoss
        answers_written = answersWritten?.rawValue
    }

    public var baseInterval: WilsonInterval { WilsonInterval(successes: base_correct, n: questions) }
    public var tunedInterval: WilsonInterval { WilsonInterval(successes: tuned_correct, n: questions) }

    /// Writes the summary as indented JSON, atomically.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(String(decoding: try encoder.encode(self), as: UTF8.self) + "\n", to: path)
    }

    /// Reads a summary written by `write(to:)`; the error names the file (as `shown`, default the path) and
    /// what is wrong in plain words.
    public static func read(from path: String, shown: String? = nil) throws -> ComparisonSummary {
        let name = shown ?? path
        var folder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &folder), folder.boolValue {
            throw EvaluationError.unreadableFile("\(name) is a folder; give the JSON file `compare ... output=` wrote")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.unreadableFile("\(name): no such file; `compare MODEL DATA output=\(name)` writes it")
        }
        guard let summary = try? JSONDecoder().decode(ComparisonSummary.self, from: data) else {
            throw EvaluationError.unreadableFile("\(name): not a comparison summary (the file `compare ... output=` writes)")
        }
        guard summary.questions > 0, (0...summary.questions).contains(summary.base_correct),
              (0...summary.questions).contains(summary.tuned_correct) else {
            throw EvaluationError.unreadableFile("\(name): the counts do not add up (\(summary.base_correct) and \(summary.tuned_correct) correct of \(summary.questions))")
        }
        return summary
    }

    /// The summaries side by side, one row each:
    /// ```
    /// pipeline | protocol | questions | base                | tuned               | improved | regressed | McNemar p | answer loss
    /// notebook | notebook |        20 | 15.0% (5.2%–36.0%)  | 10.0% (2.8%–30.1%)  |        1 |         2 |         1 | 3.145 → 2.296
    /// ```
    public static func table(_ rows: [ComparisonSummary]) -> String {
        func accuracy(_ w: WilsonInterval) -> String {
            String(format: "%.1f%% (%.1f%%–%.1f%%)", w.proportion * 100, w.lower * 100, w.upper * 100)
        }
        let header = ["pipeline", "protocol", "questions", "base", "tuned", "improved", "regressed", "McNemar p", "answer loss"]
        let body = rows.map { r -> [String] in
            let loss = (r.answer_loss_before.flatMap { b in r.answer_loss_after.map { String(format: "%.3f → %.3f", b, $0) } } ?? "-")
                + (r.answers_written.map { " (answers as \($0)s)" } ?? "")
            return [r.pipeline, r.protocol, "\(r.questions)", accuracy(r.baseInterval), accuracy(r.tunedInterval),
                    "\(r.improved)", "\(r.regressed)", String(format: "%.3g", r.mcnemar_p), loss]
        }
        let widths = header.indices.map { i in ([header] + body).map { $0[i].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.indices.map { cells[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: " | ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        return ([line(header)] + body.map(line)).joined(separator: "\n")
    }
}
