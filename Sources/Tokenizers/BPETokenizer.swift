import Foundation

/// Byte-level BPE (GPT-2 family: Llama-3, SmolLM2), from a Hugging Face `tokenizer.json`
/// (`BPETokenizer(tokenizerJSON:)`) or a GGUF `gpt2` vocabulary (`GGUFVocabulary.makeTokenizer()`).
///
/// Encoding: added tokens are cut out of the raw text first (longest match); each remaining
/// fragment is split by the pre-tokenizer; each word's UTF-8 bytes start as single-byte tokens and the
/// adjacent pair with the lowest merge rank is merged until none is left (leftmost first on ties).
/// ```swift
/// let tok = try BPETokenizer(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
/// tok.encode("Hello world", addSpecialTokens: false)   // [9906, 1917] with Llama-3's vocabulary
/// ```
public final class BPETokenizer: Tokenizer, @unchecked Sendable {
    public var settings: TokenizerSettings
    public let preTokenizer: PreTokenizer
    /// Hugging Face's `ignore_merges` (Llama-3): a word that is itself in the vocabulary is one token.
    public let ignoreMerges: Bool

    private let tokens: [String]                      // [vocab] vocabulary strings ("" for holes)
    private let tokenBytes: [[UInt8]]                 // [vocab] what each id decodes to
    private let idsByToken: [String: Int]
    private let wordTable: ByteStringTable            // raw bytes -> id, for ignore_merges
    private let byteTokenIds: [Int32]                 // [256] id of each single-byte token, -1 if absent
    private let merges: [UInt64: UInt64]              // (left id << 32 | right id) -> (rank << 32 | merged id)
    private let addedTokens: AddedTokenMatcher
    private let special: Set<Int>
    private let normalizeNFC: Bool

    private let cacheLock = NSLock()
    private var cache: [[UInt8]: [Int32]] = [:]       // word bytes -> ids
    private static let cacheLimit = 200_000

    /// Builds a tokenizer from plain values (what `tokenizer.json` and GGUF both hold).
    ///
    /// - Parameters:
    ///   - tokens: vocabulary strings in byte-level form (`"Ġthe"`), indexed by id; added tokens may also be here.
    ///   - merges: merge pairs in rank order (`("Ġ", "t")`).
    ///   - addedTokens: `(content, id, special)` matched in raw text before the model runs.
    ///   - source: named in errors, such as the file path.
    public init(tokens: [String], merges: [(String, String)], addedTokens: [(content: String, id: Int, special: Bool)],
                preTokenizer: PreTokenizer, ignoreMerges: Bool = false, normalizeNFC: Bool = false,
                settings: TokenizerSettings, source: String) throws {
        var tokens = tokens
        let largestAdded = addedTokens.map(\.id).max() ?? -1
        if largestAdded >= tokens.count { tokens += [String](repeating: "", count: largestAdded + 1 - tokens.count) }
        var addedIds = Set<Int>()
        for added in addedTokens {
            guard added.id >= 0 else { throw TokenizerError(source, field: "added_tokens", "negative id \(added.id)") }
            tokens[added.id] = added.content
            addedIds.insert(added.id)
        }

        var idsByToken: [String: Int] = [:]
        idsByToken.reserveCapacity(tokens.count)
        var wordTable = ByteStringTable(capacity: tokens.count)
        var tokenBytes: [[UInt8]] = []
        tokenBytes.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            idsByToken[token] = id
            if !addedIds.contains(id), let raw = ByteLevel.bytes(of: token) {
                tokenBytes.append(raw)
                wordTable.insert(raw, id: id)
            } else {
                tokenBytes.append(Array(token.utf8))   // added tokens decode as written
            }
        }

        var byteTokenIds = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = idsByToken[String(Character(ByteLevel.character(for: UInt8(b))))] { byteTokenIds[b] = Int32(id) }
        }

        var mergeTable: [UInt64: UInt64] = [:]
        mergeTable.reserveCapacity(merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            // Merges naming tokens the vocabulary lacks cannot fire; llama.cpp skips them too.
            guard let left = idsByToken[a], let right = idsByToken[b], let merged = idsByToken[a + b] else { continue }
            let key = UInt64(left) << 32 | UInt64(right)
            if mergeTable[key] == nil { mergeTable[key] = UInt64(rank) << 32 | UInt64(merged) }
        }

        self.settings = settings
        self.preTokenizer = preTokenizer
        self.ignoreMerges = ignoreMerges
        self.normalizeNFC = normalizeNFC
        self.tokens = tokens
        self.tokenBytes = tokenBytes
        self.idsByToken = idsByToken
        self.wordTable = wordTable
        self.byteTokenIds = byteTokenIds
        self.merges = mergeTable
        self.addedTokens = AddedTokenMatcher(tokens: addedTokens.map { ($0.content, $0.id) })
        self.special = Set(addedTokens.filter(\.special).map(\.id))
    }

    public var vocabSize: Int { tokens.count }
    public var specialTokenIds: Set<Int> { special }

    public func idToToken(_ id: Int) -> String? { tokens.indices.contains(id) ? tokens[id] : nil }
    public func tokenToId(_ token: String) -> Int? { idsByToken[token] }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        if addSpecialTokens, settings.addBosToken, let bos = settings.bosTokenId { ids.append(bos) }
        let bytes = Array(text.utf8)
        cacheLock.lock()
        for fragment in addedTokens.split(bytes) {
            switch fragment {
            case .token(let id): ids.append(id)
            case .text(let range): encodeFragment(bytes[range], into: &ids)
            }
        }
        if cache.count > Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cacheLock.unlock()
        if addSpecialTokens, settings.addEosToken, let eos = settings.eosTokenId { ids.append(eos) }
        return ids
    }

    /// Pre-tokenizes one fragment of plain text and appends the ids of its words.
    private func encodeFragment(_ utf8: ArraySlice<UInt8>, into ids: inout [Int]) {
        var text = String(decoding: utf8, as: UTF8.self)
        if normalizeNFC { text = text.precomposedStringWithCanonicalMapping }
        var scalars = Array(text.unicodeScalars)
        if preTokenizer.addPrefixSpace, scalars.first != " " { scalars.insert(" ", at: 0) }
        let classes = scalars.map(ScalarClass.of)
        var word: [UInt8] = []
        for piece in preTokenizer.ranges(scalars: scalars, classes: classes) {
            word.removeAll(keepingCapacity: true)
            for s in scalars[piece] { appendUTF8(s, to: &word) }
            if let cached = cache[word] {
                for id in cached { ids.append(Int(id)) }
                continue
            }
            let wordIds = mergeWord(word)
            cache[word] = wordIds
            for id in wordIds { ids.append(Int(id)) }
        }
    }

    /// BPE on one word's bytes: lowest rank first, leftmost on ties (a heap keyed by rank, then position).
    private func mergeWord(_ word: [UInt8]) -> [Int32] {
        if ignoreMerges {
            let whole = wordTable.lookup(word)
            if whole >= 0 { return [Int32(whole)] }
        }
        let n = word.count
        if n == 0 { return [] }
        var ids = [Int32](repeating: -1, count: n)     // [n] symbol id at each start position
        var next = [Int32](repeating: -1, count: n)    // [n] next live position, -1 at the end
        var prev = [Int32](repeating: -1, count: n)    // [n] previous live position
        for i in 0..<n {
            ids[i] = byteTokenIds[Int(word[i])]
            next[i] = i + 1 < n ? Int32(i + 1) : -1
            prev[i] = Int32(i - 1)
        }
        var heap = MinHeap()
        func push(_ left: Int) {
            let right = Int(next[left])
            guard right >= 0, ids[left] >= 0, ids[right] >= 0,
                  let merge = merges[UInt64(UInt32(ids[left])) << 32 | UInt64(UInt32(ids[right]))] else { return }
            heap.push((merge & 0xFFFF_FFFF_0000_0000) | UInt64(left))   // rank in the high half, position low
        }
        for i in 0..<(n - 1) { push(i) }
        while let top = heap.pop() {
            let left = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            let right = Int(next[left])
            guard ids[left] >= 0, right >= 0,
                  let merge = merges[UInt64(UInt32(ids[left])) << 32 | UInt64(UInt32(ids[right]))],
                  merge >> 32 == rank else { continue }   // stale: one side has merged since
            ids[left] = Int32(truncatingIfNeeded: merge & 0xFFFF_FFFF)
            ids[right] = -2                                // dead
            let after = next[right]
            next[left] = after
            if after >= 0 { prev[Int(after)] = Int32(left) }
            if prev[left] >= 0 { push(Int(prev[left])) }
            push(left)
        }
        var out: [Int32] = []
        var i = 0
        while i >= 0 && i < n {
            if ids[i] >= 0 {
                out.append(ids[i])
            } else if let unk = settings.unkTokenId {
                out.append(Int32(unk))                     // a byte the vocabulary lacks
            }
            i = Int(next[i])
        }
        return out
    }

    public func appendBytes(of id: Int, to bytes: inout [UInt8], atStart: Bool, skipSpecialTokens: Bool) {
        guard tokenBytes.indices.contains(id) else { return }
        if skipSpecialTokens && special.contains(id) { return }
        bytes.append(contentsOf: tokenBytes[id])
    }
}

@inline(__always)
func appendUTF8(_ s: Unicode.Scalar, to bytes: inout [UInt8]) {
    let v = s.value
    if v < 0x80 {
        bytes.append(UInt8(v))
    } else if v < 0x800 {
        bytes.append(UInt8(0xC0 | (v >> 6))); bytes.append(UInt8(0x80 | (v & 0x3F)))
    } else if v < 0x10000 {
        bytes.append(UInt8(0xE0 | (v >> 12))); bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        bytes.append(UInt8(0x80 | (v & 0x3F)))
    } else {
        bytes.append(UInt8(0xF0 | (v >> 18))); bytes.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
        bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F))); bytes.append(UInt8(0x80 | (v & 0x3F)))
    }
}

/// A binary min-heap of packed `UInt64` keys.
struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ key: UInt64) {
        items.append(key)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent] <= items[i] { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l] < items[m] { m = l }
                if r < items.count && items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
