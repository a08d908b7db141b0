import CSentencePiece
import Foundation

/// A SentencePiece `tokenizer.model` (TinyLlama, Llama-2) run by libsentencepiece.
///
/// Control pieces written in the text (`</s>` in a Zephyr prompt) are matched first, as Hugging Face's
/// Llama tokenizer does; each stretch of plain text between them is encoded by libsentencepiece
/// (which adds its dummy-prefix space to each stretch).
/// ```swift
/// let tok = try SentencePieceTokenizer(modelFile: url)
/// tok.encode("Hello world", addSpecialTokens: true)   // [1, 15043, 3186]
/// ```
public final class SentencePieceTokenizer: Tokenizer, @unchecked Sendable {
    public var settings: TokenizerSettings
    private let processor: OpaquePointer
    private let table: SentencePiecePieces
    private let lock = NSLock()

    /// Loads a `tokenizer.model`; `config` (from `tokenizer_config.json`) overrides BOS/EOS/pad choices.
    public init(modelFile url: URL, config: TokenizerConfig = TokenizerConfig()) throws {
        var message = [CChar](repeating: 0, count: 512)
        guard let processor = spm_load(url.path, &message, message.count) else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw TokenizerError(url.path, "not a SentencePiece model (\(reason))")
        }
        self.processor = processor
        let count = Int(spm_vocab_size(processor))
        var pieces: [String] = []
        var kinds: [TokenKind] = []
        pieces.reserveCapacity(count)
        var buffer = [CChar](repeating: 0, count: 1024)
        for id in 0..<Int32(count) {
            let n = spm_id_to_piece(processor, id, &buffer, buffer.count)
            pieces.append(String(decoding: buffer.prefix(max(0, Int(min(n, 1023)))).map { UInt8(bitPattern: $0) }, as: UTF8.self))
            switch spm_piece_kind(processor, id) {
            case 1: kinds.append(.control)
            case 2: kinds.append(.unknown)
            case 3: kinds.append(.byte)
            case 4: kinds.append(.unused)
            default: kinds.append(.normal)
            }
        }
        let table = SentencePiecePieces(pieces: pieces, kinds: kinds)
        self.table = table
        func id(_ token: String?, _ fallback: Int32) -> Int? {
            if let token { return table.idsByPiece[token] }
            return fallback >= 0 ? Int(fallback) : nil
        }
        settings = TokenizerSettings(
            bosTokenId: id(config.bosToken, spm_bos_id(processor)), eosTokenId: id(config.eosToken, spm_eos_id(processor)),
            padTokenId: id(config.padToken, spm_pad_id(processor)), unkTokenId: id(config.unkToken, spm_unk_id(processor)),
            addBosToken: config.addBosToken ?? true, addEosToken: config.addEosToken ?? false,
            paddingSide: config.paddingSide ?? .right, chatTemplate: config.chatTemplate,
            modelMaxLength: config.modelMaxLength, cleanUpTokenizationSpaces: config.cleanUpTokenizationSpaces ?? false)
    }

    deinit { spm_free(processor) }

    public var vocabSize: Int { table.pieces.count }
    public var specialTokenIds: Set<Int> { table.special }
    public func idToToken(_ id: Int) -> String? { table.pieces.indices.contains(id) ? table.pieces[id] : nil }
    public func tokenToId(_ token: String) -> Int? { table.idsByPiece[token] }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        if addSpecialTokens, settings.addBosToken, let bos = settings.bosTokenId { ids.append(bos) }
        let bytes = Array(text.utf8)
        var out = [Int32](repeating: 0, count: bytes.count + 8)
        lock.lock()
        for fragment in table.matcher.split(bytes) {
            switch fragment {
            case .token(let id): ids.append(id)
            case .text(let range):
                bytes.withUnsafeBufferPointer { p in
                    let start = UnsafeRawPointer(p.baseAddress! + range.lowerBound).assumingMemoryBound(to: CChar.self)
                    var n = spm_encode(processor, start, range.count, &out, Int32(out.count))
                    if n > out.count {
                        out = [Int32](repeating: 0, count: Int(n))
                        n = spm_encode(processor, start, range.count, &out, Int32(out.count))
                    }
                    for k in 0..<max(0, Int(n)) { ids.append(Int(out[k])) }
                }
            }
        }
        lock.unlock()
        if addSpecialTokens, settings.addEosToken, let eos = settings.eosTokenId { ids.append(eos) }
        return ids
    }

    public func appendBytes(of id: Int, to bytes: inout [UInt8], atStart: Bool, skipSpecialTokens: Bool) {
        table.appendBytes(of: id, to: &bytes, atStart: atStart, skipSpecialTokens: skipSpecialTokens, stripsPrefix: true)
    }

    /// libsentencepiece's own decoding, to cross-check `decode`.
    public func decodeWithLibrary(_ ids: [Int]) -> String {
        let ids32 = ids.map { Int32(truncatingIfNeeded: $0) }
        lock.lock()
        defer { lock.unlock() }
        let needed = spm_decode(processor, ids32, Int32(ids32.count), nil, 0)
        guard needed >= 0 else { return "" }
        var buffer = [CChar](repeating: 0, count: Int(needed) + 1)
        _ = spm_decode(processor, ids32, Int32(ids32.count), &buffer, buffer.count)
        return String(decoding: buffer.prefix(Int(needed)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
