import Datasets
import Evaluation
import Llama
import Testing

/// The notebook report's layout: a multi-line prediction stays indented under its item.
@Suite struct NotebookReportLayoutTests {
    @Test func multiLinePredictionsKeepTheirIndentation() {
        let row = QARow(question: "Which vitamin?", answer: "C")
        var e = CarefulEvaluation().judge(index: 7, row: row, prompt: "p", completion: "x", seconds: 0)
        e.prediction = "Vitamin D\nbecause of rickets"
        var run = EvaluationRun(protocolName: "notebook", rule: .notebook, settings: .greedy(max_new_tokens: 5), selectedIndices: [7])
        run.examples = [e]
        let report = NotebookReport(protocol: NotebookEvaluationProtocol())
        let final = report.final(run)
        #expect(final.contains("      Prediction:   Vitamin D\n                    because of rickets"), "\(final)")
        let block = report.exampleBlock(e, number: 1, of: 1, soFar: [e])
        #expect(block.contains("  Prediction:   Vitamin D\n                because of rickets"), "\(block)")
    }
}
