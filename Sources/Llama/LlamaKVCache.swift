import Kernels

/// Keys and values of every layer for `batch` sequences of up to `capacity` positions, so each new
/// token attends to the past without recomputing it.
///
/// Each row keeps its own length: row b's next token goes to slot `lengths[b]`, which is also its
/// position. Rows of a batch can therefore hold prompts of different lengths with no left padding:
/// a right-padded prefill stores each row's real tokens first, and the next decoded token
/// overwrites the row's first padding slot.
///
/// ```swift
/// let cache = model.makeCache(batch: 2, maxTokens: 256)
/// ```
public final class LlamaKVCache: @unchecked Sendable {
    public let layers: Int
    public let batch: Int
    /// Slots per row: the most positions a row can hold.
    public let capacity: Int
    /// Floats per slot: `num_key_value_heads * head_dim`.
    public let kvDim: Int
    public let key: FloatBuffer                    // [L, B, S, NKV * HD]
    public let value: FloatBuffer                  // [L, B, S, NKV * HD]
    /// 1 where a slot holds a real token, 0 for padding.
    public let keyMask: UnsafeMutablePointer<Int32>   // [B, S]
    /// Tokens stored per row; the position of that row's next token.
    public var lengths: [Int]                      // [B]

    /// An empty cache (all lengths 0). Prefer `LlamaModel.makeCache(batch:maxTokens:)`.
    public init(layers: Int, batch: Int, capacity: Int, kvDim: Int) {
        self.layers = layers; self.batch = batch; self.capacity = capacity; self.kvDim = kvDim
        key = FloatBuffer(count: layers * batch * capacity * kvDim)
        value = FloatBuffer(count: layers * batch * capacity * kvDim)
        keyMask = .allocate(capacity: max(1, batch * capacity))
        keyMask.initialize(repeating: 0, count: batch * capacity)
        lengths = Array(repeating: 0, count: batch)
    }

    deinit { keyMask.deallocate() }

    /// Keys of layer `l`: `[B, S, NKV * HD]`.
    public func keys(layer l: Int) -> UnsafeMutablePointer<Float> { key.pointer + l * batch * capacity * kvDim }
    /// Values of layer `l`: `[B, S, NKV * HD]`.
    public func values(layer l: Int) -> UnsafeMutablePointer<Float> { value.pointer + l * batch * capacity * kvDim }

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
        LlamaKVCache(layers: config.num_hidden_layers, batch: batch, capacity: maxTokens, kvDim: config.kvDim)
    }
}
