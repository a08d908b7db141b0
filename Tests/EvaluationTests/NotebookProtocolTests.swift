import Datasets
import Evaluation
import Foundation
import Llama
import TestSupport
import Testing

/// A generator that answers from a table keyed by a phrase of the prompt, and records the prompts.
final class TableGenerator: AnswerGenerator, @unchecked Sendable {
    let table: [(phrase: String, output: String)]
    var prompts: [String] = []
    var configs: [GenerationConfig] = []
    init(_ table: [(String, String)]) { self.table = table.map { (phrase: $0.0, output: $0.1) } }
    func generate(prompt: String, config: GenerationConfig) throws -> String {
        prompts.append(prompt)
        configs.append(config)
        return table.first { prompt.contains($0.phrase) }?.output ?? ""
    }
}

@Suite struct NotebookProtocolTests {
    // 100 code points: "é" is written as e + U+0301, two code points, as Python counts it.
    static let cut = "A 52-year-old cafe\u{301} owner with polyuria and polydipsia has fasting glucose of 9 mmol/L; the diagnosi"
    static let q0 = cut + "s is most likely what?"
    static let q3 = "Which drug inhibits vitamin K epoxide reductase?"
    static let q20 = "A 4-year-old has bone pain, pallor and lymphoblasts in the marrow. Diagnosis?"

    /// 5 training rows, then 25 test rows; random.seed(42); random.sample(range(25), 3) == [20, 3, 0].
    static func dataset() -> QADataset {
        var rows = (0..<30).map { QARow(question: "Filler question number \($0)?", answer: "Filler \($0)", sourceRow: $0) }
        rows[5] = QARow(question: q0, answer: "Diabetes mellitus", sourceRow: 5)
        rows[8] = QARow(question: q3, answer: "Warfarin", sourceRow: 8)
        rows[25] = QARow(question: q20, answer: "Acute lymphoblastic leukemia", sourceRow: 25)
        return QADataset(rows: rows, name: "vignettes")
    }

    static func generator() -> TableGenerator {
        TableGenerator([("cafe\u{301}", " not diabetes mellitus"),
                        ("epoxide", " Heparin is the drug.\nThe answer is: heparin"),
                        ("lymphoblasts", " lymphoblastic leukemia, acute form")])
    }

    static func evaluation() -> NotebookEvaluationProtocol {
        let clock = SteppingClock(step: 0.25)
        return NotebookEvaluationProtocol(trainingRows: 5, k: 3, clock: { clock.read() })
    }

    @Test func promptIsTheNotebooksText() {
        let p = NotebookEvaluationProtocol().prompt(for: Self.q0)
        #expect(p == "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nAnswer this medical question briefly: "
                + Self.cut + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nThe answer is:")
    }

    @Test func predictionIsTextAfterLastMarker() {
        #expect(NotebookEvaluationProtocol.extractPrediction(fromCompletion: " Warfarin.\n") == "Warfarin.")
        #expect(NotebookEvaluationProtocol.extractPrediction(fromCompletion: " x The answer is: y The answer is:  z ") == "z")
        #expect(NotebookEvaluationProtocol.extractPrediction(fromCompletion: "") == "")
    }

    @Test func endToEndReportAndJSON() throws {
        let gen = Self.generator()
        var printed: [String] = []
        let run = try Self.evaluation().run(dataset: Self.dataset(), generator: gen) { printed.append($0) }
        #expect(gen.configs.allSatisfy { $0 == GenerationConfig(max_new_tokens: 50, do_sample: true, temperature: 0.3, top_p: 0.9, top_k: 0) })
        #expect(gen.prompts[2].contains(Self.cut + "<|eot_id|>"))
        let text = printed.joined(separator: "\n")
        let expected = """
        Evaluating on 3 random test examples (random.seed(42), 25 test rows)
        Selected indices: [20, 3, 0]
        Generation: max_new_tokens=50, temperature=0.3, top_p=0.9, do_sample=True

        Example 1/3 (index 20)
        Question: A 4-year-old has bone pain, pallor and lymphoblasts in the marrow. Diagnosis?
        ✓ CORRECT (partial)
          Ground truth: Acute lymphoblastic leukemia
          Prediction:   lymphoblastic leukemia, acute form
          Running accuracy: 1/1 (100.0%)

        Example 2/3 (index 3)
        Question: Which drug inhibits vitamin K epoxide reductase?
        ✗ INCORRECT (no_match)
          Ground truth: Warfarin
          Prediction:   heparin
          Running accuracy: 1/2 (50.0%)

        Example 3/3 (index 0)
        Question: \(Self.cut)...
        ✓ CORRECT (exact)
          Ground truth: Diabetes mellitus
          Prediction:   not diabetes mellitus
          Running accuracy: 2/3 (66.7%)

        ============================================================
        EVALUATION RESULTS
        ============================================================
        Total examples:   3
        Exact matches:    1
        Partial matches:  1
        Accuracy:         66.67%
        Incorrect:        1
        Total time:       1.75s
        Time per example: 0.58s

        INCORRECT EXAMPLES (1):
          [3] Which drug inhibits vitamin K epoxide reductase?
              Ground truth: Warfarin
              Prediction:   heparin

        CORRECT EXAMPLES (first 2 of 2):
          [20] A 4-year-old has bone pain, pallor and lymphoblasts in the marrow. Diagnosis? (partial)
              Ground truth: Acute lymphoblastic leukemia
              Prediction:   lymphoblastic leukemia, acute form
          [0] \(Self.cut)... (exact)
              Ground truth: Diabetes mellitus
              Prediction:   not diabetes mellitus

        ASSESSMENT: GOOD: the model answers a majority correctly (60-79%)
        """
        #expect(text == expected)
        // The notebook's exact match on "not diabetes mellitus" is kept, but flagged.
        #expect(run.examples[2].flags == [.negated])
        #expect(run.flagged.count == 2)

        // Python's json.dumps(results, indent=2) of the same results, written by hand from Python's output.
        let json = """
        {
          "accuracy": 66.66666666666666,
          "exact_matches": 1,
          "partial_matches": 1,
          "total": 3,
          "time_seconds": 1.75,
          "selected_indices": [
            20,
            3,
            0
          ],
          "detailed_results": [
            {
              "index": 20,
              "question": "A 4-year-old has bone pain, pallor and lymphoblasts in the marrow. Diagnosis?",
              "ground_truth": "Acute lymphoblastic leukemia",
              "prediction": "lymphoblastic leukemia, acute form",
              "correct": true,
              "match_type": "partial"
            },
            {
              "index": 3,
              "question": "Which drug inhibits vitamin K epoxide reductase?",
              "ground_truth": "Warfarin",
              "prediction": "heparin",
              "correct": false,
              "match_type": "no_match"
            },
            {
              "index": 0,
              "question": "A 52-year-old cafe\\u0301 owner with polyuria and polydipsia has fasting glucose of 9 mmol/L; the diagnosi",
              "ground_truth": "Diabetes mellitus",
              "prediction": "not diabetes mellitus",
              "correct": true,
              "match_type": "exact"
            }
          ]
        }
        """
        #expect(run.notebookJSON() == json)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("evaluation_results.json").path
        try run.writeNotebookJSON(to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == json)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["evaluation_results.json"])
    }

    @Test func assessmentBands() {
        #expect(NotebookReport.assessment(accuracyPercent: 80).hasPrefix("EXCELLENT"))
        #expect(NotebookReport.assessment(accuracyPercent: 79.9).hasPrefix("GOOD"))
        #expect(NotebookReport.assessment(accuracyPercent: 60).hasPrefix("GOOD"))
        #expect(NotebookReport.assessment(accuracyPercent: 45).hasPrefix("MODERATE"))
        #expect(NotebookReport.assessment(accuracyPercent: 20).hasPrefix("POOR"))
        #expect(NotebookReport.assessment(accuracyPercent: 19.99).hasPrefix("VERY POOR"))
    }

    @Test func emptyTestRangeIsAClearError() {
        let data = QADataset(rows: (0..<200).map { QARow(question: "Question \($0) is long enough?", answer: "A\($0)") }, name: "train200.json")
        #expect {
            try NotebookEvaluationProtocol().run(dataset: data, generator: Self.generator())
        } throws: { error in
            "\(error)" == "the test set is empty: train200.json has 200 rows and the first 200 are the training range"
        }
    }

    @Test func kLargerThanTestSetIsAClearError() {
        let e = NotebookEvaluationProtocol(trainingRows: 25, k: 20)
        #expect {
            try e.run(dataset: Self.dataset(), generator: Self.generator())
        } throws: { error in
            "\(error)" == "cannot pick 20 examples from a test set of 5 rows"
        }
    }

    @Test func silentModelIsReportedNotACrash() throws {
        var printed: [String] = []
        let run = try Self.evaluation().run(dataset: Self.dataset(), generator: TableGenerator([])) { printed.append($0) }
        #expect(run.total == 3 && run.correctCount == 0)
        #expect(run.emptyPredictions == 3)
        #expect(printed.last!.contains("Warning: the model produced no text for 3 of 3 examples"))
        #expect(printed.last!.contains("ASSESSMENT: VERY POOR"))
    }
}

/// A generator that answers every question correctly by looking the answer up.
struct OracleGenerator: AnswerGenerator {
    let answers: [String: String]   // truncated question → answer
    func generate(prompt: String, config: GenerationConfig) throws -> String {
        for (q, a) in answers where prompt.contains(q) { return " \(a)." }
        return ""
    }
}

@Suite struct NotebookProtocolSharedDataTests {
    @Test func sharedDevSetPicksPythonsRows() throws {
        guard let path = Repository.shared("data/medqa_open_dev.verifiable.json")?.path else {
            print("skipped: ../shared/data/medqa_open_dev.verifiable.json is absent"); return
        }
        let data = try QADataset.load(path: path)
        let test = try data.split(at: 200).test
        var answers: [String: String] = [:]
        for row in test.rows { answers[NotebookEvaluationProtocol.pythonPrefix(row.question, 100)] = row.answer }
        let run = try NotebookEvaluationProtocol().run(dataset: data, generator: OracleGenerator(answers: answers))
        // random.seed(42); random.sample(range(1272 - 200), 20), recorded in the Python fixture.
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: Repository.url("Tests/EvaluationTests/Fixtures/python_random.json"))) as! [String: Any]
        let expected = (fixture["sample"] as! [[String: Any]]).first { ($0["n"] as! Int) == 1072 && ($0["seed"] as! String) == "42" }!["result"] as! [Int]
        #expect(run.selectedIndices == expected)
        #expect(run.total == 20 && run.exactMatches == 20)
        #expect(run.examples.map(\.sourceRow) == expected.map { $0 + 200 })
    }
}

@Suite struct NotebookCancellationTests {
    /// Cancels the flag during its first call, as Ctrl-C during generation would.
    final class Interrupting: AnswerGenerator, @unchecked Sendable {
        let flag: CancellationFlag
        init(_ flag: CancellationFlag) { self.flag = flag }
        func generate(prompt: String, config: GenerationConfig) throws -> String { flag.cancel(); return " Warfarin" }
    }

    @Test func interruptedRunKeepsFinishedExamplesAndReports() throws {
        let flag = CancellationFlag()
        var printed: [String] = []
        let run = try NotebookProtocolTests.evaluation().run(dataset: NotebookProtocolTests.dataset(),
                                                             generator: Interrupting(flag), cancellation: flag) { printed.append($0) }
        #expect(run.total == 1 && run.selectedIndices.count == 3)
        #expect(run.stopReason == .cancelled)
        #expect(printed.last!.contains("Stopped early (interrupted): 1 of 3 examples evaluated"))
        #expect(run.notebookJSON().contains("\"total\": 1,"))
    }
}
