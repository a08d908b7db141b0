import Foundation
import Language
import Testing

@Suite struct ValueTests {
    @Test func valuesDisplayAsLiterals() {
        #expect(Value.double(2e-4).display == "0.0002")
        #expect(Value.double(1e-6).display == "1e-6")
        #expect(Value.double(3).display == "3.0")
        #expect(Value.list([.int(1), .string("a\"b"), .bool(true), .none]).display == "[1, \"a\\\"b\", true, none]")
        #expect(Value.int(3) == Value.double(3.0))
    }
}

/// What the language does on its own, with no verbs: the session's values and paths, and input that
/// would overflow the stack.
@Suite struct SessionTests {
    /// Issue 16: `x = ` and 8,000 nested lists overflowed the stack (the parser and evaluator recurse per level).
    @Test func deeplyNestedListsAreAnErrorNotACrash() throws {
        let session = Session(registry: Registry(groups: []), output: OutputSink(), environment: [:])
        session.receivesInterrupts = false
        let deep = "x = " + String(repeating: "[", count: 8000) + String(repeating: "]", count: 8000)
        #expect(throws: LanguageError.self) { try session.run(deep) }
        do { try session.run(deep) } catch { #expect("\(error)".contains("lists are nested more than 256 deep")) }
        // 256 levels still read and evaluate.
        try session.run("y = " + String(repeating: "[", count: 256) + String(repeating: "]", count: 256))
        #expect(session.value(named: "y") != nil)
    }

    @Test func confinedPathsStayInsideTheRoot() {
        let root = URL(fileURLWithPath: "/srv/class")
        #expect(Session.confinePath("/etc/passwd", root: root) == "/srv/class/etc/passwd")
        #expect(Session.confinePath("../../x.json", root: root) == "/srv/class/x.json")
        #expect(Session.confinePath("~/.ssh/id", root: root) == "/srv/class/.ssh/id")
        #expect(Session.confinePath("data/a/../b.json", root: root) == "/srv/class/data/b.json")
    }
}
