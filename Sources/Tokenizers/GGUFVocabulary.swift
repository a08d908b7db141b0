import Foundation
import Weights

/// The tokenizer part of a GGUF file's metadata (`tokenizer.ggml.*`), as plain values.
///
/// The Weights module reads the file; this turns its values into a tokenizer:
/// ```swift
/// var vocab = GGUFVocabulary(model: "gpt2", tokens: tokens, source: path)
/// vocab.merges = merges; vocab.tokenTypes = types; vocab.pre = "smollm"
/// vocab.bosTokenId = 1; vocab.eosTokenId = 2
/// let tok = try vocab.makeTokenizer()    // a BPETokenizer
/// ```
public struct GGUFVocabulary: Sendable {
    /// `tokenizer.ggml.model`: `"llama"` (SentencePiece-style, scores) or `"gpt2"` (byte-level BPE, merges).
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer of a `gpt2` vocabulary (`"llama-bpe"`, `"smollm"`, ...).
    public var pre: String?
    public var tokens: [String]               // [vocab] tokenizer.ggml.tokens
    public var scores: [Float]?               // [vocab] tokenizer.ggml.scores
    public var tokenTypes: [Int32]?           // [vocab] tokenizer.ggml.token_type
    public var merges: [String]?              // [merges] tokenizer.ggml.merges, "a b"
    public var bosTokenId: Int?               // tokenizer.ggml.bos_token_id
    public var eosTokenId: Int?               // tokenizer.ggml.eos_token_id
    public var unknownTokenId: Int?           // tokenizer.ggml.unknown_token_id
    public var paddingTokenId: Int?           // tokenizer.ggml.padding_token_id
    public var addBosToken: Bool?             // tokenizer.ggml.add_bos_token
    public var addEosToken: Bool?             // tokenizer.ggml.add_eos_token
    public var addSpacePrefix: Bool?          // tokenizer.ggml.add_space_prefix
    public var chatTemplate: String?          // tokenizer.chat_template
    /// Overrides the pre-tokenizer `pre` names (see `PreTokenizer.named`).
    public var preTokenizer: PreTokenizer?
    /// The file, named in errors.
    public var source: String

    public init(model: String, tokens: [String], source: String) {
        self.model = model
        self.tokens = tokens
        self.source = source
    }

    /// Builds the tokenizer the vocabulary describes: `SentencePieceVocabTokenizer` for `llama`,
    /// `BPETokenizer` for `gpt2`.
    public func makeTokenizer() throws -> any Tokenizer {
        let types = tokenTypes ?? [Int32](repeating: TokenKind.normal.rawValue, count: tokens.count)
        guard types.count == tokens.count else {
            throw TokenizerError(source, field: "tokenizer.ggml.token_type", "\(types.count) types for \(tokens.count) tokens")
        }
        for (field, id) in [("bos_token_id", bosTokenId), ("eos_token_id", eosTokenId),
                            ("unknown_token_id", unknownTokenId), ("padding_token_id", paddingTokenId)] {
            if let id, !tokens.indices.contains(id) {
                throw TokenizerError(source, field: "tokenizer.ggml.\(field)", "id \(id) is outside the vocabulary of \(tokens.count)")
            }
        }
        var settings = TokenizerSettings(bosTokenId: bosTokenId, eosTokenId: eosTokenId, padTokenId: paddingTokenId,
                                         unkTokenId: unknownTokenId, chatTemplate: chatTemplate)
        switch model {
        case "llama":
            guard let scores else { throw TokenizerError(source, field: "tokenizer.ggml.scores", "missing") }
            settings.addBosToken = addBosToken ?? true
            settings.addEosToken = addEosToken ?? false
            return try SentencePieceVocabTokenizer(tokens: tokens, scores: scores, tokenTypes: types, settings: settings,
                                                   addSpacePrefix: addSpacePrefix ?? true, source: source)
        case "gpt2":
            guard let merges else { throw TokenizerError(source, field: "tokenizer.ggml.merges", "missing") }
            let preTokenizer = try resolvedPreTokenizer()
            var pairs: [(String, String)] = []
            pairs.reserveCapacity(merges.count)
            for (i, merge) in merges.enumerated() {
                guard let space = merge.firstIndex(of: " ") else {
                    throw TokenizerError(source, field: "tokenizer.ggml.merges[\(i)]", "expected \"a b\", got \"\(merge)\"")
                }
                pairs.append((String(merge[..<space]), String(merge[merge.index(after: space)...])))
            }
            // Control and user-defined tokens are matched in raw text; control ones count as special.
            var added: [(content: String, id: Int, special: Bool)] = []
            for (id, type) in types.enumerated() where type == TokenKind.control.rawValue || type == TokenKind.userDefined.rawValue {
                added.append((tokens[id], id, type == TokenKind.control.rawValue))
            }
            let isLlama3 = preTokenizer == .llama3
            settings.addBosToken = addBosToken ?? isLlama3
            settings.addEosToken = addEosToken ?? false
            settings.cleanUpTokenizationSpaces = false
            return try BPETokenizer(tokens: tokens, merges: pairs, addedTokens: added, preTokenizer: preTokenizer,
                                    ignoreMerges: isLlama3, settings: settings, source: source)
        default:
            throw TokenizerError(source, field: "tokenizer.ggml.model", "tokenizer model \"\(model)\" is not supported (llama or gpt2)")
        }
    }
}

extension GGUFVocabulary {
    /// The pre-tokenizer of a `gpt2` vocabulary: `preTokenizer` when set, else the one `pre` names
    /// (`"default"` when absent); throws naming `tokenizer.ggml.pre` for a name medrepl does not know.
    public func resolvedPreTokenizer() throws -> PreTokenizer {
        let name = pre ?? "default"
        guard let found = preTokenizer ?? PreTokenizer.named(name) else {
            throw TokenizerError(source, field: "tokenizer.ggml.pre", "pre-tokenizer \"\(name)\" is not supported")
        }
        return found
    }

    /// The vocabulary of an open GGUF file (its `tokenizer.ggml.*` metadata).
    ///
    /// ```swift
    /// let gguf = try GGUFFile(url: modelURL)
    /// let tok = try GGUFVocabulary(gguf: gguf).makeTokenizer()
    /// ```
    public init(gguf: GGUFFile) throws {
        let meta = try gguf.tokenizerMetadata()
        self.init(model: meta.model, tokens: meta.tokens, source: gguf.url.path)
        pre = meta.pre
        scores = meta.scores.isEmpty ? nil : meta.scores
        tokenTypes = meta.tokenTypes.isEmpty ? nil : meta.tokenTypes.map { Int32(truncatingIfNeeded: $0) }
        merges = meta.merges.isEmpty ? nil : meta.merges
        bosTokenId = meta.bosID
        eosTokenId = meta.eosID
        unknownTokenId = meta.unknownID
        paddingTokenId = meta.paddingID
        addBosToken = meta.addBOS
        addEosToken = meta.addEOS
        addSpacePrefix = gguf.metadata["tokenizer.ggml.add_space_prefix"]?.bool
        chatTemplate = meta.chatTemplate
    }
}

/// Loads the tokenizer stored in a GGUF file (`llama` or `gpt2` vocabulary).
///
/// ```swift
/// let tok = try loadTokenizer(gguf: URL(fileURLWithPath: "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
/// tok.encode("Hello", addSpecialTokens: false)   // [19556]
/// ```
public func loadTokenizer(gguf url: URL) throws -> any Tokenizer {
    try GGUFVocabulary(gguf: GGUFFile(url: url)).makeTokenizer()
}
