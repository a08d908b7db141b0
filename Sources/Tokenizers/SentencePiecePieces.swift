/// The kind of a vocabulary entry, numbered as GGUF's `tokenizer.ggml.token_type` (and llama.cpp).
public enum TokenKind: Int32, Sendable {
    case normal = 1
    case unknown = 2
    /// BOS, EOS and other control tokens: never produced from text by the model's algorithm.
    case control = 3
    /// Added tokens matched literally in text.
    case userDefined = 4
    case unused = 5
    /// `<0xNN>`: one raw byte (SentencePiece byte fallback).
    case byte = 6
}

/// A SentencePiece vocabulary's pieces with what each decodes to; shared by both SentencePiece tokenizers.
struct SentencePiecePieces {
    let pieces: [String]                 // [vocab] "▁Hello", "<0x0A>", "<s>"
    let kinds: [TokenKind]               // [vocab]
    let decoded: [[UInt8]]               // [vocab] UTF-8 output: "▁" -> " ", "<0x0A>" -> 0x0A
    let idsByPiece: [String: Int]
    /// Control, unknown and user-defined pieces, matched in raw text like Hugging Face's Llama tokenizer.
    let matcher: AddedTokenMatcher
    let special: Set<Int>

    init(pieces: [String], kinds: [TokenKind]) {
        var decoded: [[UInt8]] = []
        decoded.reserveCapacity(pieces.count)
        var idsByPiece: [String: Int] = [:]
        var literal: [(String, Int)] = []
        for (id, piece) in pieces.enumerated() {
            idsByPiece[piece] = id
            switch kinds[id] {
            case .byte: decoded.append(parseByteToken(piece).map { [$0] } ?? Array(piece.utf8))
            case .control, .unknown: decoded.append(Array(piece.utf8)); literal.append((piece, id))
            case .userDefined: decoded.append(Array(piece.utf8)); literal.append((piece, id))
            case .normal, .unused: decoded.append(Array(piece.replacingOccurrences(of: "\u{2581}", with: " ").utf8))
            }
        }
        self.pieces = pieces
        self.kinds = kinds
        self.decoded = decoded
        self.idsByPiece = idsByPiece
        self.matcher = AddedTokenMatcher(tokens: literal)
        self.special = Set(pieces.indices.filter { kinds[$0] == .control || kinds[$0] == .unknown })
    }

    /// SentencePiece decoding: the dummy-prefix space of the first piece is dropped.
    func appendBytes(of id: Int, to bytes: inout [UInt8], atStart: Bool, skipSpecialTokens: Bool, stripsPrefix: Bool) {
        guard decoded.indices.contains(id) else { return }
        if skipSpecialTokens && special.contains(id) { return }
        let piece = decoded[id]
        if atStart && stripsPrefix && kinds[id] == .normal && piece.first == 0x20 {
            bytes.append(contentsOf: piece.dropFirst())
        } else {
            bytes.append(contentsOf: piece)
        }
    }
}

/// `"<0x0A>"` -> 0x0A.
func parseByteToken(_ piece: String) -> UInt8? {
    let utf8 = Array(piece.utf8)
    guard utf8.count == 6, piece.hasPrefix("<0x"), piece.hasSuffix(">") else { return nil }
    return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
}
