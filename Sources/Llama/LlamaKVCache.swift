import Kernels

/// Keys and values of every layer for `batch` sequences of up to `capacity` positions, so each new
/// token attends to the past without recomputing it.
///
/// Each row keeps its own length: row b's next token goes to slot `lengths[b]`, which is also its
/// position. Rows of a batch can therefore hold prompts of different lengths with no left padding:
/// a right-padded prefill stores each row's real tokens first, and the next decoded token
/// overwrites the row's first padding slot.
///
/// Each key/value head's slots are contiguous (`[.., NKV, S, HD]`): a query head reads its head's keys
/// and values as one run, which the hardware prefetchers follow. Slot-major (`[.., S, NKV, HD]`, one
/// slot's heads side by side) left each head a strided read of HD floats every NKV · HD; on an AMD Zen 4
/// SmolLM2's decode attention (30 layers, 9 heads, 228 slots, the cache out of cache) took 1.51-1.65 ms a
/// token on one core that way and 0.91-1.11 ms head-major.
///
/// ```swift
/// let cache = model.makeCache(batch: 2, maxTokens: 256)
/// ```
public final class LlamaKVCache: @unchecked Sendable {
    public let layers: Int
    public let batch: Int
    /// Slots per row: the most positions a row can hold.
    public let capacity: Int
    /// Key/value heads, and floats per head per slot.
    public let kvHeads: Int, headDim: Int
    /// Floats per slot: `kvHeads * headDim`.
    public var kvDim: Int { kvHeads * headDim }
    public let key: FloatBuffer                    // [L, B, NKV, S, HD]
    public let value: FloatBuffer                  // [L, B, NKV, S, HD]
    /// 1 where a slot holds a real token, 0 for padding.
    public let keyMask: UnsafeMutablePointer<Int32>   // [B, S]
    /// Tokens stored per row; the position of that row's next token.
    public var lengths: [Int]                      // [B]

    /// An empty cache (all lengths 0). Prefer `LlamaModel.makeCache(batch:maxTokens:)`.
    public init(layers: Int, batch: Int, capacity: Int, kvHeads: Int, headDim: Int) {
        self.layers = layers; self.batch = batch; self.capacity = capacity; self.kvHeads = kvHeads; self.headDim = headDim
        let kvDim = kvHeads * headDim
        key = FloatBuffer(count: layers * batch * capacity * kvDim)
        value = FloatBuffer(count: layers * batch * capacity * kvDim)
        keyMask = .allocate(capacity: max(1, batch * capacity))
        keyMask.initialize(repeating: 0, count: batch * capacity)
        lengths = Array(repeating: 0, count: batch)
    }

    deinit { keyMask.deallocate() }

    /// Keys of layer `l`: `[B, NKV, S, HD]`.
    public func keys(layer l: Int) -> UnsafeMutablePointer<Float> { key.pointer + l * batch * capacity * kvDim }
    /// Values of layer `l`: `[B, NKV, S, HD]`.
    public func values(layer l: Int) -> UnsafeMutablePointer<Float> { value.pointer + l * batch * capacity * kvDim }

    /// Stores T new slots of row b from slot `first` on: `k` and `v` are `[T, NKV * HD]` (a step's
    /// projections), the cache's layer `l` is `[B, NKV, S, HD]`.
    public func store(layer l: Int, row b: Int, first: Int, T: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        let keys = keys(layer: l), values = values(layer: l), HD = headDim, S = capacity
        for g in 0..<kvHeads {
            let head = ((b * kvHeads + g) * S + first) * HD
            for t in 0..<T {
                (keys + head + t * HD).update(from: k + t * kvDim + g * HD, count: HD)
                (values + head + t * HD).update(from: v + t * kvDim + g * HD, count: HD)
            }
        }
    }

    /// Forgets every row's tokens (the memory is kept for reuse).
    public func reset() {
        for b in 0..<batch { lengths[b] = 0 }
        keyMask.update(repeating: 0, count: batch * capacity)
    }
}

extension LlamaModel {
    /// A KV cache for `batch` sequences of up to `maxTokens` positions (prompt and generated
    /// tokens together).
    public func makeCache(batch: Int, maxTokens: Int) -> LlamaKVCache {
        LlamaKVCache(layers: config.num_hidden_layers, batch: batch, capacity: maxTokens,
                     kvHeads: config.num_key_value_heads, headDim: config.head_dim)
    }
}
