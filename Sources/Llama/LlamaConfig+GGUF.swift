// Reading the hyper-parameters from a GGUF header. The weights module parses the file; this takes
// its metadata as plain values (integers of any width, floats, strings), keyed as in the file:
// `general.architecture`, then the architecture's own prefix: `llama.embedding_length`, `qwen2.attention.head_count_kv`, ...
import Weights

extension LlamaConfig {
    /// Builds a config from GGUF metadata.
    ///
    /// - Parameters:
    ///   - ggufMetadata: key → value as read from the header (numbers as any integer or float type).
    ///   - vocabularySize: the length of `tokenizer.ggml.tokens`, used when `llama.vocab_size` is absent.
    ///   - hasOutputTensor: whether the file has `output.weight`; without it the embeddings are tied.
    ///   - ropeFrequencyFactors: the `rope_freqs.weight` tensor when the file has one (`[head_dim/2]`
    ///     divisors: llama.cpp's form of Llama-3 `rope_scaling`); it sets `rope_freq_factors`, and
    ///     `rope_scaling` when the llama3 parameters behind it can be recovered.
    ///   - file: the file's name, for errors.
    ///
    /// ```swift
    /// let config = try LlamaConfig(ggufMetadata: gguf.metadataValues, vocabularySize: gguf.tokens.count,
    ///                              hasOutputTensor: gguf.hasTensor("output.weight"), file: path)
    /// ```
    public init(ggufMetadata m: [String: Any], vocabularySize: Int?, hasOutputTensor: Bool,
                ropeFrequencyFactors: [Float]? = nil, file: String) throws {
        func number(_ key: String) throws -> Double? {
            guard let v = m[key] else { return nil }
            if let i = v as? any BinaryInteger { return Double(Int(i)) }
            if let f = v as? any BinaryFloatingPoint { return Double(f) }
            throw LlamaError.invalidField(file: file, field: key, reason: "must be a number, got \(v)")
        }
        func int(_ key: String) throws -> Int? {
            guard let d = try number(key) else { return nil }
            guard d == d.rounded() else {
                throw LlamaError.invalidField(file: file, field: key, reason: "must be an integer, got \(d)")
            }
            return Int(d)
        }
        func required(_ key: String) throws -> Int {
            guard let v = try int(key) else { throw LlamaError.missingField(file: file, field: key) }
            return v
        }
        guard let arch = m["general.architecture"] else {
            throw LlamaError.missingField(file: file, field: "general.architecture")
        }
        guard let name = arch as? String, let architecture = Architecture.named(modelType: name) else {
            throw LlamaError.unsupported(file: file, field: "general.architecture", value: "\(arch)",
                                         reason: "only \(Architecture.modelTypes) models are implemented")
        }
        let key = architecture.ggufKey
        let vocab = try int(key("vocab_size")) ?? vocabularySize
        guard let vocab else { throw LlamaError.missingField(file: file, field: key("vocab_size")) }
        self.init(vocab_size: vocab,
                  hidden_size: try required(key("embedding_length")),
                  intermediate_size: try required(key("feed_forward_length")),
                  num_hidden_layers: try required(key("block_count")),
                  num_attention_heads: try required(key("attention.head_count")),
                  num_key_value_heads: try int(key("attention.head_count_kv")),
                  head_dim: try int(key("attention.key_length")))
        self.architecture = architecture
        rms_norm_eps = Float(try number(key("attention.layer_norm_rms_epsilon")) ?? 1e-5)
        rope_theta = Float(try number(key("rope.freq_base")) ?? 10000)
        max_position_embeddings = try int(key("context_length")) ?? 2048
        tie_word_embeddings = !hasOutputTensor
        bos_token_id = try int("tokenizer.ggml.bos_token_id")
        eos_token_ids = try int("tokenizer.ggml.eos_token_id").map { [$0] } ?? []
        pad_token_id = try int("tokenizer.ggml.padding_token_id")
        if let type = m[key("rope.scaling.type")] as? String, type != "none" {
            throw LlamaError.unsupported(file: file, field: key("rope.scaling.type"), value: type,
                                         reason: "only Llama-3 scaling, stored as the rope_freqs.weight tensor, is implemented")
        }
        // Partial rotary embeddings and value heads of another width are not Llama.
        if let dims = try int(key("rope.dimension_count")), dims != head_dim {
            throw LlamaError.unsupported(file: file, field: key("rope.dimension_count"), value: "\(dims)",
                                         reason: "rotary embeddings must cover the whole head (\(head_dim))")
        }
        if let width = try int(key("attention.value_length")), width != head_dim {
            throw LlamaError.unsupported(file: file, field: key("attention.value_length"), value: "\(width)",
                                         reason: "value heads must be as wide as key heads (\(head_dim))")
        }
        try validate(file: file)
        if let factors = ropeFrequencyFactors {
            guard factors.count == head_dim / 2 else {
                throw LlamaError.invalidField(file: file, field: "rope_freqs.weight",
                    reason: "has \(factors.count) values, expected head_dim/2 = \(head_dim / 2)")
            }
            if let bad = factors.first(where: { !($0.isFinite && $0 > 0) }) {
                throw LlamaError.invalidField(file: file, field: "rope_freqs.weight",
                    reason: "must hold positive finite divisors, found \(bad)")
            }
            rope_freq_factors = factors
            rope_scaling = RopeScaling.llama3(matching: factors, theta: rope_theta, headDim: head_dim)
        }
    }
}

extension LlamaConfig {
    /// These hyper-parameters as llama.cpp's converter writes them into a GGUF header (`<arch>.block_count`,
    /// `<arch>.rope.freq_base`, ..., and the token ids a config carries), so that `init(ggufMetadata:)` reads
    /// back this config. Llama-3 `rope_scaling` travels as the `rope_freqs.weight` tensor (`ggufRopeFactors`),
    /// not as metadata.
    ///
    /// ```swift
    /// for (key, value) in config.ggufMetadata { writer.set(key, value) }   // "llama.block_count" = 30, ...
    /// ```
    public var ggufMetadata: [(key: String, value: GGUFValue)] {
        let key = architecture.ggufKey
        func u32(_ v: Int) -> GGUFValue { .uint32(UInt32(v)) }
        var m: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string(architecture.modelType)),
            (key("vocab_size"), u32(vocab_size)),
            (key("context_length"), u32(max_position_embeddings)),
            (key("embedding_length"), u32(hidden_size)),
            (key("block_count"), u32(num_hidden_layers)),
            (key("feed_forward_length"), u32(intermediate_size)),
            (key("attention.head_count"), u32(num_attention_heads)),
            (key("attention.head_count_kv"), u32(num_key_value_heads)),
            (key("attention.key_length"), u32(head_dim)),
            (key("attention.value_length"), u32(head_dim)),
            (key("rope.dimension_count"), u32(head_dim)),
            (key("rope.freq_base"), .float32(rope_theta)),
            (key("attention.layer_norm_rms_epsilon"), .float32(rms_norm_eps)),
        ]
        if let id = bos_token_id { m.append(("tokenizer.ggml.bos_token_id", u32(id))) }
        if let id = eos_token_ids.first { m.append(("tokenizer.ggml.eos_token_id", u32(id))) }
        if let id = pad_token_id { m.append(("tokenizer.ggml.padding_token_id", u32(id))) }
        return m
    }

    /// The `rope_freqs.weight` divisors a GGUF carries for this config (`[head_dim/2]`), or nil without Llama-3
    /// rope scaling.
    public var ggufRopeFactors: [Float]? {
        rope_freq_factors ?? rope_scaling.map { $0.frequencyFactors(theta: rope_theta, headDim: head_dim) }
    }
}
