import Kernels

// Whole-batch entry points: logits of every position, and transformers' causal-LM loss.

/// Logits `[batch, length, vocab]`, row-major.
///
/// ```swift
/// let logits = try model.forward(inputIds: [[1, 2, 3]])
/// let next = logits[0, 2]          // the vocab scores after token 3
/// ```
public struct Logits: Sendable {
    public let batch: Int
    public let length: Int
    public let vocab: Int
    public var values: [Float]       // [B, T, V]

    /// The scores at row `b`, position `t`.
    public subscript(b: Int, t: Int) -> ArraySlice<Float> {
        let o = (b * length + t) * vocab
        return values[o..<(o + vocab)]
    }
}

extension LlamaModel {
    /// Checks a batch of token rows (and its mask) and returns B, T.
    func batchShape(_ inputIds: [[Int]], _ attentionMask: [[Int]]?, _ labels: [[Int]]? = nil) throws -> (Int, Int) {
        let B = inputIds.count
        guard B > 0, let T = inputIds.first?.count, T > 0 else {
            throw LlamaError.invalidInput("input_ids is empty")
        }
        for (b, row) in inputIds.enumerated() where row.count != T {
            throw LlamaError.invalidInput("input_ids row \(b) has \(row.count) tokens, row 0 has \(T): pad rows to one length")
        }
        if let m = attentionMask {
            guard m.count == B, m.allSatisfy({ $0.count == T }) else {
                throw LlamaError.invalidInput("attention_mask must have the shape of input_ids [\(B), \(T)]")
            }
        }
        if let y = labels {
            guard y.count == B, y.allSatisfy({ $0.count == T }) else {
                throw LlamaError.invalidInput("labels must have the shape of input_ids [\(B), \(T)]")
            }
        }
        return (B, T)
    }

    /// Runs a whole batch from position 0 and leaves every position's logits in the returned state.
    func runBatch(_ inputIds: [[Int]], _ attentionMask: [[Int]]?) throws -> (LlamaRunState, Int, Int) {
        let (B, T) = try batchShape(inputIds, attentionMask)
        let state = LlamaRunState(config: config, batch: B, tokensPerStep: T, cacheCapacity: T, allLogits: true)
        let cache = makeCache(batch: B, maxTokens: T)
        for b in 0..<B {
            for t in 0..<T {
                let id = inputIds[b][t]
                guard id >= 0 && id < config.vocab_size else {
                    throw LlamaError.invalidInput("token id \(id) (row \(b), position \(t)) is outside the vocabulary of \(config.vocab_size)")
                }
                state.tokens[b * T + t] = Int32(id)
                state.mask[b * T + t] = Int32(attentionMask?[b][t] ?? 1)
            }
        }
        try forwardStep(state: state, cache: cache, B: B, T: T, logits: .all)
        return (state, B, T)
    }

    /// The logits of every position, as `model(input_ids, attention_mask=...).logits` in
    /// transformers. Rows are padded on the right; a padding position (mask 0) is never attended
    /// to, and its own logits are computed like transformers' (it attends to the real tokens
    /// before it). Positions are `0..<T` in every row.
    ///
    /// ```swift
    /// let logits = try model.forward(inputIds: [[1, 5, 9], [1, 7, 0]],
    ///                                attentionMask: [[1, 1, 1], [1, 1, 0]])
    /// ```
    public func forward(inputIds: [[Int]], attentionMask: [[Int]]? = nil) throws -> Logits {
        let (state, B, T) = try runBatch(inputIds, attentionMask)
        return Logits(batch: B, length: T, vocab: config.vocab_size, values: state.logits.array)
    }

    /// The causal-LM loss as transformers computes it from `labels` (aligned with `inputIds`;
    /// shifted inside): the mean of −log p(labels[b][t+1] | tokens ≤ t) over every pair whose label
    /// is not −100. NaN when every label is −100.
    ///
    /// ```swift
    /// let loss = try model.loss(inputIds: ids, attentionMask: mask, labels: labels)
    /// ```
    public func loss(inputIds: [[Int]], attentionMask: [[Int]]? = nil, labels: [[Int]]) throws -> Float {
        let (B, T) = try batchShape(inputIds, attentionMask, labels)
        for (b, row) in labels.enumerated() {
            for (t, y) in row.enumerated() where y != Int(ignoreIndex) && !(0..<config.vocab_size).contains(y) {
                throw LlamaError.invalidInput("label \(y) (row \(b), position \(t)) is neither -100 nor a token id")
            }
        }
        let (state, _, _) = try runBatch(inputIds, attentionMask)
        let targets = [Int32](unsafeUninitializedCapacity: B * T) { buf, n in
            for b in 0..<B {
                for t in 0..<T { buf[b * T + t] = t + 1 < T ? Int32(labels[b][t + 1]) : ignoreIndex }
            }
            n = B * T
        }
        let losses = FloatBuffer(count: B * T)
        return targets.withUnsafeBufferPointer {
            crossentropy_forward(losses: losses.pointer, logits: state.logits.pointer, targets: $0.baseAddress!,
                                 N: B * T, V: config.vocab_size)
        }
    }
}
