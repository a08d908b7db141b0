import Foundation
import Language
import Testing

/// Names, fields, lists and the environment as the session verbs (`print`, `echo`, `vars`, `del`, `show`) see
/// them; the lexer, parser and values alone are tested in LanguageTests.
@Suite struct EvaluationTests {
    @Test func namesFieldsListsAndEnvironment() throws {
        let (session, output) = NotebookFixtures.session(environment: ["HOME": "/home/u", "DATA": "d.json"])
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
        let (session, output) = NotebookFixtures.session()
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
        let (session, output) = NotebookFixtures.session()
        session.set("trainer", .object(FakeTrainer()))
        try session.run("show trainer.args")
        #expect(output() == "TrainingArguments: learning_rate=0.0002 epochs=3 optim=\"adamw\"\n  learning_rate = 0.0002\n  epochs = 3\n  optim = \"adamw\"\n")
    }
}
