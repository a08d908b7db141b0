// Token embedding lookup, as `nn.Embedding`.

/// out[N, C] = table[tokens[n], :] for each of the N tokens.
///
/// The caller checks that every token is in `0..<table.rows` (the model does, with a clear error).
///
/// ```swift
/// embedding_forward(out: x, tokens: ids, table: weights.model.embed_tokens, N: 3)
/// ```
public func embedding_forward(out: UnsafeMutablePointer<Float>,     // [N, C]
                              tokens: UnsafePointer<Int32>,         // [N]
                              table: WeightMatrix,                  // [V, C]
                              N: Int) {
    let C = table.cols
    for n in 0..<N {
        table.decodeRows(Int(tokens[n]), 1, into: out + n * C)
    }
}
