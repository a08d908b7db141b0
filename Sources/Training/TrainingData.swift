import Foundation
import Tokenizers

/// One tokenized training row: token ids, labels (-100 = no loss) and an optional attention mask.
///
/// ```swift
/// let ex = TokenizedExample(input_ids: prompt + answer + [eos],
///                           labels: Array(repeating: -100, count: prompt.count) + answer + [eos])
/// ```
public struct TokenizedExample: Sendable, Equatable, Codable {
    public var input_ids: [Int]
    public var labels: [Int]
    /// nil: every token is real.
    public var attention_mask: [Int]?

    public init(input_ids: [Int], labels: [Int]? = nil, attention_mask: [Int]? = nil) {
        self.input_ids = input_ids
        self.labels = labels ?? input_ids
        self.attention_mask = attention_mask
    }

    /// The notebook's row: truncate to `maxLength`, pad with `padTokenId` to `maxLength` (`padding="max_length"`),
    /// labels = input_ids with every pad-id token set to -100 (the language-model collator). When the pad token
    /// is the EOS token, the real EOS is masked too: see `notebookEOSWarning`.
    public static func notebook(tokens: [Int], maxLength: Int, padTokenId: Int) -> TokenizedExample {
        let kept = Array(tokens.prefix(maxLength))
        let ids = kept + [Int](repeating: padTokenId, count: maxLength - kept.count)
        let mask = [Int](repeating: 1, count: kept.count) + [Int](repeating: 0, count: maxLength - kept.count)
        return TokenizedExample(input_ids: ids, labels: ids.map { $0 == padTokenId ? -100 : $0 }, attention_mask: mask)
    }

    /// The careful row: the prompt is context only (-100), the answer and the end token are targets.
    public static func promptAnswer(prompt: [Int], answer: [Int], endToken: Int?) -> TokenizedExample {
        let target = answer + (endToken.map { [$0] } ?? [])
        return TokenizedExample(input_ids: prompt + target, labels: [Int](repeating: -100, count: prompt.count) + target)
    }

    /// The default pipeline's row: the question in `template` as the prompt (context only, -100), the answer
    /// and the template's end of turn as targets, cut to `maxLength`. The answer is whatever the full chat text
    /// adds after the prompt in tokens; when the template ends the turn with no end token, `tokenizer`'s EOS
    /// is appended so the model learns to stop. `truncated` says the row was cut.
    ///
    /// ```swift
    /// let (ex, cut) = try TokenizedExample.chat(question: "Which vitamin prevents scurvy?", answer: "Vitamin C",
    ///                                            template: .chatml, tokenizer: tokenizer, maxLength: 512)
    /// ```
    public static func chat(question: String, answer: String, template: ChatTemplate, tokenizer: any Tokenizer,
                            maxLength: Int) throws -> (example: TokenizedExample, truncated: Bool) {
        try chat(prompt: template.prompt(question: question), text: template.text(question: question, answer: answer),
                 tokenizer: tokenizer, maxLength: maxLength)
    }

    /// The same row from its two texts: `prompt`, the conversation up to where the answer starts, and `text`, the
    /// whole conversation (exported training runs rebuild both from the template written out as text).
    public static func chat(prompt promptText: String, text: String, tokenizer: any Tokenizer,
                            maxLength: Int) throws -> (example: TokenizedExample, truncated: Bool) {
        let prompt = tokenizer.encode(promptText, addSpecialTokens: true)
        var full = tokenizer.encode(text, addSpecialTokens: true)
        guard full.count > prompt.count, Array(full.prefix(prompt.count)) == prompt else {
            throw ChatExampleError()
        }
        if let eos = tokenizer.eosTokenId, !full.suffix(2).contains(where: tokenizer.endOfTurnTokenIds.contains) {
            full.append(eos)
        }
        let example = promptAnswer(prompt: prompt, answer: Array(full[prompt.count...]), endToken: nil)
        guard example.input_ids.count > maxLength else { return (example, false) }
        return (TokenizedExample(input_ids: Array(example.input_ids.prefix(maxLength)), labels: Array(example.labels.prefix(maxLength))), true)
    }

    /// The chat template's prompt is not a prefix, in tokens, of its full text, so the answer cannot be told apart.
    public struct ChatExampleError: Error, CustomStringConvertible {
        public var description: String { "the chat template's prompt is not a prefix of its full text in tokens" }
    }

    /// The warning to show in notebook mode when pad == eos.
    public static let notebookEOSWarning = "warning: the pad token is the EOS token, so the collator masks every EOS to -100: "
        + "the model is never trained to end its answer and will tend to run on until max_new_tokens."
}

/// How micro-batches are padded.
public enum Padding: Sendable, Equatable {
    /// Pad every row to the longest row of its batch (the default).
    case longest
    /// Pad every row to a fixed length (the notebook's `padding="max_length"`); longer rows are an error.
    case maxLength(Int)
}

/// Turns examples into padded `TrainingBatch`es: pad with `padTokenId`, attention mask 0 and label -100.
public struct BatchBuilder: Sendable {
    public var padding: Padding
    public var padTokenId: Int

    public init(padding: Padding = .longest, padTokenId: Int) {
        self.padding = padding; self.padTokenId = padTokenId
    }

    /// Checks every example once, so a bad row fails before training starts, naming its index.
    public func validate(_ examples: [TokenizedExample]) throws {
        guard !examples.isEmpty else { throw LoraError("the training dataset is empty") }
        var targets = 0
        for (i, e) in examples.enumerated() {
            guard !e.input_ids.isEmpty else { throw LoraError("example \(i): input_ids is empty") }
            guard e.labels.count == e.input_ids.count else {
                throw LoraError("example \(i): \(e.labels.count) labels for \(e.input_ids.count) input_ids")
            }
            if let m = e.attention_mask, m.count != e.input_ids.count {
                throw LoraError("example \(i): attention_mask has \(m.count) entries for \(e.input_ids.count) input_ids")
            }
            if case .maxLength(let L) = padding, e.input_ids.count > L {
                throw LoraError("example \(i): \(e.input_ids.count) tokens is longer than max_length \(L) (truncate when tokenizing)")
            }
            targets += e.labels.dropFirst().filter { $0 != -100 }.count
        }
        guard targets > 0 else { throw LoraError("every label of the training dataset is -100: nothing to train on (all rows filtered)") }
    }

    public func batch(_ rows: [TokenizedExample]) throws -> TrainingBatch {
        let longest = rows.map(\.input_ids.count).max() ?? 0
        var T = longest
        if case .maxLength(let L) = padding { T = L }
        func pad(_ v: [Int], _ value: Int) -> [Int] { v + [Int](repeating: value, count: max(0, T - v.count)) }
        return try TrainingBatch(input_ids: rows.map { pad($0.input_ids, padTokenId) },
                                 attention_mask: rows.map { pad($0.attention_mask ?? [Int](repeating: 1, count: $0.input_ids.count), 0) },
                                 labels: rows.map { pad($0.labels, -100) })
    }
}
