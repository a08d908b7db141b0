import Foundation
import Kernels
import Llama
import Support
import Weights

/// A LoRA adapter for a whole Llama model: one `LoraLinear` per adapted projection per layer.
///
/// A fresh adapter is initialised as peft does: `lora_A` Kaiming-uniform with a = √5, that is uniform in
/// ±1/√in, and `lora_B` zero, so the adapted model starts equal to the base. The draws come from `config.seed`.
///
/// ```swift
/// let adapter = try LoraAdapter(config: lora, model: llamaConfig)
/// print(adapter.parameterCount)       // 4,884,480 for SmolLM2-135M with r = 16 and the seven modules
/// ```
public final class LoraAdapter: @unchecked Sendable {
    public let config: LoraConfig
    public let targets: [LoraTarget]
    public let layers: [LoraLayer]             // num_hidden_layers
    /// Every adapted projection, layer by layer in `LoraTarget` order: the order of the optimizer state.
    public let modules: [LoraLinear]

    public init(config: LoraConfig, model: LlamaConfig) throws {
        self.config = config
        targets = try config.resolvedTargets()
        // The rank decides the size: refuse an adapter that cannot be held before allocating it (an r of
        // 21474836484 in an adapter_config.json asked for terabytes; found by tools/fuzz's adapter_config target).
        var parameters = 0
        for t in targets {
            let s = t.shape(model)
            let (perLayer, o1) = config.r.multipliedReportingOverflow(by: s.in + s.out)
            let (all, o2) = perLayer.multipliedReportingOverflow(by: model.num_hidden_layers)
            let (sum, o3) = parameters.addingReportingOverflow(all)
            guard !o1, !o2, !o3, sum < 1 << 40 else {
                throw LoraError("r = \(config.r) makes an adapter far too large to hold (r times the width of every adapted projection)")
            }
            parameters = sum
        }
        // Weights, gradients and AdamW's two moments, all f32, when it trains.
        let need = WeightMemory.bytes(parameters: parameters, storage: .f32) * 4
        if let available = MemoryInfo.availableBytes(), need > available {
            throw LoraError("r = \(config.r) needs about \(formatBytes(need)) to train (\(formatCount(parameters)) "
                            + "adapter parameters, with their gradients and optimizer state) but only \(formatBytes(available)) "
                            + "is available: choose a smaller r (the notebook uses 16)")
        }
        var layers: [LoraLayer] = []
        var modules: [LoraLinear] = []
        for l in 0..<model.num_hidden_layers {
            var layer = LoraLayer()
            for t in targets {
                let s = t.shape(model)
                let m = LoraLinear(layer: l, target: t, r: config.r, inFeatures: s.in, outFeatures: s.out, scaling: config.scaling)
                // kaiming_uniform_(a = √5) on [r, in]: gain √(2/(1+5)), bound = gain·√(3/in) = 1/√in.
                var g = SeededRandom(seed: config.seed, stream: TrainingRandom.initStream(layer: l, target: t))
                let bound = 1 / Float(s.in).squareRoot()
                for i in 0..<m.lora_A.count { m.lora_A[i] = (2 * g.nextUniform() - 1) * bound }
                layer[t] = m
                modules.append(m)
            }
            layers.append(layer)
        }
        self.layers = layers
        self.modules = modules
    }

    /// The number of trainable parameters (all `lora_A` and `lora_B` values).
    public var parameterCount: Int { modules.reduce(0) { $0 + $1.lora_A.count + $1.lora_B.count } }

    /// Sets every gradient to zero.
    public func zeroGradients() {
        for m in modules { m.grad_A.fill(0); m.grad_B.fill(0) }
    }

    /// The tensors by peft key (`...lora_A.weight` [r, in], `...lora_B.weight` [out, r]).
    public func namedTensors() -> [(key: String, shape: [Int], values: FloatBuffer)] {
        modules.flatMap { m in
            [(m.keyA, [m.r, m.inFeatures], m.lora_A), (m.keyB, [m.outFeatures, m.r], m.lora_B)]
        }
    }

    /// A deep copy of all adapter values (for keeping the last good state).
    public func snapshot() -> [[Float]] { modules.flatMap { [$0.lora_A.array, $0.lora_B.array] } }

    /// Restores values taken by `snapshot()`.
    public func restore(_ values: [[Float]]) {
        for (i, m) in modules.enumerated() {
            values[2 * i].withUnsafeBufferPointer { m.lora_A.pointer.update(from: $0.baseAddress!, count: m.lora_A.count) }
            values[2 * i + 1].withUnsafeBufferPointer { m.lora_B.pointer.update(from: $0.baseAddress!, count: m.lora_B.count) }
        }
    }
}

extension LoraLinear {
    /// `base_model.model.model.layers.N.self_attn.q_proj`: the prefix of this module's keys in a peft file.
    public var peftPrefix: String { "base_model.model." + target.modulePath(layer: layer) }
    /// The key of `lora_A` in `adapter_model.safetensors`.
    public var keyA: String { peftPrefix + ".lora_A.weight" }
    /// The key of `lora_B` in `adapter_model.safetensors`.
    public var keyB: String { peftPrefix + ".lora_B.weight" }
}
