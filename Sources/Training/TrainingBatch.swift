import Foundation

/// A batch of rows `[B, T]`: token ids, attention mask (1 = real token, 0 = padding) and labels
/// (-100 = no loss). The model shifts labels itself: position t is trained to predict `labels[t + 1]`.
///
/// ```swift
/// let batch = try TrainingBatch(input_ids: [[1, 5, 9, 2]], labels: [[-100, 5, 9, 2]])
/// print(batch.targetCount)   // 3
/// ```
public struct TrainingBatch: Sendable, Equatable {
    public let batchSize: Int
    public let sequenceLength: Int
    public var input_ids: [Int32]        // [B, T]
    public var attention_mask: [Int32]   // [B, T]
    public var labels: [Int32]           // [B, T]

    public init(input_ids: [[Int]], attention_mask: [[Int]]? = nil, labels: [[Int]]? = nil) throws {
        guard let T = input_ids.first?.count, T > 0 else { throw LoraError("a batch needs at least one non-empty row") }
        let mask = attention_mask ?? input_ids.map { [Int](repeating: 1, count: $0.count) }
        let labels = labels ?? input_ids
        guard mask.count == input_ids.count, labels.count == input_ids.count else {
            throw LoraError("batch: \(input_ids.count) rows of input_ids, \(mask.count) of attention_mask, \(labels.count) of labels")
        }
        for b in 0..<input_ids.count where input_ids[b].count != T || mask[b].count != T || labels[b].count != T {
            throw LoraError("batch row \(b): input_ids, attention_mask and labels must all have length \(T) (pad rows first)")
        }
        batchSize = input_ids.count
        sequenceLength = T
        self.input_ids = input_ids.flatMap { $0.map { Int32(truncatingIfNeeded: $0) } }
        self.attention_mask = mask.flatMap { $0.map { Int32(truncatingIfNeeded: $0) } }
        self.labels = labels.flatMap { $0.map { Int32(truncatingIfNeeded: $0) } }
    }

    /// The number of positions with a target: labels[:, 1:] != -100 (transformers' `num_items_in_batch`).
    public var targetCount: Int {
        var n = 0
        for b in 0..<batchSize { for t in 1..<sequenceLength where labels[b * sequenceLength + t] != -100 { n += 1 } }
        return n
    }

    /// The tokens a training pass computes: each row up to its last real token or last target
    /// (see `BatchPlan`), padding after that skipped.
    public var trainedTokenCount: Int {
        (0..<batchSize).reduce(0) { $0 + neededLength(row: $1) }
    }

    /// Positions of row `b` that can affect the loss or its gradient: through the last real token and
    /// through the last position that predicts a label.
    func neededLength(row b: Int) -> Int {
        let T = sequenceLength
        var needed = 0
        for t in 0..<T {
            if attention_mask[b * T + t] != 0 { needed = max(needed, t + 1) }
            if t > 0 && labels[b * T + t] != -100 { needed = max(needed, t) }
        }
        return needed
    }

    /// Tokens with attention mask 1.
    public var realTokenCount: Int { attention_mask.reduce(0) { $0 + Int($1 != 0 ? 1 : 0) } }
}

/// How a batch is laid out in the packed token dimension for one forward pass.
struct BatchPlan {
    var rows: [RowSpan] = []
    var N = 0                     // packed tokens
    var attentionFloats = 0       // Σ heads · L²
    var maxLength = 0
    var tokens: [Int32] = []      // [N]
    var positions: [Int32] = []   // [N] position within the row
    var keyMask: [Float] = []     // [N] 1 for a real token
    var targetIndex: [Int] = []   // [M] packed token whose next token is a target
    var targetLabel: [Int32] = [] // [M]
    var sourceIndex: [Int] = []   // [N] b · T + t of each packed token (after the earlier batches' B · T)

    /// Packs the batches. With `trim`, each row stops after the last position that can matter: its last real
    /// token or the last position that predicts a label. Later positions are padding that no kept query
    /// attends to and that has no target, so dropping them changes no loss and no gradient.
    /// Several batches (the micro-batches of one optimizer step) are packed one after the other, so one pass
    /// multiplies every weight with all their tokens at once.
    init(_ batches: [TrainingBatch], heads: Int, vocab: Int, maxPositions: Int, trim: Bool) throws {
        var sourceBase = 0
        for batch in batches {
            try append(batch, sourceBase: sourceBase, heads: heads, vocab: vocab, maxPositions: maxPositions, trim: trim)
            sourceBase += batch.batchSize * batch.sequenceLength
        }
    }

    /// What packing `batches` with `trim` takes, without copying a token: the arena's dimensions.
    static func shape(_ batches: [TrainingBatch], heads: Int) -> (tokens: Int, attentionFloats: Int, maxLength: Int) {
        var shape = (tokens: 0, attentionFloats: 0, maxLength: 0)
        for batch in batches {
            for b in 0..<batch.batchSize {
                let length = batch.neededLength(row: b)
                shape.tokens += length
                shape.attentionFloats += heads * length * length
                shape.maxLength = max(shape.maxLength, length)
            }
        }
        return shape
    }

    private mutating func append(_ batch: TrainingBatch, sourceBase: Int, heads: Int, vocab: Int, maxPositions: Int, trim: Bool) throws {
        let T = batch.sequenceLength
        guard T <= maxPositions else {
            throw LoraError("batch rows of \(T) tokens exceed the \(maxPositions) positions the model supports (max_position_embeddings)")
        }
        for b in 0..<batch.batchSize {
            let length = trim ? batch.neededLength(row: b) : T
            guard length > 0 else { continue }
            rows.append(RowSpan(start: N, length: length, attOffset: attentionFloats))
            for t in 0..<length {
                let id = batch.input_ids[b * T + t]
                guard id >= 0 && Int(id) < vocab else {
                    throw LoraError("batch row \(b), position \(t): token id \(id) is outside the vocabulary (0..<\(vocab))")
                }
                tokens.append(id)
                positions.append(Int32(t))
                keyMask.append(batch.attention_mask[b * T + t] != 0 ? 1 : 0)
                sourceIndex.append(sourceBase + b * T + t)
                if t + 1 < T {
                    let label = batch.labels[b * T + t + 1]
                    if label != -100 {
                        guard label >= 0 && Int(label) < vocab else {
                            throw LoraError("batch row \(b), position \(t + 1): label \(label) is neither -100 nor a token id (0..<\(vocab))")
                        }
                        targetIndex.append(N + t)
                        targetLabel.append(label)
                    }
                }
            }
            N += length
            attentionFloats += heads * length * length
            maxLength = max(maxLength, length)
        }
    }
}
