import Tokenizers

// Generation and scoring on text, through a tokenizer from the Tokenizers module. The prompt is
// used as given: apply the chat template first (`ChatTemplate.apply`) for a chat model.

/// A generated reply as text and as ids.
public struct TextGeneration: Sendable, Equatable {
    /// The reply decoded without special tokens.
    public var text: String
    /// The new ids (no prompt, no stop token) and why generation stopped.
    public var generation: Generation
}

extension LlamaModel {
    /// Generates a reply to a prompt text. Stops at the model's EOS, at the tokenizer's
    /// end-of-turn tokens (`<|im_end|>`, `<|eot_id|>`, ...) and at `config.stop_token_ids`;
    /// `onText` receives the text as it is completed (whole UTF-8 characters), for streaming.
    ///
    /// - Parameter addSpecialTokens: whether encoding adds BOS as the tokenizer config says; off by
    ///   default because a chat template already writes its special tokens.
    ///
    /// ```swift
    /// let prompt = template.apply(messages: [.user("What causes anemia?")], addGenerationPrompt: true)
    /// let reply = try model.generate(text: prompt, tokenizer: tok, config: GenerationConfig(max_new_tokens: 128)) {
    ///     print($0, terminator: "")
    /// }
    /// ```
    public func generate(text prompt: String, tokenizer: any Tokenizer, config: GenerationConfig,
                         addSpecialTokens: Bool = false, onToken: ((Int) throws -> Void)? = nil,
                         onText: ((String) throws -> Void)? = nil) throws -> TextGeneration {
        let ids = tokenizer.encode(prompt, addSpecialTokens: addSpecialTokens)
        var g = config
        g.stop_token_ids += tokenizer.endOfTurnTokenIds.sorted()
        var stream = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: true)
        let generation = try generate(prompt: ids, config: g) { id in
            try onToken?(id)
            let piece = stream.push(id)
            if !piece.isEmpty { try onText?(piece) }
        }
        let tail = stream.finish()
        if !tail.isEmpty { try onText?(tail) }
        return TextGeneration(text: tokenizer.decode(generation.tokens, skipSpecialTokens: true), generation: generation)
    }

    /// The mean token loss and perplexity of a text.
    ///
    /// ```swift
    /// let s = try model.score(text: "The patient presents with fever.", tokenizer: tok)
    /// ```
    public func score(text: String, tokenizer: any Tokenizer, addSpecialTokens: Bool = true) throws -> Score {
        try score(tokens: tokenizer.encode(text, addSpecialTokens: addSpecialTokens))
    }

    /// The mean loss and perplexity of an answer given a prompt: prompt and answer are encoded
    /// separately (the answer without special tokens) and only the answer's tokens are counted.
    ///
    /// ```swift
    /// let s = try model.score(prompt: chatPrompt, answer: "Iron deficiency.", tokenizer: tok)
    /// ```
    public func score(prompt: String, answer: String, tokenizer: any Tokenizer,
                      addSpecialTokens: Bool = false) throws -> Score {
        try score(prompt: tokenizer.encode(prompt, addSpecialTokens: addSpecialTokens),
                  answer: tokenizer.encode(answer, addSpecialTokens: false))
    }
}
