import Foundation
import Kernels
import Support

// How big a model is: parameters by kind, bytes per storage type, and what a run adds (KV cache,
// activations), so a load can be refused before it runs out of memory.

extension LlamaConfig {
    /// Parameters of one decoder layer's seven projections (four attention, three MLP).
    public var projectionParametersPerLayer: Int {
        let c = hidden_size
        return c * qDim + 2 * c * kvDim + qDim * c + 3 * c * intermediate_size
    }

    /// Parameters of one decoder layer: its projections, their biases (Qwen2) and two norms.
    public var parametersPerLayer: Int { projectionParametersPerLayer + biasParametersPerLayer + 2 * hidden_size }

    /// Parameters in the large matrices (embedding, projections, untied lm_head): those kept in
    /// the chosen `StorageType`.
    public var matrixParameterCount: Int {
        vocab_size * hidden_size * (tie_word_embeddings ? 1 : 2) + num_hidden_layers * projectionParametersPerLayer
    }

    /// Weights multiplied per token in a forward pass: every projection plus the output head (the embedding
    /// is a lookup, so a tied head counts once). A forward costs 2 × this FLOPs per token.
    public var parametersMultipliedPerToken: Int {
        num_hidden_layers * projectionParametersPerLayer + vocab_size * hidden_size
    }

    /// Parameters in the norms and the projections' biases (always f32).
    public var vectorParameterCount: Int { (2 * num_hidden_layers + 1) * hidden_size + num_hidden_layers * biasParametersPerLayer }

    /// All parameters, as `sum(p.numel() for p in model.parameters())` counts them (a tied
    /// `lm_head` is counted once). TinyLlama-1.1B: 1,100,048,384; SmolLM2-135M: 134,515,008.
    public var parameterCount: Int { matrixParameterCount + vectorParameterCount }

    /// Bytes of a KV cache for `batch` rows of `maxTokens` positions (keys and values, f32).
    public func kvCacheBytes(batch: Int, maxTokens: Int) -> Int {
        2 * num_hidden_layers * batch * maxTokens * kvDim * 4
    }

    /// Bytes of the activations of one forward step over `rows` tokens (`LlamaRunState`), including
    /// the logits of `logitRows` rows.
    public func activationBytes(rows: Int, logitRows: Int, attentionSlots: Int) -> Int {
        let perRow = 3 * hidden_size + 2 * qDim + 2 * kvDim + 2 * intermediate_size + 3
        return 4 * (rows * perRow + logitRows * vocab_size + num_attention_heads * rows * attentionSlots)
    }

    /// The memory a model with this config needs: weights in `storage` (norms in f32), plus a KV
    /// cache and activations for `batch` rows of `maxTokens` tokens.
    ///
    /// ```swift
    /// let m = LlamaConfig.tinyLlama_1_1B.memoryEstimate(storage: .bf16)
    /// print(formatBytes(m.total))     // about 2.1 GiB
    /// ```
    public func memoryEstimate(storage: StorageType, batch: Int = 1, maxTokens: Int = 0) -> MemoryEstimate {
        let weights = storage.bytes(matrixParameterCount) + vectorParameterCount * 4
        let cache = maxTokens > 0 ? kvCacheBytes(batch: batch, maxTokens: maxTokens) : 0
        let act = maxTokens > 0 ? activationBytes(rows: batch * maxTokens, logitRows: batch, attentionSlots: maxTokens) : 0
        return MemoryEstimate(weights: weights, kvCache: cache, activations: act)
    }
}

/// Bytes a model needs in memory, by part.
public struct MemoryEstimate: Sendable, Equatable, CustomStringConvertible {
    /// Matrices in their storage type plus f32 norms.
    public var weights: Int
    /// Keys and values for the batch and tokens asked (f32).
    public var kvCache: Int
    /// One step's activations (`LlamaRunState`) for those rows.
    public var activations: Int
    public var total: Int { weights + kvCache + activations }

    public var description: String {
        "\(formatBytes(total)) (weights \(formatBytes(weights)), KV cache \(formatBytes(kvCache)), activations \(formatBytes(activations)))"
    }

    /// Throws `LlamaError.insufficientMemory` when `total` exceeds what is available (`MemoryInfo`, less a 5%
    /// margin); does nothing where the available memory is unknown.
    public func check(what: String, available: Int? = MemoryInfo.availableBytes()) throws {
        guard let available else { return }
        if total > available - available / 20 {
            throw LlamaError.insufficientMemory(needed: total, available: available, what: what)
        }
    }
}
