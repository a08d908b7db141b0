import Datasets
import Evaluation
import Foundation
import Llama
import Testing

/// Answers "Answer k" correctly for the rows listed in `right`, wrongly otherwise.
struct ScriptedGenerator: AnswerGenerator {
    let right: Set<Int>
    func generate(prompt: String, config: GenerationConfig) throws -> String {
        let k = Int(prompt.split(separator: "#")[1].prefix { $0.isNumber })!
        return right.contains(k) ? " answer \(k).\nBecause of reasons." : " something else"
    }
}

/// Fails on its third call.
final class FailingGenerator: AnswerGenerator, @unchecked Sendable {
    var calls = 0
    struct Broken: Error, CustomStringConvertible { var description: String { "the model file went away" } }
    func generate(prompt: String, config: GenerationConfig) throws -> String {
        calls += 1
        if calls == 3 { throw Broken() }
        return "x"
    }
}

/// Cancels the flag on its second call, as Ctrl-C during an example would.
final class InterruptingGenerator: AnswerGenerator, @unchecked Sendable {
    let flag: CancellationFlag
    var calls = 0
    init(_ flag: CancellationFlag) { self.flag = flag }
    func generate(prompt: String, config: GenerationConfig) throws -> String {
        calls += 1
        if calls == 2 { flag.cancel() }
        return "Answer"
    }
}

struct FixedScorer: AnswerScorer {
    let loss: Double
    func answerLoss(prompt: String, answer: String) throws -> (loss: Double, tokens: Int) {
        (loss, answer.split(separator: " ").count)
    }
}

@Suite struct CarefulEvaluationTests {
    static let test = QADataset(rows: (0..<10).map { QARow(question: "Question #\($0)?", answer: "Answer \($0)", sourceRow: 100 + $0) }, name: "t")

    static func careful(limit: Int? = nil, seed: Int? = nil, batch: Int = 1) -> CarefulEvaluation {
        CarefulEvaluation(limit: limit, sampleSeed: seed, batchSize: batch, showProgress: false)
    }

    @Test func wholeSplitGreedyWithInterval() throws {
        let run = try Self.careful().run(test: Self.test, generator: ScriptedGenerator(right: [1, 4, 7]))
        #expect(run.total == 10 && run.correctCount == 3)
        #expect(run.settings.do_sample == false)
        #expect(run.examples[1].prediction == "answer 1.")     // first line only
        #expect(run.examples[1].match(NormalisedMatcher.self) == .exact)
        #expect(run.examples[0].question == "Question #0?")     // whole question
        #expect(run.summary == "careful: 3/10 correct = 30.0% (95% CI 10.8%–60.3%, n = 10); notebook matcher 30.0%; token_f1 matcher 30.0%; greedy, 50 new tokens")
    }

    @Test func batchedRunGivesTheSameVerdicts() throws {
        let a = try Self.careful().run(test: Self.test, generator: ScriptedGenerator(right: [2, 3]))
        let b = try Self.careful(batch: 4).run(test: Self.test, generator: ScriptedGenerator(right: [2, 3]))
        #expect(a.examples.map(\.isCorrect) == b.examples.map(\.isCorrect))
    }

    @Test func selectionFirstRowsOrPythonSample() throws {
        #expect(try Self.careful(limit: 4).selectIndices(testCount: 10) == [0, 1, 2, 3])
        // random.seed(42); random.sample(range(6), 6) == [5, 0, 4, 2, 1, 3]
        #expect(try Self.careful(limit: 6, seed: 42).selectIndices(testCount: 6) == [5, 0, 4, 2, 1, 3])
        #expect(throws: EvaluationError.sampleLargerThanPopulation(k: 11, population: 10)) {
            try Self.careful(limit: 11).selectIndices(testCount: 10)
        }
        #expect(throws: EvaluationError.self) { try Self.careful().selectIndices(testCount: 0) }
    }

    @Test func cancellationKeepsFinishedExamples() throws {
        let flag = CancellationFlag()
        let run = try Self.careful().run(test: Self.test, generator: InterruptingGenerator(flag), cancellation: flag)
        #expect(run.total == 2)
        #expect(run.stopReason == .cancelled)
        #expect(run.summary.hasSuffix("[interrupted: 2 of 10 examples]"))
    }

    @Test func generatorFailureKeepsFinishedExamples() throws {
        let run = try Self.careful().run(test: Self.test, generator: FailingGenerator())
        #expect(run.total == 2)
        #expect(run.stopReason == .generatorFailed(index: 2, message: "the model file went away"))
    }

    @Test func negatedAnswerIsNotCorrectUnderTheNormalisedRule() throws {
        let data = QADataset(rows: [QARow(question: "Q #0", answer: "Diabetes mellitus")])
        struct Negator: AnswerGenerator {
            func generate(prompt: String, config: GenerationConfig) throws -> String { "Not diabetes mellitus." }
        }
        let run = try Self.careful().run(test: data, generator: Negator())
        #expect(run.examples[0].match(NotebookMatcher.self) == .exact)
        #expect(run.examples[0].match(NormalisedMatcher.self) == .contained)
        #expect(run.examples[0].isCorrect == false)
        #expect(run.accuracy(under: .notebook).successes == 1)
    }

    @Test func comparisonCountsChangedQuestions() throws {
        let cmp = try Self.careful().compare(test: Self.test, base: ScriptedGenerator(right: [0, 1]),
                                             tuned: ScriptedGenerator(right: [1, 2, 3, 4, 5]))
        #expect(cmp.improved.map(\.base.index) == [2, 3, 4, 5])
        #expect(cmp.regressed.map(\.base.index) == [0])
        #expect(cmp.bothCorrect == 1 && cmp.neitherCorrect == 4)
        // Exact binomial: 2 * P(X <= 1), X ~ Bin(5, 1/2) = 2 * 6/32.
        #expect(abs(cmp.mcnemarExactP - 0.375) < 1e-12)
        #expect(cmp.report.hasPrefix("base  20.0% (95% CI 5.7%–51.0%, n = 10)\ntuned 50.0% (95% CI 23.7%–76.3%, n = 10)\nchanged: 4 improved, 1 regressed, 5 unchanged"))
        #expect(abs(ModelComparison.mcnemarExactP(improved: 10, regressed: 0) - 0.001953125) < 1e-12)
        #expect(ModelComparison.mcnemarExactP(improved: 0, regressed: 0) == 1)
    }

    /// Issue 15: a tuned model that lost significantly says so in one line, with the counts.
    @Test func aSignificantRegressionIsWarnedAbout() throws {
        let worse = try Self.careful().compare(test: Self.test, base: ScriptedGenerator(right: [0, 1, 2, 3, 4, 5, 6, 7]),
                                               tuned: ScriptedGenerator(right: [0]))
        #expect(worse.significantRegression)   // 7 regressed, 0 improved: p = 2/128
        #expect(worse.report.contains("warning: the adapter made the model significantly worse on these questions: 7 regressed, 0 improved (McNemar exact p = 0.0156 < 0.05)"))
        // Worse but not significantly, or better: no warning.
        let slightly = try Self.careful().compare(test: Self.test, base: ScriptedGenerator(right: [0, 1, 2]), tuned: ScriptedGenerator(right: [0]))
        let better = try Self.careful().compare(test: Self.test, base: ScriptedGenerator(right: [0]), tuned: ScriptedGenerator(right: [0, 1, 2, 3, 4, 5, 6, 7]))
        #expect(!slightly.significantRegression && !slightly.report.contains("warning"))
        #expect(!better.significantRegression && !better.report.contains("warning"))
    }

    /// Issue 15: self-distillation keeps, in the generator's own words, exactly the rows the matcher accepts.
    @Test func selfDistillationKeepsTheAcceptedAnswersInTheModelsWords() throws {
        let run = try Self.careful().run(test: Self.test, generator: ScriptedGenerator(right: [1, 4, 7]))
        let (rows, kept) = SelfDistillation.rows(Self.test, run: run)
        #expect(kept == 3)
        for (i, row) in rows.rows.enumerated() {
            if [1, 4, 7].contains(i) {
                #expect(row.answer == run.examples[i].prediction.trimmingCharacters(in: .whitespacesAndNewlines))
                #expect(row.answer != Self.test.rows[i].answer)
            } else {
                #expect(row.answer == "Answer \(i)")
            }
            #expect(row.question == Self.test.rows[i].question && row.sourceRow == Self.test.rows[i].sourceRow)
        }
    }

    /// Issue 15: what `compare output=` keeps, read back, and the side-by-side table of `comparisons`.
    @Test func comparisonSummaryRoundTripsAndTabulates() throws {
        let cmp = try Self.careful().compare(test: Self.test, base: ScriptedGenerator(right: [0, 1]),
                                             tuned: ScriptedGenerator(right: [1, 2, 3, 4, 5]))
        let loss = AnswerLoss(examples: [(index: 0, loss: 2.0, tokens: 1), (index: 1, loss: 4.0, tokens: 3)], stoppedEarly: false)
        let summary = ComparisonSummary(cmp, pipeline: "default", protocol: "careful", lossBefore: loss, lossAfter: nil)
        #expect(summary.questions == 10 && summary.base_correct == 2 && summary.tuned_correct == 5)
        #expect(summary.improved == 4 && summary.regressed == 1 && abs(summary.mcnemar_p - 0.375) < 1e-12)
        #expect(summary.answer_loss_before == loss.meanLoss && summary.answer_loss_after == nil)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-summary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("cmp.json").path
        try summary.write(to: path)
        #expect(try ComparisonSummary.read(from: path) == summary)
        var notebook = summary
        notebook.pipeline = "notebook"; notebook.protocol = "notebook"; notebook.answer_loss_after = 2.5
        let table = ComparisonSummary.table([notebook, summary]).split(separator: "\n").map(String.init)
        #expect(table == [
            "pipeline | protocol | questions | base               | tuned               | improved | regressed | McNemar p | answer loss",
            "notebook | notebook | 10        | 20.0% (5.7%–51.0%) | 50.0% (23.7%–76.3%) | 4        | 1         | 0.375     | 3.500 → 2.500",
            "default  | careful  | 10        | 20.0% (5.7%–51.0%) | 50.0% (23.7%–76.3%) | 4        | 1         | 0.375     | -",
        ])
        // Files that are not summaries: the error names the file as the user gave it.
        let bad = dir.appendingPathComponent("bad.json").path
        try Data("{\"pipeline\": 3}".utf8).write(to: URL(fileURLWithPath: bad))
        #expect(throws: EvaluationError.unreadableFile("b.json: not a comparison summary (the file `compare ... output=` writes)")) {
            try ComparisonSummary.read(from: bad, shown: "b.json")
        }
        #expect(throws: EvaluationError.unreadableFile("none.json: no such file; `compare MODEL DATA output=none.json` writes it")) {
            try ComparisonSummary.read(from: dir.appendingPathComponent("none.json").path, shown: "none.json")
        }
        var impossible = summary
        impossible.tuned_correct = 11
        try impossible.write(to: path)
        #expect(throws: EvaluationError.self) { try ComparisonSummary.read(from: path) }
    }

    @Test func comparisonRefusesDifferentQuestions() throws {
        let a = try Self.careful(limit: 3).run(test: Self.test, generator: ScriptedGenerator(right: []))
        let b = try Self.careful(limit: 4).run(test: Self.test, generator: ScriptedGenerator(right: []))
        #expect(throws: EvaluationError.self) { try ModelComparison(base: a, tuned: b) }
    }

    @Test func answerLossBeforeAfter() throws {
        let before = try AnswerLoss.measure(test: Self.test, indices: [0, 1], scorer: FixedScorer(loss: 2), prompt: { $0 })
        let after = try AnswerLoss.measure(test: Self.test, indices: [0, 1], scorer: FixedScorer(loss: 1), prompt: { $0 })
        #expect(before.tokens == 4 && before.meanLoss == 2)
        #expect(abs(after.perplexity - exp(1.0)) < 1e-12)
        #expect(AnswerLoss.compare(before: before, after: after) == "answer loss 2.000 → 1.000 (perplexity 7.4 → 2.7) over 2 answers, 4 tokens")
        #expect(throws: EvaluationError.self) {
            try AnswerLoss.measure(test: Self.test, indices: [0], scorer: FixedScorer(loss: .nan), prompt: { $0 })
        }
    }

    @Test func csvQuotesPerRFC4180() throws {
        let data = QADataset(rows: [QARow(question: "Say \"hi\", then\nstop", answer: "a,b")])
        struct Echo: AnswerGenerator { func generate(prompt: String, config: GenerationConfig) throws -> String { "plain" } }
        let run = try Self.careful().run(test: data, generator: Echo())
        let lines = run.csv().components(separatedBy: "\r\n")
        #expect(lines[0] == "index,source_row,question,ground_truth,prediction,correct,notebook_match,normalised_match,token_f1_match,flags,seconds")
        #expect(run.csv().contains("0,0,\"Say \"\"hi\"\", then\nstop\",\"a,b\",plain,false,no_match,no_match,no_match,,"))
        #expect(run.csv().hasSuffix("\r\n"))
    }
}

@Suite struct RunReportTests {
    @Test func reportListsVerdictsAndFlags() throws {
        let data = QADataset(rows: [QARow(question: "Q #0: which disease?", answer: "Diabetes mellitus"),
                                    QARow(question: "Q #1: which drug?", answer: "Warfarin"),
                                    QARow(question: "Q #2: which drug?", answer: "Cefaclor.")])
        let outputs = ["#0": "Not diabetes mellitus.", "#1": "Heparin", "#2": "cefaclor"]
        struct Table: AnswerGenerator {
            let outputs: [String: String]
            func generate(prompt: String, config: GenerationConfig) throws -> String {
                outputs.first { prompt.contains($0.key) }!.value
            }
        }
        // Readings: start 0, then before and after each of 3 examples, end 7.
        let clock = SteppingClock(step: 1)
        let careful = CarefulEvaluation(showProgress: false, clock: { clock.read() })
        let run = try careful.run(test: data, generator: Table(outputs: outputs))
        let expected = """
        careful: 1/3 correct = 33.3% (95% CI 6.1%–79.2%, n = 3); notebook matcher 33.3%; token_f1 matcher 66.7%; greedy, 50 new tokens; 1 flagged
        normalised matcher: 1 exact, 1 contained, 1 no_match; notebook matcher: 1 exact, 0 partial, 2 no_match; token_f1 matcher: 1 exact, 1 overlap, 1 no_match
        flagged matches (likely false positives of the notebook matcher): 1
          [0] negated: truth "Diabetes mellitus", prediction "Not diabetes mellitus."
        incorrect (2):
          [0] Q #0: which disease?
              truth: Diabetes mellitus | prediction: Not diabetes mellitus.
          [1] Q #1: which drug?
              truth: Warfarin | prediction: Heparin
        correct (1):
          [2] Q #2: which drug?
              truth: Cefaclor. | prediction: cefaclor
        time: 7.0s, 2.33 s/example
        """
        #expect(run.report() == expected)
    }
}
