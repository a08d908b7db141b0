import Foundation
import Language
import Testing

@Suite struct LexerAndParserTests {
    func tokens(_ text: String) throws -> [Token.Kind] {
        var lexer = Lexer(SourceText(file: "<t>", text: text))
        return try lexer.tokenize().map(\.kind)
    }

    @Test func numbersWordsAndOperators() throws {
        #expect(try tokens("lr=2e-4 r=8 x=-1 y=.5 path=data/0_train.json check a ~= b") == [
            .word("lr"), .equals, .double(2e-4), .word("r"), .equals, .int(8), .word("x"), .equals, .int(-1),
            .word("y"), .equals, .double(0.5), .word("path"), .equals, .word("data/0_train.json"),
            .word("check"), .word("a"), .op("~="), .word("b"), .end,
        ])
    }

    @Test func stringsEscapesAndEnvironment() throws {
        #expect(try tokens(#""a\tb\"c\u{e9}" 'raw\d' "${HOME}/x${Y:-d}""#) == [
            .string([.text("a\tb\"c\u{e9}")]), .rawString("raw\\d"),
            .string([.env(name: "HOME", fallback: nil), .text("/x"), .env(name: "Y", fallback: "d")]), .end,
        ])
    }

    @Test func tripleQuotedTextIsDedentedByItsClosingLine() throws {
        let text = "t = \"\"\"\n    Question: {q}\n      indented\n    Answer:\n    \"\"\""
        #expect(try tokens(text) == [.word("t"), .equals, .string([.text("Question: {q}\n  indented\nAnswer:")]), .end])
    }

    @Test func continuationRules() {
        #expect(Lexer.needsContinuation("x = [1,"))
        #expect(Lexer.needsContinuation("load a \\"))
        #expect(Lexer.needsContinuation("t = \"\"\"\nabc"))
        #expect(!Lexer.needsContinuation("x = [1, 2]"))
        #expect(!Lexer.needsContinuation("x = \"unterminated"))   // an error, not a continuation
    }

    @Test func statementsAssignCallsAndExpressions() throws {
        let source = SourceText(file: "<t>", text: "m = show x k=1 # comment\nlet y = trainer.args.lr\nvars; z = [1,\n 2]")
        let statements = try Parser.parse(source, verbs: ["show", "vars"])
        #expect(statements.count == 4)
        #expect(statements[0].target == "m" && statements[0].verb == "show" && statements[0].arguments.count == 2)
        #expect(statements[0].arguments[1].name == "k")
        #expect(statements[1].target == "y" && statements[1].verb == nil)
        if case .word(let w)? = statements[1].expression?.kind { #expect(w == "trainer.args.lr") } else { Issue.record("not a word") }
        #expect(statements[2].verb == "vars" && statements[2].target == nil)
        #expect(statements[3].target == "z" && statements[3].lines == 3...4)
    }
}

@Suite struct EvaluationTests {
    @Test func namesFieldsListsAndEnvironment() throws {
        let (session, output) = TestSupport.session(environment: ["HOME": "/home/u", "DATA": "d.json"])
        session.set("trainer", .object(FakeTrainer()))
        try session.run("""
            lr = trainer.args.learning_rate
            print lr trainer.steps trainer.losses.1
            path = "${DATA}"
            print path "${MISSING:-fallback}" ${HOME}/runs
            n = 3
            n
            echo n is ${DATA} not_a_name 2.0
            """)
        #expect(output() == "0.0002 150 1.75\nd.json fallback /home/u/runs\n3\n3 is d.json not_a_name 2.0\n")
        #expect(session.value(named: "lr") == .double(2e-4))
    }

    @Test func delReleasesObjects() throws {
        let (session, output) = TestSupport.session()
        let trainer = FakeTrainer()
        session.set("trainer", .object(trainer))
        session.set("x", .int(1))
        try session.run("vars")
        #expect(output() == "trainer  Trainer  3 epochs at lr 0.0002\nx        int      1\n")
        try session.run("del trainer")
        #expect(trainer.released)
        #expect(session.names == ["x"])
    }

    @Test func showListsFieldsOfAnObject() throws {
        let (session, output) = TestSupport.session()
        session.set("trainer", .object(FakeTrainer()))
        try session.run("show trainer.args")
        #expect(output() == "TrainingArguments: learning_rate=0.0002 epochs=3 optim=\"adamw\"\n  learning_rate = 0.0002\n  epochs = 3\n  optim = \"adamw\"\n")
    }

    @Test func valuesDisplayAsLiterals() {
        #expect(Value.double(2e-4).display == "0.0002")
        #expect(Value.double(1e-6).display == "1e-6")
        #expect(Value.double(3).display == "3.0")
        #expect(Value.list([.int(1), .string("a\"b"), .bool(true), .none]).display == "[1, \"a\\\"b\", true, none]")
        #expect(Value.int(3) == Value.double(3.0))
    }
}
