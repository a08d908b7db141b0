import Datasets
import Testing

@Suite struct OperationTests {
    static let data = QADataset(rows: (0..<10).map {
        QARow(question: "Question number \($0) about medicine?", answer: "Answer \($0)", sourceRow: $0)
    }, name: "ten.json")

    @Test func selectAndSplitAtIndex() throws {
        #expect(try Self.data.select(2..<5).rows.map(\.sourceRow) == [2, 3, 4])
        #expect(try Self.data.select(indices: [9, 0, 9]).rows.map(\.sourceRow) == [9, 0, 9])
        let (train, test) = try Self.data.split(at: 7)
        #expect(train.count == 7 && test.rows.map(\.sourceRow) == [7, 8, 9])
        #expect {
            try Self.data.select(5..<12)
        } throws: { "\($0)" == "select(5..<12) is outside ten.json, which has 10 rows" }
        #expect(throws: DatasetError.self) { try Self.data.split(at: 11) }
        #expect(throws: DatasetError.self) { try Self.data.row(10) }
    }

    @Test func shuffleIsPythons() {
        // random.Random(42).shuffle(list(range(10))) == [7, 3, 2, 8, 5, 6, 9, 4, 0, 1]
        #expect(Self.data.shuffle(seed: 42).rows.map(\.sourceRow) == [7, 3, 2, 8, 5, 6, 9, 4, 0, 1])
    }

    @Test func randomSplit() throws {
        let (train, test) = try Self.data.split(testFraction: 0.2, seed: 42)
        #expect(train.rows.map(\.sourceRow) == [7, 3, 2, 8, 5, 6, 9, 4])
        #expect(test.rows.map(\.sourceRow) == [0, 1])
        #expect(throws: DatasetError.self) { try Self.data.split(testFraction: 1.0, seed: 1) }
        #expect(throws: DatasetError.self) { try Self.data.split(testFraction: 0, seed: 1) }
        #expect(try Self.data.split(testFraction: 0.01, seed: 1).test.count == 1)   // ceil(0.1)
    }

    @Test func notebookTemplate() {
        let rows = [QARow(question: "Which vitamin deficiency causes scurvy?", answer: "Vitamin C", sourceRow: 0),
                    QARow(question: "Too short", answer: "Long enough", sourceRow: 1),       // 9 characters
                    QARow(question: "What is the chemical symbol of sodium?", answer: "N", sourceRow: 2)]
        let (mapped, report) = QADataset(rows: rows).mapWithReport(template: .notebookLlama3)
        #expect(mapped.count == 1)
        #expect(mapped[0].text == "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhich vitamin deficiency causes scurvy?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nVitamin C<|eot_id|>")
        #expect(report.skipped.map(\.sourceRow) == [1, 2])
        #expect("\(report)" == "formatted 1 row, skipped 2 (1 answer shorter than 2 characters, 1 question shorter than 10 characters)")
        #expect(mapped.columns.last == "text")
        // Length is counted in code points, as Python's len: 10 code points with a combining accent pass.
        let accented = QARow(question: "cafe\u{301} abcd", answer: "ok")
        #expect(QADataset(rows: [accented]).map(template: .notebookLlama3).count == 1)
    }

    @Test func customTemplate() throws {
        let t = try PromptTemplate(text: "Q: {question}\nA: {answer} {other}")
        #expect(t.render(question: "mentions {answer}?", answer: "yes") == "Q: mentions {answer}?\nA: yes {other}")
        #expect {
            try PromptTemplate(text: "no placeholder")
        } throws: { "\($0)" == "template \"no placeholder\" has no {question} placeholder" }
        #expect(try PromptTemplate.named("notebook-llama3") == .notebookLlama3)
        #expect(throws: DatasetError.self) { try PromptTemplate.named("nope") }
        let viaClosure = Self.data.map { $0.sourceRow.isMultiple(of: 2) ? "<\($0.answer)>" : nil }
        #expect(viaClosure.rows.map(\.text) == ["<Answer 0>", "<Answer 2>", "<Answer 4>", "<Answer 6>", "<Answer 8>"])
    }

    @Test func filters() {
        let rows = [QARow(question: "Which heart valve is affected in rheumatic fever?", answer: "Mitral valve"),
                    QARow(question: "Short?", answer: "A"),
                    QARow(question: "Which drug is a loop diuretic?", answer: "Furosemide")]
        let d = QADataset(rows: rows)
        #expect(d.filter(minQuestionLength: 10).count == 2)
        #expect(d.filter(minAnswerLength: 2).count == 2)
        #expect(d.filter(contains: "HEART").answers == ["Mitral valve"])
        #expect(d.filter(contains: "furosemide").count == 1)
        #expect(d.filter { $0.answer.count > 9 }.answers == ["Mitral valve", "Furosemide"])
    }

    @Test func summaryAndPreview() {
        let d = QADataset(rows: Array(Self.data.rows.prefix(3)), name: "three.json")
        #expect(d.summary == "QADataset(three.json): 3 rows, columns [\"Open-ended Verifiable Question\", \"Ground-True Answer\"]")
        let expected = """
        row | Open-ended Verifiable Question | Ground-True Answer
        ----+--------------------------------+-------------------
          0 | Question number 0 about…       | Answer 0
          1 | Question number 1 about…       | Answer 1
        ... 1 more rows
        """
        #expect(d.preview(limit: 2, width: 24) == expected)
    }
}
