import Foundation
import Language
import Notebook
import Testing

// ask ... abstain_below=P (issue 21, the notebook's safety question): above every confidence, every reply is the
// fallback; at 0, none is, and the reply is the one ask gives without it.
@Suite struct AbstentionTests {
    static let fallback = "I am not confident enough to answer; please consult a clinician."

    @Test func thresholdsAboveEveryConfidenceAndAtZero() throws {
        let (session, output) = try TrainingVerbsTests.tinySession()
        let questions = ["Which vitamin prevents scurvy?", "What causes anemia?", "Name a beta blocker."]
        for (k, q) in questions.enumerated() {
            try session.run("""
                plain\(k) = ask model "\(q)" max_new_tokens=6
                always\(k) = ask model "\(q)" max_new_tokens=6 abstain_below=1
                never\(k) = ask model "\(q)" max_new_tokens=6 abstain_below=0
                """)
            guard case .string(let plain)? = session.value(named: "plain\(k)"), case .string(let always)? = session.value(named: "always\(k)"),
                  case .string(let never)? = session.value(named: "never\(k)") else { Issue.record("no replies"); return }
            #expect(always == Self.fallback)
            #expect(never == plain && never != Self.fallback)
        }
        let said = output()
        #expect(said.components(separatedBy: "(abstained: mean token probability").count == 4, "\(said)")
        #expect(said.components(separatedBy: "(confidence: mean token probability").count == 4)
        var bad = "no error"
        do { try session.run("ask model \"q\" abstain_below=1.5") } catch { bad = "\(error)" }
        #expect(bad.contains("abstain_below=1.5 is not a probability") && bad.contains("from 0 to 1"), "\(bad)")
    }

    /// Ctrl-C while the reply is written: nothing is answered, the session goes on, and a replay does not compare it.
    @Test func anInterruptedReplyIsNotGivenAsAnAnswer() throws {
        let (session, output) = try TrainingVerbsTests.tinySession()
        session.interrupt()   // pending: the reply stops at its first token's check, as after a Ctrl-C
        try session.run("r = ask model \"Which vitamin prevents scurvy?\" max_new_tokens=20 abstain_below=0.5")
        #expect(session.value(named: "r") == .string(""))
        #expect(output().contains("an unfinished reply is not judged against abstain_below=, so nothing was answered"), "\(output())")
        try session.run("x = 1")
        #expect(session.value(named: "x") == .int(1))
    }
}
