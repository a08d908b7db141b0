import Foundation
import TestSupport
import Tokenizers

// Seed corpora and dictionaries. Seeds are the repository's own files of each format (fixtures, notebooks,
// examples), plus two made here because the repository has none small enough: a complete tiny Llama GGUF
// (config, byte-level vocabulary, every tensor) and a SentencePiece model. Dictionaries hold each format's
// keys and marks, so mutations can put a real field name where a random byte string would never reach.

extension FuzzTarget {
    /// The seed inputs: name → bytes.
    public func seeds() throws -> [(name: String, bytes: [UInt8])] {
        func files(_ paths: [String]) throws -> [(name: String, bytes: [UInt8])] {
            try paths.map { path in
                (path.split(separator: "/").suffix(2).joined(separator: "_"),
                 [UInt8](try Data(contentsOf: Repository.url(path))))
            }
        }
        switch self {
        case .gguf:
            return try files(["Tests/WeightsTests/Fixtures/quants.gguf"]) + [("tiny-llama.gguf", TinyGGUF.bytes())]
        case .safetensors:
            return try files(["Tests/WeightsTests/Fixtures/all_dtypes.safetensors", "Tests/WeightsTests/Fixtures/writer_reference.safetensors"])
        case .config:
            return try files(["Tests/Fixtures/tiny-llama/config.json", "Tests/Fixtures/tiny-llama-tied/config.json",
                              "Tests/Fixtures/tiny-llama3-rope/config.json"])
        case .tokenizer_json:
            return try files(["Tests/Fixtures/tiny-bpe/tokenizer.json"])
        case .tokenizer_config:
            return try files(["Tests/Fixtures/tiny-bpe/tokenizer_config.json"])
        case .sentencepiece:
            var v = GGUFVocabulary(model: "llama", tokens: ["<unk>", "<s>", "</s>", "\u{2581}", "a", "b", "\u{2581}a", "ab"], source: "seed")
            v.scores = [0, 0, 0, -1, -2, -3, -4, -5]
            v.tokenTypes = [2, 3, 3, 1, 1, 1, 1, 1]
            v.unknownTokenId = 0; v.bosTokenId = 1; v.eosTokenId = 2
            return [("tokenizer.model", [UInt8](try SentencePieceModelFile.data(vocabulary: v)))]
        case .dataset_json:
            return try files(["examples/my_questions.json"])
        case .dataset_jsonl:
            return [("rows.jsonl", Array(("{\"Open-ended Verifiable Question\": \"Which organ makes insulin?\", \"Ground-True Answer\": \"The pancreas\"}\n"
                                          + "{\"question\": \"Q?\", \"answer\": \"A\"}\n\n").utf8))]
        case .mednb:
            return try files(["notebooks/ask.mednb", "notebooks/exercises/code.teacher.mednb", "notebooks/exercises/questions.student.mednb",
                              "Tests/NotebookTests/Fixtures/basics.mednb", "Tests/NotebookTests/Fixtures/stops-on-error.mednb"])
        case .language:
            return try files(["examples/ask.medrepl", "examples/finetune-own-json.medrepl"])
                + [("values.medrepl", Array("x = [1, 2.5, \"a\\n\", true, none]; y = x; print y 3 -1e3\nshow x; del y\nvars\nhelp set\n".utf8))]
        case .adapter_config:
            return try files(["Tests/Fixtures/lora/trained_adapter/adapter_config.json"])
        }
    }

    /// libFuzzer dictionary entries (without quotes).
    public var dictionary: [String] {
        let json = ["{", "}", "[", "]", ":", ",", "\"", "\\u0000", "\\ud800", "null", "true", "false", "-1", "0", "1e308",
                    "9223372036854775807", "-9223372036854775808", "2147483648", "1.5", "NaN"]
        switch self {
        case .gguf:
            return ["GGUF", "general.architecture", "llama", "general.alignment", "llama.attention.head_count",
                    "llama.attention.head_count_kv", "llama.attention.key_length", "llama.attention.value_length",
                    "llama.attention.layer_norm_rms_epsilon", "llama.block_count", "llama.context_length",
                    "llama.embedding_length", "llama.feed_forward_length", "llama.rope.dimension_count", "llama.rope.freq_base",
                    "llama.rope.scaling.type", "llama.vocab_size", "tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens",
                    "tokenizer.ggml.merges", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id",
                    "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id",
                    "tokenizer.ggml.pre", "tokenizer.chat_template", "token_embd.weight", "output.weight", "output_norm.weight",
                    "rope_freqs.weight", "blk.0.attn_q.weight", "blk.0.attn_norm.weight", "blk.0.ffn_down.weight"]
        case .safetensors:
            return json + ["__metadata__", "dtype", "shape", "data_offsets", "F32", "F16", "BF16", "I64", "F64", "U8", "BOOL"]
        case .config:
            return json + ["architectures", "LlamaForCausalLM", "model_type", "vocab_size", "hidden_size", "intermediate_size",
                           "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps",
                           "rope_theta", "rope_scaling", "rope_parameters", "rope_type", "llama3", "linear", "factor",
                           "low_freq_factor", "high_freq_factor", "original_max_position_embeddings",
                           "max_position_embeddings", "tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id",
                           "hidden_act", "silu", "torch_dtype", "attention_bias", "mlp_bias"]
        case .tokenizer_json:
            return json + ["model", "type", "BPE", "Unigram", "vocab", "merges", "byte_fallback", "added_tokens", "id", "content",
                           "special", "pre_tokenizer", "ByteLevel", "Sequence", "Split", "Metaspace", "pretokenizers",
                           "decoder", "decoders", "normalizer", "normalizers", "Prepend", "Replace", "add_prefix_space",
                           "use_regex", "pattern", "Regex", "String", "behavior", "Isolated", "ignore_merges", "unk_token",
                           "\\u0120", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        case .tokenizer_config:
            return json + ["bos_token", "eos_token", "pad_token", "unk_token", "add_bos_token", "add_eos_token", "chat_template",
                           "added_tokens_decoder", "content", "special", "tokenizer_class", "model_max_length",
                           "{% for message in messages %}", "<|im_start|>", "<|im_end|>", "<|start_header_id|>",
                           "<|eot_id|>", "[INST]", "<|user|>", "</s>"]
        case .sentencepiece:
            return ["\u{2581}", "<unk>", "<s>", "</s>", "<0x00>", "identity", "nmt_nfkc"]
        case .dataset_json, .dataset_jsonl:
            return json + ["Open-ended Verifiable Question", "Ground-True Answer", "question", "answer", "text", "\n", "\r\n"]
        case .mednb:
            return ["%% cell ", "%% markdown", "%% code", "%% param", "[exercise", "[visible]", "[hidden]", "[skip]",
                    "timeout=", "points=", "> ", "... ", " (re)", "medrepl:", "\n---\n", "```", "\n"]
        case .language:
            return ["=", ";", "[", "]", "(", ")", "\"", "\\", "#", "...", "true", "false", "none", "help", "vars", "show",
                    "del", "set", "print", "echo", "seed", "-1e309", "0x", "\n", "  "]
        case .adapter_config:
            return json + ["peft_type", "LORA", "r", "lora_alpha", "lora_dropout", "target_modules", "q_proj", "k_proj",
                           "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "use_rslora", "use_dora",
                           "fan_in_fan_out", "rank_pattern", "alpha_pattern", "bias", "none", "task_type", "CAUSAL_LM",
                           "base_model_name_or_path", "modules_to_save", "layers_to_transform", "init_lora_weights"]
        }
    }

    /// The dictionary in libFuzzer's format.
    public var dictionaryFile: String {
        dictionary.map { entry in
            "\"" + entry.utf8.map { b -> String in
                b == 0x22 || b == 0x5C ? "\\\(Character(Unicode.Scalar(b)))"
                    : (0x20..<0x7F).contains(b) ? String(Character(Unicode.Scalar(b))) : String(format: "\\x%02X", b)
            }.joined() + "\""
        }.joined(separator: "\n") + "\n"
    }
}

/// A complete GGUF of a tiny Llama (vocabulary of the 256 byte tokens plus three specials, one merge,
/// width 8, one layer, two heads, f32 tensors), written here because the repository's GGUF fixtures are
/// either not a model or 430 KB (too large a seed).
enum TinyGGUF {
    static func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); out += Array(s.utf8) }
        let tokens = (0...255).map { String(Character(ByteLevel.character(for: UInt8($0)))) }
            + ["ab", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        let dim = 8, ffn = 16, vocab = tokens.count
        let tensors: [(String, [Int])] = [("token_embd.weight", [dim, vocab]), ("output_norm.weight", [dim]),
            ("blk.0.attn_norm.weight", [dim]), ("blk.0.attn_q.weight", [dim, dim]), ("blk.0.attn_k.weight", [dim, dim / 2]),
            ("blk.0.attn_v.weight", [dim, dim / 2]), ("blk.0.attn_output.weight", [dim, dim]), ("blk.0.ffn_norm.weight", [dim]),
            ("blk.0.ffn_gate.weight", [dim, ffn]), ("blk.0.ffn_up.weight", [dim, ffn]), ("blk.0.ffn_down.weight", [ffn, dim])]
        let metadata: [(String, () -> Void)] = [
            ("general.architecture", { u32(8); str("llama") }),
            ("llama.block_count", { u32(4); u32(1) }),
            ("llama.context_length", { u32(4); u32(64) }),
            ("llama.embedding_length", { u32(4); u32(UInt32(dim)) }),
            ("llama.feed_forward_length", { u32(4); u32(UInt32(ffn)) }),
            ("llama.attention.head_count", { u32(4); u32(2) }),
            ("llama.attention.head_count_kv", { u32(4); u32(1) }),
            ("llama.attention.layer_norm_rms_epsilon", { u32(6); u32(Float(1e-5).bitPattern) }),
            ("llama.rope.freq_base", { u32(6); u32(Float(10000).bitPattern) }),
            ("tokenizer.ggml.model", { u32(8); str("gpt2") }),
            ("tokenizer.ggml.tokens", { u32(9); u32(8); u64(UInt64(vocab)); tokens.forEach(str) }),
            ("tokenizer.ggml.merges", { u32(9); u32(8); u64(1); str("a b") }),
            ("tokenizer.ggml.bos_token_id", { u32(4); u32(257) }),
            ("tokenizer.ggml.eos_token_id", { u32(4); u32(259) }),
            ("tokenizer.chat_template", { u32(8); str("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}") }),
        ]
        out += Array("GGUF".utf8); u32(3); u64(UInt64(tensors.count)); u64(UInt64(metadata.count))
        for (key, write) in metadata { str(key); write() }
        var offset = 0
        for (name, dims) in tensors {
            str(name); u32(UInt32(dims.count)); dims.forEach { u64(UInt64($0)) }; u32(0); u64(UInt64(offset))
            offset += (dims.reduce(1, *) * 4 + 31) / 32 * 32
        }
        while out.count % 32 != 0 { out.append(0) }
        var seed: UInt32 = 1
        for (_, dims) in tensors {
            let n = dims.reduce(1, *)
            for _ in 0..<n {
                seed = seed &* 1_664_525 &+ 1_013_904_223
                u32((dims.count == 1 ? Float(1) : Float(Int(seed >> 16) % 200 - 100) / 1000).bitPattern)
            }
            while out.count % 32 != 0 { out.append(0) }
        }
        return out
    }
}
