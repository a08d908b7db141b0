import Llama
import Training

// The bridge between Training's adapter and the Llama inference forward: the deltas point at the
// adapter's own lora_A / lora_B buffers (no copy), so training them changes the next reply.

extension LoraAdapter {
    /// The adapter as `LlamaLoraDeltas` sharing its buffers, for `LlamaModel.attachAdapter(_:)`.
    ///
    /// ```swift
    /// try model.base.attachAdapter(lora.adapter.inferenceDeltas(layers: model.base.config.num_hidden_layers))
    /// ```
    public func inferenceDeltas(layers count: Int) -> LlamaLoraDeltas {
        var layers = [LlamaLoraLayer](repeating: LlamaLoraLayer(), count: count)
        for m in modules where m.layer < count {
            let d = LlamaLoraDelta(A: m.lora_A.pointer, B: m.lora_B.pointer, r: m.r, inFeatures: m.inFeatures,
                                   outFeatures: m.outFeatures, scale: m.scaling, owner: m)
            switch m.target {
            case .q_proj: layers[m.layer].q_proj = d
            case .k_proj: layers[m.layer].k_proj = d
            case .v_proj: layers[m.layer].v_proj = d
            case .o_proj: layers[m.layer].o_proj = d
            case .gate_proj: layers[m.layer].gate_proj = d
            case .up_proj: layers[m.layer].up_proj = d
            case .down_proj: layers[m.layer].down_proj = d
            }
        }
        return LlamaLoraDeltas(layers: layers)
    }
}

extension ModelObject {
    /// The model to generate and score with, the adapter attached when it is on (never merged or copied).
    /// Re-reads `lora` each time, so an adapter replaced, trained or switched off elsewhere is honoured.
    ///
    /// ```swift
    /// let reply = try model.inference.generate(text: prompt, tokenizer: tok, config: GenerationConfig())
    /// ```
    public var inference: LlamaModel {
        syncAdapter()
        return base
    }

    /// Attaches the adapter's deltas to `base` when `lora` is set and enabled, detaches them otherwise.
    public func syncAdapter() {
        if let lora, lora.adapterEnabled {
            // The adapter was built for this config (LoraModel checks), so validation cannot fail here.
            try? base.attachAdapter(lora.adapter.inferenceDeltas(layers: base.config.num_hidden_layers))
        } else {
            try? base.attachAdapter(nil)
        }
    }
}
