/// An open-addressing hash table from byte strings to ids, looked up by pointer and length so the
/// hot loops of both tokenizers never build a `String` or `[UInt8]` per lookup.
struct ByteStringTable {
    private var storage: [UInt8] = []      // all keys, back to back
    private var starts: [Int32] = []       // [entries] where each key begins in `storage`
    private var lengths: [Int32] = []      // [entries]
    private var ids: [Int32] = []          // [entries]
    private var slots: [Int32]             // [capacity], entry index or -1
    private var mask: Int

    init(capacity expected: Int) {
        var capacity = 16
        while capacity < expected * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
    }

    private static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325   // FNV-1a
        for k in 0..<n { h = (h ^ UInt64(p[k])) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// Adds `key -> id`; a key seen again takes the later id (llama.cpp's `token_to_id` does the same).
    mutating func insert(_ key: [UInt8], id: Int) {
        key.withUnsafeBufferPointer { k in
            guard let base = k.baseAddress else { return }
            var slot = Self.hash(base, k.count) & mask
            while slots[slot] >= 0 {
                let e = Int(slots[slot])
                if equals(e, base, k.count) { ids[e] = Int32(id); return }
                slot = (slot + 1) & mask
            }
            slots[slot] = Int32(ids.count)
            starts.append(Int32(storage.count))
            lengths.append(Int32(k.count))
            ids.append(Int32(id))
            storage.append(contentsOf: k)
        }
    }

    private func equals(_ e: Int, _ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        if Int(lengths[e]) != n { return false }
        let s = Int(starts[e])
        for k in 0..<n where storage[s + k] != p[k] { return false }
        return true
    }

    /// The id of the `n` bytes at `p`, or -1.
    func lookup(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        if n == 0 { return -1 }
        var slot = Self.hash(p, n) & mask
        while slots[slot] >= 0 {
            let e = Int(slots[slot])
            if equals(e, p, n) { return Int(ids[e]) }
            slot = (slot + 1) & mask
        }
        return -1
    }

    func lookup(_ key: [UInt8]) -> Int {
        key.withUnsafeBufferPointer { k in k.baseAddress.map { lookup($0, k.count) } ?? -1 }
    }
}
