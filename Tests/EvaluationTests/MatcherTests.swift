import Datasets
import Evaluation
import Llama
import Testing

@Suite struct NotebookMatcherTests {
    @Test(arguments: [
        // (prediction, ground truth, expected) written by hand from the notebook's rules.
        ("Cefaclor", "Cefaclor", MatchType.exact),
        ("the drug of choice is ceftriaxone, given IM", "Ceftriaxone", .exact),
        ("not diabetes mellitus", "Diabetes mellitus", .exact),            // the notebook's false positive
        ("environmental exposure", "Iron", .exact),                        // substring inside a word
        ("cefaclor", "Cefaclor.", .none),                                   // the notebook's false negative
        ("beta blockers", "Beta-blocker", .none),                          // hyphen: a false negative
        ("parvovirus b19", "Parvovirus B19 infection", .none),             // 2 of 3 content words = 67% < 70%
        ("infection due to parvovirus b19", "Parvovirus B19 infection", .partial),  // all 3 words, other order
        ("parvovirus b19 infection of marrow", "Parvovirus B19 infection", .exact),
        ("lymphoblastic leukemia, acute form", "Acute lymphoblastic leukemia", .partial),
        ("leukemia of lymphoblastic type", "Acute lymphoblastic leukemia", .none),    // 2/3
        ("the vitamin needed is b12", "Vitamin B12 deficiency", .none),     // vitamin, b12 = 2/3
        ("deficiency of vitamin b12", "Vitamin B12 deficiency", .partial),  // 3/3, not contiguous
        ("acute pancreatitis", "Pancreatitis", .exact),
        ("", "Warfarin", .none),
        ("anything", "of", .none),                                          // no content words
        ("tumour of the bone", "Ewing sarcoma of bone", .none),             // ewing, sarcoma, bone: 1/3
    ])
    func notebookRules(prediction: String, truth: String, expected: MatchType) {
        #expect(NotebookMatcher.check(prediction: prediction, groundTruth: truth) == expected)
    }

    @Test func contentWordsDropShortAndStopWords() {
        #expect(NotebookMatcher.contentWords("Inhibition of the Na/K ATPase in the heart") == ["inhibition", "na/k", "atpase", "heart"])
        #expect(NotebookMatcher.stopWords.count == 17)
    }

    @Test func partialUsesSubstringsOfPrediction() {
        // "sarcoma" is found inside "osteosarcoma": the notebook's word test is a substring test.
        #expect(NotebookMatcher.check(prediction: "osteosarcoma of ewing type", groundTruth: "Ewing sarcoma") == .partial)
    }
}

@Suite struct NormalisedMatcherTests {
    @Test(arguments: [
        ("cefaclor", "Cefaclor.", MatchType.exact),
        ("Cefaclor.", "cefaclor", .exact),
        ("Beta blockers", "Beta-blocker", .exact),
        ("The femoral nerve", "Femoral nerve", .exact),
        ("Addison's disease", "Addison disease", .exact),
        ("It is Addison disease.", "Addison disease", .contained),
        ("an infection due to parvovirus B19", "Parvovirus B19 infection", .none),
        ("vitamin b12", "Vitamin B12", .exact),
        ("vitamin b1", "Vitamin B12", .none),
        ("environmental exposure", "Iron", .none),
        ("Herpes simplex virus", "Herpes simplex virus", .exact),           // "virus" keeps its s
        ("", "Warfarin", .none),
    ])
    func normalisedRules(prediction: String, truth: String, expected: MatchType) {
        #expect(NormalisedMatcher.check(prediction: prediction, groundTruth: truth) == expected)
    }

    @Test func normaliseForms() {
        #expect(NormalisedMatcher.normalise("The Beta-Blockers.") == "beta blocker")
        #expect(NormalisedMatcher.normalise("  An ACE inhibitor, e.g. lisinopril ") == "ace inhibitor e g lisinopril")
        #expect(NormalisedMatcher.normalise("Pelvis") == "pelvis")
    }
}

@Suite struct MatchFlagTests {
    @Test func negationsAreFlagged() {
        #expect(MatchFlags.flags(prediction: "not diabetes mellitus", groundTruth: "Diabetes mellitus") == [.negated])
        #expect(MatchFlags.flags(prediction: "No pneumothorax is seen", groundTruth: "Pneumothorax").contains(.negated))
        #expect(MatchFlags.flags(prediction: "We must rule out sepsis first", groundTruth: "Sepsis").contains(.negated))
        #expect(MatchFlags.flags(prediction: "It isn't lupus.", groundTruth: "Lupus").contains(.negated))
        #expect(MatchFlags.flags(prediction: "Diabetes mellitus type 2", groundTruth: "Diabetes mellitus") == [])
        // A negation far before the answer does not apply to it.
        #expect(MatchFlags.flags(prediction: "Not an infection; the cause here is in fact diabetes mellitus", groundTruth: "Diabetes mellitus") == [])
    }

    @Test func otherFalsePositives() {
        #expect(MatchFlags.flags(prediction: "environmental exposure", groundTruth: "Iron") == [.insideWord])
        #expect(MatchFlags.flags(prediction: "lymphoblastic leukemia, acute form", groundTruth: "Acute lymphoblastic leukemia") == [.partialOnly])
        #expect(MatchFlags.flags(prediction: "lupus or sarcoidosis or lymphoma", groundTruth: "Sarcoidosis") == [.hedged])
        #expect(MatchFlags.flags(prediction: "  \n", groundTruth: "Sarcoidosis") == [.emptyPrediction])
        #expect(MatchFlags.flags(prediction: "Heparin", groundTruth: "Warfarin") == [])
    }
}

@Suite struct WilsonIntervalTests {
    // Reference values: the Wilson score formula with z = 1.959964 (as statsmodels'
    // proportion_confint(method="wilson") gives them).
    @Test(arguments: [
        (8, 20, 0.21880653237281708, 0.6134184992377468),
        (0, 20, 0.0, 0.16112515805281938),
        (20, 20, 0.8388748419471806, 1.0),
        (3, 20, 0.052368745896216595, 0.36041886474075696),
        (57, 200, 0.2269500300461729, 0.3511534602960517),
        (1, 1, 0.20654931437723745, 1.0),
    ])
    func knownValues(successes: Int, n: Int, lower: Double, upper: Double) {
        let ci = WilsonInterval(successes: successes, n: n)
        #expect(abs(ci.lower - lower) < 1e-12)
        #expect(abs(ci.upper - upper) < 1e-12)
    }

    @Test func printsWithN() {
        #expect("\(WilsonInterval(successes: 8, n: 20))" == "40.0% (95% CI 21.9%–61.3%, n = 20)")
        let none = WilsonInterval(successes: 0, n: 0)
        #expect(none.lower == 0 && none.upper == 1)
    }
}

/// SQuAD's token F1, against values worked by hand from its definition (evaluate-v1.1.py's normalize_answer and
/// f1_score): P = shared / prediction words, R = shared / truth words, F1 = 2PR / (P + R).
@Suite struct TokenF1MatcherTests {
    @Test(arguments: [
        ("the Denver Broncos", "Denver Broncos", 1.0),                  // the article dropped
        ("Broncos", "Denver Broncos", 2.0 / 3),                         // P 1, R 1/2
        ("not diabetes mellitus", "Diabetes mellitus.", 0.8),           // P 2/3, R 1: the negated false positive
        ("Beta-blockers", "beta blockers", 0.0),                        // SQuAD removes the hyphen: "betablockers"
        ("cats", "cat", 0.0),                                           // no singular forms
        ("iron iron deficiency", "iron deficiency anemia", 2.0 / 3),   // shared counted once per truth word: P 2/3, R 2/3
        ("", "Warfarin", 0.0),
        ("", "", 1.0),
    ])
    func f1ByHand(prediction: String, truth: String, expected: Double) {
        #expect(abs(TokenF1Matcher.f1(prediction: prediction, groundTruth: truth) - expected) < 1e-12)
    }

    @Test func verdicts() {
        #expect(TokenF1Matcher.check(prediction: "The femoral nerve.", groundTruth: "femoral nerve") == .exact)
        #expect(TokenF1Matcher.check(prediction: "Broncos", groundTruth: "Denver Broncos") == .overlap)
        #expect(TokenF1Matcher.check(prediction: "a viral infection of the liver", groundTruth: "Hepatitis B") == .none)
        #expect(TokenF1Matcher.check(prediction: "anything", groundTruth: "the") == .none)   // a truth with no words matches nothing
        #expect(TokenF1Matcher.words("  An ACE-inhibitor, e.g. lisinopril ") == ["aceinhibitor", "eg", "lisinopril"])
    }
}

/// A matcher is one type and one line in `AnswerMatchers.all`: the verdicts, the rules, the CSV and the reports
/// follow from the registry.
@Suite struct MatcherRegistryTests {
    @Test func everyMatcherReachesEveryOutput() throws {
        let careful = CarefulEvaluation(settings: .greedy(), rule: ScoringRule.normalised, showProgress: false)
        let e = careful.judge(index: 0, row: QARow(question: "q", answer: "Diabetes mellitus", sourceRow: 3), prompt: "p",
                              completion: "Not diabetes mellitus.", seconds: 0)
        var run = EvaluationRun(protocolName: "careful", rule: ScoringRule.normalised, settings: .greedy(), selectedIndices: [0])
        run.examples = [e]
        let csvHeader = run.csv().components(separatedBy: "\r\n")[0]
        for matcher in AnswerMatchers.all {
            let rule = try #require(ScoringRule(rawValue: matcher.name))
            #expect(e.matches[matcher.name] == matcher.check(prediction: e.prediction, groundTruth: e.groundTruth))
            #expect(csvHeader.contains("\(matcher.name)_match"))
            #expect(run.report().contains("\(matcher.name) matcher: "))
            #expect(matcher.verdicts.contains(e.match(matcher)))
            _ = run.accuracy(under: rule)
        }
        // the normalised matcher refuses a negated answer that the notebook's substring rule accepts
        #expect(e.match(NormalisedMatcher.self) == .contained && !e.isCorrect)
        #expect(e.isCorrect(under: ScoringRule.notebook))
        #expect(ScoringRule(rawValue: "no-such-matcher") == nil)
    }
}
