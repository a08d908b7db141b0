import Foundation
import Kernels
import Llama
import Weights

extension LoraModel {
    /// Wraps an already loaded base model (its weights are shared, never modified).
    ///
    /// ```swift
    /// let lora = try LoraModel(base: llamaModel, lora: LoraConfig(r: 16, lora_alpha: 32, target_modules: ["all-linear"]))
    /// ```
    public convenience init(base: LlamaModel, lora: LoraConfig) throws {
        try self.init(config: base.config, weights: base.weights, lora: lora)
    }

    /// Loads a Hugging Face model folder (`config.json` + safetensors) as a frozen base.
    ///
    /// ```swift
    /// let (config, weights) = try LoraModel.loadBase(directory: URL(fileURLWithPath: "Tests/Fixtures/tiny-llama"))
    /// ```
    public static func loadBase(directory: URL, storage: StorageType = .f32) throws -> (LlamaConfig, LlamaWeights) {
        let config = try LlamaConfig.load(from: directory.appendingPathComponent("config.json"))
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let source = LlamaTensorClosure { name in checkpoint.contains(name) ? try checkpoint.floats(name) : nil }
        return (config, try LlamaWeights(config: config, source: source, storage: storage))
    }
}
