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
