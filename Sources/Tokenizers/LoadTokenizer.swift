import Foundation

/// Loads the tokenizer of a Hugging Face model folder.
///
/// A byte-level BPE `tokenizer.json` (Llama-3, SmolLM2) is read by medrepl itself. A SentencePiece-style
/// one (TinyLlama, Llama-2: BPE with `byte_fallback`, a `Metaspace` pre-tokenizer or a normalizer writing
/// spaces as `▁`; or a Unigram model) is set aside for `tokenizer.model` through libsentencepiece, which
/// such folders ship beside it; without `tokenizer.model` that is an error saying so.
/// `tokenizer_config.json` and `special_tokens_map.json`, when present, set BOS/EOS/pad, `add_bos_token`
/// and the chat template.
/// ```swift
/// let tok = try loadTokenizer(folder: URL(fileURLWithPath: "models/TinyLlama-1.1B-Chat-v1.0"))
/// tok.padTokenId = tok.eosTokenId      // the notebook's pad_token = eos_token
/// ```
/// - Throws: `TokenizerError` naming the folder when neither file is there, or the file and field at fault.
public func loadTokenizer(folder: URL) throws -> any Tokenizer {
    let config = try TokenizerConfig(folder: folder)
    let json = folder.appendingPathComponent("tokenizer.json")
    let model = folder.appendingPathComponent("tokenizer.model")
    let hasModel = FileManager.default.fileExists(atPath: model.path)
    guard FileManager.default.fileExists(atPath: json.path) else {
        if hasModel { return try SentencePieceTokenizer(modelFile: model, config: config) }
        throw TokenizerError(folder.path, "no tokenizer.json or tokenizer.model in this folder")
    }
    let object = try readJSONObject(json)
    guard let mark = sentencePieceStyle(object) else {
        return try BPETokenizer(tokenizerJSON: object, source: json.path, config: config)
    }
    if hasModel { return try SentencePieceTokenizer(modelFile: model, config: config) }
    throw TokenizerError(json.path, field: mark.field,
        "\(mark.what) makes this a SentencePiece-style tokenizer, which medrepl reads from tokenizer.model "
        + "(through libsentencepiece), and \(folder.path) has none: put the model's tokenizer.model beside "
        + "tokenizer.json (for a hub model: huggingface-cli download ORG/NAME tokenizer.model)")
}

/// What marks a parsed `tokenizer.json` as SentencePiece-style rather than byte-level BPE (the field and a
/// few words for the error), or nil. A `ByteLevel` pre-tokenizer or decoder means byte-level.
func sentencePieceStyle(_ json: [String: Any]) -> (field: String, what: String)? {
    /// The component objects of a `Sequence` (or the object itself).
    func parts(_ value: Any?, _ listKey: String) -> [[String: Any]] {
        guard let object = value as? [String: Any] else { return [] }
        if object["type"] as? String == "Sequence" {
            return ((object[listKey] as? [Any]) ?? []).flatMap { parts($0, listKey) }
        }
        return [object]
    }
    let pre = parts(json["pre_tokenizer"], "pretokenizers"), decoders = parts(json["decoder"], "decoders")
    if (pre + decoders).contains(where: { $0["type"] as? String == "ByteLevel" }) { return nil }
    let model = json["model"] as? [String: Any] ?? [:]
    if let type = model["type"] as? String, type == "Unigram" { return ("model.type", "model type \"Unigram\"") }
    if model["byte_fallback"] as? Bool == true { return ("model.byte_fallback", "BPE with byte_fallback") }
    if pre.contains(where: { $0["type"] as? String == "Metaspace" }) { return ("pre_tokenizer", "a Metaspace pre-tokenizer") }
    let writesMetaspace = parts(json["normalizer"], "normalizers").contains { n in
        (n["type"] as? String == "Prepend" && n["prepend"] as? String == "\u{2581}")
            || (n["type"] as? String == "Replace" && n["content"] as? String == "\u{2581}")
    }
    if writesMetaspace { return ("normalizer", "a normalizer that writes spaces as \u{2581}") }
    return nil
}

/// Where a tokenizer's chat template is read: a folder's `tokenizer_config.json` (`chat_template`) or a
/// GGUF's metadata (`tokenizer.chat_template`). For messages.
///
/// ```swift
/// ChatTemplateSource(tokenizerAt: URL(fileURLWithPath: "models/SmolLM2.gguf")).field   // "metadata tokenizer.chat_template"
/// ```
public struct ChatTemplateSource: Sendable, Equatable {
    public var file: String
    public var field: String

    public init(file: String, field: String) { self.file = file; self.field = field }

    /// For the tokenizer `loadTokenizer(at: url)` loads.
    public init(tokenizerAt url: URL) {
        if url.pathExtension.lowercased() == "gguf" {
            self.init(file: url.path, field: "metadata tokenizer.chat_template")
        } else {
            self.init(file: url.appendingPathComponent("tokenizer_config.json").path, field: "chat_template")
        }
    }
}

/// Loads a tokenizer from a model folder or a `.gguf` file, whichever `url` is.
///
/// ```swift
/// let tok = try loadTokenizer(at: URL(fileURLWithPath: "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
/// ```
public func loadTokenizer(at url: URL) throws -> any Tokenizer {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
        throw TokenizerError(url.path, "no such file or folder")
    }
    if isFolder.boolValue { return try loadTokenizer(folder: url) }
    if url.pathExtension.lowercased() == "gguf" { return try loadTokenizer(gguf: url) }
    throw TokenizerError(url.path, "expected a model folder or a .gguf file")
}
