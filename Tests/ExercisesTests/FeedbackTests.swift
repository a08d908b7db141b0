import Exercises
import Language
import Testing

/// The feedback a student reads: in words, with no regular-expression syntax.
@Suite struct FeedbackTests {
    @Test func patternsReadAsWords() {
        #expect(AnswerRubric.plainWords("overfit\\w*") == "overfit")
        #expect(AnswerRubric.plainWords("\\bnext\\s+token\\b") == "next token")
        #expect(AnswerRubric.plainWords("(low|small) rank") == "low rank")
        #expect(AnswerRubric.plainWords("over\\-fit") == "over-fit")
        #expect(AnswerRubric.name(of: ["overfit\\w*", "memori[sz]e"]) == "overfit (or memorise)")
        #expect(Feedback.readable("reply matches '^[A-D]$'") == "reply matches 'A'")
        #expect(Feedback.readable("unknown name 'rate'; did you mean \"rates\"?") == "unknown name 'rate'; did you mean \"rates\"?")
        #expect(Feedback.readable("an 'unclosed quote") == "an 'unclosed quote")
    }

    @Test func feedbackNamesWhatFellShortWithHints() {
        let checks = [CheckResult(label: "reply matches '^[A-D]$'", passed: false, message: "no match", points: 1, hint: "one letter"),
                      CheckResult(label: "rank is 16", passed: true, message: "", points: 2)]
        let report = GradeReport(student: "s/alice.mednb", teacher: "t/q.teacher.mednb", exercises: [
            ExerciseGrade(id: "pick", points: 3, earned: 2, attempted: true, checks: checks, notes: []),
            ExerciseGrade(id: "later", points: 1, earned: 0, attempted: false, checks: [], notes: []),
        ], notes: [], integrity: ["cell 'setup' was changed"])
        let text = Feedback.markdown(Submission(student: "alice", path: "s/alice.mednb", report: report), teacher: "t/q.teacher.mednb")
        #expect(text == """
            # Feedback for alice

            2 / 4 points (50%), graded with q.teacher.mednb.

            ## pick: 2 / 3 points

            - reply matches 'A': no match
              - hint: one letter

            ## later: 0 / 1 points

            Not attempted: the cell still holds what you were given.

            ## Cells you were not meant to change

            - cell 'setup' was changed: grading used the teacher's version

            """)
        let failed = Feedback.markdown(Submission(student: "bob", path: "bob.mednb", failure: "line 1: not a medrepl notebook"), teacher: "q.mednb")
        #expect(failed == "# Feedback for bob\n\nYour notebook could not be graded with q.mednb: line 1: not a medrepl notebook\n")
    }
}
