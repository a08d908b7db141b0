import Foundation

/// Which end of a batch row receives padding.
public enum PaddingSide: String, Sendable {
    case left, right
}

/// The special-token settings every tokenizer carries, as a tokenizer config describes them.
///
/// They are plain values so a caller can change them the way the notebook does
/// (`tokenizer.pad_token = tokenizer.eos_token`):
/// ```swift
/// tokenizer.padTokenId = tokenizer.eosTokenId
/// tokenizer.paddingSide = .right
/// ```
public struct TokenizerSettings: Sendable {
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var padTokenId: Int?
    public var unkTokenId: Int?
    /// Whether `encode(_:addSpecialTokens: true)` puts BOS in front.
    public var addBosToken: Bool
    /// Whether `encode(_:addSpecialTokens: true)` appends EOS.
    public var addEosToken: Bool
    public var paddingSide: PaddingSide
    /// The model's Jinja chat template, when its files carry one (see `ChatTemplate.detect`).
    public var chatTemplate: String?
    /// The longest input the model was trained on, when the config says.
    public var modelMaxLength: Int?
    /// Hugging Face's `clean_up_tokenization_spaces`: `decode` joins " ." into "." and the like.
    public var cleanUpTokenizationSpaces: Bool

    public init(bosTokenId: Int? = nil, eosTokenId: Int? = nil, padTokenId: Int? = nil, unkTokenId: Int? = nil,
                addBosToken: Bool = false, addEosToken: Bool = false, paddingSide: PaddingSide = .right,
                chatTemplate: String? = nil, modelMaxLength: Int? = nil, cleanUpTokenizationSpaces: Bool = false) {
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.padTokenId = padTokenId
        self.unkTokenId = unkTokenId
        self.addBosToken = addBosToken
        self.addEosToken = addEosToken
        self.paddingSide = paddingSide
        self.chatTemplate = chatTemplate
        self.modelMaxLength = modelMaxLength
        self.cleanUpTokenizationSpaces = cleanUpTokenizationSpaces
    }
}

/// Text to token ids and back, for one model's vocabulary.
///
/// Three implementations: `SentencePieceTokenizer` (libsentencepiece, `tokenizer.model`),
/// `SentencePieceVocabTokenizer` (a GGUF `llama` vocabulary) and `BPETokenizer` (byte-level BPE from
/// `tokenizer.json` or a GGUF `gpt2` vocabulary). `loadTokenizer(folder:)` picks one for a model folder.
///
/// ```swift
/// let tok = try loadTokenizer(folder: modelFolder)
/// let ids = tok.encode("What causes anemia?", addSpecialTokens: true)   // BOS first when the config says
/// let text = tok.decode(ids, skipSpecialTokens: true)                   // "What causes anemia?"
/// ```
public protocol Tokenizer: AnyObject {
    /// BOS/EOS/pad ids, padding side and chat template; mutable like the Python tokenizer's attributes.
    var settings: TokenizerSettings { get set }
    /// Number of ids, including added tokens.
    var vocabSize: Int { get }
    /// Ids of control/added special tokens (BOS, EOS, `<|im_end|>`, ...), skipped by `decode(_:skipSpecialTokens: true)`.
    var specialTokenIds: Set<Int> { get }
    /// The vocabulary string of an id (`"▁Hello"`, `"Ġworld"`, `"<|im_end|>"`), or nil when out of range.
    func idToToken(_ id: Int) -> String?
    /// The id of a vocabulary string, or nil when it is not in the vocabulary.
    func tokenToId(_ token: String) -> Int?
    /// Encodes text. Special tokens written in the text (`<|im_end|>`) become their ids; with
    /// `addSpecialTokens`, BOS/EOS are added as `settings.addBosToken`/`addEosToken` say.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]
    /// Appends the UTF-8 bytes one id stands for. `atStart` is true for the first id that is not a skipped
    /// special token (SentencePiece drops its dummy-prefix space there). Out-of-range ids write nothing.
    func appendBytes(of id: Int, to bytes: inout [UInt8], atStart: Bool, skipSpecialTokens: Bool)
}

extension Tokenizer {
    public var bosTokenId: Int? { settings.bosTokenId }
    public var eosTokenId: Int? { settings.eosTokenId }
    public var unkTokenId: Int? { settings.unkTokenId }
    /// The padding id; the notebook's `pad_token = eos_token` is `padTokenId = eosTokenId`.
    public var padTokenId: Int? {
        get { settings.padTokenId }
        set { settings.padTokenId = newValue }
    }
    public var paddingSide: PaddingSide {
        get { settings.paddingSide }
        set { settings.paddingSide = newValue }
    }
    public var chatTemplate: String? { settings.chatTemplate }

    /// Ids that end an assistant turn in generation: EOS plus whichever of `<|im_end|>`, `<|eot_id|>`,
    /// `<|end_of_text|>`, `<|endoftext|>`, `</s>`, `<|end|>`, `<end_of_turn>` the vocabulary has.
    public var endOfTurnTokenIds: Set<Int> {
        var ids = Set<Int>()
        if let eos = settings.eosTokenId { ids.insert(eos) }
        for name in ["<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "</s>", "<|end|>", "<end_of_turn>"] {
            if let id = tokenToId(name), specialTokenIds.contains(id) { ids.insert(id) }
        }
        return ids
    }

    /// Encodes with special tokens added as the config says (like calling the Python tokenizer).
    public func encode(_ text: String) -> [Int] { encode(text, addSpecialTokens: true) }

    /// Decodes ids to text. Invalid UTF-8 (a cut multi-byte character) becomes U+FFFD.
    ///
    /// ```swift
    /// tok.decode([1, 15043, 3186], skipSpecialTokens: true)   // "Hello world" (Llama-2)
    /// ```
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        let special = specialTokenIds
        var atStart = true
        for id in ids {
            appendBytes(of: id, to: &bytes, atStart: atStart, skipSpecialTokens: skipSpecialTokens)
            if !(skipSpecialTokens && special.contains(id)) { atStart = false }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return settings.cleanUpTokenizationSpaces ? cleanUpTokenizationSpaces(text) : text
    }

    /// A decoder for generation: feed ids one at a time, get the newly completed text.
    ///
    /// ```swift
    /// var stream = tok.makeStreamingDecoder()
    /// for id in generated { print(stream.push(id), terminator: "") }
    /// print(stream.finish())
    /// ```
    public func makeStreamingDecoder(skipSpecialTokens: Bool = true) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecialTokens: skipSpecialTokens)
    }

    /// Pads (or truncates to `maxLength`) a batch of id rows to one length on `paddingSide`, with an
    /// attention mask of 1 for real tokens and 0 for padding.
    ///
    /// ```swift
    /// tok.padTokenId = tok.eosTokenId
    /// let batch = tok.pad([[1, 2, 3], [4]])   // ids [[1,2,3],[4,eos,eos]], mask [[1,1,1],[1,0,0]]
    /// ```
    public func pad(_ rows: [[Int]], maxLength: Int? = nil) -> PaddedBatch {
        let padId = settings.padTokenId ?? settings.eosTokenId ?? 0
        var length = rows.map(\.count).max() ?? 0
        if let maxLength { length = min(length, maxLength) }
        var ids: [[Int]] = []
        var mask: [[Int]] = []
        for row in rows {
            let kept = Array(row.prefix(length))
            let padding = [Int](repeating: padId, count: length - kept.count)
            let ones = [Int](repeating: 1, count: kept.count)
            let zeros = [Int](repeating: 0, count: padding.count)
            switch settings.paddingSide {
            case .right: ids.append(kept + padding); mask.append(ones + zeros)
            case .left: ids.append(padding + kept); mask.append(zeros + ones)
            }
        }
        return PaddedBatch(inputIds: ids, attentionMask: mask)
    }
}

/// A padded batch of token rows: `inputIds` and `attentionMask` are both `[B][T]`.
public struct PaddedBatch: Equatable, Sendable {
    public var inputIds: [[Int]]       // [B][T]
    public var attentionMask: [[Int]]  // [B][T], 1 = real token, 0 = padding

    public init(inputIds: [[Int]], attentionMask: [[Int]]) {
        self.inputIds = inputIds
        self.attentionMask = attentionMask
    }
}

/// Hugging Face's `clean_up_tokenization` pass: removes the space before punctuation and contractions.
func cleanUpTokenizationSpaces(_ text: String) -> String {
    var out = text
    for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                       (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
        out = out.replacingOccurrences(of: from, with: to)
    }
    return out
}
