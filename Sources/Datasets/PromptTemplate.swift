// Templates that turn a question/answer row into training text (the notebook's `format_prompt`).
import Foundation

/// A text template with `{question}` and `{answer}` placeholders, plus the notebook's skip rules.
///
/// ```swift
/// let t = PromptTemplate.notebookLlama3
/// t.render(question: "Which vitamin deficiency causes scurvy?", answer: "Vitamin C")
/// // "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhich vitamin ...<|eot_id|>..."
/// let mine = try PromptTemplate(text: "Q: {question}\nA: {answer}")
/// ```
public struct PromptTemplate: Equatable, Sendable {
    /// The template text; `{question}` and `{answer}` are replaced, nothing else is.
    public let text: String
    /// The name it is known by in the command language ("custom" for a user's string).
    public let name: String
    /// Rows whose question has fewer characters (Unicode scalars, as Python's `len`) are skipped.
    public let minQuestionLength: Int
    /// Rows whose answer has fewer characters are skipped.
    public let minAnswerLength: Int

    /// A user-given template; it must contain `{question}`.
    public init(text: String, name: String = "custom", minQuestionLength: Int = 0, minAnswerLength: Int = 0) throws {
        guard text.contains("{question}") else {
            throw DatasetError.invalidTemplate("template \"\(text.prefix(60))\" has no {question} placeholder")
        }
        self.text = text
        self.name = name
        self.minQuestionLength = minQuestionLength
        self.minAnswerLength = minAnswerLength
    }

    private init(uncheckedText: String, name: String, minQuestionLength: Int, minAnswerLength: Int) {
        self.text = uncheckedText
        self.name = name
        self.minQuestionLength = minQuestionLength
        self.minAnswerLength = minAnswerLength
    }

    /// The notebook's `format_prompt`: the Llama-3 chat layout written out literally, and its rules
    /// (skip a question shorter than 10 characters or an answer shorter than 2).
    public static let notebookLlama3 = PromptTemplate(
        uncheckedText: "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{question}<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n{answer}<|eot_id|>",
        name: "notebook-llama3", minQuestionLength: 10, minAnswerLength: 2)

    /// A plain layout for models without a chat template.
    public static let plainQA = PromptTemplate(
        uncheckedText: "Question: {question}\nAnswer: {answer}", name: "plain", minQuestionLength: 0, minAnswerLength: 0)

    /// The named templates the command language offers.
    public static let named: [String: PromptTemplate] = [notebookLlama3.name: notebookLlama3, plainQA.name: plainQA]

    /// A named template, or an error listing the names.
    public static func named(_ name: String) throws -> PromptTemplate {
        guard let t = named[name] else {
            throw DatasetError.invalidTemplate("no template named \"\(name)\"; known: " + named.keys.sorted().joined(separator: ", "))
        }
        return t
    }

    /// Why `row` would be skipped by this template's rules, or nil when it is kept.
    public func skipReason(question: String, answer: String) -> String? {
        if question.unicodeScalars.count < minQuestionLength { return "question shorter than \(minQuestionLength) characters" }
        if answer.unicodeScalars.count < minAnswerLength { return "answer shorter than \(minAnswerLength) characters" }
        return nil
    }

    /// The template with the placeholders filled in one pass (a question containing "{answer}"
    /// stays as written).
    public func render(question: String, answer: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let tail = rest[open...]
            if tail.hasPrefix("{question}") {
                out += question
                rest = tail.dropFirst("{question}".count)
            } else if tail.hasPrefix("{answer}") {
                out += answer
                rest = tail.dropFirst("{answer}".count)
            } else {
                out += "{"
                rest = tail.dropFirst()
            }
        }
        return out + rest
    }
}

/// How a row's answer is written in the training text. The bare answer ("Warfarin") teaches the model to
/// reply in one or two words, which on the project's own rows cost the base model's knowledge (issue 15);
/// a sentence keeps the answer in the register the model already speaks in.
///
/// ```swift
/// AnswerFormat.sentence.apply("Warfarin")   // "The answer is Warfarin."
/// ```
extension QADataset {
    /// The rows with every answer written in `format` (the questions and everything else unchanged).
    public func answers(writtenAs format: AnswerFormat) -> QADataset {
        var copy = self
        copy.rows = rows.map { var row = $0; row.answer = format.apply(row.answer); return row }
        return copy
    }
}

public enum AnswerFormat: String, CaseIterable, Sendable {
    /// The answer as the dataset has it.
    case bare
    /// "The answer is X." (a final period of X is not doubled).
    case sentence

    public func apply(_ answer: String) -> String {
        switch self {
        case .bare: return answer
        case .sentence:
            let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.hasPrefix("The answer is ") { return trimmed }   // already a sentence
            let core = trimmed.hasSuffix(".") ? String(trimmed.dropLast()) : trimmed
            return "The answer is \(core)."
        }
    }
}
