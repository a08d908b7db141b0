import Datasets
import Foundation
import Language
import Support
import Training

/// A question/answer dataset living in the session (`data = load_dataset ...`), with the formatted
/// `text` of each row once `format_prompts` has run.
///
/// ```
/// data = load_dataset data/medqa_small.json
/// data.rows            # 320
/// ```
public final class DatasetObject: QADatasetHolder {
    public let dataset: QADataset
    /// How `format_prompts` wrote the answers ("bare", "sentence", "self"); nil for rows as loaded, whose
    /// answers `tokenize_dataset mode=default` may still write as sentences.
    public let answerFormat: String?
    /// How `format_prompts` made each row's text from its question and its answer as written (nil before it):
    /// `export_training` writes it out as text and fields for train.py.
    let render: (@Sendable (String, String) -> String)?

    public init(_ dataset: QADataset, answerFormat: String? = nil) { self.dataset = dataset; self.answerFormat = answerFormat; self.render = nil }

    init(_ dataset: QADataset, answerFormat: String?, render: (@Sendable (String, String) -> String)?) {
        self.dataset = dataset; self.answerFormat = answerFormat; self.render = render
    }

    /// Other rows of this dataset (selected, shuffled, split or filtered), formatted the same way.
    func derived(_ rows: QADataset) -> DatasetObject { DatasetObject(rows, answerFormat: answerFormat, render: render) }

    public var typeName: String { "Dataset" }
    public var summary: String {
        let formatted = dataset.rows.contains { $0.text != nil } ? ", formatted" : ""
        return "\(dataset.count) row\(dataset.count == 1 ? "" : "s") from \(dataset.name)\(formatted)"
    }
    public var fieldNames: [String] { ["rows", "name", "columns", "formatted", "skipped", "questions", "answers"] }
    public func field(_ name: String) -> Value? {
        switch name {
        case "rows": return .int(dataset.count)
        case "name": return .string(dataset.name)
        case "columns": return .list(dataset.columns.map { .string($0) })
        case "formatted": return .bool(dataset.rows.contains { $0.text != nil })
        case "skipped": return .int(dataset.loadReport.skipped.count)
        case "questions": return .list(dataset.questions.map { .string($0) })
        case "answers": return .list(dataset.answers.map { .string($0) })
        default: return nil
        }
    }
    // The question/answer lists can be long: `show` lists the short fields only.
    public func details() -> String {
        (["\(typeName): \(summary)"] + ["rows", "name", "columns", "formatted", "skipped"].compactMap { n in
            field(n).map { "  \(n) = \($0.display)" }
        }).joined(separator: "\n")
    }
}

/// Token ids and labels ready for the trainer (`tokens = tokenize_dataset texts tok`).
public final class TokenizedDatasetObject: LiveObject {
    public let examples: [TokenizedExample]
    /// "notebook" (padded to max_length, pads masked) or "default" (prompt masked, padded per batch).
    public let mode: String
    public let maxLength: Int
    /// The id batches are padded with.
    public let padTokenId: Int
    /// Rows cut to `maxLength`.
    public let truncatedRows: Int

    /// The questions of the rows, in order: a model trained on them knows their answers.
    public let questions: [String]
    /// How the answers were written (`bare`, `sentence`, `self`): what `sweep` names a set of rows by.
    public let answerFormat: String

    /// How the rows were tokenized (nil: made elsewhere), for tokenizing evaluation rows the same way.
    var recipe: TokenizationRecipe?
    /// `, answers as "The answer is …."` when mode=default wrote the answers as sentences.
    let answerNote: String
    /// The rows max_length cut (when known).
    var truncatedRowIndices: Set<Int> = []
    /// Where the rows came from, for a run's record: the dataset's name and files, and each row's index there.
    var dataName = "", dataFiles: [String] = [], sourceRows: [Int] = []
    /// The data file's question and answer columns, and (mode=notebook) how format_prompts made each row's text.
    var dataColumns = QAColumns.medicalO1
    var render: (@Sendable (String, String) -> String)?
    /// What tokenizing found wrong (rows cut before their end of turn, rows left with no answer), said after the facts.
    var warnings: [String] = []

    public init(examples: [TokenizedExample], mode: String, maxLength: Int, padTokenId: Int, truncatedRows: Int,
                questions: [String] = [], answerFormat: String = "bare") {
        self.examples = examples; self.mode = mode; self.maxLength = maxLength
        self.padTokenId = padTokenId; self.truncatedRows = truncatedRows; self.questions = questions
        self.answerFormat = answerFormat; self.answerNote = ""
    }

    init(examples: [TokenizedExample], mode: String, maxLength: Int, padTokenId: Int, truncatedRows: Int,
         questions: [String], answerFormat: String, recipe: TokenizationRecipe, answerNote: String) {
        self.examples = examples; self.mode = mode; self.maxLength = maxLength
        self.padTokenId = padTokenId; self.truncatedRows = truncatedRows; self.questions = questions
        self.answerFormat = answerFormat; self.recipe = recipe; self.answerNote = answerNote
    }

    /// `tokenized 8 rows (default mode): 480 tokens, 78 trained, 0 truncated to max_length 256, answers as "The answer is …."`
    var factsLine: String {
        "tokenized \(examples.count) rows (\(mode) mode): \(formatCount(realTokens)) tokens, "
            + "\(formatCount(targetTokens)) trained (\(String(format: "%.1f", 100 * Double(targetTokens) / Double(max(realTokens, 1))))%), "
            + "\(truncatedRows) truncated to max_length \(maxLength)\(answerNote)"
    }

    /// Tokens that carry a loss (label != -100), over every row.
    public var targetTokens: Int { examples.reduce(0) { $0 + $1.labels.filter { $0 != -100 }.count } }
    /// Tokens that are not padding, over every row.
    public var realTokens: Int {
        examples.reduce(0) { $0 + ($1.attention_mask.map { m in m.reduce(0, +) } ?? $1.input_ids.count) }
    }

    public var typeName: String { "TokenizedDataset" }
    public var summary: String {
        "\(examples.count) rows, \(mode) mode, max_length \(maxLength), \(formatCount(realTokens)) tokens, "
            + "\(formatCount(targetTokens)) trained, pad id \(padTokenId)"
    }
    public var fieldNames: [String] { ["rows", "mode", "max_length", "pad_token_id", "tokens", "trained_tokens", "truncated", "answer_format"] }
    public func field(_ name: String) -> Value? {
        switch name {
        case "rows": return .int(examples.count)
        case "mode": return .string(mode)
        case "max_length": return .int(maxLength)
        case "pad_token_id": return .int(padTokenId)
        case "tokens": return .int(realTokens)
        case "trained_tokens": return .int(targetTokens)
        case "truncated": return .int(truncatedRows)
        case "answer_format": return .string(answerFormat)
        default: return nil
        }
    }

    /// Row `index` as a record with its `input_ids`, `labels` and `attention_mask` lists (`row tokens 0`).
    public func row(_ index: Int) -> RecordObject {
        let ex = examples[index]
        return RecordObject(typeName: "TokenizedRow", fields: [
            ("input_ids", .list(ex.input_ids.map { .int($0) })),
            ("labels", .list(ex.labels.map { .int($0) })),
            ("attention_mask", .list((ex.attention_mask ?? ex.input_ids.map { _ in 1 }).map { .int($0) })),
        ])
    }
}
