import Language
import Tokenizers

/// `template=`, spelled once for every verb that takes it (`ask`, `generate`, `chat`, `tokenize_dataset`,
/// `format_prompts`, `evaluate`, `compare`, `answer_loss`, `sweep`):
/// - `auto`: the model's own chat template, read from its tokenizer;
/// - a family by name: `chatml`, `smollm2`, `llama3`, `llama3.2`, `zephyr`, `llama2` (`ChatTemplate.familyNames`);
/// - `notebook`: the notebook's literal Llama-3 text;
/// - and what one verb adds: `plain` text for the careful evaluation, any "… {question} … {answer}" text for
///   `format_prompts` (which also takes `chat`, its older word for `auto`).
///
/// ```swift
/// TemplateChoice.parameter(extra: ["plain"], help: "careful prompt: ...")
/// let chat = try TemplateChoice.chat(named: name) { try tokenizerChatTemplate(inv, "tokenizer") }
/// ```
enum TemplateChoice {
    static let auto = "auto"
    static let notebook = "notebook"

    /// Every word `template=` takes, with a verb's `extra` words.
    static func names(extra: [String] = []) -> [String] { [auto] + ChatTemplate.familyNames + [notebook] + extra }

    /// The `template=` parameter: one of `names(extra:)`, `auto` unless told.
    static func parameter(extra: [String] = [], help: String) -> Parameter {
        Parameter("template", .choice(names(extra: extra)), default: .string(auto), help: help)
    }

    /// The chat template a name stands for: `own()` for `auto`, the notebook's text, or a family; nil for another word.
    static func chat(named name: String, own: () throws -> ChatTemplate?) rethrows -> ChatTemplate? {
        switch name {
        case auto: return try own()
        case notebook: return .notebookLlama3
        default: return ChatTemplate.familyNames.contains(name) ? ChatTemplate.named(name) : nil
        }
    }
}
