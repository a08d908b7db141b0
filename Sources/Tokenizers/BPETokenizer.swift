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

    // Encoding state, guarded by `lock`: the word cache and scratch buffers reused across calls.
    private let lock = NSLock()
    private var cache = ByteStringTable(capacity: 1 << 14)   // word bytes -> entry
    private var cacheSpans: [(start: Int32, count: Int32)] = [] // [entries] range in cachePool
    private var cachePool: [Int32] = []                        // ids of all cached words, back to back
    private static let cacheLimit = 200_000
    private var fragmentBytes: [UInt8] = []                    // one fragment's UTF-8 (after any prefix space)
    private var scalars: [Unicode.Scalar] = []                 // [S] the fragment's scalars
    private var classes: [UInt8] = []                          // [S] their ScalarClass flags
    private var scalarOffsets: [Int] = []                      // [S + 1] byte offset of each scalar

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
        let ids = VocabularyIds(count: tokens.count + addedTokens.count, detail: "\(tokens.count) tokens, \(addedTokens.count) added tokens")
        for added in addedTokens { try ids.check(added.id, source: source, field: "added token \"\(added.content)\"") }
        let largestAdded = addedTokens.map(\.id).max() ?? -1
        if largestAdded >= tokens.count { tokens += [String](repeating: "", count: largestAdded + 1 - tokens.count) }
        var addedIds = Set<Int>()
        for added in addedTokens {
            tokens[added.id] = added.content
            addedIds.insert(added.id)
        }

        var idsByToken: [String: Int] = [:]
        idsByToken.reserveCapacity(tokens.count)
        var wordTable = ByteStringTable(capacity: tokens.count)
        var tokenBytes: [[UInt8]] = []
        tokenBytes.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            if !token.isEmpty { idsByToken[token] = id }   // "" marks an id the vocabulary skips
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

        // A byte the vocabulary has no token for (SmolLM2's lacks a few control bytes) encodes as the
        // tokenizer's unknown token, as Hugging Face's BPE does. Without one, or when it is the end-of-sequence
        // token, that text could only lose the byte or end the sequence, so such a file is refused here.
        if let missing = byteTokenIds.firstIndex(of: -1), settings.unkTokenId == nil || settings.unkTokenId == settings.eosTokenId {
            let shown = missing >= 0x21 && missing < 0x7F ? " ('\(Character(UnicodeScalar(UInt8(missing))))')" : ""
            throw TokenizerError(source, field: "model.vocab",
                                 "has no token for byte 0x\(String(missing, radix: 16, uppercase: true))\(shown) (byte-level form "
                                 + "\"\(ByteLevel.character(for: UInt8(missing)))\") and no unk_token other than the end-of-sequence one to stand for it")
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
        lock.lock()
        for fragment in addedTokens.split(bytes) {
            switch fragment {
            case .token(let id): ids.append(id)
            case .text(let range): encodeFragment(bytes[range], into: &ids)
            }
        }
        if cache.count > Self.cacheLimit {
            cache.removeAll()
            cacheSpans.removeAll(keepingCapacity: true)
            cachePool.removeAll(keepingCapacity: true)
        }
        lock.unlock()
        if addSpecialTokens, settings.addEosToken, let eos = settings.eosTokenId { ids.append(eos) }
        return ids
    }

    /// Pre-tokenizes one fragment of plain text and appends the ids of its words.
    private func encodeFragment(_ utf8: ArraySlice<UInt8>, into ids: inout [Int]) {
        fragmentBytes.removeAll(keepingCapacity: true)
        if normalizeNFC {
            fragmentBytes += String(decoding: utf8, as: UTF8.self).precomposedStringWithCanonicalMapping.utf8
        } else {
            fragmentBytes += utf8
        }
        if preTokenizer.addPrefixSpace, fragmentBytes.first != 0x20 { fragmentBytes.insert(0x20, at: 0) }
        decodeScalars()
        let pieces = preTokenizer.ranges(scalars: scalars, classes: classes)
        fragmentBytes.withUnsafeBufferPointer { p in
            let base = p.baseAddress!
            for piece in pieces {
                let start = scalarOffsets[piece.lowerBound]
                let count = scalarOffsets[piece.upperBound] - start
                var entry = cache.lookup(base + start, count)
                if entry < 0 {
                    let wordIds = mergeWord(UnsafeBufferPointer(start: base + start, count: count))
                    entry = cacheSpans.count
                    cacheSpans.append((Int32(cachePool.count), Int32(wordIds.count)))
                    cachePool += wordIds
                    cache.insert(base + start, count, id: entry)
                }
                let span = cacheSpans[entry]
                for k in Int(span.start)..<Int(span.start + span.count) { ids.append(Int(cachePool[k])) }
            }
        }
    }

    /// Fills `scalars`, `classes` and `scalarOffsets` from `fragmentBytes` (valid UTF-8: it came from a String).
    private func decodeScalars() {
        scalars.removeAll(keepingCapacity: true)
        classes.removeAll(keepingCapacity: true)
        scalarOffsets.removeAll(keepingCapacity: true)
        let n = fragmentBytes.count
        fragmentBytes.withUnsafeBufferPointer { p in
            var i = 0
            while i < n {
                let lead = UInt32(p[i])
                var value = lead
                var width = 1
                if lead >= 0xF0 { width = 4; value = lead & 0x07 } else if lead >= 0xE0 { width = 3; value = lead & 0x0F }
                else if lead >= 0xC0 { width = 2; value = lead & 0x1F }
                width = min(width, n - i)
                for k in 1..<max(width, 1) { value = value << 6 | (UInt32(p[i + k]) & 0x3F) }
                let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
                scalars.append(scalar)
                classes.append(ScalarClass.of(scalar))
                scalarOffsets.append(i)
                i += width
            }
        }
        scalarOffsets.append(n)
    }

    /// BPE on one word's bytes: lowest rank first, leftmost on ties (a heap keyed by rank, then position).
    private func mergeWord(_ word: UnsafeBufferPointer<UInt8>) -> [Int32] {
        if ignoreMerges, let base = word.baseAddress {
            let whole = wordTable.lookup(base, word.count)
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
            guard ids[left] >= 0, right >= 0, ids[right] >= 0,
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
