import Foundation
import Llama
import Support
import Weights

// Adapters in peft's on-disk layout: adapter_config.json + adapter_model.safetensors, with keys
// base_model.model.model.layers.N.<self_attn|mlp>.<proj>.lora_A.weight [r, in] and .lora_B.weight [out, r].

extension LoraAdapter {
    public static let configFileName = "adapter_config.json"
    public static let weightsFileName = "adapter_model.safetensors"

    /// `adapter_config.json` exactly as peft 0.21 writes it for a LoRA adapter.
    public func peftConfigJSON() -> String {
        let c = config
        let alpha: Any = c.lora_alpha == c.lora_alpha.rounded() ? Int(c.lora_alpha) : c.lora_alpha
        let dict: [String: Any?] = [
            "alora_invocation_tokens": nil, "alpha_pattern": [String: Any?](), "arrow_config": nil, "auto_mapping": nil,
            "base_model_name_or_path": c.base_model_name_or_path, "bias": c.bias, "corda_config": nil,
            "ensure_weight_tying": false, "eva_config": nil, "exclude_modules": nil, "fan_in_fan_out": false,
            "inference_mode": true, "init_lora_weights": true, "kasa_config": nil, "layer_replication": nil,
            "layers_pattern": nil, "layers_to_transform": nil, "loftq_config": [String: Any?](), "lora_alpha": alpha,
            "lora_bias": false, "lora_dropout": c.lora_dropout, "lora_ga_config": nil, "megatron_config": nil,
            "megatron_core": "megatron.core", "modules_to_save": nil, "monteclora_config": nil, "peft_type": "LORA",
            "peft_version": "0.21.2", "qalora_group_size": 16, "r": c.r, "rank_pattern": [String: Any?](),
            "revision": nil, "target_modules": targets.map(\.rawValue).sorted() as [Any?], "target_parameters": nil,
            "task_type": c.task_type, "trainable_token_indices": nil, "use_bdlora": nil, "use_dora": false,
            "use_qalora": false, "use_rslora": c.use_rslora, "velora_config": nil,
        ]
        return JSONText.encode(dict)
    }

    /// The F32 `adapter_model.safetensors` bytes (metadata `format: pt`, keys sorted): of the adapter's values, or
    /// of `values` taken earlier by `snapshot()`.
    public func peftWeightsData(values: [[Float]]? = nil) throws -> Data {
        var w = SafetensorsWriter(metadata: ["format": "pt"])
        for (i, t) in namedTensors().enumerated() { try w.add(t.key, shape: t.shape, floats: values?[i] ?? t.values.array) }
        return w.serialized()
    }

    /// Saves the adapter in peft's layout into `directory` (created if needed) in one `AtomicFolder` write: a
    /// reader finds the previous adapter or this one, never this one's weights beside the previous config.
    /// Other files in the folder stay.
    ///
    /// ```swift
    /// try model.adapter.save(to: URL(fileURLWithPath: "outputs/medical-lora"))
    /// ```
    public func save(to directory: URL) throws {
        try AtomicFolder.write(to: directory, what: Self.folderName) { try writeFiles(into: $0) }
    }

    /// How errors name an adapter folder.
    public static let folderName = "the adapter folder"

    /// Writes `adapter_model.safetensors` and `adapter_config.json` into the existing folder `directory`:
    /// the folder an `AtomicFolder` write hands out, when more files go with the adapter (`save_adapter`'s
    /// tokenizer files).
    public func writeFiles(into directory: URL) throws {
        try AtomicFile.write(peftWeightsData(), to: directory.appendingPathComponent(Self.weightsFileName))
        try AtomicFile.write(Data(peftConfigJSON().utf8), to: directory.appendingPathComponent(Self.configFileName))
    }

    /// Reads a peft LoRA adapter folder for a model of `model`'s shape. Checks the config (LoRA only, no DoRA,
    /// no per-layer patterns) and that every expected tensor is present with its shape, and no other.
    ///
    /// ```swift
    /// let adapter = try LoraAdapter.load(from: URL(fileURLWithPath: "outputs/medical-lora"), model: config)
    /// try model.setAdapter(adapter)
    /// ```
    public static func load(from directory: URL, model: LlamaConfig) throws -> LoraAdapter {
        let configURL = directory.appendingPathComponent(configFileName)
        let j = try JSONFile.readObject(configURL, operation: "cannot read the adapter config")
        let file = configURL.path
        if let t = j["peft_type"] as? String, t != "LORA" { throw LoraError("\(file): peft_type is \(t), only LORA adapters are supported") }
        guard let r = j["r"] as? Int else { throw LoraError("\(file): field r is missing or not an integer") }
        guard let alpha = (j["lora_alpha"] as? NSNumber)?.doubleValue else { throw LoraError("\(file): field lora_alpha is missing or not a number") }
        for flag in ["use_dora", "fan_in_fan_out"] where (j[flag] as? Bool) == true {
            throw LoraError("\(file): \(flag) is true; medrepl supports plain LoRA only")
        }
        for field in ["rank_pattern", "alpha_pattern"] {
            if let p = j[field] as? [String: Any], !p.isEmpty { throw LoraError("\(file): \(field) is not empty; per-module ranks are not supported") }
        }
        if let l = j["layers_to_transform"], !(l is NSNull) { throw LoraError("\(file): layers_to_transform is set; not supported") }
        if let m = j["modules_to_save"], !(m is NSNull) { throw LoraError("\(file): modules_to_save is set; not supported") }
        let targets: [String]
        if let list = j["target_modules"] as? [String] { targets = list }
        else if let s = j["target_modules"] as? String { targets = [s] }
        else { throw LoraError("\(file): field target_modules is missing") }
        let lora: LoraConfig
        do {
            lora = try LoraConfig(r: r, lora_alpha: alpha, lora_dropout: (j["lora_dropout"] as? NSNumber)?.doubleValue ?? 0,
                                  target_modules: targets, bias: j["bias"] as? String ?? "none",
                                  use_rslora: j["use_rslora"] as? Bool ?? false, task_type: j["task_type"] as? String ?? "CAUSAL_LM",
                                  base_model_name_or_path: j["base_model_name_or_path"] as? String)
        } catch let e as LoraError {
            throw LoraError("\(file): \(e.description)")
        }
        let adapter: LoraAdapter
        do { adapter = try LoraAdapter(config: lora, model: model) } catch let e as LoraError { throw LoraError("\(file): \(e.description)") }
        let weightsURL = directory.appendingPathComponent(weightsFileName)
        let st = try SafetensorsFile(url: weightsURL)
        var expected = Set<String>()
        for (key, shape, buffer) in adapter.namedTensors() {
            expected.insert(key)
            guard let info = st.tensors[key] else { throw LoraError("\(weightsURL.path): tensor \(key) is missing") }
            guard info.shape == shape else {
                throw LoraError("\(weightsURL.path): tensor \(key) has shape \(info.shape), the model needs \(shape)")
            }
            let values = try st.floats(key)
            values.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: buffer.count) }
        }
        if let extra = st.tensors.keys.sorted().first(where: { !expected.contains($0) }) {
            throw LoraError("\(weightsURL.path): unexpected tensor \(extra) (not a LoRA weight of the configured target modules)")
        }
        return adapter
    }
}
