// `load_results` and `agreement`: how far the matchers can be trusted, measured against a teacher's hand labels
// (the notebook's question on evaluation false positives and negatives).
import Datasets
import Evaluation
import Foundation
import Language
import Support

extension VerbGroup {
    static var loadResultsVerb: Verb {
        Verb("load_results", summary: "Read predictions from a CSV (as write_results writes it) and judge them again with every matcher.",
             details: "The file needs ground_truth and prediction columns; index, question, source_row and aliases "
                + "(several separated by |) are read when present. The matcher columns in the file are ignored: every "
                + "matcher judges the predictions afresh.",
             positional: [Parameter("path", .path, help: "the CSV file", completion: .path(extensions: ["csv"]))],
             keywords: [Parameter("matcher", .choice(AnswerMatchers.names), default: .string(NormalisedMatcher.name),
                                  help: "the matcher whose verdict counts as correct"),
                        Parameter("aliases", .path, optional: true,
                                  help: "a .json file from each answer to its aliases, which every matcher also accepts")],
             examples: ["results = load_results predictions.csv", "results = load_results predictions.csv aliases=aliases.json"]) { inv, session in
            let path = try inv.string("path")
            let rule = ScoringRule(rawValue: try inv.string("matcher")) ?? .normalised
            let table = try inv.optionalString("aliases").map { try loadAliasTable($0, inv, session) } ?? AliasTable([:])
            let run: EvaluationRun
            do {
                run = try EvaluationRun.fromCSV(try CSV.readText(session.resolvePath(path).path, shownAs: path), file: path, rule: rule,
                                                aliases: table)
            } catch let e as CSVError { throw inv.error(e.description, at: "path") }
            session.writeLine("read \(run.total) predictions from \(path); \(run.summary)")
            return .object(ResultsObject(run: run, modelLabel: path))
        }
    }

    static var agreementVerb: Verb {
        Verb("agreement", summary: "Each matcher against a teacher's hand labels: confusion counts, precision, recall, Cohen's kappa.",
             details: "Labels come from a CSV of example index and label (`index,label` then `3,correct` ...), or from the "
                + "lists correct= and incorrect= (the bracketed indices of `incorrect`/`correct`). Only labelled examples "
                + "count. A false positive is an answer the matcher credits and the teacher does not (a negated answer); a "
                + "false negative one the teacher credits and the matcher does not (a synonym).",
             positional: [resultsParameter,
                          Parameter("labels", .path, optional: true, help: "a CSV of index and label", completion: .path(extensions: ["csv"]))],
             keywords: [Parameter("correct", .list, optional: true, help: "indices labelled correct"),
                        Parameter("incorrect", .list, optional: true, help: "indices labelled incorrect"),
                        Parameter("n", .int, default: .int(5), help: "disagreements listed per matcher and kind")],
             examples: ["agreement results labels.csv", "agreement results correct=[0, 4, 7] incorrect=[1, 2, 3, 5, 6]"]) { inv, session in
            let results = try inv.object("results", as: ResultsObject.self)
            var labels: [Int: Bool] = [:]
            if let path = try inv.optionalString("labels") {
                do { labels = try HandLabels.parse(try CSV.readText(session.resolvePath(path).path, shownAs: path), file: path) }
                catch let e as CSVError { throw inv.error(e.description, at: "labels") }
            }
            for (name, verdict) in [("correct", true), ("incorrect", false)] {
                guard case .list(let values) = inv.value(name) else { continue }
                for v in values {
                    guard case .int(let i) = v else { throw inv.error("\(name)= lists example indices (whole numbers), found \(v.display)", at: name) }
                    if labels[i] == !verdict { throw inv.error("example \(i) is labelled both correct and incorrect", at: name) }
                    labels[i] = verdict
                }
            }
            guard !labels.isEmpty else {
                throw inv.error("no labels given", hint: "agreement RESULTS labels.csv, or agreement RESULTS correct=[...] incorrect=[...]")
            }
            let agreement: Agreement
            do { agreement = try Agreement(run: results.run, labels: labels) } catch let e as EvaluationError {
                throw inv.error(e.description, at: "labels")
            }
            session.writeLine(agreement.report(limit: max(0, try inv.int("n"))))
            return .object(AgreementObject(agreement))
        }
    }
}

/// `ag = agreement results labels.csv`: `ag.labelled`, `ag.correct` (the indices labelled correct), `ag.notebook.kappa`,
/// `ag.normalised.false_positive_indices`.
public final class AgreementObject: LiveObject {
    public let agreement: Agreement
    public init(_ agreement: Agreement) { self.agreement = agreement }

    public var typeName: String { "Agreement" }
    public var summary: String {
        "\(agreement.labelled.count) label\(agreement.labelled.count == 1 ? "" : "s"); kappa " + agreement.matchers.map { m in
            "\(m.name) " + (m.kappa.map { String(format: "%.2f", $0) } ?? "–")
        }.joined(separator: ", ")
    }
    public var fieldNames: [String] { ["labelled", "labelled_correct", "correct", "incorrect"] + agreement.matchers.map(\.name) }

    public func field(_ name: String) -> Value? {
        switch name {
        case "labelled": return .int(agreement.labelled.count)
        case "labelled_correct": return .int(agreement.labelledCorrect)
        case "correct", "incorrect":
            let wanted = name == "correct"
            return .list(agreement.labelled.filter { agreement.labels[$0] == wanted }.map { .int($0) })
        default:
            guard let m = agreement.matchers.first(where: { $0.name == name }) else { return nil }
            func number(_ x: Double?) -> Value { x.map { .double($0) } ?? Value.none }
            return .object(RecordObject(typeName: "MatcherAgreement", fields: [
                ("true_positives", .int(m.truePositives)), ("false_positives", .int(m.falsePositives)),
                ("false_negatives", .int(m.falseNegatives)), ("true_negatives", .int(m.trueNegatives)),
                ("precision", number(m.precision)), ("recall", number(m.recall)), ("agreement", number(m.observedAgreement)),
                ("kappa", number(m.kappa)),
                ("false_positive_indices", .list(m.falsePositiveIndices.map { .int($0) })),
                ("false_negative_indices", .list(m.falseNegativeIndices.map { .int($0) })),
            ]))
        }
    }

    public func details() -> String { "Agreement: " + agreement.report() }
}
