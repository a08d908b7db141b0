import Foundation
import Weights

/// The split patterns medrepl implements, as they are written in `tokenizer.json`.
let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

extension BPETokenizer {
    /// Loads a byte-level BPE `tokenizer.json`, with BOS/EOS/pad and the chat template from `config`.
    ///
    /// Understood: `model` BPE (`vocab`, `merges` as `"a b"` or `["a", "b"]`, `ignore_merges`),
    /// `added_tokens`, `normalizer` null or NFC, `pre_tokenizer` ByteLevel / Split (the GPT-2 or
    /// Llama-3 pattern) / Digits / Sequence, `post_processor` TemplateProcessing (BOS/EOS).
    /// ```swift
    /// let tok = try BPETokenizer(tokenizerJSON: url, config: TokenizerConfig(folder: url.deletingLastPathComponent()))
    /// ```
    public convenience init(tokenizerJSON url: URL, config: TokenizerConfig = TokenizerConfig()) throws {
        try self.init(tokenizerJSON: try readJSONObject(url), source: url.path, config: config)
    }

    /// Like `init(tokenizerJSON:config:)`, from the parsed file; `source` names it in errors.
    ///
    /// ```swift
    /// let tok = try BPETokenizer(tokenizerJSON: object, source: "m/tokenizer.json")
    /// ```
    public convenience init(tokenizerJSON json: [String: Any], source: String, config: TokenizerConfig = TokenizerConfig()) throws {
        guard let model = json["model"] as? [String: Any] else { throw TokenizerError(source, field: "model", "missing") }
        if let type = model["type"] as? String, type != "BPE" {
            throw TokenizerError(source, field: "model.type", "\"\(type)\" is not supported (only byte-level BPE)")
        }
        if model["byte_fallback"] as? Bool == true {
            throw TokenizerError(source, field: "model.byte_fallback",
                                 "a SentencePiece-style BPE; load its tokenizer.model instead")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = model[key] as? String, !affix.isEmpty {
                throw TokenizerError(source, field: "model.\(key)", "\"\(affix)\" is not supported")
            }
        }
        guard let vocab = model["vocab"] as? [String: Any] else {
            throw TokenizerError(source, field: "model.vocab", "expected an object of token -> id")
        }
        let addedEntries = (json["added_tokens"] as? [[String: Any]]) ?? []
        let ids = VocabularyIds(count: vocab.count + addedEntries.count + config.addedTokens.count,
                                detail: "\(vocab.count) in model.vocab, \(addedEntries.count) in added_tokens"
                                    + (config.addedTokens.isEmpty ? "" : ", \(config.addedTokens.count) in tokenizer_config.json"))
        var tokens = [String](repeating: "", count: vocab.count)
        for (token, value) in vocab {
            let id = try ids.id(value, source: source, field: "model.vocab[\"\(token)\"]")
            if id >= tokens.count { tokens += [String](repeating: "", count: id + 1 - tokens.count) }
            tokens[id] = token
        }
        let merges = try parseMerges(model["merges"], source: source)

        var added: [(content: String, id: Int, special: Bool)] = []
        for (i, entry) in addedEntries.enumerated() {
            guard let content = entry["content"] as? String else {
                throw TokenizerError(source, field: "added_tokens[\(i)]", "expected id and content")
            }
            added.append((content, try ids.id(entry["id"], source: source, field: "added_tokens[\(i)].id"), entry["special"] as? Bool ?? false))
        }
        let normalizeNFC = try parseNormalizer(json["normalizer"], source: source)
        let preTokenizer = try parsePreTokenizer(json["pre_tokenizer"], source: source, field: "pre_tokenizer")
        let template = parsePostProcessor(json["post_processor"])

        var settings = TokenizerSettings()
        func id(_ token: String?) -> Int? {
            guard let token else { return nil }
            return added.first { $0.content == token }?.id ?? vocab[token].flatMap { ($0 as? NSNumber)?.intValue }
        }
        settings.bosTokenId = id(config.bosToken) ?? template.bos
        settings.eosTokenId = id(config.eosToken) ?? template.eos
        settings.padTokenId = id(config.padToken)
        settings.unkTokenId = id(config.unkToken) ?? id(model["unk_token"] as? String)
        settings.addBosToken = config.addBosToken ?? (template.bos != nil)
        settings.addEosToken = config.addEosToken ?? (template.eos != nil)
        settings.paddingSide = config.paddingSide ?? .right
        settings.chatTemplate = config.chatTemplate
        settings.modelMaxLength = config.modelMaxLength
        settings.cleanUpTokenizationSpaces = config.cleanUpTokenizationSpaces ?? false
        for (id, token) in config.addedTokens.sorted(by: { $0.key < $1.key }) where !added.contains(where: { $0.id == id }) {
            try ids.check(id, source: config.file ?? source, field: "added_tokens_decoder[\"\(id)\"]")
            added.append((token.content, id, token.special))
        }
        try self.init(tokens: tokens, merges: merges, addedTokens: added, preTokenizer: preTokenizer,
                      ignoreMerges: model["ignore_merges"] as? Bool ?? false, normalizeNFC: normalizeNFC,
                      settings: settings, source: source)
    }
}

/// The ids a vocabulary may use: 0..<count, where count is the number of tokens it defines. A larger id would
/// leave ids no token stands for (and a huge one would make medrepl allocate for billions of tokens).
///
/// ```swift
/// let ids = VocabularyIds(count: 603, detail: "600 in model.vocab, 3 in added_tokens")
/// try ids.id(NSNumber(value: 99_999), source: "m/tokenizer.json", field: "model.vocab[\"a\"]")
/// // m/tokenizer.json: model.vocab["a"]: id 99999 is outside 0..<603, the ids of the vocabulary's 603 tokens (600 in model.vocab, 3 in added_tokens)
/// ```
struct VocabularyIds {
    /// How many tokens the vocabulary defines: ids are 0..<count.
    let count: Int
    /// Where they are defined, for messages.
    let detail: String

    /// A JSON value that must be a token id.
    func id(_ value: Any?, source: String, field: String) throws -> Int {
        guard let number = value as? NSNumber, !JSONFile.isBoolean(number), let id = Int(exactly: number.doubleValue),
              Double(id) == number.doubleValue else {
            let shown = value.map { $0 is String ? "\"\($0)\"" : "\($0)" } ?? "nothing"
            throw TokenizerError(source, field: field, "\(shown) is not a token id: ids are whole numbers in 0..<\(count) (\(detail))")
        }
        try check(id, source: source, field: field)
        return id
    }

    /// Throws unless `id` is in 0..<count.
    func check(_ id: Int, source: String, field: String) throws {
        guard id >= 0 && id < count else {
            throw TokenizerError(source, field: field, "id \(id) is outside 0..<\(count), the ids of the vocabulary's \(count) tokens (\(detail))")
        }
    }
}

/// `merges` as `["a b", ...]` (older files) or `[["a", "b"], ...]` (newer ones).
func parseMerges(_ value: Any?, source: String) throws -> [(String, String)] {
    guard let list = value as? [Any] else { throw TokenizerError(source, field: "model.merges", "expected a list") }
    var merges: [(String, String)] = []
    merges.reserveCapacity(list.count)
    for (i, entry) in list.enumerated() {
        if let text = entry as? String, let space = text.firstIndex(of: " ") {
            merges.append((String(text[..<space]), String(text[text.index(after: space)...])))
        } else if let pair = entry as? [String], pair.count == 2 {
            merges.append((pair[0], pair[1]))
        } else {
            throw TokenizerError(source, field: "model.merges[\(i)]", "expected \"a b\" or [\"a\", \"b\"]")
        }
    }
    return merges
}

/// Whether the normalizer is NFC; no normalizer is fine, anything else is not supported.
private func parseNormalizer(_ value: Any?, source: String) throws -> Bool {
    guard let object = value as? [String: Any] else { return false }
    switch object["type"] as? String {
    case "NFC": return true
    case "Sequence" where (object["normalizers"] as? [Any])?.isEmpty ?? true: return false
    case let type: throw TokenizerError(source, field: "normalizer", "\"\(type ?? "?")\" is not supported")
    }
}

func parsePreTokenizer(_ value: Any?, source: String, field: String) throws -> PreTokenizer {
    guard let object = value as? [String: Any] else { return PreTokenizer(steps: []) }
    var result = PreTokenizer(steps: [])
    switch object["type"] as? String {
    case "Sequence":
        for (i, inner) in ((object["pretokenizers"] as? [Any]) ?? []).enumerated() {
            let part = try parsePreTokenizer(inner, source: source, field: "\(field).pretokenizers[\(i)]")
            result.steps += part.steps
            result.addPrefixSpace = result.addPrefixSpace || part.addPrefixSpace
        }
    case "ByteLevel":
        if object["use_regex"] as? Bool ?? true { result.steps.append(.gpt2Split) }
        result.addPrefixSpace = object["add_prefix_space"] as? Bool ?? false
    case "Split":
        let pattern = (object["pattern"] as? [String: Any])?["Regex"] as? String
        switch pattern {
        case llama3Pattern?: result.steps.append(.llama3Split)
        case gpt2Pattern?: result.steps.append(.gpt2Split)
        default: throw TokenizerError(source, field: "\(field).pattern", "split pattern \(pattern ?? "?") is not supported")
        }
        if let behavior = object["behavior"] as? String, behavior != "Isolated" || object["invert"] as? Bool == true {
            throw TokenizerError(source, field: "\(field).behavior", "only Isolated, non-inverted splits are supported")
        }
    case "Digits":
        result.steps.append(.digits(individual: object["individual_digits"] as? Bool ?? false))
    case let type:
        throw TokenizerError(source, field: field, "pre-tokenizer \"\(type ?? "?")\" is not supported")
    }
    return result
}

/// BOS/EOS ids a `TemplateProcessing` post-processor puts around a single sequence.
private func parsePostProcessor(_ value: Any?) -> (bos: Int?, eos: Int?) {
    guard let object = value as? [String: Any] else { return (nil, nil) }
    if object["type"] as? String == "Sequence" {
        var result: (bos: Int?, eos: Int?) = (nil, nil)
        for inner in (object["processors"] as? [Any]) ?? [] {
            let part = parsePostProcessor(inner)
            result = (result.bos ?? part.bos, result.eos ?? part.eos)
        }
        return result
    }
    guard object["type"] as? String == "TemplateProcessing", let single = object["single"] as? [[String: Any]] else {
        return (nil, nil)
    }
    let specials = object["special_tokens"] as? [String: Any] ?? [:]
    func specialId(_ item: [String: Any]) -> Int? {
        guard let name = (item["SpecialToken"] as? [String: Any])?["id"] as? String,
              let entry = specials[name] as? [String: Any], let ids = entry["ids"] as? [Any] else { return nil }
        return (ids.first as? NSNumber)?.intValue
    }
    guard let sequence = single.firstIndex(where: { $0["Sequence"] != nil }) else { return (nil, nil) }
    let bos = single[..<sequence].compactMap(specialId).first
    let eos = single[(sequence + 1)...].compactMap(specialId).first
    return (bos, eos)
}
