import Llama
import Training

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
            try? base.attachAdapter(lora.adapter.layers)
        } else {
            try? base.attachAdapter(nil)
        }
    }
}
