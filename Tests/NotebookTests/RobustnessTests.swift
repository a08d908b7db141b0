import Foundation
import Language
import NotebookFormat
import Testing

/// Random input must give errors, never a crash or a hang.
@Suite struct RobustnessTests {
    /// A small deterministic generator, so a failure can be replayed.
    struct SplitMix {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
    }

    @Test func randomCommandsNeverCrash() {
        // Verbs that wait, leave or touch files are left out; everything else is fair game.
        let fragments = ["x", "y", "=", " ", " ", "[", "]", ",", "\"", "'", "\\", "\n", "${", "}", ":-", "check", "assert",
                         "print", "echo", "show", "vars", "del", "set", "help", "let", "1", "-2", "2.5e-3", ".", "~=", "==",
                         "<", ">=", "!", "#", "\"\"\"", "true", "none", ";", "tol=", "contains", "matches", "é", "t.args", "0"]
        var rng = SplitMix(state: 42)
        var errors = 0
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<rng.next(12) { text += fragments[rng.next(fragments.count)] }
            let (session, _) = TestSupport.session()
            session.set("t", .object(FakeTrainer()))
            do { try session.run(text) } catch let e as LanguageError {
                errors += 1
                _ = e.description
            } catch {
                errors += 1
            }
            _ = Lexer.needsContinuation(text)
        }
        #expect(errors > 100)   // the generator does reach the error paths
    }

    @Test func randomNotebooksParseOrFailWithALine() {
        let lines = ["%% mednb 1", "%% medrepl 0.1.0", "%% cell a", "%% cell b [skip]", "%% md c", "%% cell d [raises, skp]",
                     "  $ print 1", "  > 2", "  out", "  ", "", "prose", "%%", "%% md", "  $", "# title", "%% seed 1"]
        var rng = SplitMix(state: 7)
        var parsed = 0
        for _ in 0..<3000 {
            var text = rng.next(4) == 0 ? "" : "%% mednb 1\n"
            for _ in 0..<rng.next(10) { text += lines[rng.next(lines.count)] + "\n" }
            do {
                let doc = try NotebookDocument.parse(text, file: "r.mednb")
                parsed += 1
                #expect(try NotebookDocument.parse(doc.serialized()) == doc, "\(text)")
            } catch let e as NotebookFormatError {
                #expect(e.description.hasPrefix("r.mednb:\(e.line): "))
                #expect(e.line >= 1)
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        #expect(parsed > 100)
    }

    /// Issue 16: `x = ` and 8,000 nested lists overflowed the stack (the parser and evaluator recurse per level).
    @Test func deeplyNestedListsAreAnErrorNotACrash() throws {
        let (session, _) = TestSupport.session()
        let deep = "x = " + String(repeating: "[", count: 8000) + String(repeating: "]", count: 8000)
        #expect(throws: LanguageError.self) { try session.run(deep) }
        do { try session.run(deep) } catch { #expect("\(error)".contains("lists are nested more than 256 deep")) }
        // 256 levels still read and evaluate.
        try session.run("y = " + String(repeating: "[", count: 256) + String(repeating: "]", count: 256))
        #expect(session.value(named: "y") != nil)
    }
}
