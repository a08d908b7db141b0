import Datasets
import Evaluation
import Foundation
import Llama
import Support
import Testing

/// Matchers against a teacher's hand labels: kappa, precision and recall worked by hand; the notebook matcher's
/// known false positive (a negated answer) and false negative (a synonym) found; labels and predictions read from CSV.
@Suite struct AgreementTests {
    @Test func kappaPrecisionAndRecallAgreeWithHandWorkedValues() {
        // n = 20, p_o = 17/20 = 0.85; the matcher says correct 10/20, the teacher 9/20:
        // p_e = 0.5·0.45 + 0.5·0.55 = 0.5, kappa = (0.85 − 0.5) / (1 − 0.5) = 0.7.
        let a = MatcherAgreement(name: "m", truePositives: 8, falsePositives: 2, falseNegatives: 1, trueNegatives: 9)
        #expect(abs(a.kappa! - 0.7) < 1e-12)
        #expect(abs(a.precision! - 0.8) < 1e-12)
        #expect(abs(a.recall! - 8.0 / 9.0) < 1e-12)
        #expect(abs(a.observedAgreement! - 0.85) < 1e-12)
        // n = 50, p_o = 35/50 = 0.7; matcher 25/50, teacher 30/50: p_e = 0.5·0.6 + 0.5·0.4 = 0.5, kappa = 0.4.
        let b = MatcherAgreement(name: "m", truePositives: 20, falsePositives: 5, falseNegatives: 10, trueNegatives: 15)
        #expect(abs(b.kappa! - 0.4) < 1e-12)
        // Worse than chance: always disagreeing, p_o = 0, p_e = 0.5 → −1.
        let c = MatcherAgreement(name: "m", truePositives: 0, falsePositives: 5, falseNegatives: 5, trueNegatives: 0)
        #expect(abs(c.kappa! + 1) < 1e-12)
        #expect(c.precision == 0 && c.recall == 0)
        // Every verdict and label "correct": chance explains all, kappa undefined; no precision without a positive.
        #expect(MatcherAgreement(name: "m", truePositives: 4, falsePositives: 0, falseNegatives: 0, trueNegatives: 0).kappa == nil)
        #expect(MatcherAgreement(name: "m", truePositives: 0, falsePositives: 0, falseNegatives: 2, trueNegatives: 3).precision == nil)
    }

    /// Four predictions: right, a negated answer, a synonym, wrong.
    static let predictions = """
        index,question,ground_truth,prediction
        0,q0,Warfarin,warfarin
        1,q1,Diabetes mellitus,not diabetes mellitus
        2,q2,Myocardial infarction,heart attack
        3,q3,Heparin,aspirin\r\n
        """

    @Test func theNotebookMatchersKnownFalsePositiveAndFalseNegativeAreFound() throws {
        let run = try EvaluationRun.fromCSV(Self.predictions, file: "p.csv")
        let a = try Agreement(run: run, labels: [0: true, 1: false, 2: true, 3: false])
        let notebook = a.matchers.first { $0.name == "notebook" }!
        #expect(notebook.falsePositiveIndices == [1] && notebook.falseNegativeIndices == [2])
        #expect([notebook.truePositives, notebook.falsePositives, notebook.falseNegatives, notebook.trueNegatives] == [Int](repeating: 1, count: 4))
        #expect(notebook.kappa == 0)   // p_o = 0.5 = p_e
        let normalised = a.matchers.first { $0.name == "normalised" }!
        #expect(normalised.falsePositiveIndices.isEmpty && normalised.falseNegativeIndices == [2])   // the negation rule
        let f1 = a.matchers.first { $0.name == "token_f1" }!
        #expect(f1.falsePositiveIndices == [1])   // F1 0.8, and SQuAD's F1 has no negation rule
        let report = a.report()
        #expect(report.contains("notebook matcher, 1 false positive (credited, labelled incorrect):\n  [1] truth \"Diabetes mellitus\", prediction \"not diabetes mellitus\" [negated]"))
        #expect(report.contains("  notebook      1   1   1   1      50.0%   50.0%  50.0%   0.00"))
        // An alias turns the synonym into a match for every matcher.
        let withAlias = try EvaluationRun.fromCSV(Self.predictions.replacingOccurrences(of: "index,question,ground_truth,prediction", with: "index,question,ground_truth,prediction,aliases")
            .replacingOccurrences(of: "warfarin\n", with: "warfarin,\n").replacingOccurrences(of: "mellitus\n", with: "mellitus,\n")
            .replacingOccurrences(of: "heart attack\n", with: "heart attack,MI | heart attack\n").replacingOccurrences(of: "aspirin\r\n", with: "aspirin,\r\n"), file: "p.csv")
        let b = try Agreement(run: withAlias, labels: [0: true, 1: false, 2: true, 3: false])
        #expect(b.matchers.allSatisfy { $0.falseNegativeIndices.isEmpty })
        #expect(withAlias.examples[2].aliases == ["MI", "heart attack"])
    }

    @Test func aNegatedAliasIsCaughtAsANegatedAnswer() {
        let j = AnswerMatchers.judge(prediction: "no heart attack", groundTruth: "Myocardial infarction", aliases: ["heart attack"])
        #expect(j.flags.contains(.negated))
        #expect(!NormalisedMatcher.isCorrect(j.matches["normalised"]!, flags: j.flags))
        #expect(j.matches["notebook"] == .exact)   // the notebook's rule has no negation: the known false positive
        let plain = AnswerMatchers.judge(prediction: "heart attack", groundTruth: "Myocardial infarction", aliases: ["heart attack"])
        #expect(plain.matches["normalised"] == MatchType.exact && plain.flags.isEmpty)
        #expect(AnswerMatchers.judge(prediction: "heart attack", groundTruth: "Myocardial infarction").matches["normalised"] == MatchType.none)
    }

    @Test func labelsAreReadWithOrWithoutAHeaderAndBadOnesNameTheirLine() throws {
        #expect(try HandLabels.parse("index,label\r\n3,correct\r\n7,Incorrect\r\n", file: "l.csv") == [3: true, 7: false])
        #expect(try HandLabels.parse("label,id\nyes,1\nno,2\n", file: "l.csv") == [1: true, 2: false])
        #expect(try HandLabels.parse("4,1\n5,0\n", file: "l.csv") == [4: true, 5: false])
        #expect(throws: CSVError(file: "l.csv", line: 3, message: "\"maybe\" is not a label: write correct or incorrect")) {
            try HandLabels.parse("index,label\n1,correct\n2,maybe\n", file: "l.csv")
        }
        #expect(throws: CSVError(file: "l.csv", line: 2, message: "\"x\" is not an example index (a whole number, as `incorrect` shows in brackets)")) {
            try HandLabels.parse("index,label\nx,correct\n", file: "l.csv")
        }
        #expect(throws: CSVError(file: "l.csv", line: 3, message: "example 1 is labelled both correct and incorrect")) {
            try HandLabels.parse("1,correct\n\n1,incorrect\n", file: "l.csv")
        }
        let run = try EvaluationRun.fromCSV(Self.predictions, file: "p.csv")
        #expect(throws: EvaluationError.self) { try Agreement(run: run, labels: [9: true]) }
    }

    @Test func csvIsReadAsRFC4180() throws {
        let text = "a,\"b, \"\"quoted\"\"\",c\r\n\r\n\"multi\nline\",,\n"
        #expect(try CSV.parse(text, file: "f.csv") == [CSV.Record(line: 1, fields: ["a", "b, \"quoted\"", "c"]),
                                                       CSV.Record(line: 3, fields: ["multi\nline", "", ""])])
        #expect(throws: CSVError(file: "f.csv", line: 2, message: "a quoted field is never closed")) { try CSV.parse("a\n\"b\nc", file: "f.csv") }
        // What the results CSV writes reads back the same.
        let rows = [["index", "prediction"], ["0", "say \"hi\",\nthen stop"]]
        #expect(try CSV.parse(CSV.table(rows), file: "t.csv").map(\.fields) == rows)
        // Free text a spreadsheet would run as a formula is kept as text.
        #expect(["=1+1", "+x", "-y", "@z", "smith, jo", ""].map(CSV.text) == ["'=1+1", "'+x", "'-y", "'@z", "smith, jo", ""])
    }

    @Test func resultsWrittenAsCSVReadBackWithTheSameVerdicts() throws {
        let run = try EvaluationRun.fromCSV(Self.predictions, file: "p.csv")
        let again = try EvaluationRun.fromCSV(run.csv(), file: "again.csv")
        #expect(again.examples.map(\.matches) == run.examples.map(\.matches))
        #expect(again.examples.map(\.index) == [0, 1, 2, 3] && again.correctCount == run.correctCount)
        #expect(throws: CSVError(file: "p.csv", line: 1, message: "the header needs ground_truth and prediction columns (found index, answer)")) {
            try EvaluationRun.fromCSV("index,answer\n0,x\n", file: "p.csv")
        }
    }

    @Test func theConfidenceIsThePredictionsOwnTokens() {
        // "The answer is: B12" in five tokens: "The", " answer", " is:", " B", "12".
        let reply = ScoredReply(text: "The answer is: B12", tokenEnds: [3, 10, 14, 16, 18], logprobs: [-0.1, -0.1, 0, -0.2, -0.5])
        let c = reply.confidence(of: "B12")!
        #expect(abs(c.meanTokenProbability - (exp(-0.2) + exp(-0.5)) / 2) < 1e-6)
        #expect(abs(c.minimumTokenProbability - exp(-0.5)) < 1e-6)
        #expect(abs(c.answerProbability - exp(-0.7)) < 1e-6)
        // A token that ends where the answer starts is not the answer's.
        #expect(abs(reply.confidence(of: "12")!.meanTokenProbability - exp(-0.5)) < 1e-6)
        // An empty prediction, or one not in the text: the whole reply.
        #expect(reply.confidence(of: "")! == AnswerConfidence(logprobs: reply.logprobs)!)
        #expect(ScoredReply(text: "x").confidence(of: "x") == nil)
    }

    @Test func theRiskCoverageTableComesFromTheExamplesConfidences() throws {
        var run = try EvaluationRun.fromCSV(Self.predictions, file: "p.csv")
        #expect(run.riskCoverage() == nil)   // no confidences
        for (i, p) in [0.9, 0.8, 0.2, 0.4].enumerated() { run.examples[i].confidence = AnswerConfidence(logprobs: [Float(log(p))]) }
        let rc = run.riskCoverage()!
        // Ordered 0.9 (right), 0.8 (negated: wrong), 0.4 (wrong), 0.2 (synonym: wrong under the normalised rule).
        #expect(rc.rows.map(\.answered) == [4, 3, 2, 1])
        #expect(rc.rows.map(\.accuracy.successes) == [1, 1, 1, 1])
        #expect(zip(rc.rows.map(\.threshold), [0.2, 0.4, 0.8, 0.9]).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}
