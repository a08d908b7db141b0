import Datasets
import Evaluation
import Foundation
import Language
import Llama
import Notebook
import Testing
import Tokenizers

/// Issue 21 in the shell: aliases from a column or a file, predictions read back and compared with hand labels,
/// and every evaluated answer's confidence with the risk-coverage table.
@Suite struct AgreementVerbsTests {
    /// The message of the error a command fails with ("" when it does not fail).
    static func failure(_ session: Session, _ command: String) -> String {
        do { try session.run(command); return "" } catch { return "\(error)" }
    }

    @Test func aliasesComeFromAColumnOrAFileAndEveryMatcherAcceptsThem() throws {
        let (session, output, dir) = try EvaluationVerbsTests.setUp(rows: 4)
        let rows: [[String: Any]] = [
            ["Open-ended Verifiable Question": "q0", "Ground-True Answer": "Myocardial infarction", "alt": ["heart attack", "MI"]],
            ["Open-ended Verifiable Question": "q1", "Ground-True Answer": "Warfarin", "alt": "coumadin | jantoven"],
            ["Open-ended Verifiable Question": "q2", "Ground-True Answer": "Heparin"],
        ]
        try JSONSerialization.data(withJSONObject: rows).write(to: dir.appendingPathComponent("rows.json"))
        try session.run("data = load_dataset rows.json aliases=alt")
        #expect(output().contains("aliases for 2 of 3 rows from the column \"alt\""))
        let data = try #require((session.value(named: "data").flatMap { if case .object(let o) = $0 { o as? DatasetObject } else { nil } })).dataset
        #expect(data.rows.map(\.aliases) == [["heart attack", "MI"], ["coumadin", "jantoven"], []])

        try Data(#"{"myocardial infarction ": ["heart attack"], "Heparin": "UFH|unfractionated heparin", "Nothing": []}"#.utf8)
            .write(to: dir.appendingPathComponent("aliases.json"))
        try session.run("data2 = load_dataset rows.json aliases=aliases.json")
        #expect(output().contains("aliases for 2 of 3 rows from aliases.json (3 answers listed)"))
        let data2 = try #require((session.value(named: "data2").flatMap { if case .object(let o) = $0 { o as? DatasetObject } else { nil } })).dataset
        #expect(data2.rows.map(\.aliases) == [["heart attack"], [], ["UFH", "unfractionated heparin"]])

        #expect(Self.failure(session, "load_dataset rows.json aliases=nothing_here").contains("no row has aliases in a column \"nothing_here\""))
        try Data("[1, 2]".utf8).write(to: dir.appendingPathComponent("bad.json"))
        #expect(Self.failure(session, "load_dataset rows.json aliases=bad.json").contains("bad.json: an alias file is a JSON object from each answer to its aliases"))
    }

    @Test func agreementReadsLabelsFromAFileOrListsAndSaysWhatIsWrong() throws {
        let (session, output, dir) = try EvaluationVerbsTests.setUp(rows: 1)
        try Data("index,question,ground_truth,prediction\n0,q,Warfarin,warfarin\n1,q,Diabetes mellitus,not diabetes mellitus\n2,q,Myocardial infarction,heart attack\n3,q,Heparin,aspirin\n".utf8)
            .write(to: dir.appendingPathComponent("predictions.csv"))
        try Data("index,label\n0,correct\n1,incorrect\n2,correct\n3,incorrect\n".utf8).write(to: dir.appendingPathComponent("labels.csv"))
        try session.run("results = load_results predictions.csv")
        #expect(output().contains("read 4 predictions from predictions.csv; loaded: 1/4 correct"))
        try session.run("ag = agreement results labels.csv")
        #expect(output().contains("4 hand-labelled answers (2 correct, 2 incorrect)"))
        try session.run("ag2 = agreement results correct=[0, 2] incorrect=[1, 3]")
        try session.run("k = ag2.notebook.kappa")
        try session.run("fp = ag2.notebook.false_positive_indices")
        #expect(session.value(named: "k") == .double(0))
        #expect(session.value(named: "fp") == .list([.int(1)]))

        try Data("index,label\n0,correct\n9,incorrect\n".utf8).write(to: dir.appendingPathComponent("unknown.csv"))
        #expect(Self.failure(session, "agreement results unknown.csv").contains("no example with index 9 in these results"))
        try Data("index,label\n0,perhaps\n".utf8).write(to: dir.appendingPathComponent("bad.csv"))
        #expect(Self.failure(session, "agreement results bad.csv").contains("bad.csv:2: \"perhaps\" is not a label: write correct or incorrect"))
        #expect(Self.failure(session, "agreement results").contains("no labels given"))
        #expect(Self.failure(session, "agreement results correct=[1] incorrect=[1]").contains("example 1 is labelled both correct and incorrect"))
        #expect(Self.failure(session, "agreement results missing.csv").contains("missing.csv: no such file"))
        #expect(Self.failure(session, "risk_coverage results").contains("predictions read from a file carry no confidences"))
        try Data("{}".utf8).write(to: dir.appendingPathComponent("evaluation_results.json"))
        #expect(Self.failure(session, "load_results evaluation_results.json")
                    .contains("evaluation_results.json: predictions are read from a CSV, and this is JSON; write_results RESULTS predictions.csv writes one"))
    }

    @Test func evaluateGivesEveryAnswerItsConfidenceAndPrintsTheRiskCoverageTable() throws {
        let (session, output, _) = try EvaluationVerbsTests.setUp(rows: 10)
        try session.run("data = load_dataset qa.json")
        try session.run("results = evaluate model data limit=10 max_new_tokens=6 batch=4")
        let run = try EvaluationVerbsTests.results(session)
        #expect(run.examples.allSatisfy { $0.confidence != nil })
        #expect(output().contains("answered when most confident (confidence: the answer's mean token probability"))
        #expect(output().contains(" 50% answered (5 of 10): "))
        try session.run("risk_coverage results by=min")
        #expect(output().contains("lowest token probability of the answer"))
        try session.run("detail results \(run.examples[0].index)")
        #expect(output().contains("  confidence:   mean token probability "))
    }

    @Test func scoredRepliesCarryTheModelsOwnLogProbabilitiesAndTokenEnds() throws {
        let (session, _) = try TrainingVerbsTests.tinySession()
        guard case .object(let o)? = session.value(named: "model"), let model = o as? ModelObject else { Issue.record("no model"); return }
        let tok = try model.requireTokenizer()
        let generator = ModelAnswerGenerator(model: model.inferenceModel(), tokenizer: tok, addSpecialTokens: true)
        let prompts = ["what is the answer", "hello there"]
        let config = GenerationConfig(max_new_tokens: 12)
        let scored = try generator.generateScored(prompts: prompts, config: config) { _ in }
        let plain = try generator.generate(prompts: prompts, config: config)
        #expect(scored.map(\.text) == plain)
        for (p, reply) in zip(prompts, scored) {
            let g = try model.inferenceModel().generate(prompt: tok.encode(p, addSpecialTokens: true),
                                                        config: generator.generationConfig(config))
            // One row alone and two rows in a batch round differently in the last bits.
            #expect(zip(reply.logprobs, g.logprobs).allSatisfy { abs($0 - $1) < 1e-4 } && reply.logprobs.count == g.logprobs.count)
            #expect(reply.tokenEnds.count == g.tokens.count)
            #expect(zip(reply.tokenEnds, reply.tokenEnds.dropFirst()).allSatisfy { $0 <= $1 })
            #expect(reply.tokenEnds.last ?? 0 == reply.text.count)
            #expect(abs(reply.confidence(of: "")!.meanTokenProbability - g.confidence!.meanTokenProbability) < 1e-5)
        }
    }
}
