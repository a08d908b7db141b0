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
            if let base = k.baseAddress { insert(base, k.count, id: id) }
        }
    }

    /// Adds the `n` bytes at `p` with `id`, growing the table to stay at most half full.
    mutating func insert(_ p: UnsafePointer<UInt8>, _ n: Int, id: Int) {
        if (ids.count + 1) * 2 > slots.count { grow() }
        var slot = Self.hash(p, n) & mask
        while slots[slot] >= 0 {
            let e = Int(slots[slot])
            if equals(e, p, n) { ids[e] = Int32(id); return }
            slot = (slot + 1) & mask
        }
        slots[slot] = Int32(ids.count)
        starts.append(Int32(storage.count))
        lengths.append(Int32(n))
        ids.append(Int32(id))
        storage.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
    }

    /// The number of keys.
    var count: Int { ids.count }

    /// Forgets every key, keeping the memory.
    mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = -1 }
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        mask = slots.count - 1
        let keys = storage
        for e in ids.indices {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325   // the same FNV-1a as `hash`, over the stored copy
            for b in keys[Int(starts[e])..<Int(starts[e] + lengths[e])] { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            var slot = Int(truncatingIfNeeded: h ^ (h >> 29)) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(e)
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
