import Foundation

/// Loads the tokenizer of a Hugging Face model folder.
///
/// A byte-level `tokenizer.json` is preferred; a SentencePiece-style one (TinyLlama, Llama-2: `byte_fallback`)
/// or none falls back to `tokenizer.model` through libsentencepiece. `tokenizer_config.json` and
/// `special_tokens_map.json`, when present, set BOS/EOS/pad, `add_bos_token` and the chat template.
/// ```swift
/// let tok = try loadTokenizer(folder: URL(fileURLWithPath: "models/TinyLlama-1.1B-Chat-v1.0"))
/// tok.padTokenId = tok.eosTokenId      // the notebook's pad_token = eos_token
/// ```
/// - Throws: `TokenizerError` naming the folder when neither file is there, or the file and field at fault.
public func loadTokenizer(folder: URL) throws -> any Tokenizer {
    let config = try TokenizerConfig(folder: folder)
    let json = folder.appendingPathComponent("tokenizer.json")
    let model = folder.appendingPathComponent("tokenizer.model")
    let hasJSON = FileManager.default.fileExists(atPath: json.path)
    let hasModel = FileManager.default.fileExists(atPath: model.path)
    if hasJSON {
        do {
            return try BPETokenizer(tokenizerJSON: json, config: config)
        } catch let error as TokenizerError where hasModel {
            // Only a SentencePiece-style tokenizer.json is worth falling back from; other errors stand.
            guard error.field == "model.byte_fallback" || error.field == "model.type" else { throw error }
        }
    }
    if hasModel { return try SentencePieceTokenizer(modelFile: model, config: config) }
    if hasJSON {
        throw TokenizerError(json.path, "a SentencePiece-style tokenizer.json needs tokenizer.model beside it, which is missing")
    }
    throw TokenizerError(folder.path, "no tokenizer.json or tokenizer.model in this folder")
}
