import Exercises
import Foundation
import Testing

/// Written answers: what `check_answer` finds in a text and how it says what is missing.
@Suite struct AnswerRubricTests {
    @Test func ideasMatchWholeWordsWithoutCaseAndAcrossHyphens() throws {
        #expect(try AnswerRubric.holds(["next token"], in: "it predicts the Next-Token"))
        #expect(try AnswerRubric.holds(["next token"], in: "the next\ntoken"))
        #expect(try !AnswerRubric.holds(["mask"], in: "nothing is unmasked"))
        #expect(try AnswerRubric.holds(["mask\\w*"], in: "tokens are MASKED"))
        #expect(try !AnswerRubric.holds(["overfit"], in: "overfitting"))
        #expect(try AnswerRubric.holds(["overfit\\w*", "memori[sz]\\w*"], in: "it memorizes"))
        #expect(throws: AnswerRubricError.self) { try AnswerRubric.holds(["(unclosed"], in: "x") }
    }

    @Test func numbersPercentagesAndChoices() {
        let found = AnswerRubric.numbers(in: "n = 1,000 rows, 95% interval, lr 2e-4, r=16.")
        #expect(found.contains(1000) && found.contains(95) && found.contains(0.95) && found.contains(2e-4) && found.contains(16))
        #expect(AnswerRubric.choiceLetter(in: "B) because it is causal") == "B")
        #expect(AnswerRubric.choiceLetter(in: "(c)") == "c")
        #expect(AnswerRubric.choiceLetter(in: "Because") == nil)
    }

    @Test func verdictNamesWhatIsMissingAndCountsMisconceptions() throws {
        var rubric = AnswerRubric()
        rubric.required = [["causal", "autoregressive"], ["next token"]]
        rubric.optional = [["more data"], ["more epochs"], ["larger model"]]
        rubric.minimumOptional = 2
        rubric.numbers = [95]
        rubric.wrong = [["masked language model\\w* is (on|used)"]]
        let full = try rubric.assess("An autoregressive model predicts the next token; add more data and a larger model. 95% of ...")
        #expect(full.fraction == 1 && full.feedback.isEmpty)
        let partial = try rubric.assess("It is causal. More data helps.")
        #expect(partial.met == 1 && partial.requirements == 4)
        #expect(partial.feedback.contains("missing: next token"))
        #expect(partial.feedback.contains("2 of: more data"))
        #expect(partial.feedback.contains("the number 95"))
        let wrong = try rubric.assess("It is causal and predicts the next token, so a masked language model is used. 0.95")
        #expect(wrong.met == 2 - 1 && wrong.misconceptions.count == 1)   // 0.95 is not 95
        #expect(wrong.feedback.contains("says what is wrong"))
        let untouched = try rubric.assess("  TODO: write your answer here\n")
        #expect(!untouched.attempted && untouched.fraction == 0 && untouched.feedback == "not attempted")
        #expect(try !rubric.assess("").attempted)
    }
}

/// Grading feedback names ideas in words, never as regular expressions.
@Suite struct GradingFeedbackTests {
    @Test func ideasAreNamedInWords() throws {
        #expect(AnswerRubric.plainWords("trade-?offs?") == "trade-off")
        #expect(AnswerRubric.plainWords("cost\\w*") == "cost")
        #expect(AnswerRubric.plainWords("(?:over|under)fit\\w*") == "overfit")
        #expect(AnswerRubric.plainWords("next[- ]token") == "next-token")
        #expect(AnswerRubric.plainWords("causal") == "causal")
        var rubric = AnswerRubric()
        rubric.required = [["trade-?offs?", "cost\\w*", "overfit\\w*"], ["label:the learning rate", "learning[- ]rates?", "lr"]]
        let verdict = try rubric.assess("Nothing relevant here at all.")
        #expect(verdict.missing == ["trade-off (or cost, overfit)", "the learning rate"])
        #expect(try rubric.assess("The trade-off is the learning rate.").missing.isEmpty, "a label is not matched, the alternatives are")
    }
}
