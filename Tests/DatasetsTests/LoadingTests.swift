import Datasets
import Weights
import Foundation
import TestSupport
import Testing

@Suite struct LoadingTests {
    static let q = "Open-ended Verifiable Question", a = "Ground-True Answer"

    @Test func sharedDemoFile() throws {
        guard let path = Repository.shared("data/medical_o1_verifiable_problem.demo198.json")?.path else {
            print("skipped: ../shared/data/medical_o1_verifiable_problem.demo198.json is absent"); return
        }
        let data = try QADataset.load(path: path)
        #expect(data.count == 198)
        #expect(data[0].answer == "Parvovirus B19 infection")
        #expect(data[197].answer == "Pattern bruises")
        #expect(data[0].question.hasPrefix("A 45-year-old homeless man presents"))
        #expect(data.loadReport.summary == "read 198 rows from medical_o1_verifiable_problem.demo198.json, loaded 198, skipped 0")
        #expect(data.columns == [Self.q, Self.a])
    }

    @Test func sharedMedQADevFile() throws {
        guard let path = Repository.shared("data/medqa_open_dev.verifiable.json")?.path else {
            print("skipped: ../shared/data/medqa_open_dev.verifiable.json is absent"); return
        }
        let data = try QADataset.load(source: path)
        #expect(data.count == 1272)
        #expect(data[1271].answer == "CT scan")
        #expect(try data.split(at: 200).test.count == 1072)
    }

    @Test func brokenJSONNamesLineAndColumn() {
        let dir = TempDir(); defer { dir.cleanup() }
        let path = dir.write("broken.json", "[\n {\"a\": \"b\"},\n {\"a\" \"c\"}\n]\n")
        #expect {
            try QADataset.load(path: path)
        } throws: { error in
            "\(error)" == "\(path):3:7: malformed JSON: expected ':' after key \"a\", found '\"'"
        }
        let cut = dir.write("cut.json", "[{\"\(Self.q)\": \"What is it?\", \"\(Self.a)\": \"It\"}")
        #expect(throws: DatasetError.malformedJSON(path: cut, line: 1, column: 79,
                                                  message: "unexpected end of file inside the top-level array (missing ']')")) {
            try QADataset.load(path: cut)
        }
    }

    @Test func topLevelObjectIsNamed() {
        let dir = TempDir(); defer { dir.cleanup() }
        // Starts with '{', so it is read as JSON Lines first; as a whole it is one object, not rows.
        let path = dir.write("obj.json", "{\n  \"rows\": [],\n  \"version\": 2\n}\n")
        #expect(throws: DatasetError.notAnArray(path: path, found: "object with keys \"rows\", \"version\"")) {
            try QADataset.load(path: path)
        }
        // On one line it is a JSON Lines file whose only row lacks the columns.
        let oneLine = dir.write("one.json", "  {\"rows\": []} ")
        #expect(throws: DatasetError.missingColumns(path: oneLine, expected: [Self.q, Self.a], found: ["rows"])) {
            try QADataset.load(path: oneLine)
        }
        let scalar = dir.write("num.json", "42")
        #expect(throws: DatasetError.notAnArray(path: scalar, found: "number")) { try QADataset.load(path: scalar) }
    }

    /// Five rows: good, missing answer, numeric answer, invalid UTF-8 question, good.
    static func mixedFile(_ dir: TempDir) -> String {
        var bytes = Array("[\n{\"\(q)\": \"Which vitamin deficiency causes scurvy?\", \"\(a)\": \"Vitamin C\"},\n".utf8)
        bytes += Array("{\"\(q)\": \"Which nerve is injured?\"},\n".utf8)
        bytes += Array("{\"\(q)\": \"How many?\", \"\(a)\": 42},\n".utf8)
        bytes += Array("{\"\(q)\": \"Bad \u{00}".utf8).dropLast() + [0xC3, 0x28] + Array("\", \"\(a)\": \"x\"},\n".utf8)
        bytes += Array("{\"\(q)\": \"Which drug inhibits vitamin K epoxide reductase?\", \"\(a)\": \"Warfarin\", \"extra\": 1}\n]\n".utf8)
        return dir.write("mixed.json", bytes)
    }

    @Test func badRowsAreSkippedAndReported() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let path = Self.mixedFile(dir)
        let data = try QADataset.load(path: path)
        #expect(data.answers == ["Vitamin C", "Warfarin"])
        #expect(data.rows.map(\.sourceRow) == [0, 4])
        let r = data.loadReport
        #expect(r.rowsRead == 5 && r.rowsLoaded == 2)
        #expect(r.skipped.map(\.row) == [1, 2, 3])
        #expect(r.skipped.map(\.line) == [3, 4, 5])
        #expect(r.skipped[0].reason == .missingKey(Self.a))
        #expect(r.skipped[1].reason == .notAString(key: Self.a, found: "number"))
        #expect(r.skipped[2].reason == .invalidUTF8(key: Self.q))
        #expect(r.summary == "read 5 rows from mixed.json, loaded 2, skipped 3: 1 missing key \"Ground-True Answer\" (row 1); "
                + "1 \"Ground-True Answer\" is a number, not a string (row 2); 1 \"Open-ended Verifiable Question\" is not valid UTF-8 (row 3)")
        #expect("\(r.skipped[0])" == "\(path):3: row 1: missing key \"Ground-True Answer\"")
    }

    @Test func strictLoadStopsAtTheFirstBadRow() {
        let dir = TempDir(); defer { dir.cleanup() }
        let path = Self.mixedFile(dir)
        #expect {
            try QADataset.load(path: path, strict: true)
        } throws: { error in
            "\(error)" == "\(path):3: row 1: missing key \"Ground-True Answer\""
        }
    }

    @Test func otherColumnNames() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let path = dir.write("qa.json", "[{\"question\": \"What is the antidote to paracetamol?\", \"answer\": \"N-acetylcysteine\"}]")
        #expect {
            try QADataset.load(path: path)
        } throws: { error in
            "\(error)" == "\(path): no row has the columns \"Open-ended Verifiable Question\" and \"Ground-True Answer\"; the rows have \"question\", \"answer\""
        }
        let data = try QADataset.load(path: path, columns: QAColumns(question: "question", answer: "answer"))
        #expect(data[0].answer == "N-acetylcysteine")
        #expect(data.columns == ["question", "answer"])
    }

    @Test func jsonLinesWithABrokenLine() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let path = dir.write("rows.jsonl", """
        {"\(Self.q)": "Which organism causes syphilis?", "\(Self.a)": "Treponema pallidum"}

        {"\(Self.q)": "broken", "\(Self.a)": }
        {"\(Self.q)": "Which hormone does the posterior pituitary release to concentrate urine?", "\(Self.a)": "Vasopressin"}

        """)
        let data = try QADataset.load(path: path)
        #expect(data.answers == ["Treponema pallidum", "Vasopressin"])
        #expect(data.loadReport.skipped.count == 1)
        #expect(data.loadReport.skipped[0].line == 3)
        #expect("\(data.loadReport.skipped[0].reason)".hasPrefix("malformed JSON line (column 68: unexpected '}'"))
        #expect(throws: DatasetError.self) { try QADataset.load(path: path, strict: true) }
    }

    @Test func escapesAndSurrogatesDecode() throws {
        let value = try JSONReader.parse(Array(#"{"k": "a\"b\\c\n\u00e9\ud83d\ude00"}"#.utf8))
        #expect(value["k"] == .string("a\"b\\c\né😀"))
    }

    @Test func hubCacheSnapshot() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let repo = "hub/datasets--FreedomIntelligence--medical-o1-verifiable-problem"
        _ = dir.write("\(repo)/refs/main", "abc123\n")
        _ = dir.write("\(repo)/snapshots/abc123/medical_o1_verifiable_problem.json",
                      "[{\"\(Self.q)\": \"Which enzyme is deficient in classic phenylketonuria?\", \"\(Self.a)\": \"Phenylalanine hydroxylase\"}]")
        _ = dir.write("\(repo)/snapshots/abc123/dataset_info.json", "{\"not\": \"data\"}")
        _ = dir.write("\(repo)/snapshots/old999/medical_o1_verifiable_problem.json", "[]")
        let env = ["HF_HOME": dir.url.path]
        let data = try QADataset.load(hubID: "FreedomIntelligence/medical-o1-verifiable-problem", environment: env)
        #expect(data.count == 1)
        #expect(data.name == "FreedomIntelligence/medical-o1-verifiable-problem")
        #expect(data[0].answer == "Phenylalanine hydroxylase")
        #expect(try QADataset.load(source: "FreedomIntelligence/medical-o1-verifiable-problem", environment: env).count == 1)
        #expect {
            try QADataset.load(source: "someone/missing", environment: env)
        } throws: { error in
            "\(error)" == "dataset \"someone/missing\" is not in the Hugging Face cache; looked in: someone/missing (no such file), \(dir.url.path)/hub/datasets--someone--missing/snapshots"
        }
        #expect {
            try QADataset.load(hubID: "someone/missing", environment: env)
        } throws: { error in
            "\(error)" == "dataset \"someone/missing\" is not in the Hugging Face cache; looked in: \(dir.url.path)/hub/datasets--someone--missing/snapshots"
        }
    }

    @Test func missingFile() {
        #expect(throws: DatasetError.fileNotFound(path: "/nonexistent/x.json")) { try QADataset.load(source: "/nonexistent/x.json") }
    }
}
