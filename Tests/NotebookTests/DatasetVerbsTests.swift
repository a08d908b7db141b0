import Foundation
import Language
import Notebook
import TestSupport
import Testing

// The dataset verbs on the project's own data/medqa_small.json (427 rows). Expected figures come from
// Python on the same file: len(rows), random.Random(42).shuffle(list(range(427))), ceil(0.2 * 427) test rows,
// and the notebook's length rules.
@Suite struct DatasetVerbsTests {
    static let medqa = Repository.url("data/medqa_small.json").path
    static let demo198 = Repository.sharedFolder.appendingPathComponent("data/medical_o1_verifiable_problem.demo198.json").path

    func run(_ text: String) throws -> (Session, String) {
        let (session, output) = NotebookFixtures.session()
        try session.run(text, file: "<command line>")
        return (session, output())
    }

    func dataset(_ session: Session, _ name: String) -> DatasetObject? {
        if case .object(let o)? = session.value(named: name) { return o as? DatasetObject }
        return nil
    }

    func errorText(_ text: String) -> String {
        let (session, _) = NotebookFixtures.session()
        do { try session.run(text, file: "<command line>"); return "no error" } catch { return "\(error)" }
    }

    @Test func loadSelectCountAndReport() throws {
        let (session, out) = try run("""
            data = load_dataset "\(Self.medqa)"
            part = select data 0 16
            rest = select data start=400
            count part
            count rest
            """)
        #expect(out.hasPrefix("read 427 rows from medqa_small.json, loaded 427, skipped 0\n"))
        #expect(out.hasSuffix("16\n27\n"))
        let part = try #require(dataset(session, "part"))
        #expect(part.dataset.rows.first?.question == "Which organelle is the site of oxidative phosphorylation?")
        #expect(part.dataset.rows.first?.answer == "Mitochondria")
        #expect(part.field("rows") == .int(16))
    }

    @Test func shuffleAndSplitFollowPythonsRandom() throws {
        let (session, out) = try run("""
            data = load_dataset "\(Self.medqa)"
            mixed = shuffle data seed=42
            parts = split data test=0.2 seed=42
            train = parts.train
            test = parts.test
            """)
        let mixed = try #require(dataset(session, "mixed"))
        #expect(mixed.dataset.rows.prefix(3).map(\.sourceRow) == [413, 144, 253])
        #expect(mixed.dataset.rows[0].question.hasPrefix("Which antibiotic class, including ciprofloxacin, c"))
        #expect(out.contains("train 341 rows, test 86 rows\n"))
        let test = try #require(dataset(session, "test"))
        #expect(test.dataset.count == 86)
        #expect(test.dataset.rows[0].question.hasPrefix("Alendronate belongs to which drug class "))
        #expect(try #require(dataset(session, "train")).dataset.count == 341)
    }

    @Test func filterAndShowRows() throws {
        let (_, out) = try run("""
            data = load_dataset "\(Self.medqa)"
            long = filter data min_question=40
            heart = filter data contains="HEART"
            show_rows data n=2 width=30
            """)
        #expect(out.contains("kept 411 of 427 rows\n"))
        #expect(out.contains("kept 6 of 427 rows\n"))
        #expect(out.contains("  0 | Which organelle is the site o… | Mitochondria"))
        #expect(out.contains("... 425 more rows"))
    }

    @Test func formatPromptsNotebookTemplateAndCustom() throws {
        let (session, out) = try run("""
            data = load_dataset "\(Self.medqa)"
            part = select data 0 2
            texts = format_prompts part
            mine = format_prompts part template="Q: {question}\\nA: {answer}"
            """)
        #expect(out.contains("formatted 2 of 2 rows with the notebook template\n"))
        #expect(out.contains("formatted 2 of 2 rows with the custom template\n"))
        let texts = try #require(dataset(session, "texts"))
        #expect(texts.dataset.rows[0].text == "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
                + "Which organelle is the site of oxidative phosphorylation?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
                + "Mitochondria<|eot_id|>")
        #expect(try #require(dataset(session, "mine")).dataset.rows[1].text?.hasPrefix("Q: ") == true)
    }

    @Test func formatPromptsSkipsShortRowsWithAReport() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-ds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("short.json")
        try Data("""
            [{"Open-ended Verifiable Question": "Short?", "Ground-True Answer": "Yes"},
             {"Open-ended Verifiable Question": "Which vitamin deficiency causes scurvy?", "Ground-True Answer": "C"},
             {"Open-ended Verifiable Question": "Which vitamin deficiency causes scurvy?", "Ground-True Answer": "Vitamin C"}]
            """.utf8).write(to: file)
        let (session, out) = try run("data = load_dataset \"\(file.path)\"\ntexts = format_prompts data")
        #expect(out.contains("formatted 1 of 3 rows with the notebook template, skipped 2: 1 question shorter than 10 characters, 1 answer shorter than 2 characters\n"))
        #expect(try #require(dataset(session, "texts")).dataset.count == 1)
    }

    @Test func malformedRowsAreSkippedAndNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-ds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.json")
        try Data("""
            [
            {"Open-ended Verifiable Question": "Which vitamin deficiency causes scurvy?", "Ground-True Answer": "Vitamin C"},
            {"Open-ended Verifiable Question": "What is missing here?"},
            {"Open-ended Verifiable Question": 12, "Ground-True Answer": "twelve"}
            ]
            """.utf8).write(to: file)
        let (_, out) = try run("data = load_dataset \"\(file.path)\"")
        #expect(out.hasPrefix("read 3 rows from bad.json, loaded 1, skipped 2"))
        #expect(out.contains("row 1"))
        #expect(out.contains("row 2"))
        let strict = errorText("data = load_dataset \"\(file.path)\" strict=true")
        #expect(strict.contains("bad.json:3: row 1"))
        #expect(strict.contains("^"))
        let broken = dir.appendingPathComponent("broken.json")
        try Data("[{\"Open-ended Verifiable Question\": \"x\",\n  \"Ground-True Answer\": }]".utf8).write(to: broken)
        let message = errorText("data = load_dataset \"\(broken.path)\"")
        #expect(message.contains("broken.json:2:"))
        #expect(message.contains("malformed JSON"))
    }

    @Test func badArgumentsPointAtTheArgument() {
        let range = errorText("data = load_dataset \"\(Self.medqa)\"\npart = select data 0 500")
        #expect(range.hasPrefix("<command line>:2:22: error: end 500 is outside 0...427 (427 rows)"))
        #expect(range.contains("\n                       ^~~"))
        let template = errorText("data = load_dataset \"\(Self.medqa)\"\nt = format_prompts data template=\"no placeholders\"")
        #expect(template.contains("has no {question} placeholder"))
        #expect(template.contains("^"))
        let missing = errorText("data = load_dataset /nonexistent/rows.json")
        #expect(missing.contains("no such file"))
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: demo198), "../shared/data is absent"))
    func sharedDemoRowsLoadAndFormat() throws {
        let (session, out) = try run("""
            data = load_dataset "\(Self.demo198)"
            texts = format_prompts data
            """)
        #expect(out.hasPrefix("read 198 rows from medical_o1_verifiable_problem.demo198.json, loaded 198, skipped 0\n"))
        #expect(out.contains("formatted 198 of 198 rows with the notebook template\n"))
        #expect(try #require(dataset(session, "texts")).dataset.count == 198)
    }
}
