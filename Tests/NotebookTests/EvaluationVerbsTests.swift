import Datasets
import Evaluation
import Foundation
import Language
import Llama
import Notebook
import TestSupport
import Testing
import Tokenizers
import Training

/// A tokenizer for the tiny 128-token test model: one id per ASCII byte (others become "?"),
/// BOS 1, EOS 2. With `silent`, every id is special, so every reply decodes to "" (a model that
/// produces nothing).
final class ASCIITokenizer: Tokenizer {
    var settings = TokenizerSettings(bosTokenId: 1, eosTokenId: 2, addBosToken: true)
    let vocabSize = 128
    let specialTokenIds: Set<Int>
    init(silent: Bool = false) { specialTokenIds = silent ? Set(0..<128) : [1, 2] }
    func idToToken(_ id: Int) -> String? { (0..<128).contains(id) ? String(UnicodeScalar(UInt8(id))) : nil }
    func tokenToId(_ token: String) -> Int? {
        let bytes = Array(token.utf8)
        return bytes.count == 1 && bytes[0] < 128 ? Int(bytes[0]) : nil
    }
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        (addSpecialTokens && settings.addBosToken ? [1] : []) + text.utf8.map { $0 < 128 ? Int($0) : 63 }
    }
    func appendBytes(of id: Int, to bytes: inout [UInt8], atStart: Bool, skipSpecialTokens: Bool) {
        guard (0..<128).contains(id), !(skipSpecialTokens && specialTokenIds.contains(id)) else { return }
        bytes.append(UInt8(id))
    }
}

/// The evaluation verbs through a Session, on the tiny random Llama of Tests/Fixtures (greedy and
/// sampled replies are random text, so a short answer like "e" is sometimes found and sometimes not).
@Suite struct EvaluationVerbsTests {
    static let fixtures = Repository.url("Tests/Fixtures")

    /// tiny-llama with rotary tables long enough for the notebook's prompt, and the ASCII tokenizer.
    static func tinyModel(silent: Bool = false) throws -> ModelObject {
        let loaded = try LlamaModel.load(directory: fixtures.appendingPathComponent("tiny-llama"))
        let model = LlamaModel(config: loaded.config, weights: loaded.weights, storage: loaded.storage, ropePositions: 1024)
        return ModelObject(base: model, source: "tiny-llama", tokenizer: TokenizerObject(ASCIITokenizer(silent: silent), source: "ascii"))
    }

    /// A fresh folder holding `rows` question/answer rows in the notebook's JSON layout, and a
    /// session working there with `model` and the file's path defined.
    static func setUp(rows: Int = 30, model: ModelObject? = nil) throws -> (Session, () -> String, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let letters = Array("etaoinshrdlu")
        let items: [[String: String]] = (0..<rows).map { i in
            ["Open-ended Verifiable Question": "Question \(i): which letter is number \(i % letters.count) in etaoinshrdlu?",
             "Ground-True Answer": String(letters[i % letters.count])]
        }
        try JSONSerialization.data(withJSONObject: items, options: [.prettyPrinted]).write(to: dir.appendingPathComponent("qa.json"))
        let (session, output) = NotebookFixtures.session()
        session.directory = dir
        session.set("model", .object(try model ?? tinyModel()))
        return (session, output, dir)
    }

    static func results(_ session: Session, _ name: String = "results") throws -> EvaluationRun {
        guard case .object(let o)? = session.value(named: name), let r = o as? ResultsObject else {
            throw EvaluationError.invalidArgument("no Results named \(name)")
        }
        return r.run
    }

    static func json(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// The Wilson score interval written out from its formula (z = 1.959964), in percent.
    static func wilson(_ k: Int, _ n: Int) -> (Double, Double) {
        let z = 1.959963984540054, p = Double(k) / Double(n), nn = Double(n)
        let centre = (p + z * z / (2 * nn)) / (1 + z * z / nn)
        let half = z / (1 + z * z / nn) * (p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot()
        return (max(0, centre - half) * 100, min(1, centre + half) * 100)
    }

    @Test func notebookProtocolPrintsTheNotebookReportAndWritesItsJSON() throws {
        let (session, output, dir) = try Self.setUp()
        try session.run("results = evaluate model \"qa.json\" protocol=notebook train_rows=10 k=5")
        let text = output()
        // Python: random.seed(42); random.sample(range(20), 5) == [3, 0, 8, 7, 16]
        #expect(text.contains("Selected indices: [3, 0, 8, 7, 16]"))
        #expect(text.contains("Generation: max_new_tokens=50, temperature=0.3, top_p=0.9, do_sample=True"))
        for (i, index) in [3, 0, 8, 7, 16].enumerated() { #expect(text.contains("Example \(i + 1)/5 (index \(index))")) }
        // Row 10 + 3 of the file is the first evaluated question, cut to 100 characters (it is shorter).
        #expect(text.contains("Question: Question 13: which letter is number 1 in etaoinshrdlu?\n"))
        for line in ["EVALUATION RESULTS", "Total examples:   5", "INCORRECT EXAMPLES (", "CORRECT EXAMPLES (first ", "ASSESSMENT: ",
                     "Results saved to evaluation_results.json"] {
            #expect(text.contains(line), "missing \(line)")
        }
        let run = try Self.results(session)
        let j = try Self.json(dir.appendingPathComponent("evaluation_results.json"))
        #expect(Set(j.keys) == ["accuracy", "exact_matches", "partial_matches", "total", "time_seconds", "selected_indices", "detailed_results"])
        #expect(j["selected_indices"] as? [Int] == [3, 0, 8, 7, 16])
        #expect(j["total"] as? Int == 5)
        let detailed = try #require(j["detailed_results"] as? [[String: Any]])
        #expect(detailed.count == 5)
        #expect(Set(detailed[0].keys) == ["index", "question", "ground_truth", "prediction", "correct", "match_type"])
        let correct = detailed.filter { $0["correct"] as? Bool == true }.count
        #expect(j["accuracy"] as? Double == Double(correct) / 5 * 100)
        #expect(text.contains(String(format: "Accuracy:         %.2f%%", Double(correct) * 20)))
        #expect((j["exact_matches"] as? Int ?? -1) + (j["partial_matches"] as? Int ?? -1) == correct)
        // The ground truth of each evaluated row is the file's row 10 + index.
        let letters: [Character] = Array("etaoinshrdlu")
        let expectedTruths: [String?] = [3, 0, 8, 7, 16].map { (i: Int) -> String? in String(letters[(10 + i) % 12]) }
        let truths: [String?] = detailed.map { $0["ground_truth"] as? String }
        #expect(truths == expectedTruths)
        #expect(run.total == 5 && run.correctCount == correct)
        try session.run("print results.total results.exact_matches results.interval.n")
        #expect(output().hasSuffix("5 \(run.exactMatches) 5\n"))
    }

    /// `seed=` picks the evaluated rows; the sampler keeps the session's seed (GenerationConfig also has a `seed`).
    @Test func theRowSeedIsNotTheSamplersSeed() throws {
        let (session, _, _) = try Self.setUp()
        try session.run("seed 5\nresults = evaluate model \"qa.json\" limit=3 seed=7 max_new_tokens=2 do_sample=true")
        let run = try Self.results(session)
        #expect(run.settings.seed == 5 && run.settings.do_sample)
        #expect(run.summary.contains("seed 5, 2 new tokens"), "\(run.summary)")
    }

    @Test func carefulProtocolReportsTheIntervalAndMatchesDirectGreedyGeneration() throws {
        let (session, output, dir) = try Self.setUp()
        try session.run("results = evaluate model \"qa.json\" limit=12 batch=5 max_new_tokens=12 matcher=notebook csv=careful.csv output=careful.json")
        let run = try Self.results(session)
        #expect(run.total == 12 && run.selectedIndices == Array(0..<12))
        let (lo, hi) = Self.wilson(run.correctCount, 12)
        let line = String(format: "careful: %d/12 correct = %.1f%% (95%% CI %.1f%%–%.1f%%, n = 12)",
                          run.correctCount, Double(run.correctCount) / 12 * 100, lo, hi)
        #expect(output().contains(line), "\(output())")
        #expect(output().contains("greedy, 12 new tokens"))
        // Batched generation gives each prompt what the engine's single-prompt text generation gives.
        let model = try Self.tinyModel()
        let tokenizer = try #require(model.tokenizer?.tokenizer)
        for e in [run.examples[0], run.examples[7], run.examples[11]] {
            #expect(e.prompt == CarefulEvaluation.defaultPrompt(e.fullQuestion))
            let direct = try model.base.generate(text: e.prompt, tokenizer: tokenizer, config: GenerationConfig(max_new_tokens: 12),
                                                 addSpecialTokens: true)
            #expect(e.rawOutput == direct.text)
        }
        // write_results and csv= agree; the CSV has a header and one CRLF row per example.
        try session.run("write_results results again.csv")
        let csv = try String(contentsOf: dir.appendingPathComponent("careful.csv"), encoding: .utf8)
        #expect(csv == (try String(contentsOf: dir.appendingPathComponent("again.csv"), encoding: .utf8)))
        #expect(csv.hasPrefix("index,source_row,question,ground_truth,prediction,correct,notebook_match,normalised_match,token_f1_match,flags,seconds\r\n"))
        #expect(csv.components(separatedBy: "\r\n").count == 12 + 2)
        try session.run("write_results results again.json")
        let j = try Self.json(dir.appendingPathComponent("again.json"))
        #expect(j["total"] as? Int == 12)
        #expect((j["detailed_results"] as? [[String: Any]])?.map { $0["index"] as? Int } == Array(0..<12))
        // Lists and detail.
        try session.run("incorrect results n=2\ncorrect results\ndetail results 7")
        let text = output()
        #expect(text.contains("incorrect: \(12 - run.correctCount) of 12"))
        #expect(text.contains("correct: \(run.correctCount) of 12"))
        #expect(text.contains("example 7 (source row 7): "))
        #expect(text.contains("  raw output:   " + Value.quote(run.examples[7].rawOutput)))
        #expect(throws: LanguageError.self) { try session.run("detail results 99") }
    }

    @Test func compareSwitchesTheAdapterOffAndOnAndMeasuresTheAnswerLoss() throws {
        let model = try Self.tinyModel()
        let lora = try LoraModel(base: model.base, lora: LoraConfig(r: 4, lora_alpha: 8))
        try lora.setAdapter(LoraAdapter.load(from: Self.fixtures.appendingPathComponent("lora/initial_adapter"), model: model.base.config))
        model.lora = lora
        let (session, output, _) = try Self.setUp(rows: 8, model: model)
        try session.run("cmp = compare model \"qa.json\" limit=4 max_new_tokens=8 template=plain")
        #expect(lora.adapterEnabled)   // left as it was
        guard case .object(let o)? = session.value(named: "cmp"), let cmp = o as? ComparisonObject else {
            Issue.record("no Comparison"); return
        }
        let tokenizer = try #require(model.tokenizer?.tokenizer)
        let merged = lora.mergedModel()
        let tuned = LlamaModel(config: merged.config, weights: merged.weights, storage: merged.storage, ropePositions: 1024)
        // compare leaves the adapter on, its deltas attached to model.base: detach them for the base's references.
        try model.base.attachAdapter(nil)
        var before = (0.0, 0), after = (0.0, 0)
        for (b, t) in cmp.comparison.pairs {
            let config = GenerationConfig(max_new_tokens: 8)
            #expect(b.rawOutput == (try model.base.generate(text: b.prompt, tokenizer: tokenizer, config: config, addSpecialTokens: true)).text)
            #expect(t.rawOutput == (try tuned.generate(text: t.prompt, tokenizer: tokenizer, config: config, addSpecialTokens: true)).text)
            let sb = try model.base.score(prompt: b.prompt, answer: b.groundTruth, tokenizer: tokenizer, addSpecialTokens: true)
            let st = try tuned.score(prompt: t.prompt, answer: t.groundTruth, tokenizer: tokenizer, addSpecialTokens: true)
            before = (before.0 + Double(sb.meanLoss) * Double(sb.tokenCount), before.1 + sb.tokenCount)
            after = (after.0 + Double(st.meanLoss) * Double(st.tokenCount), after.1 + st.tokenCount)
        }
        #expect(cmp.comparison.pairs.count == 4)
        #expect(cmp.comparison.pairs.contains { $0.base.rawOutput != $0.tuned.rawOutput })   // the adapter changes the replies
        let lossBefore = try #require(cmp.lossBefore?.meanLoss), lossAfter = try #require(cmp.lossAfter?.meanLoss)
        #expect(abs(lossBefore - before.0 / Double(before.1)) < 1e-5)
        #expect(abs(lossAfter - after.0 / Double(after.1)) < 1e-5)
        #expect(abs(lossBefore - lossAfter) > 1e-4)
        let text = output()
        #expect(text.contains("base  \(cmp.comparison.baseInterval)\ntuned \(cmp.comparison.tunedInterval)\nchanged: "))
        #expect(text.contains(String(format: "answer loss %.3f → %.3f", lossBefore, lossAfter)))

        // Saved for `comparisons`: the row is named by how the adapter was trained (here loaded: "adapter") or label=.
        try session.run("cmp2 = compare model \"qa.json\" limit=4 max_new_tokens=8 template=plain answer_loss=false output=cmp.json label=mine")
        #expect(output().contains("Comparison saved to cmp.json"))
        try session.run("comparisons cmp.json")
        let row = ComparisonSummary.table([ComparisonSummary(cmp.comparison, pipeline: "mine", protocol: "careful", lossBefore: nil, lossAfter: nil)])
        #expect(output().contains(row))
        let missing = try #require(throws: LanguageError.self) { try session.run("comparisons missing.json") }
        #expect("\(missing)".contains("missing.json: no such file; `compare MODEL DATA output=missing.json` writes it"))

        // answer_loss alone, adapter off: the base model's figure.
        lora.adapterEnabled = false
        try session.run("l = answer_loss model \"qa.json\" limit=4 template=plain")
        guard case .double(let l)? = session.value(named: "l") else { Issue.record("answer_loss returned no number"); return }
        #expect(abs(l - lossBefore) < 1e-9)
        #expect(output().contains(String(format: "answer loss %.3f (perplexity %.1f) over 4 answers", l, exp(l))))
        #expect(output().contains("[tiny-llama, adapter off]"))
    }

    @Test func compareWithoutAnAdapterSaysSo() throws {
        let (session, _, _) = try Self.setUp(rows: 4)
        let error = try #require(throws: LanguageError.self) { try session.run("compare model \"qa.json\" limit=2") }
        #expect("\(error)".contains("model tiny-llama has no LoRA adapter, so there is nothing to compare with the base"))
    }

    @Test func badInputGivesClearMessages() throws {
        let (session, _, dir) = try Self.setUp(rows: 30)
        func message(_ command: String) -> String {
            do { try session.run(command); return "" } catch { return "\(error)" }
        }
        #expect(message("evaluate model \"qa.json\" protocol=notebook").contains(
            "the test range is empty: qa.json has 30 rows and train_rows=200 leaves none"))
        #expect(message("evaluate model \"qa.json\" protocol=notebook train_rows=10 k=21").contains(
            "k=21 is more than the 20 test rows (the rows after the first 10)"))
        #expect(message("evaluate model \"qa.json\" limit=0").contains("limit"))
        try Data(#"[{"q": "What causes scurvy?", "a": "Vitamin C deficiency"}]"#.utf8).write(to: dir.appendingPathComponent("other.json"))
        let keys = message("evaluate model \"other.json\"")
        #expect(keys.contains("other.json") && keys.contains("Open-ended Verifiable Question"), "\(keys)")
        #expect(message("evaluate model 3").contains("needs question/answer rows as data"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("evaluation_results.json").path))
    }

    @Test func aModelThatProducesNothingIsReported() throws {
        let (session, output, _) = try Self.setUp(rows: 6, model: try Self.tinyModel(silent: true))
        try session.run("results = evaluate model \"qa.json\" max_new_tokens=4")
        #expect(output().contains("careful: 0/6 correct = 0.0% (95% CI 0.0%–39.0%, n = 6)"))
        #expect(output().contains("6 empty predictions"))
        #expect(output().contains("warning: the model produced no text for any of the 6 questions"))
        try session.run("nb = evaluate model \"qa.json\" protocol=notebook train_rows=1 k=2 max_new_tokens=4 output=nb.json")
        #expect(output().contains("Warning: the model produced no text for 2 of 2 examples"))
    }
}

/// The careful protocol on the real default model, when it is present.
@Suite struct EvaluationVerbsSmolLM2Tests {
    static let gguf = Repository.smolLM2

    @Test(.enabled(if: gguf != nil, Comment(rawValue: Repository.smolLM2Absent)))
    func carefulProtocolUsesTheChatTemplateAndBatchesLikeSingleGeneration() throws {
        let url = try #require(Self.gguf)
        let tokenizer = try loadTokenizer(at: url)
        let model = ModelObject(base: try LlamaModel.load(gguf: url), source: "smollm2", tokenizer: TokenizerObject(tokenizer, source: "smollm2"))
        let (session, output) = NotebookFixtures.session()
        session.directory = Repository.root
        session.set("model", .object(model))
        try session.run("results = evaluate model \"data/medqa_small.test.json\" limit=2 batch=2 max_new_tokens=16")
        #expect(output().contains("careful: "), "\(output())")
        #expect(output().contains(", n = 2); notebook matcher "))
        guard case .object(let o)? = session.value(named: "results"), let run = (o as? ResultsObject)?.run else {
            Issue.record("no results"); return
        }
        for e in run.examples {
            #expect(e.prompt.hasPrefix("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\n"
                                       + CarefulEvaluation.instruction + "\n\n" + e.fullQuestion + "<|im_end|>\n<|im_start|>assistant\n"))
            let direct = try model.base.generate(text: e.prompt, tokenizer: tokenizer, config: GenerationConfig(max_new_tokens: 16))
            #expect(e.rawOutput == direct.text)
            #expect(!e.rawOutput.isEmpty)
        }
    }
}
