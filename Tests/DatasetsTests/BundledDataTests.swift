import Datasets
import Foundation
import Support
import TestSupport
import Testing

/// The project's own dataset in data/: it parses, has the two keys, no duplicates, short answers,
/// and its train and test parts split the whole set.
@Suite struct BundledDataTests {
    static func load(_ name: String) throws -> QADataset {
        try QADataset.load(path: Repository.url("data/\(name)").path, strict: true)
    }

    @Test func wholeSetIsWellFormed() throws {
        let data = try Self.load("medqa_small.json")
        #expect(data.count >= 320)
        #expect(data.loadReport.skipped.isEmpty)
        #expect(data.columns == ["Open-ended Verifiable Question", "Ground-True Answer"])
        let questions = data.questions.map { $0.lowercased() }
        #expect(Set(questions).count == questions.count, "duplicate questions")
        let answers = data.answers.map { $0.lowercased() }
        #expect(Set(answers).count == answers.count, "duplicate answers")
        for row in data.rows {
            let words = row.answer.split(separator: " ").count
            #expect((1...4).contains(words), "answer too long: \(row.answer)")
            #expect(row.answer == row.answer.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(row.question.hasSuffix("?"), "not a question: \(row.question)")
        }
        // Every row survives the notebook's format_prompt rules.
        #expect(data.map(template: .notebookLlama3).count == data.count)
    }

    @Test func partsSplitTheWholeSet() throws {
        let whole = try Self.load("medqa_small.json")
        let train = try Self.load("medqa_small.train.json")
        let test = try Self.load("medqa_small.test.json")
        #expect(train.count + test.count == whole.count)
        #expect(test.count >= 60)
        let (head, tail) = try whole.split(at: train.count)
        #expect(head.questions == train.questions && head.answers == train.answers)
        #expect(tail.questions == test.questions && tail.answers == test.answers)
        #expect(Set(train.questions).isDisjoint(with: test.questions))
    }
}

@Suite struct WriteTests {
    @Test func bundledFileRoundTripsByteForByte() throws {
        // medqa_small.json was written by Python's json.dump(indent=2, ensure_ascii=False).
        let path = Repository.url("data/medqa_small.json").path
        let data = try QADataset.load(path: path)
        #expect(data.jsonText() == (try String(contentsOfFile: path, encoding: .utf8)))
    }

    @Test func writeIsAtomicAndReadsBack() throws {
        let dir = TempDir(); defer { dir.cleanup() }
        let rows = [QARow(question: "Tab\there, quote \" and backslash \\ and é?", answer: "Yes\nreally")]
        let path = dir.url.appendingPathComponent("out.json").path
        try QADataset(rows: rows).write(to: path)
        let back = try QADataset.load(path: path, strict: true)
        #expect(back.rows.map(\.question) == rows.map(\.question))
        #expect(back.rows.map(\.answer) == rows.map(\.answer))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["out.json"])
        #expect(throws: FileSystemError.self) { try QADataset(rows: rows).write(to: "/nonexistent-dir/x.json") }
    }
}
