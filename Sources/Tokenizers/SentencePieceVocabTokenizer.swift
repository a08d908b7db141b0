import Foundation

/// A SentencePiece-style tokenizer built from a vocabulary with scores (a GGUF `llama` vocabulary),
/// with llama.cpp's algorithm and no libsentencepiece.
///
/// Spaces become `▁` and one goes in front of each stretch of text (the dummy prefix); the text starts
/// as single characters; the adjacent pair whose concatenation is in the vocabulary with the highest
/// score is merged (leftmost on ties) until no pair is; characters still unknown become `<0xNN>` bytes.
/// ```swift
/// let tok = try SentencePieceVocabTokenizer(tokens: t, scores: s, tokenTypes: k, settings: settings)
/// tok.encode(" Hello", addSpecialTokens: false)   // [29871, 15043] with Llama-2's vocabulary
/// ```
public final class SentencePieceVocabTokenizer: Tokenizer, @unchecked Sendable {
    public var settings: TokenizerSettings
    /// Whether a `▁` is put in front of each stretch of text (GGUF `tokenizer.ggml.add_space_prefix`).
    public let addSpacePrefix: Bool
    private let table: SentencePiecePieces
    private let scores: [Float]                 // [vocab]
    private let pieceTable: ByteStringTable     // piece UTF-8 -> id
    private let byteTokenIds: [Int32]           // [256] id of `<0xNN>`, -1 if absent

    /// - Parameters:
    ///   - tokens: pieces indexed by id (`"▁Hello"`, `"<0x0A>"`).
    ///   - scores: one per piece; higher merges first.
    ///   - tokenTypes: GGUF token types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte).
    ///   - source: named in errors.
    public init(tokens: [String], scores: [Float], tokenTypes: [Int32], settings: TokenizerSettings,
                addSpacePrefix: Bool = true, source: String = "vocabulary") throws {
        guard scores.count == tokens.count else {
            throw TokenizerError(source, field: "scores", "\(scores.count) scores for \(tokens.count) tokens")
        }
        guard tokenTypes.count == tokens.count else {
            throw TokenizerError(source, field: "token_type", "\(tokenTypes.count) types for \(tokens.count) tokens")
        }
        var kinds: [TokenKind] = []
        kinds.reserveCapacity(tokens.count)
        for (i, type) in tokenTypes.enumerated() {
            guard let kind = TokenKind(rawValue: type) else {
                throw TokenizerError(source, field: "token_type[\(i)]", "unknown token type \(type)")
            }
            kinds.append(kind)
        }
        var pieceTable = ByteStringTable(capacity: tokens.count)
        var byteTokenIds = [Int32](repeating: -1, count: 256)
        for (id, token) in tokens.enumerated() {
            pieceTable.insert(Array(token.utf8), id: id)
            if kinds[id] == .byte, let b = parseByteToken(token) { byteTokenIds[Int(b)] = Int32(id) }
        }
        self.table = SentencePiecePieces(pieces: tokens, kinds: kinds)
        self.scores = scores
        self.pieceTable = pieceTable
        self.byteTokenIds = byteTokenIds
        self.settings = settings
        self.addSpacePrefix = addSpacePrefix
    }

    public var vocabSize: Int { table.pieces.count }
    public var specialTokenIds: Set<Int> { table.special }
    public func idToToken(_ id: Int) -> String? { table.pieces.indices.contains(id) ? table.pieces[id] : nil }
    public func tokenToId(_ token: String) -> Int? { table.idsByPiece[token] }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        if addSpecialTokens, settings.addBosToken, let bos = settings.bosTokenId { ids.append(bos) }
        let bytes = Array(text.utf8)
        var escaped: [UInt8] = []
        for fragment in table.matcher.split(bytes) {
            switch fragment {
            case .token(let id): ids.append(id)
            case .text(let range):
                // Every stretch follows the start or a control token, so each gets the dummy prefix.
                escaped.removeAll(keepingCapacity: true)
                if addSpacePrefix { escaped += [0xE2, 0x96, 0x81] }
                for b in bytes[range] {
                    if b == 0x20 { escaped += [0xE2, 0x96, 0x81] } else { escaped.append(b) }
                }
                encodeEscaped(escaped, into: &ids)
            }
        }
        if addSpecialTokens, settings.addEosToken, let eos = settings.eosTokenId { ids.append(eos) }
        return ids
    }

    /// The merge loop over one stretch of escaped UTF-8 text.
    private func encodeEscaped(_ text: [UInt8], into ids: inout [Int]) {
        // Symbols start as single UTF-8 characters; merged ones grow to the right, the absorbed ones get length 0.
        var start: [Int] = []      // [symbols] byte offset
        var length: [Int] = []     // [symbols] byte count, 0 once merged away
        var i = 0
        while i < text.count {
            let lead = text[i]
            let width = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            let n = min(width, text.count - i)
            start.append(i)
            length.append(n)
            i += n
        }
        let count = start.count
        var next = (0..<count).map { $0 + 1 < count ? $0 + 1 : -1 }   // [symbols]
        var prev = (0..<count).map { $0 - 1 }                        // [symbols]
        var queue = BigramQueue()

        text.withUnsafeBufferPointer { p in
            let base = p.baseAddress!
            func tryAddBigram(_ left: Int, _ right: Int) {
                guard left >= 0, right >= 0 else { return }
                let size = length[left] + length[right]
                let id = pieceTable.lookup(base + start[left], size)
                guard id >= 0 else { return }
                queue.push(Bigram(score: scores[id], left: left, right: right, size: size))
            }
            for s in 1..<max(count, 1) { tryAddBigram(s - 1, s) }
            while let bigram = queue.pop() {
                let left = bigram.left, right = bigram.right
                // Skip pairs that changed since they were queued.
                if length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.size { continue }
                length[left] += length[right]
                length[right] = 0
                next[left] = next[right]
                if next[right] >= 0 { prev[next[right]] = left }
                tryAddBigram(prev[left], left)
                tryAddBigram(left, next[left])
            }
            var s = count > 0 ? 0 : -1
            while s >= 0 {
                let id = pieceTable.lookup(base + start[s], length[s])
                if id >= 0 {
                    ids.append(id)
                } else {
                    // Byte fallback: each byte of an unknown character as `<0xNN>`.
                    for k in 0..<length[s] {
                        let byteId = byteTokenIds[Int(base[start[s] + k])]
                        if byteId >= 0 { ids.append(Int(byteId)) } else if let unk = settings.unkTokenId { ids.append(unk) }
                    }
                }
                s = next[s]
            }
        }
    }

    public func appendBytes(of id: Int, to bytes: inout [UInt8], atStart: Bool, skipSpecialTokens: Bool) {
        table.appendBytes(of: id, to: &bytes, atStart: atStart, skipSpecialTokens: skipSpecialTokens,
                          stripsPrefix: addSpacePrefix)
    }
}

/// A candidate merge of two adjacent symbols.
struct Bigram {
    var score: Float
    var left: Int
    var right: Int
    var size: Int   // byte length of the merged text when queued

    /// Pops first: higher score, then the leftmost.
    @inline(__always) func precedes(_ other: Bigram) -> Bool {
        score > other.score || (score == other.score && left < other.left)
    }
}

/// A binary heap of bigrams, best first.
struct BigramQueue {
    private var items: [Bigram] = []

    mutating func push(_ item: Bigram) {
        items.append(item)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !items[i].precedes(items[parent]) { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Bigram? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l].precedes(items[m]) { m = l }
                if r < items.count && items[r].precedes(items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
