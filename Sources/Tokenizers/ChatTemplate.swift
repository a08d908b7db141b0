import Foundation

/// One turn of a conversation.
///
/// ```swift
/// let messages: [ChatMessage] = [.system("Answer briefly."), .user("What causes scurvy?")]
/// ```
public struct ChatMessage: Equatable, Sendable {
    /// `"system"`, `"user"` or `"assistant"`.
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// A model's chat format, written in Swift (no Jinja engine): the families medrepl's models use, and raw
/// template strings with `{question}` / `{answer}` placeholders such as the notebook's literal Llama-3 text.
///
/// ```swift
/// let chat = ChatTemplate.detect(jinja: tokenizer.chatTemplate ?? "") ?? .chatml(defaultSystemPrompt: nil)
/// let prompt = chat.apply(messages: [.user("What causes scurvy?")], addGenerationPrompt: true)
/// // "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
/// // + "<|im_start|>user\nWhat causes scurvy?<|im_end|>\n<|im_start|>assistant\n"   (SmolLM2)
/// let ids = tokenizer.encode(prompt, addSpecialTokens: false)   // the template already has any BOS
/// ```
public enum ChatTemplate: Equatable, Sendable {
    /// `<|im_start|>role\ncontent<|im_end|>\n` (SmolLM2, Qwen). A conversation that does not open with a
    /// system message gets `defaultSystemPrompt` first, when the model's template has one.
    case chatml(defaultSystemPrompt: String?)
    /// `<|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>`, contents trimmed.
    /// Llama-3.1/3.2 templates always open with a system block carrying `Cutting Knowledge Date: December
    /// 2023` and `Today Date: <todayDate>`; `todayDate` is nil for Llama-3.0's template, which has none.
    case llama3(todayDate: String?)
    /// TinyLlama's Zephyr style: `<|user|>\ncontent</s>\n`, generation prompt `<|assistant|>\n`.
    case zephyr
    /// Llama-2: `<s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] assistant </s>`.
    case llama2
    /// A literal template with `{question}` and `{answer}` placeholders.
    case raw(String)

    /// The notebook's literal Llama-3 prompt format.
    public static let notebookLlama3 = ChatTemplate.raw(
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{question}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n{answer}<|eot_id|>")

    /// The families' names as verbs offer them (`named` also takes aliases: `llama3.1`, `tinyllama`, `llama-2`, ...).
    public static let familyNames = ["chatml", "smollm2", "llama3", "llama3.2", "zephyr", "llama2"]

    /// A template by name: `chatml`, `smollm2` (ChatML with SmolLM2's default system prompt), `llama3`,
    /// `llama3.1`/`llama3.2`, `zephyr`/`tinyllama`, `llama2`; nil for other names.
    public static func named(_ name: String) -> ChatTemplate? {
        switch name.lowercased() {
        case "chatml": return .chatml(defaultSystemPrompt: nil)
        case "smollm2", "smollm": return .chatml(defaultSystemPrompt: smolLM2SystemPrompt)
        case "llama3", "llama-3": return .llama3(todayDate: nil)
        case "llama3.1", "llama3.2", "llama-3.1", "llama-3.2": return .llama3(todayDate: defaultLlama3Date)
        case "zephyr", "tinyllama": return .zephyr
        case "llama2", "llama-2": return .llama2
        default: return nil
        }
    }

    /// The name `named` gives this template by (the first such name), or `custom: TEXT` / `notebook` for a literal one:
    /// how records and messages name it.
    public var name: String {
        if self == Self.notebookLlama3 { return "notebook" }
        if case .raw(let text) = self { return "custom: " + text }
        if let family = Self.familyNames.first(where: { Self.named($0) == self }) { return family }
        switch self {
        case .chatml(let prompt): return "chatml (default system prompt: \(prompt ?? ""))"
        case .llama3(let date): return "llama3 (date: \(date ?? "none"))"
        case .zephyr: return "zephyr"
        case .llama2: return "llama2"
        case .raw(let text): return "custom: " + text
        }
    }

    static let smolLM2SystemPrompt = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    /// The date Llama-3.1/3.2 templates fall back to when the renderer gives none.
    public static let defaultLlama3Date = "26 Jul 2024"

    /// Recognises a model's Jinja `chat_template` by its markers; nil when it is none of the known families.
    ///
    /// ```swift
    /// ChatTemplate.detect(jinja: "{% for message in messages %}{{'<|im_start|>' + ...")   // .chatml(...)
    /// ```
    public static func detect(jinja: String) -> ChatTemplate? {
        if jinja.contains("<|im_start|>") {
            return .chatml(defaultSystemPrompt: defaultChatMLSystemPrompt(in: jinja))
        }
        if jinja.contains("<|start_header_id|>") {
            return .llama3(todayDate: jinja.contains("Cutting Knowledge Date") ? defaultLlama3Date : nil)
        }
        if jinja.contains("<|user|>") && jinja.contains("<|assistant|>") { return .zephyr }
        if jinja.contains("[INST]") { return .llama2 }
        return nil
    }

    /// The families `detect` recognises and the marker each is known by, for messages.
    public static let recognisedFamilies = "ChatML (<|im_start|>), Llama 3 (<|start_header_id|>), Zephyr (<|user|> with <|assistant|>) "
        + "and Llama 2 ([INST])"

    /// The family of a tokenizer's Jinja `chat_template` (nil: it has none), read from `source`; an error
    /// naming the file and field when there is none or medrepl does not recognise it.
    ///
    /// ```swift
    /// let chat = try ChatTemplate.recognise(tok.chatTemplate, from: ChatTemplateSource(tokenizerAt: folder))
    /// // m/tokenizer_config.json: chat_template: missing (medrepl recognises ChatML (<|im_start|>), ...)
    /// ```
    public static func recognise(_ jinja: String?, from source: ChatTemplateSource) throws -> ChatTemplate {
        guard let jinja else {
            throw TokenizerError(source.file, field: source.field, "missing: the tokenizer has no chat template (medrepl recognises \(recognisedFamilies))")
        }
        guard let family = detect(jinja: jinja) else {
            throw TokenizerError(source.file, field: source.field, "a template medrepl does not recognise (it recognises \(recognisedFamilies))")
        }
        return family
    }

    /// The literal `<|im_start|>system\n...<|im_end|>` a ChatML template writes when no system message is given.
    private static func defaultChatMLSystemPrompt(in jinja: String) -> String? {
        for opener in ["<|im_start|>system\n", "<|im_start|>system\\n"] {
            guard let start = jinja.range(of: opener), let end = jinja.range(of: "<|im_end|>", range: start.upperBound..<jinja.endIndex)
            else { continue }
            return String(jinja[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "\\n", with: "\n")
        }
        return nil
    }

    /// Renders a conversation as the model's template does; with `addGenerationPrompt` the text ends where
    /// the assistant's reply begins.
    public func apply(messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = ""
        switch self {
        case .chatml(let defaultSystemPrompt):
            if let defaultSystemPrompt, let first = messages.first, first.role != "system" {
                out += "<|im_start|>system\n\(defaultSystemPrompt)<|im_end|>\n"
            }
            for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }

        case .llama3(let todayDate):
            out = "<|begin_of_text|>"
            var turns = messages[...]
            if let todayDate {
                var system = ""
                if let first = turns.first, first.role == "system" {
                    system = trimmed(first.content)
                    turns = turns.dropFirst()
                }
                out += "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
                out += "Today Date: \(todayDate)\n\n\(system)<|eot_id|>"
            }
            for m in turns { out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n\(trimmed(m.content))<|eot_id|>" }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }

        case .zephyr:
            for m in messages { out += "<|\(m.role)|>\n\(m.content)</s>\n" }
            if addGenerationPrompt { out += "<|assistant|>\n" }

        case .llama2:
            var turns = messages[...]
            var system: String? = nil
            if let first = turns.first, first.role == "system" {
                system = first.content
                turns = turns.dropFirst()
            }
            for (i, m) in turns.enumerated() {
                var content = m.content
                if i == 0, let system { content = "<<SYS>>\n\(system)\n<</SYS>>\n\n" + content }
                if m.role == "user" { out += "<s>[INST] \(trimmed(content)) [/INST]" }
                if m.role == "assistant" { out += " \(trimmed(content)) </s>" }
            }

        case .raw(let template):
            let question = messages.last { $0.role == "user" }?.content ?? ""
            let answer = messages.last { $0.role == "assistant" }?.content
            if addGenerationPrompt || answer == nil {
                out = fill(template, question: question, answer: nil)
            } else {
                out = fill(template, question: question, answer: answer)
            }
        }
        return out
    }

    /// The prompt for one question, ready for generation (the text up to where the answer starts).
    public func prompt(question: String, system: String? = nil) -> String {
        apply(messages: (system.map { [.system($0)] } ?? []) + [.user(question)], addGenerationPrompt: true)
    }

    /// A whole question-and-answer example, as used for training.
    public func text(question: String, answer: String, system: String? = nil) -> String {
        apply(messages: (system.map { [.system($0)] } ?? []) + [.user(question), .assistant(answer)], addGenerationPrompt: false)
    }
}

/// Fills `{question}`; fills `{answer}`, or with `answer` nil cuts the text at `{answer}`.
private func fill(_ template: String, question: String, answer: String?) -> String {
    // Split first so a question that itself contains "{answer}" is left alone.
    let parts = template.components(separatedBy: "{answer}")
    let filled = parts.map { $0.replacingOccurrences(of: "{question}", with: question) }
    guard let answer else { return filled[0] }
    return filled.joined(separator: answer)
}

/// Jinja's `trim` / Python's `strip()`: whitespace off both ends.
private func trimmed(_ s: String) -> String {
    s.trimmingCharacters(in: .whitespacesAndNewlines)
}
