import Exercises
import Foundation
import Language

/// The written answers of a session, by question id: what `answer` stores and `check_answer` reads.
/// It lives under the name `answers`, so `show answers` and `answers.mlm` read it.
public final class AnswersObject: LiveObject {
    /// Answer texts by question id, in the order first answered.
    public private(set) var texts: [(id: String, text: String)] = []

    public init() {}

    public var typeName: String { "Answers" }
    public var summary: String { texts.isEmpty ? "no answers" : "\(texts.count) answer\(texts.count == 1 ? "" : "s"): " + texts.map(\.id).joined(separator: ", ") }
    public var fieldNames: [String] { texts.map(\.id) }
    public func field(_ name: String) -> Value? { texts.first { $0.id == name }.map { .string($0.text) } }

    /// Stores (or replaces) the answer to a question.
    public func set(_ id: String, _ text: String) {
        if let i = texts.firstIndex(where: { $0.id == id }) { texts[i].text = text } else { texts.append((id, text)) }
    }

    /// The session's answers, created under the name `answers` when absent (or when the name holds something else).
    public static func of(_ session: Session) -> AnswersObject {
        if case .object(let o)? = session.value(named: "answers"), let answers = o as? AnswersObject { return answers }
        let answers = AnswersObject()
        session.set("answers", .object(answers))
        return answers
    }
}

extension VerbGroup {
    /// `answer` and `check_answer`: written questions in exercise notebooks (docs/exercises.md).
    public static var exercises: VerbGroup {
        let ideas = "a list of key ideas; each idea is a text or a list of alternatives (synonyms), "
            + "each a regular expression matched without regard to case at word boundaries"
        return VerbGroup("Exercises", intro: """
            Written answers and their checks, for exercise notebooks (see docs/exercises.md): `answer` stores \
            a student's answer, `check_answer` scores it against the key ideas, numbers or choice a good \
            answer holds, and names what is missing.
            """, verbs: [
            Verb("answer", summary: "Store the answer to a written question (read back as answers.ID).",
                 positional: [Parameter("id", .name, help: "the question's id"),
                              Parameter("text", .string, help: "the answer, usually a \"\"\" string over several lines")],
                 examples: ["answer mlm \"\"\"\nWith mlm=False the collator builds causal LM labels.\n\"\"\""]) { inv, session in
                let id = try inv.string("id")
                let text = try inv.string("text")
                AnswersObject.of(session).set(id, text)
                let words = AnswerRubric.wordCount(text)
                session.writeLine(AnswerRubric.isUntouched(text) ? "answer \(id): not written yet"
                                  : "answer \(id): \(words) word\(words == 1 ? "" : "s")")
                return .none
            },
            Verb("check_answer", summary: "Score a written answer against what a good answer must hold; name what is missing.",
                 details: "Each idea in `keys=` counts as one requirement, `any=` as one (at least `min_any=` of its ideas), "
                    + "each number in `numbers=` as one (`95%` also reads as 0.95), `choice=` as one, `min_words=` as one; "
                    + "each idea of `wrong=` found cancels one. The check earns that share of `points=`. An empty answer, "
                    + "or the student copy's `TODO` placeholder, is \"not attempted\".",
                 positional: [Parameter("id", .name, help: "the question's id, as given to `answer`")],
                 keywords: [
                    Parameter("keys", .list, default: .list([]), help: "ideas that must all appear: " + ideas),
                    Parameter("any", .list, default: .list([]), help: "ideas of which at least min_any must appear"),
                    Parameter("min_any", .int, default: .int(1), help: "how many of the any= ideas are needed"),
                    Parameter("numbers", .list, default: .list([]), help: "numbers that must appear"),
                    Parameter("choice", .string, optional: true, help: "the option letter of a multiple-choice answer"),
                    Parameter("wrong", .list, default: .list([]), help: "misconceptions; each one found cancels a met requirement"),
                    Parameter("min_words", .int, optional: true, help: "the fewest words a good answer has"),
                    Parameter("label", .string, optional: true, help: "what the check is about, shown in its result line"),
                    Parameter("points", .double, default: .double(1), help: "what the answer is worth when graded"),
                    Parameter("hint", .string, optional: true, help: "a hint shown to a student whose answer falls short (grading feedback)"),
                 ],
                 examples: ["check_answer mlm keys=[[\"causal\", \"next token\"], 'mask\\w*'] points=2",
                            "check_answer size numbers=[95] any=[\"interval\", \"confidence\"]",
                            "check_answer q3 choice=B"]) { inv, session in
                let id = try inv.string("id")
                var rubric = AnswerRubric()
                rubric.required = try ideaList(inv, "keys")
                rubric.optional = try ideaList(inv, "any")
                rubric.minimumOptional = max(1, try inv.int("min_any"))
                rubric.numbers = try inv.list("numbers").map { v in
                    guard let n = v.number else { throw inv.error("numbers= holds numbers, not \(v.display)", at: "numbers") }
                    return n
                }
                rubric.choice = try inv.optionalString("choice")
                rubric.wrong = try ideaList(inv, "wrong")
                rubric.minimumWords = try inv.optionalInt("min_words")
                let points = try inv.double("points")
                let label = try inv.optionalString("label") ?? "answer \(id)"
                let text: String
                if case .object(let o)? = session.value(named: "answers"), let answers = o as? AnswersObject,
                   case .string(let t)? = answers.field(id) {
                    text = t
                } else {
                    text = ""
                }
                let verdict: AnswerVerdict
                do { verdict = try rubric.assess(text) } catch let e as AnswerRubricError { throw inv.error(e.description) }
                let earned = points * verdict.fraction
                let passed = verdict.attempted && verdict.met == verdict.requirements
                session.checks.append(CheckResult(label: label, passed: passed, message: verdict.feedback, points: points, earned: earned,
                                                  hint: try inv.optionalString("hint"), missing: verdict.missing))
                let score = "\(GradeReport.format(earned))/\(GradeReport.format(points)) points"
                session.writeLine(passed ? "ok: \(label) (\(score))" : "FAIL: \(label) (\(score)): \(verdict.feedback)")
                return .bool(passed)
            }.quiet(),
        ])
    }

    /// A list of ideas: each item a text (one alternative) or a list of texts (alternatives).
    static func ideaList(_ inv: Invocation, _ name: String) throws -> [[String]] {
        try inv.list(name).map { item in
            switch item {
            case .string(let s): return [s]
            case .list(let xs):
                return try xs.map { x in
                    guard case .string(let s) = x else { throw inv.error("\(name)= holds texts or lists of texts, not \(x.display)", at: name) }
                    return s
                }
            default:
                throw inv.error("\(name)= holds texts or lists of texts, not \(item.display)", at: name)
            }
        }
    }
}
