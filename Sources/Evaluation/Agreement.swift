// How far each matcher's verdicts can be trusted: its confusion table against a teacher's hand labels, its
// precision and recall, and Cohen's kappa (agreement beyond what chance would give).
import Foundation
import Support

/// One matcher against the hand labels. "Positive" is "judged correct".
///
/// ```swift
/// let m = MatcherAgreement(name: "notebook", truePositives: 8, falsePositives: 2, falseNegatives: 1, trueNegatives: 9)
/// m.precision   // 0.8: of the answers it called correct, the share the teacher did too
/// m.kappa       // 0.7
/// ```
public struct MatcherAgreement: Equatable, Sendable {
    public var name: String
    /// Matcher correct, teacher correct.
    public var truePositives: Int
    /// Matcher correct, teacher incorrect: the matcher credits a wrong answer (a negated answer, a word inside another).
    public var falsePositives: Int
    /// Matcher incorrect, teacher correct: the matcher misses a right answer (a synonym, another spelling).
    public var falseNegatives: Int
    /// Matcher incorrect, teacher incorrect.
    public var trueNegatives: Int
    /// The example indices of the false positives and negatives, in evaluation order.
    public var falsePositiveIndices: [Int] = []
    public var falseNegativeIndices: [Int] = []

    public init(name: String, truePositives: Int, falsePositives: Int, falseNegatives: Int, trueNegatives: Int) {
        self.name = name
        self.truePositives = truePositives; self.falsePositives = falsePositives
        self.falseNegatives = falseNegatives; self.trueNegatives = trueNegatives
    }

    public var count: Int { truePositives + falsePositives + falseNegatives + trueNegatives }
    /// TP / (TP + FP); nil when the matcher called nothing correct.
    public var precision: Double? { ratio(truePositives, truePositives + falsePositives) }
    /// TP / (TP + FN); nil when the teacher called nothing correct.
    public var recall: Double? { ratio(truePositives, truePositives + falseNegatives) }
    /// The share of labels the matcher agrees with.
    public var observedAgreement: Double? { ratio(truePositives + trueNegatives, count) }

    /// Cohen's kappa, (p_o − p_e) / (1 − p_e), where p_e is the agreement expected by chance from each side's share of
    /// "correct"; nil when p_e = 1 (both sides gave every answer the same verdict, so chance explains everything).
    public var kappa: Double? {
        let n = Double(count)
        guard n > 0 else { return nil }
        let po = Double(truePositives + trueNegatives) / n
        let matcherYes = Double(truePositives + falsePositives) / n, teacherYes = Double(truePositives + falseNegatives) / n
        let pe = matcherYes * teacherYes + (1 - matcherYes) * (1 - teacherYes)
        guard pe < 1 else { return nil }
        return (po - pe) / (1 - pe)
    }

    private func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }
}

/// Every matcher of a run against hand labels (example index → correct or not).
///
/// ```swift
/// let a = try Agreement(run: results, labels: [3: true, 7: false, 12: false])
/// print(a.report)
/// ```
public struct Agreement: Equatable, Sendable {
    /// The labelled examples found in the run, in evaluation order.
    public var labelled: [Int]
    /// The labels: example index → judged correct.
    public var labels: [Int: Bool]
    public var labelledCorrect: Int
    /// One per matcher, in `AnswerMatchers.all` order.
    public var matchers: [MatcherAgreement]
    /// The run, for listing disagreements.
    public var run: EvaluationRun

    /// Fails when a label names an index the run does not hold, or no label applies.
    public init(run: EvaluationRun, labels: [Int: Bool]) throws {
        let known = Set(run.examples.map(\.index))
        let unknown = labels.keys.filter { !known.contains($0) }.sorted()
        guard unknown.isEmpty else {
            let some = run.examples.prefix(8).map { String($0.index) }.joined(separator: ", ")
            throw EvaluationError.invalidArgument("no example with index \(unknown.map(String.init).joined(separator: ", ")) in these results "
                                                  + "(the indices are the bracketed numbers of `incorrect`/`correct`: \(some)\(run.total > 8 ? ", ..." : ""))")
        }
        let examples = run.examples.filter { labels[$0.index] != nil }
        guard !examples.isEmpty else { throw EvaluationError.invalidArgument("no labels: give at least one labelled example") }
        self.run = run
        self.labels = labels
        labelled = examples.map(\.index)
        labelledCorrect = examples.filter { labels[$0.index]! }.count
        matchers = AnswerMatchers.all.map { m in
            var a = MatcherAgreement(name: m.name, truePositives: 0, falsePositives: 0, falseNegatives: 0, trueNegatives: 0)
            for e in examples {
                let says = m.isCorrect(e.match(m), flags: e.flags), teacher = labels[e.index]!
                switch (says, teacher) {
                case (true, true): a.truePositives += 1
                case (true, false): a.falsePositives += 1; a.falsePositiveIndices.append(e.index)
                case (false, true): a.falseNegatives += 1; a.falseNegativeIndices.append(e.index)
                case (false, false): a.trueNegatives += 1
                }
            }
            return a
        }
    }

    /// The table (one row per matcher: its confusion counts, precision, recall, kappa) and each matcher's
    /// disagreements with the labels, up to `limit` of each kind.
    public func report(limit: Int = 5) -> String {
        func pct(_ x: Double?) -> String { x.map { String(format: "%.1f%%", $0 * 100) } ?? "–" }
        let width = max(7, matchers.map(\.name.count).max() ?? 0)
        var lines = ["\(labelled.count) hand-labelled answers (\(labelledCorrect) correct, \(labelled.count - labelledCorrect) incorrect); "
                     + "TP/FP: the matcher says correct and the label agrees/disagrees, FN/TN: it says incorrect"]
        lines.append("  " + "matcher".padding(toLength: width, withPad: " ", startingAt: 0)
                     + "   TP  FP  FN  TN  precision  recall  agree  kappa")
        for m in matchers {
            lines.append("  " + m.name.padding(toLength: width, withPad: " ", startingAt: 0)
                         + String(format: " %4d %3d %3d %3d", m.truePositives, m.falsePositives, m.falseNegatives, m.trueNegatives)
                         + pct(m.precision).leftPadded(11) + pct(m.recall).leftPadded(8) + pct(m.observedAgreement).leftPadded(7)
                         + (m.kappa.map { String(format: "%.2f", $0) } ?? "–").leftPadded(7))
        }
        if matchers.contains(where: { $0.kappa == nil }) {
            lines.append("  (kappa –: every label and every verdict the same, so agreement says nothing beyond chance)")
        }
        let byIndex = Dictionary(run.examples.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        for m in matchers {
            for (kind, list) in [("false positive", m.falsePositiveIndices), ("false negative", m.falseNegativeIndices)] where !list.isEmpty {
                let why = kind == "false positive" ? "credited, labelled incorrect" : "not credited, labelled correct"
                lines.append("\(m.name) matcher, \(list.count) \(kind)\(list.count == 1 ? "" : "s") (\(why)):")
                for i in list.prefix(limit) {
                    guard let e = byIndex[i] else { continue }
                    let flags = e.flags.isEmpty ? "" : " [" + e.flags.map(\.rawValue).joined(separator: ", ") + "]"
                    lines.append("  [\(i)] truth \"\(e.groundTruth)\", prediction \"\(NotebookReport.cut(e.prediction, 60))\"\(flags)")
                }
                if list.count > limit { lines.append("  ... and \(list.count - limit) more") }
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// A teacher's hand labels: a CSV with an example index column and a label column.
///
/// ```text
/// index,label
/// 3,correct
/// 7,incorrect
/// ```
///
/// The header names the columns (`index` or `id`; `label`, `correct` or `verdict`); without a header the first two
/// columns are taken. A label reads `correct`/`incorrect`, `true`/`false`, `yes`/`no`, `1`/`0` (any case).
public enum HandLabels {
    public static func parse(_ text: String, file: String) throws -> [Int: Bool] {
        let records = try CSV.parse(text, file: file)
        guard let first = records.first else { throw CSVError(file: file, line: 1, message: "no labels: the file is empty") }
        var indexColumn = 0, labelColumn = 1, body = records[...]
        let names = first.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if Int(names.first ?? "") == nil {
            guard let i = names.firstIndex(where: { ["index", "id", "row"].contains($0) }),
                  let l = names.firstIndex(where: { ["label", "correct", "verdict", "judgement", "judgment"].contains($0) }) else {
                throw CSVError(file: file, line: first.line, message: "the header has no index and label columns (found "
                               + first.fields.joined(separator: ", ") + "); write `index,label`")
            }
            indexColumn = i; labelColumn = l; body = body.dropFirst()
        }
        var labels: [Int: Bool] = [:]
        for r in body {
            guard r.fields.count > max(indexColumn, labelColumn) else {
                throw CSVError(file: file, line: r.line, message: "expected an index and a label, found \(r.fields.count) field\(r.fields.count == 1 ? "" : "s")")
            }
            let rawIndex = r.fields[indexColumn].trimmingCharacters(in: .whitespaces)
            guard let index = Int(rawIndex) else {
                throw CSVError(file: file, line: r.line, message: "\"\(rawIndex)\" is not an example index (a whole number, as `incorrect` shows in brackets)")
            }
            let rawLabel = r.fields[labelColumn].trimmingCharacters(in: .whitespaces)
            guard let label = parseLabel(rawLabel) else {
                throw CSVError(file: file, line: r.line, message: "\"\(rawLabel)\" is not a label: write correct or incorrect")
            }
            if let earlier = labels[index], earlier != label {
                throw CSVError(file: file, line: r.line, message: "example \(index) is labelled both correct and incorrect")
            }
            labels[index] = label
        }
        return labels
    }

    /// `correct`, `true`, `yes`, `1`, `y`, `c` → true; `incorrect`, `wrong`, `false`, `no`, `0`, `n`, `i` → false.
    public static func parseLabel(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "correct", "true", "yes", "y", "1", "c", "right": return true
        case "incorrect", "false", "no", "n", "0", "i", "wrong": return false
        default: return nil
        }
    }
}

extension String {
    /// The text right-aligned in `width` characters.
    func leftPadded(_ width: Int) -> String { count >= width ? " " + self : String(repeating: " ", count: width - count) + self }
}
