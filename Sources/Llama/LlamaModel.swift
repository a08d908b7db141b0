import Foundation
import Kernels
import Support

/// A Llama-family causal language model ready to run: config, weights and rotary tables.
///
/// ```swift
/// let model = try LlamaModel(config: config, source: SafetensorsCheckpoint(directory: folder), storage: .f32)
/// let logits = try model.forward(inputIds: [[1, 15, 27]])     // [1, 3, vocab]
/// let random = LlamaModel.random(config: .tinyLlama_1_1B, seed: 0, storage: .bf16)
/// ```
public final class LlamaModel: @unchecked Sendable, CustomStringConvertible {
    public let config: LlamaConfig
    public let weights: LlamaWeights
    /// How the large matrices are stored (norms are always f32).
    public let storage: StorageType
    /// cos/sin for positions `0..<rope.positions`.
    public let rope: RopeTables
    /// The arithmetic of the weight products in inference. `.bf16` with bf16 weights is llama.cpp's (and
    /// torch's bf16) arithmetic: the activations are rounded to bf16 and multiplied on AVX512-BF16, sums
    /// in f32. Default `.f32`: bf16 weights widened exactly, activations kept as they are.
    public var productPrecision: ProductPrecision = .f32
    /// LoRA layers added after each adapted projection in the inference forward (`attachAdapter`).
    public internal(set) var adapterLayers: [LoraLayer]?     // num_hidden_layers
    /// The largest rank of `adapterLayers`, for the scratch of the low-rank product.
    public internal(set) var adapterMaxRank = 0

    /// The most positions the rotary tables cover by default: `max_position_embeddings`, capped so
    /// a 128k-context config does not spend memory on tables it will never use.
    public static let defaultRopePositions = 16384

    /// Wraps weights already built; `ropePositions` sets how many positions the rotary tables cover
    /// (default: `max_position_embeddings`, at most `defaultRopePositions`).
    public init(config: LlamaConfig, weights: LlamaWeights, storage: StorageType, ropePositions: Int? = nil) {
        self.config = config
        self.weights = weights
        self.storage = storage
        let positions = ropePositions ?? Swift.min(config.max_position_embeddings, LlamaModel.defaultRopePositions)
        rope = config.ropeTables(positions: positions)
    }


    /// A model with seeded random weights (N(0, 0.02²) matrices, unit norms), for speed and
    /// memory work at sizes that are not downloaded.
    ///
    /// ```swift
    /// let model = LlamaModel.random(config: .llama3_2_1B, seed: 1, storage: .bf16)
    /// ```
    public static func random(config: LlamaConfig, seed: UInt64, storage: StorageType = .f32) -> LlamaModel {
        LlamaModel(config: config, weights: .random(config: config, seed: seed, storage: storage), storage: storage)
    }

    /// Like `random(config:seed:storage:)`, but first checks that the weights fit in the memory
    /// available and throws `LlamaError.insufficientMemory` when they do not.
    ///
    /// ```swift
    /// let model = try LlamaModel.random(config: .tinyLlama_1_1B, seed: 0, storage: .bf16, checkMemory: true)
    /// ```
    public static func random(config: LlamaConfig, seed: UInt64, storage: StorageType, checkMemory: Bool) throws -> LlamaModel {
        try config.validate()
        if checkMemory {
            try config.memoryEstimate(storage: storage).check(what: "a random model of \(config.parameterCount) parameters in \(storage.rawValue)")
        }
        return random(config: config, seed: seed, storage: storage)
    }

    /// Parameters, as transformers counts them.
    public var parameterCount: Int { config.parameterCount }

    /// One line for the load message:
    /// `LlamaForCausalLM: 30 layers, hidden 576, 9 heads (3 kv), vocab 49152, tied, 134,515,008 parameters, f32 weights 513.1 MiB`.
    public var description: String {
        let c = config
        return "\(c.architecture.className): \(c.num_hidden_layers) layers, hidden \(c.hidden_size), \(c.num_attention_heads) heads (\(c.num_key_value_heads) kv), vocab \(c.vocab_size), \(c.tie_word_embeddings ? "tied" : "untied"), \(formatCount(parameterCount)) parameters, \(storage.rawValue) weights \(formatBytes(c.memoryEstimate(storage: storage).weights))"
    }
}
