import Foundation
import Kernels
import Weights

// Loading a model from disk through the weights module: a Hugging Face folder (config.json and
// safetensors, sharded or not) or a GGUF file (metadata + dequantized tensors in HF names). The
// memory needed is estimated first and the load refused when it will not fit.

extension LlamaConfig {
    /// The config of a GGUF file, from its metadata (see `init(ggufMetadata:...)`).
    ///
    /// ```swift
    /// let config = try LlamaConfig(gguf: GGUFFile(url: url))
    /// ```
    public init(gguf: GGUFFile) throws {
        var plain: [String: Any] = [:]
        for (key, value) in gguf.metadata {
            switch value {
            case .string(let s): plain[key] = s
            case .float32, .float64: plain[key] = value.double
            case .array: continue
            default: if let i = value.int { plain[key] = i }
            }
        }
        let tokens = gguf.metadata["tokenizer.ggml.tokens"]?.array?.count
        // llama.cpp stores Llama-3 rope scaling as this tensor, not as metadata.
        let ropeFactors = gguf.tensorIndex["rope_freqs.weight"] == nil ? nil : try gguf.floats("rope_freqs.weight")
        try self.init(ggufMetadata: plain, vocabularySize: tokens,
                      hasOutputTensor: gguf.tensorInfos.contains { $0.name == "output.weight" },
                      ropeFrequencyFactors: ropeFactors, file: gguf.name)
    }
}

extension LlamaModel {
    /// Loads weights from a `TensorSource` (a checkpoint, or tensors in memory) after checking that they will fit
    /// in memory, checking every shape against `config`.
    ///
    /// ```swift
    /// let model = try LlamaModel(config: config, source: SafetensorsCheckpoint(directory: dir), storage: .bf16)
    /// ```
    /// With `keepStored`, matrices the file stores in a type medrepl keeps (F32, F16, BF16, Q8_0, Q4_0, Q4_1)
    /// stay in it and the others become `storage` (see `LlamaWeights.init(config:source:storage:keepStored:)`).
    public convenience init(config: LlamaConfig, source: any TensorSource, storage: StorageType = .f32,
                            keepStored: Bool = false, name: String = "the model") throws {
        try config.validate()
        if keepStored {
            var estimate = config.memoryEstimate(storage: storage)
            estimate.weights = try source.tensorNames().reduce(0) { sum, tensor in
                let kept = try source.storedType(tensor).flatMap { StorageType(keeping: $0) } ?? storage
                return sum + kept.bytes(try source.shape(of: tensor).reduce(1, *))
            }
            try estimate.check(what: "\(name) in its own types")
        } else {
            try config.memoryEstimate(storage: storage).check(what: "\(name) in \(storage.rawValue)")
        }
        self.init(config: config, weights: try LlamaWeights(config: config, source: source, storage: storage, keepStored: keepStored),
                  storage: storage)
    }

    /// Loads a Hugging Face model folder: `config.json` and `model.safetensors` (or shards listed in
    /// `model.safetensors.index.json`).
    ///
    /// ```swift
    /// let model = try LlamaModel.load(directory: URL(fileURLWithPath: "TinyLlama-1.1B-Chat"), storage: .bf16)
    /// ```
    public static func load(directory: URL, storage: StorageType = .f32, keepStored: Bool = false) throws -> LlamaModel {
        let config = try LlamaConfig.load(from: directory.appendingPathComponent("config.json"))
        return try LlamaModel(config: config, source: SafetensorsCheckpoint(directory: directory), storage: storage,
                              keepStored: keepStored, name: directory.lastPathComponent)
    }

    /// Loads a GGUF file (F32/F16/BF16/Q8_0/Q4_0/Q4_1/Q4_K/Q6_K... tensors, converted to `storage`; with
    /// `keepStored`, F32/F16/BF16/Q8_0/Q4_0/Q4_1 tensors kept as the file has them).
    ///
    /// ```swift
    /// let model = try LlamaModel.load(gguf: URL(fileURLWithPath: "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    /// let small = try LlamaModel.load(gguf: url, keepStored: true)    // Q4_1 blocks in memory, 4-5x smaller
    /// ```
    public static func load(gguf url: URL, storage: StorageType = .f32, keepStored: Bool = false) throws -> LlamaModel {
        let file = try GGUFFile(url: url)
        let config = try LlamaConfig(gguf: file)
        return try LlamaModel(config: config, source: GGUFLlamaTensorSource(file: file), storage: storage,
                              keepStored: keepStored, name: url.lastPathComponent)
    }
}
