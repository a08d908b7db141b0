import Foundation
import Weights

// Reading Hugging Face's config.json. Fields absent from the file take transformers' LlamaConfig
// defaults (rms_norm_eps 1e-6, rope_theta 10000, max_position_embeddings 2048, bos 1, eos 2, ...),
// except the five dimensions, which are required: a silent 7B-sized default would only fail later,
// at the first tensor. Both rope layouts are read: transformers 4's `rope_theta` + `rope_scaling`
// and transformers 5's `rope_parameters`.

extension LlamaConfig {
    /// Reads a `config.json` file.
    ///
    /// ```swift
    /// let config = try LlamaConfig.load(from: folder.appendingPathComponent("config.json"))
    /// ```
    public static func load(from url: URL) throws -> LlamaConfig {
        try parse(json: try JSONFile.read(url), file: url.path)
    }

    /// Parses the bytes of a `config.json`; `file` names it in errors
    /// (`m/config.json: not valid JSON at line 3, column 18: unexpected ',', expected a value`).
    public static func parse(json data: Data, file: String = "config.json") throws -> LlamaConfig {
        try LlamaConfig(fields: JSONFields(dict: try JSONFile.object(data, file: file), file: file))
    }

    init(fields f: JSONFields) throws {
        let file = f.file
        let architecture = try Self.architecture(f)
        self.init(vocab_size: try f.requiredInt("vocab_size"),
                  hidden_size: try f.requiredInt("hidden_size"),
                  intermediate_size: try f.requiredInt("intermediate_size"),
                  num_hidden_layers: try f.requiredInt("num_hidden_layers"),
                  num_attention_heads: try f.requiredInt("num_attention_heads"),
                  num_key_value_heads: try f.int("num_key_value_heads"),
                  head_dim: try f.int("head_dim"))
        if num_attention_heads > 0, try f.int("head_dim") == nil, hidden_size % num_attention_heads != 0 {
            throw LlamaError.invalidField(file: file, field: "hidden_size",
                reason: "(\(hidden_size)) is not a multiple of num_attention_heads (\(num_attention_heads))")
        }
        self.architecture = architecture
        rms_norm_eps = try f.float("rms_norm_eps") ?? 1e-6
        max_position_embeddings = try f.int("max_position_embeddings") ?? 2048
        tie_word_embeddings = try f.bool("tie_word_embeddings") ?? false
        attention_bias = try f.bool("attention_bias") ?? false
        mlp_bias = try f.bool("mlp_bias") ?? false
        hidden_act = try f.string("hidden_act") ?? "silu"
        torch_dtype = try f.string("torch_dtype") ?? f.string("dtype")
        bos_token_id = f.has("bos_token_id") ? try f.int("bos_token_id") : 1
        pad_token_id = try f.int("pad_token_id")
        if f.has("eos_token_id") {
            eos_token_ids = try f.intOrInts("eos_token_id") ?? []
        } else {
            eos_token_ids = [2]
        }

        // Rotary embeddings: transformers 5 nests everything in `rope_parameters`.
        var theta = try f.float("rope_theta")
        var scaling: JSONFields? = try f.object("rope_scaling")
        if let params = try f.object("rope_parameters") {
            theta = try params.float("rope_theta") ?? theta
            scaling = params
        }
        rope_theta = theta ?? 10000
        if let s = scaling {
            let type = try s.string("rope_type") ?? s.string("type") ?? "default"
            switch type {
            case "default":
                rope_scaling = nil
            case "llama3":
                rope_scaling = RopeScaling(
                    rope_type: type,
                    factor: try s.requiredFloat("factor"),
                    low_freq_factor: try s.requiredFloat("low_freq_factor"),
                    high_freq_factor: try s.requiredFloat("high_freq_factor"),
                    original_max_position_embeddings: try s.requiredInt("original_max_position_embeddings"))
            default:
                throw LlamaError.unsupported(file: file, field: "\(s.prefix)rope_type", value: type,
                                             reason: "only 'default' and 'llama3' rotary embeddings are implemented")
            }
        }
        try validate(file: file)
    }

    /// The architecture `architectures` and `model_type` name (LlamaForCausalLM when neither is given), with
    /// the settings it requires checked.
    static func architecture(_ f: JSONFields) throws -> Architecture {
        var found: Architecture?
        if let names = try f.strings("architectures") {
            guard let known = names.lazy.compactMap(Architecture.named(className:)).first else {
                throw LlamaError.unsupported(file: f.file, field: "architectures", value: names.description,
                                             reason: "only \(Architecture.classNames) are implemented")
            }
            found = known
        }
        if let type = try f.string("model_type") {
            guard let known = Architecture.named(modelType: type) else {
                throw LlamaError.unsupported(file: f.file, field: "model_type", value: type,
                                             reason: "only \(Architecture.modelTypes) models are implemented")
            }
            if let found, found != known {
                throw LlamaError.invalidField(file: f.file, field: "model_type",
                                              reason: "'\(type)' does not match architectures (\(found.className))")
            }
            found = known
        }
        let architecture = found ?? .llama
        for (field, required) in architecture.requiredSettings.sorted(by: { $0.key < $1.key }) {
            if let value = try f.bool(field), value != required {
                throw LlamaError.unsupported(file: f.file, field: field, value: "\(value)",
                                             reason: "\(architecture.className) is implemented with \(field) \(required) only")
            }
        }
        return architecture
    }
}

/// Typed access to a JSON object's fields, with errors naming the file and field.
struct JSONFields {
    let dict: [String: Any]
    let file: String
    /// The path of this object inside the file, for nested objects ("rope_scaling.").
    var prefix = ""

    func has(_ key: String) -> Bool { dict[key] != nil }

    private func value(_ key: String) -> Any? {
        guard let v = dict[key], !(v is NSNull) else { return nil }
        return v
    }

    private func wrong(_ key: String, _ expected: String, _ v: Any) -> LlamaError {
        .invalidField(file: file, field: prefix + key, reason: "must be \(expected), got \(v)")
    }

    func int(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        if JSONFile.isBoolean(v) { throw wrong(key, "an integer", v) }
        if let n = v as? Int { return n }
        if let d = v as? Double, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        throw wrong(key, "an integer", v)
    }

    func requiredInt(_ key: String) throws -> Int {
        guard let v = try int(key) else { throw LlamaError.missingField(file: file, field: prefix + key) }
        return v
    }

    func float(_ key: String) throws -> Float? {
        guard let v = value(key) else { return nil }
        if JSONFile.isBoolean(v) { throw wrong(key, "a number", v) }
        if let d = v as? Double { return Float(d) }
        if let n = v as? Int { return Float(n) }
        throw wrong(key, "a number", v)
    }

    func requiredFloat(_ key: String) throws -> Float {
        guard let v = try float(key) else { throw LlamaError.missingField(file: file, field: prefix + key) }
        return v
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        if JSONFile.isBoolean(v), let b = v as? Bool { return b }
        throw wrong(key, "true or false", v)
    }

    func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        if let s = v as? String { return s }
        throw wrong(key, "a string", v)
    }

    func strings(_ key: String) throws -> [String]? {
        guard let v = value(key) else { return nil }
        if let s = v as? [String] { return s }
        throw wrong(key, "a list of strings", v)
    }

    /// An integer or a list of integers (`eos_token_id`).
    func intOrInts(_ key: String) throws -> [Int]? {
        guard let v = value(key) else { return nil }
        if let list = v as? [Any] {
            return try list.enumerated().map { i, item in
                try JSONFields(dict: ["\(key)[\(i)]": item], file: file, prefix: prefix).requiredInt("\(key)[\(i)]")
            }
        }
        return try int(key).map { [$0] }
    }

    func object(_ key: String) throws -> JSONFields? {
        guard let v = value(key) else { return nil }
        guard let d = v as? [String: Any] else { throw wrong(key, "an object", v) }
        return JSONFields(dict: d, file: file, prefix: prefix + key + ".")
    }
}
