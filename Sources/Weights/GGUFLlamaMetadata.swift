/// The vocabulary and special tokens stored in a GGUF file (`tokenizer.ggml.*`), for the tokenizers.
///
/// `model` is `llama` (SentencePiece-style, with `scores`) or `gpt2` (byte-level BPE, with `merges`).
///
/// ```swift
/// let t = try gguf.tokenizerMetadata()
/// print(t.model, t.tokens.count, t.bosID ?? -1)   // gpt2 49152 1
/// ```
public struct GGUFTokenizerMetadata: Sendable, Equatable {
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer name (`smollm`, `llama-bpe`, `default`, ...).
    public var pre: String?
    public var tokens: [String]
    /// One score per token (SentencePiece); empty when absent.
    public var scores: [Float]
    /// One type per token (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte); empty when absent.
    public var tokenTypes: [Int]
    /// BPE merges as `"a b"` strings; empty when absent.
    public var merges: [String]
    public var bosID: Int?
    public var eosID: Int?
    public var paddingID: Int?
    public var unknownID: Int?
    /// `tokenizer.ggml.eot_token_id` (end of turn), when present.
    public var eotID: Int?
    public var addBOS: Bool?
    public var addEOS: Bool?
    /// `tokenizer.chat_template` (Jinja), when present.
    public var chatTemplate: String?
}

extension GGUFFile {
    /// `general.architecture`.
    public var architecture: String? { metadata["general.architecture"]?.string }
    /// `general.name`.
    public var modelName: String? { metadata["general.name"]?.string }

    /// Whether the file carries a vocabulary (`tokenizer.ggml.tokens`); llama.cpp's converter can write
    /// GGUFs without one, used with a tokenizer from elsewhere.
    public var hasVocabulary: Bool { metadata["tokenizer.ggml.tokens"] != nil }

    /// Reads `tokenizer.ggml.*` and `tokenizer.chat_template`; throws naming the key when a present
    /// value has the wrong type, or when the per-token arrays disagree in length with the tokens.
    public func tokenizerMetadata() throws -> GGUFTokenizerMetadata {
        func optionalInt(_ key: String) throws -> Int? { metadata[key] == nil ? nil : try int(key) }
        func optionalBool(_ key: String) throws -> Bool? {
            guard let v = metadata[key] else { return nil }
            guard let b = v.bool else { throw WeightsError(file: name, field: "metadata \"\(key)\"", "expected a bool, found \(v.type)") }
            return b
        }
        func array<T>(_ key: String, _ what: String, _ convert: (GGUFValue) -> [T]?) throws -> [T] {
            guard let v = metadata[key] else { return [] }
            guard let a = convert(v) else { throw WeightsError(file: name, field: "metadata \"\(key)\"", "expected an array of \(what)") }
            return a
        }
        let tokens: [String] = try array("tokenizer.ggml.tokens", "strings") { $0.stringArray }
        guard !tokens.isEmpty else {
            throw WeightsError(file: name, field: "metadata \"tokenizer.ggml.tokens\"", "missing or empty: the file has no vocabulary")
        }
        let scores: [Float] = try array("tokenizer.ggml.scores", "numbers") { $0.floatArray }
        let types: [Int] = try array("tokenizer.ggml.token_type", "integers") { $0.intArray }
        for (key, count) in [("tokenizer.ggml.scores", scores.count), ("tokenizer.ggml.token_type", types.count)]
        where count != 0 && count != tokens.count {
            throw WeightsError(file: name, field: "metadata \"\(key)\"", "\(count) entries for \(tokens.count) tokens")
        }
        let ids = try [("bos", "tokenizer.ggml.bos_token_id"), ("eos", "tokenizer.ggml.eos_token_id"),
                       ("pad", "tokenizer.ggml.padding_token_id"), ("unk", "tokenizer.ggml.unknown_token_id"),
                       ("eot", "tokenizer.ggml.eot_token_id")].map { try optionalInt($0.1) }
        return GGUFTokenizerMetadata(
            model: try string("tokenizer.ggml.model"),
            pre: metadata["tokenizer.ggml.pre"] == nil ? nil : try string("tokenizer.ggml.pre"),
            tokens: tokens,
            scores: scores,
            tokenTypes: types,
            merges: try array("tokenizer.ggml.merges", "strings") { $0.stringArray },
            bosID: ids[0], eosID: ids[1], paddingID: ids[2], unknownID: ids[3], eotID: ids[4],
            addBOS: try optionalBool("tokenizer.ggml.add_bos_token"),
            addEOS: try optionalBool("tokenizer.ggml.add_eos_token"),
            chatTemplate: metadata["tokenizer.chat_template"] == nil ? nil : try string("tokenizer.chat_template"))
    }
}
