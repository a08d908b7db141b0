import Foundation

// A SentencePiece `tokenizer.model` is a protobuf `ModelProto` (sentencepiece_model.proto). A GGUF `llama`
// vocabulary keeps everything its BPE model needs (pieces, scores, types, special ids, whether a dummy
// prefix is added), so the file can be written back from it. Only the fields libsentencepiece reads for a
// BPE model are written:
//
//   ModelProto      1: repeated SentencePiece pieces   2: TrainerSpec   3: NormalizerSpec
//   SentencePiece   1: piece (string)   2: score (float)   3: type (enum, same numbers as GGUF token types)
//   TrainerSpec     3: model_type (2 = BPE)   4: vocab_size   35: byte_fallback
//                   40/41/42/43: unk/bos/eos/pad id (int32, -1 = none)   45/46/47/48: unk/bos/eos/pad piece
//   NormalizerSpec  1: name ("identity": no rewriting)   3: add_dummy_prefix   4: remove_extra_whitespaces
//                   5: escape_whitespaces (spaces as "▁")

/// Writes a SentencePiece `tokenizer.model` from a GGUF `llama` vocabulary.
///
/// ```swift
/// let vocab = try GGUFVocabulary(gguf: GGUFFile(url: url))          // tokenizer.ggml.model = llama
/// try SentencePieceModelFile.data(vocabulary: vocab).write(to: folder.appendingPathComponent("tokenizer.model"))
/// ```
public enum SentencePieceModelFile {
    /// The protobuf bytes of the model; throws naming the GGUF field that is missing or inconsistent.
    public static func data(vocabulary v: GGUFVocabulary) throws -> Data {
        guard v.model == "llama" else {
            throw TokenizerError(v.source, field: "tokenizer.ggml.model", "only a llama (SentencePiece) vocabulary can be written as tokenizer.model, not \"\(v.model)\"")
        }
        guard let scores = v.scores, scores.count == v.tokens.count else {
            throw TokenizerError(v.source, field: "tokenizer.ggml.scores", "one score per token is needed")
        }
        let types = v.tokenTypes ?? [Int32](repeating: TokenKind.normal.rawValue, count: v.tokens.count)
        guard types.count == v.tokens.count else {
            throw TokenizerError(v.source, field: "tokenizer.ggml.token_type", "\(types.count) types for \(v.tokens.count) tokens")
        }
        // By bytes: Swift's String equality would merge canonically equivalent pieces ("ί" U+1F77 and U+03AF).
        var seen = Set<[UInt8]>()
        for (id, token) in v.tokens.enumerated() where !seen.insert(Array(token.utf8)).inserted {
            throw TokenizerError(v.source, field: "tokenizer.ggml.tokens[\(id)]", "\"\(token)\" appears twice; a SentencePiece model needs unique pieces")
        }
        guard let unk = v.unknownTokenId ?? types.firstIndex(of: TokenKind.unknown.rawValue) else {
            throw TokenizerError(v.source, field: "tokenizer.ggml.unknown_token_id", "a SentencePiece model needs an unknown piece")
        }

        var model = ProtobufWriter()
        for (id, token) in v.tokens.enumerated() {
            var piece = ProtobufWriter()
            piece.string(1, token)
            piece.float(2, scores[id])
            // The unknown piece must say so, whatever type the GGUF gave it.
            piece.varint(3, UInt64(id == unk ? TokenKind.unknown.rawValue : types[id]))
            model.message(1, piece)
        }
        var trainer = ProtobufWriter()
        trainer.varint(3, 2)                                   // BPE
        trainer.varint(4, UInt64(v.tokens.count))
        trainer.bool(35, types.contains(TokenKind.byte.rawValue))
        for (field, pieceField, id) in [(40, 45, Optional(unk)), (41, 46, v.bosTokenId), (42, 47, v.eosTokenId), (43, 48, v.paddingTokenId)] {
            trainer.int32(field, Int32(id ?? -1))
            if let id, v.tokens.indices.contains(id) { trainer.string(pieceField, v.tokens[id]) }
        }
        model.message(2, trainer)
        var normalizer = ProtobufWriter()
        normalizer.string(1, "identity")
        normalizer.bool(3, v.addSpacePrefix ?? true)
        normalizer.bool(4, false)
        normalizer.bool(5, true)
        model.message(3, normalizer)
        return model.bytes
    }
}

/// Protobuf wire format, only what `SentencePieceModelFile` needs (fields in the order written).
struct ProtobufWriter {
    private(set) var bytes = Data()

    private mutating func raw(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    private mutating func key(_ field: Int, _ wireType: UInt64) { raw(UInt64(field) << 3 | wireType) }

    mutating func varint(_ field: Int, _ value: UInt64) { key(field, 0); raw(value) }
    mutating func bool(_ field: Int, _ value: Bool) { varint(field, value ? 1 : 0) }
    /// Negative values take ten bytes (sign-extended to 64 bits), as protobuf writes int32.
    mutating func int32(_ field: Int, _ value: Int32) { varint(field, UInt64(bitPattern: Int64(value))) }
    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func string(_ field: Int, _ value: String) { length(field, Data(value.utf8)) }
    mutating func message(_ field: Int, _ value: ProtobufWriter) { length(field, value.bytes) }
    private mutating func length(_ field: Int, _ value: Data) { key(field, 2); raw(UInt64(value.count)); bytes.append(value) }
}
