import Foundation
import Support

// The tokenizer files of a Hugging Face model folder, written from what medrepl holds: a GGUF vocabulary
// (tokens, token types, merges, pre-tokenizer name) and the live tokenizer's settings (BOS/EOS/pad, padding
// side, chat template). A folder exported from a GGUF-loaded model then carries a tokenizer that
// transformers (`AutoTokenizer.from_pretrained`) and medrepl (`loadTokenizer(folder:)`) both read.

/// Writes `tokenizer.json` (or `tokenizer.model`), `tokenizer_config.json` and `special_tokens_map.json`
/// for a model folder.
///
/// ```swift
/// let vocab = try GGUFVocabulary(gguf: GGUFFile(url: ggufURL))
/// let result = try HuggingFaceTokenizerFiles.write(vocabulary: vocab, tokenizer: tok, to: folder)
/// print(result.files)   // ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]
/// ```
public enum HuggingFaceTokenizerFiles {
    /// What `write` put in the folder, and a note when the vocabulary could not be written in full.
    public struct Written: Sendable, Equatable {
        /// File names, sorted.
        public var files: [String]
        /// Why no tokenizer file was written (a vocabulary of another kind), or nil.
        public var note: String?
    }

    /// Writes the tokenizer files (each atomically) for `tokenizer`, whose vocabulary is `vocabulary`.
    ///
    /// A byte-level (`gpt2`) vocabulary gets a full `tokenizer.json`; a SentencePiece-style (`llama`) one a
    /// `tokenizer.model` (see `SentencePieceModelFile`); both get `tokenizer_config.json` and
    /// `special_tokens_map.json`. Settings (BOS/EOS/pad, `add_bos_token`, padding side, chat template) are
    /// the tokenizer's current ones, so `pad_token = eos_token` made in a session is kept.
    public static func write(vocabulary: GGUFVocabulary, tokenizer: any Tokenizer, to folder: URL) throws -> Written {
        var files: [String] = []
        var note: String?
        var tokenizerClass: String?
        switch vocabulary.model {
        case "gpt2":
            let json = try tokenizerJSON(vocabulary: vocabulary, settings: tokenizer.settings)
            try AtomicFile.write(Data(json.utf8), to: folder.appendingPathComponent("tokenizer.json"))
            files.append("tokenizer.json")
            tokenizerClass = "PreTrainedTokenizerFast"
        case "llama":
            try AtomicFile.write(try SentencePieceModelFile.data(vocabulary: vocabulary), to: folder.appendingPathComponent("tokenizer.model"))
            files.append("tokenizer.model")
            tokenizerClass = "LlamaTokenizer"
        default:
            note = "the GGUF's vocabulary (tokenizer.ggml.model = \(vocabulary.model)) cannot be written as tokenizer files: "
                + "copy the original model's tokenizer.json or tokenizer.model into this folder"
        }
        try AtomicFile.write(try objectData(configFields(tokenizer, tokenizerClass: tokenizerClass)),
                             to: folder.appendingPathComponent("tokenizer_config.json"))
        try AtomicFile.write(try objectData(specialTokensMap(tokenizer)), to: folder.appendingPathComponent("special_tokens_map.json"))
        files += ["tokenizer_config.json", "special_tokens_map.json"]
        return Written(files: files.sorted(), note: note)
    }

    /// transformers' `tokenizer_config.json` fields: special tokens by text, BOS/EOS adding, padding side,
    /// chat template, and the tokenizer class when the folder has a tokenizer file for it
    /// (`LlamaTokenizer` ones in the "legacy" mode libsentencepiece follows).
    public static func configFields(_ tok: any Tokenizer, tokenizerClass: String? = nil) -> [String: Any] {
        let s = tok.settings
        var j: [String: Any] = [
            "add_bos_token": s.addBosToken, "add_eos_token": s.addEosToken,
            "padding_side": s.paddingSide.rawValue, "clean_up_tokenization_spaces": s.cleanUpTokenizationSpaces,
            "model_max_length": s.modelMaxLength ?? 8192,
        ]
        for (key, value) in specialTokensMap(tok) { j[key] = value }
        if let template = s.chatTemplate { j["chat_template"] = template }
        if let tokenizerClass { j["tokenizer_class"] = tokenizerClass }
        if tokenizerClass == "LlamaTokenizer" { j["legacy"] = true }
        return j
    }

    /// `special_tokens_map.json`: `bos_token`, `eos_token`, `pad_token`, `unk_token` by their text.
    public static func specialTokensMap(_ tok: any Tokenizer) -> [String: Any] {
        var j: [String: Any] = [:]
        let s = tok.settings
        for (key, id) in [("bos_token", s.bosTokenId), ("eos_token", s.eosTokenId), ("pad_token", s.padTokenId), ("unk_token", s.unkTokenId)] {
            if let id, let text = tok.idToToken(id) { j[key] = text }
        }
        return j
    }

    /// The `tokenizer.json` text of a byte-level (`gpt2`) GGUF vocabulary, as the `tokenizers` library
    /// lays it out: `added_tokens` (control tokens as special, user-defined ones as not), no normalizer,
    /// the split pattern(s) the vocabulary's pre-tokenizer uses followed by `ByteLevel`, a BOS
    /// `TemplateProcessing` when `settings.addBosToken` (else `ByteLevel`), the `ByteLevel` decoder and the
    /// BPE model with `vocab` in id order and `merges` as pairs (`ignore_merges` for Llama-3's pre-tokenizer).
    ///
    /// ```swift
    /// let text = try HuggingFaceTokenizerFiles.tokenizerJSON(vocabulary: vocab, settings: tok.settings)
    /// ```
    public static func tokenizerJSON(vocabulary v: GGUFVocabulary, settings: TokenizerSettings) throws -> String {
        guard v.model == "gpt2" else {
            throw TokenizerError(v.source, field: "tokenizer.ggml.model", "only a gpt2 (byte-level BPE) vocabulary can be written as tokenizer.json, not \"\(v.model)\"")
        }
        guard let merges = v.merges else { throw TokenizerError(v.source, field: "tokenizer.ggml.merges", "missing") }
        let pre = try v.resolvedPreTokenizer()
        let types = v.tokenTypes ?? []
        guard types.isEmpty || types.count == v.tokens.count else {
            throw TokenizerError(v.source, field: "tokenizer.ggml.token_type", "\(types.count) types for \(v.tokens.count) tokens")
        }
        func q(_ s: String) -> String { JSONText.quoted(s) }

        var out = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ["
        var first = true
        for (id, type) in types.enumerated() where type == TokenKind.control.rawValue || type == TokenKind.userDefined.rawValue {
            out += (first ? "\n" : ",\n") + "    {\"id\": \(id), \"content\": \(q(v.tokens[id])), \"single_word\": false, \"lstrip\": false, "
                + "\"rstrip\": false, \"normalized\": false, \"special\": \(type == TokenKind.control.rawValue)}"
            first = false
        }
        out += first ? "],\n" : "\n  ],\n"
        out += "  \"normalizer\": null,\n"
        out += "  \"pre_tokenizer\": \(try objectText(preTokenizerJSON(pre))),\n"
        out += "  \"post_processor\": \(try objectText(postProcessorJSON(settings: settings, tokens: v.tokens))),\n"
        out += "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n"
        let unk = settings.unkTokenId.flatMap { v.tokens.indices.contains($0) ? q(v.tokens[$0]) : nil } ?? "null"
        out += "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": \(unk),\n"
            + "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n"
            + "    \"byte_fallback\": false,\n    \"ignore_merges\": \(pre == .llama3),\n    \"vocab\": {"
        // A JSON object holds each string once; a repeated token keeps its first (lowest) id. Compared by
        // bytes: Swift's String equality merges canonically equivalent strings, JSON keys do not.
        var seen = Set<[UInt8]>()
        first = true
        for (id, token) in v.tokens.enumerated() where !token.isEmpty && seen.insert(Array(token.utf8)).inserted {
            out += (first ? "\n" : ",\n") + "      \(q(token)): \(id)"
            first = false
        }
        out += "\n    },\n    \"merges\": ["
        for (i, merge) in merges.enumerated() {
            guard let space = merge.firstIndex(of: " ") else {
                throw TokenizerError(v.source, field: "tokenizer.ggml.merges[\(i)]", "expected \"a b\", got \"\(merge)\"")
            }
            out += (i == 0 ? "\n" : ",\n") + "      [\(q(String(merge[..<space]))), \(q(String(merge[merge.index(after: space)...])))]"
        }
        out += merges.isEmpty ? "]\n  }\n}\n" : "\n    ]\n  }\n}\n"
        return out
    }

    /// A `Sequence` of the pre-tokenizer's splits (as `Split` / `Digits`) and then `ByteLevel` without
    /// its own regex: the same pieces as medrepl's `PreTokenizer`, which reads this form back.
    static func preTokenizerJSON(_ pre: PreTokenizer) -> [String: Any] {
        var steps: [[String: Any]] = pre.steps.map { step in
            switch step {
            case .gpt2Split: return split(gpt2Pattern)
            case .llama3Split: return split(llama3Pattern)
            case .digits(let individual): return ["type": "Digits", "individual_digits": individual]
            }
        }
        steps.append(["type": "ByteLevel", "add_prefix_space": pre.addPrefixSpace, "trim_offsets": true, "use_regex": false])
        return ["type": "Sequence", "pretokenizers": steps]
    }

    private static func split(_ pattern: String) -> [String: Any] {
        ["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated", "invert": false]
    }

    /// BOS in front of each sequence when the tokenizer adds it (as Llama-3's files do), else ByteLevel's.
    static func postProcessorJSON(settings: TokenizerSettings, tokens: [String]) -> [String: Any] {
        guard settings.addBosToken, let bos = settings.bosTokenId, tokens.indices.contains(bos) else {
            return ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true]
        }
        let text = tokens[bos]
        func special(_ typeId: Int) -> [String: Any] { ["SpecialToken": ["id": text, "type_id": typeId]] }
        func sequence(_ id: String, _ typeId: Int) -> [String: Any] { ["Sequence": ["id": id, "type_id": typeId]] }
        return ["type": "TemplateProcessing",
                "single": [special(0), sequence("A", 0)],
                "pair": [special(0), sequence("A", 0), special(1), sequence("B", 1)],
                "special_tokens": [text: ["id": text, "ids": [bos], "tokens": [text]]]]
    }

    /// A small JSON object on one line, keys sorted.
    static func objectText(_ value: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A JSON object as a whole file: indented, keys sorted, a final newline.
    static func objectData(_ value: [String: Any]) throws -> Data {
        var data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
        data.append(0x0A)
        return data
    }
}
