import Foundation
import Kernels
import Llama
import Support
import Weights

extension LoraModel {
    /// The base weights with the adapter folded in: W' = W + scaling · B·A for every adapted projection,
    /// computed in f32 and kept in `storage` (nil: the storage of each base matrix, but f32 for a quantized
    /// one: a merge re-quantizes only when asked, as rounding the sum to 4 or 8 bits again loses much of
    /// the adapter); all other tensors are shared with the base, which is left unchanged.
    ///
    /// ```swift
    /// let merged = model.mergedWeights(storage: .f32)
    /// let plain = try LoraModel(config: model.config, weights: merged, lora: lora)   // same logits, adapter off
    /// ```
    public func mergedWeights(storage: StorageType? = nil) -> LlamaWeights {
        func merge(_ w: WeightMatrix, _ lora: LoraLinear?) -> WeightMatrix {
            guard let lora else { return w }
            var values = w.toFloat32()   // [out, in]
            values.withUnsafeMutableBufferPointer { v in
                // W[out, in] += scaling · B[out, r] · A[r, in]
                BLAS.sgemm(m: w.rows, n: w.cols, k: lora.r, alpha: lora.scaling, a: lora.lora_B.pointer,
                           b: lora.lora_A.pointer, beta: 1, c: v.baseAddress!)
            }
            let kept = storage ?? (w.storage.isQuantized ? .f32 : w.storage)
            let merged = WeightMatrix(rows: w.rows, cols: w.cols, values: values, storage: kept.fitting(cols: w.cols))
            merged.bias = w.bias   // a merge changes the weight only
            return merged
        }
        var out = weights
        out.model.layers = zip(weights.model.layers, adapter.layers).map { base, lora in
            base.mappingProjections { t, w in merge(w, lora[t]) }
        }
        return out
    }

    /// A plain `LlamaModel` with the adapter merged in, its merged matrices in `storage` (nil: the base's
    /// type, f32 for a quantized base; see `mergedWeights`): what generation and evaluation use to run the
    /// fine-tuned model at full speed (the LoRA model itself is unchanged).
    ///
    /// ```swift
    /// let tuned = model.mergedModel()
    /// let small = model.mergedModel(storage: .q8_0)    // re-quantized, as asked
    /// ```
    public func mergedModel(storage: StorageType? = nil) -> LlamaModel {
        LlamaModel(config: config, weights: mergedWeights(storage: storage), storage: storage ?? weights.model.embed_tokens.storage)
    }

    /// Writes the merged model as a Hugging Face folder, `config.json` and an F32 `model.safetensors`, in one
    /// `AtomicFolder` write (a reader finds the previous export or this one whole). A tied model writes no
    /// `lm_head.weight`.
    ///
    /// ```swift
    /// try model.exportMerged(to: URL(fileURLWithPath: "outputs/merged"))
    /// ```
    public func exportMerged(to directory: URL) throws {
        try AtomicFolder.write(to: directory, what: Self.exportFolderName) { try writeMergedFiles(into: $0) }
    }

    /// How errors name an export folder.
    public static let exportFolderName = "the export folder"

    /// Writes `model.safetensors` and `config.json` into the existing folder `directory` (the folder an
    /// `AtomicFolder` write hands out, when more files go with them: `export_model`'s tokenizer files).
    public func writeMergedFiles(into directory: URL) throws {
        let configText = try Self.configJSON(config)
        let merged = mergedWeights(storage: .f32)
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        try writer.add("model.embed_tokens.weight", shape: [config.vocab_size, config.hidden_size],
                       floats: merged.model.embed_tokens.toFloat32())
        for (l, layer) in merged.model.layers.enumerated() {
            let p = "model.layers.\(l)."
            try writer.add(p + "input_layernorm.weight", shape: [config.hidden_size], floats: layer.input_layernorm.array)
            try writer.add(p + "post_attention_layernorm.weight", shape: [config.hidden_size], floats: layer.post_attention_layernorm.array)
            for (t, w) in layer.projections {
                try writer.add(p + t.projection + ".weight", shape: [w.rows, w.cols], floats: w.toFloat32())
                if let bias = w.bias { try writer.add(p + t.projection + ".bias", shape: [w.rows], floats: bias.array) }
            }
        }
        try writer.add("model.norm.weight", shape: [config.hidden_size], floats: merged.model.norm.array)
        if let head = merged.lm_head {
            try writer.add("lm_head.weight", shape: [head.rows, head.cols], floats: head.toFloat32())
        }
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))
        try AtomicFile.write(Data(configText.utf8), to: directory.appendingPathComponent("config.json"))
    }

    /// A transformers `config.json` for the base's architecture (LlamaForCausalLM, Qwen2ForCausalLM) with these
    /// hyper-parameters (float32 weights).
    static func configJSON(_ c: LlamaConfig) throws -> String {
        // A GGUF's rope_freqs.weight reaches config.json only through the llama3 parameters behind it.
        if c.rope_freq_factors != nil && c.rope_scaling == nil {
            throw LoraError("the base model's rotary divisors (GGUF rope_freqs.weight) match no llama3 rope_scaling, so config.json cannot describe them: export refused")
        }
        // Float → the shortest decimal that reads back as the same Float (1e-05, not 9.99999974e-06).
        func d(_ f: Float) -> Double { Double(String(describing: f)) ?? Double(f) }
        var rope: [String: Any?] = ["rope_theta": d(c.rope_theta), "rope_type": "default"]
        if let s = c.rope_scaling {
            rope = ["rope_theta": d(c.rope_theta), "rope_type": s.rope_type, "factor": d(s.factor),
                    "low_freq_factor": d(s.low_freq_factor), "high_freq_factor": d(s.high_freq_factor),
                    "original_max_position_embeddings": s.original_max_position_embeddings]
        }
        let eos: Any? = c.eos_token_ids.count == 1 ? c.eos_token_ids[0] : (c.eos_token_ids.isEmpty ? nil : c.eos_token_ids as [Any?])
        var dict: [String: Any?] = [
            "architectures": [c.architecture.className] as [Any?], "model_type": c.architecture.modelType,
            "vocab_size": c.vocab_size, "hidden_size": c.hidden_size, "intermediate_size": c.intermediate_size,
            "num_hidden_layers": c.num_hidden_layers, "num_attention_heads": c.num_attention_heads,
            "num_key_value_heads": c.num_key_value_heads, "head_dim": c.head_dim, "hidden_act": c.hidden_act,
            "rms_norm_eps": d(c.rms_norm_eps), "rope_parameters": rope,
            "max_position_embeddings": c.max_position_embeddings, "tie_word_embeddings": c.tie_word_embeddings,
            "bos_token_id": c.bos_token_id, "eos_token_id": eos, "pad_token_id": c.pad_token_id, "dtype": "float32",
        ]
        if c.architecture == .llama { dict["attention_bias"] = false; dict["mlp_bias"] = false }
        for (field, value) in c.architecture.requiredSettings { dict[field] = value }
        return JSONText.encode(dict)
    }
}
