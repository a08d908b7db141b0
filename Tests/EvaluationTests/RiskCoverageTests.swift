import Evaluation
import Testing

// The risk-coverage table against a hand-made list: ten answers, their confidences and verdicts.
@Suite struct RiskCoverageTests {
    static let confidences = [0.3, 0.9, 0.05, 0.6, 0.8, 0.2, 0.7, 0.4, 0.1, 0.5]
    static let correct = [true, true, false, true, true, false, false, false, false, false]
    // by confidence: 0.9 T, 0.8 T, 0.7 F, 0.6 T, 0.5 F, 0.4 F, 0.3 T, 0.2 F, 0.1 F, 0.05 F

    @Test func mostConfidentShares() {
        let rc = RiskCoverage(confidences: Self.confidences, correct: Self.correct)
        #expect(rc.rows.map(\.answered) == [10, 8, 5, 2])
        #expect(rc.rows.map(\.accuracy.successes) == [4, 4, 3, 2])
        #expect(rc.rows.map(\.threshold) == [0.05, 0.2, 0.5, 0.8])
        #expect(rc.rows[3].accuracy == WilsonInterval(successes: 2, n: 2))
        #expect(rc.table.split(separator: "\n")[2] == "   50% answered (5 of 10): 60.0% correct (95% CI 23.1%–88.2%), confidence ≥ 0.500")
    }

    @Test func tiesSmallSetsAndNone() {
        // equal confidences keep their order; a share of a tiny set still answers one
        let rc = RiskCoverage(confidences: [0.5, 0.5, 0.5], correct: [false, true, true], coverages: [1, 0.2])
        #expect(rc.rows.map(\.answered) == [3, 1] && rc.rows[1].accuracy.successes == 0)
        #expect(RiskCoverage(confidences: [], correct: []).rows.isEmpty)
    }
}

@Suite struct RiskCoverageThresholdTests {
    /// `abstain_below=` the threshold shown keeps the answers of its row: never rounded up.
    @Test func thresholdsAreRoundedDown() {
        let rc = RiskCoverage(confidences: [0.6219, 3.19e-5], correct: [true, false], coverages: [0.5, 1])
        #expect(rc.table == "   50% answered (1 of 2): 100.0% correct (95% CI 20.7%–100.0%), confidence ≥ 0.621\n  100% answered (2 of 2): 50.0% correct (95% CI 9.5%–90.5%), confidence ≥ 3.1e-05")
    }
}
