import Foundation
import Language
import Notebook
import Testing

@Suite struct ErrorMessageTests {
    func error(_ text: String, setup: (Session) -> Void = { _ in }) -> String {
        let (session, _) = NotebookFixtures.session()
        setup(session)
        do {
            try session.run(text, file: "<command line>")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func unknownVerbGetsCaretAndSuggestion() {
        #expect(error("x = 1\nshwo x") == """
            <command line>:2:1: error: unknown verb 'shwo'
              shwo x
              ^~~~
              did you mean 'show'?
            """)
    }

    @Test func unknownOptionPointsAtTheKey() {
        #expect(error("check 1 == 1 tool=0.1") == """
            <command line>:1:14: error: 'check' has no option 'tool'
              check 1 == 1 tool=0.1
                           ^~~~
              did you mean 'tol'?
            """)
    }

    @Test func typeErrorsNameTheParameterAndValue() {
        #expect(error("sleep \"long\"") == """
            <command line>:1:7: error: 'sleep' seconds must be a number, not the text "long"
              sleep "long"
                    ^~~~~~
            """)
        #expect(error("check 1 == 1 ignore_case=yes").contains("'check' ignore_case must be true or false, not the word 'yes'"))
        // A field of a name that does not exist names the name.
        #expect(error("check 1 == 1 tol=mine.kappa").contains("unknown name 'mine' (in 'mine.kappa'): 'check' tol must be a number"))
    }

    /// A hurried `ask "question"` (no model given) says where a Model comes from: the verb that makes one with its
    /// example, or the Models the session already has.
    @Test func aMissingObjectNamesWhereOneComesFrom() {
        #expect(error("ask \"What is scurvy?\"") == """
            <command line>:1:5: error: 'ask' model must be a Model, not the text "What is scurvy?"
              ask "What is scurvy?"
                  ^~~~~~~~~~~~~~~~~
              make one first with load_model, as in: model = load_model smollm2
            """)
        final class FakeModel: LiveObject {
            var typeName: String { "Model" }
            var summary: String { "a stand-in" }
            var fieldNames: [String] { [] }
            func field(_ name: String) -> Value? { nil }
        }
        let have = error("ask 3 \"What is scurvy?\"", setup: { $0.set("m", .object(FakeModel())); $0.set("n", .int(1)) })
        #expect(have.hasSuffix("the Model you have: m"), "\(have)")
        #expect(error("train 3").hasSuffix("make one first with make_trainer, as in: trainer = make_trainer model args tokens"))
    }

    @Test func unknownNamesAndFieldsSuggest() {
        #expect(error("print rowz", setup: { $0.set("rows", .int(1)) }).hasSuffix("did you mean 'rows'?"))
        let field = error("print trainer.args.learning_rat", setup: { $0.set("trainer", .object(FakeTrainer())) })
        #expect(field == """
            <command line>:1:20: error: TrainingArguments has no field 'learning_rat'
              print trainer.args.learning_rat
                                 ^~~~~~~~~~~~
              did you mean 'learning_rate'?
            """)
    }

    @Test func syntaxErrors() {
        #expect(error("x = \"open").hasPrefix("<command line>:1:5: error: unterminated string"))
        #expect(error("print [1, 2").contains("'[' is never closed"))
        #expect(error("help verb=") .contains("'verb=' needs a value"))
        #expect(error("print \"\\q\"").contains("unknown escape '\\q'"))
        #expect(error("show").contains("'show' needs VALUE"))
        #expect(error("sleep 1 2").contains("'sleep' takes 1 positional argument"))
    }

    @Test func delPointsAtTheUnknownName() {
        #expect(error("x = 1\ndel x rows", setup: { $0.set("rowz", .int(1)) }) == """
            <command line>:2:7: error: unknown name 'rows'
              del x rows
                    ^~~~
              did you mean 'rowz'?
            """)
    }

    @Test func missingEnvironmentVariable() {
        #expect(error("print \"${MEDREPL_SURELY_UNSET}\"").contains("environment variable MEDREPL_SURELY_UNSET is not set"))
    }
}

@Suite struct CheckTests {
    func compare(_ a: Value, _ op: String, _ b: Value, tol: Double = 1e-6, ignoreCase: Bool = false) throws -> String? {
        try Comparison.compare(a, op, b, tolerance: tol, ignoreCase: ignoreCase)
    }

    @Test func equalityComparesNumbersAcrossTypes() throws {
        #expect(try compare(.int(3), "==", .double(3.0)) == nil)
        #expect(try compare(.string("a"), "==", .string("b")) == "expected \"b\", got \"a\"")
        #expect(try compare(.string("A"), "==", .string("a"), ignoreCase: true) == nil)
        #expect(try compare(.int(1), "!=", .int(1)) == "expected anything but 1")
    }

    @Test func toleranceIsAbsoluteAndWorksOnLists() throws {
        #expect(try compare(.double(0.3004), "~=", .double(0.3), tol: 1e-3) == nil)
        #expect(try compare(.double(0.302), "~=", .double(0.3), tol: 1e-3) == "expected 0.3 within 0.001, got 0.302 (off by 0.0020000000000000018)")
        #expect(try compare(.list([.double(1), .double(2.0001)]), "~=", .list([.int(1), .int(2)]), tol: 1e-3) == nil)
        #expect(try compare(.list([.double(1)]), "~=", .list([.int(1), .int(2)])) == "expected 2 items, got 1")
        #expect(throws: ComparisonError.self) { try compare(.string("x"), "~=", .int(1)) }
    }

    @Test func orderingContainsAndMatches() throws {
        #expect(try compare(.double(0.5), ">=", .double(0.5)) == nil)
        #expect(try compare(.int(2), "<", .int(1)) == "expected a value < 1, got 2")
        #expect(try compare(.string("Give insulin"), "contains", .string("insulin")) == nil)
        #expect(try compare(.string("Give insulin"), "contains", .string("Insulin")) == "\"Give insulin\" does not contain \"Insulin\"")
        #expect(try compare(.list([.int(1), .int(2)]), "contains", .int(2)) == nil)
        #expect(try compare(.string("B"), "matches", .string("^[A-D]$")) == nil)
        #expect(try compare(.string("E"), "matches", .string("^[A-D]$")) == "\"E\" does not match \"^[A-D]$\"")
        #expect(throws: ComparisonError.self) { try compare(.string("x"), "matches", .string("(")) }
    }

    @Test func checkRecordsAndGoesOnAssertStops() throws {
        let (session, output) = NotebookFixtures.session()
        try session.run("r = 8\ncheck r == 16 label=\"LoRA rank\" points=2\ncheck r > 4\ncheck true")
        #expect(output() == "FAIL: LoRA rank: expected 16, got 8\nok: r > 4\nok: true\n")
        #expect(session.checks.map(\.passed) == [false, true, true])
        #expect(session.checks[0].points == 2)
        #expect(throws: LanguageError.self) { try session.run("assert r == 16") }
        do { try session.run("assert r == 16", file: "<t>") } catch {
            #expect("\(error)" == "<t>:1:1: error: assertion failed: r == 16: expected 16, got 8\n  assert r == 16\n  ^~~~~~")
        }
        #expect(throws: LanguageError.self) { try session.run("check r ==") }
    }
}
