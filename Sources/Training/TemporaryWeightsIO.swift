import Foundation
import Kernels
import Llama

// TEMPORARY: a minimal safetensors reader/writer, atomic file write, config.json reader and HF-folder loader,
// only until the `weights` and `model` branches are merged; then this file is deleted in favour of
// Weights.SafetensorsFile / SafetensorsWriter / AtomicFile and the Llama module's loaders.

enum TempAtomicFile {
    /// Writes to a temporary name beside `url`, then renames onto it.
    static func write(_ data: Data, to url: URL) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try data.write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else { throw LoraError("\(url.path): cannot rename the temporary file: \(String(cString: strerror(errno)))") }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            if error is LoraError { throw error }
            throw LoraError("\(url.path): cannot write: \(error.localizedDescription)")
        }
    }
}

final class TempSafetensors {
    struct Info { var dtype: String; var shape: [Int]; var begin: Int; var end: Int }
    let url: URL
    let data: Data
    let tensors: [String: Info]
    let dataStart: Int

    init(url: URL) throws {
        self.url = url
        guard let d = try? Data(contentsOf: url, options: .alwaysMapped) else { throw LoraError("\(url.path): cannot read the file") }
        data = d
        guard d.count >= 8 else { throw LoraError("\(url.path): too short for a safetensors file") }
        let n = d.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard n > 0, 8 + n <= d.count,
              let header = try? JSONSerialization.jsonObject(with: d.subdata(in: 8..<(8 + n))) as? [String: Any] else {
            throw LoraError("\(url.path): not a safetensors file (bad header)")
        }
        dataStart = 8 + n
        var t: [String: Info] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let v = value as? [String: Any], let dtype = v["dtype"] as? String, let shape = v["shape"] as? [Int],
                  let off = v["data_offsets"] as? [Int], off.count == 2 else {
                throw LoraError("\(url.path): tensor \(name) has a malformed header entry")
            }
            guard off[0] <= off[1], dataStart + off[1] <= d.count else { throw LoraError("\(url.path): tensor \(name) lies outside the file") }
            t[name] = Info(dtype: dtype, shape: shape, begin: off[0], end: off[1])
        }
        tensors = t
    }

    func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else { throw LoraError("\(url.path): no tensor \(name)") }
        let count = info.shape.reduce(1, *)
        let width = info.dtype == "F32" ? 4 : 2
        guard ["F32", "BF16", "F16"].contains(info.dtype) else { throw LoraError("\(url.path): tensor \(name) has dtype \(info.dtype), expected F32, BF16 or F16") }
        guard info.end - info.begin == count * width else { throw LoraError("\(url.path): tensor \(name) has \(info.end - info.begin) bytes for shape \(info.shape)") }
        return data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart + info.begin
            return (0..<count).map { i in
                switch info.dtype {
                case "F32": return Float(bitPattern: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                case "BF16": return Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                default: return Float(Float16(bitPattern: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            }
        }
    }

    /// An F32 safetensors file of the given tensors, in key order.
    static func serialize(_ tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String] = ["format": "pt"]) -> Data {
        let sorted = tensors.sorted { $0.name < $1.name }
        var header = "{\"__metadata__\":{" + metadata.keys.sorted().map { "\"\($0)\":\"\(metadata[$0]!)\"" }.joined(separator: ",") + "}"
        var offset = 0
        for t in sorted {
            let bytes = t.values.count * 4
            header += ",\"\(t.name)\":{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        var out = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        for t in sorted { t.values.withUnsafeBytes { out.append(contentsOf: $0) } }
        return out
    }
}

enum TempHFLoader {
    static func config(_ url: URL) throws -> LlamaConfig {
        guard let d = try? Data(contentsOf: url), let j = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else {
            throw LoraError("\(url.path): cannot read JSON")
        }
        func int(_ k: String) throws -> Int {
            guard let v = j[k] as? Int else { throw LoraError("\(url.path): missing integer \(k)") }
            return v
        }
        var c = LlamaConfig(vocab_size: try int("vocab_size"), hidden_size: try int("hidden_size"),
                            intermediate_size: try int("intermediate_size"), num_hidden_layers: try int("num_hidden_layers"),
                            num_attention_heads: try int("num_attention_heads"), num_key_value_heads: j["num_key_value_heads"] as? Int,
                            head_dim: j["head_dim"] as? Int)
        if let e = j["rms_norm_eps"] as? Double { c.rms_norm_eps = Float(e) }
        let rope = (j["rope_parameters"] as? [String: Any]) ?? (j["rope_scaling"] as? [String: Any]) ?? [:]
        if let t = (rope["rope_theta"] as? Double) ?? (j["rope_theta"] as? Double) { c.rope_theta = Float(t) }
        if let type = rope["rope_type"] as? String, type == "llama3" {
            c.rope_scaling = RopeScaling(rope_type: type, factor: Float(rope["factor"] as? Double ?? 1),
                                         low_freq_factor: Float(rope["low_freq_factor"] as? Double ?? 1),
                                         high_freq_factor: Float(rope["high_freq_factor"] as? Double ?? 4),
                                         original_max_position_embeddings: rope["original_max_position_embeddings"] as? Int ?? 8192)
        }
        c.tie_word_embeddings = j["tie_word_embeddings"] as? Bool ?? false
        if let m = j["max_position_embeddings"] as? Int { c.max_position_embeddings = m }
        return c
    }

    static func load(directory: URL) throws -> (LlamaConfig, LlamaWeights) {
        let c = try config(directory.appendingPathComponent("config.json"))
        let st = try TempSafetensors(url: directory.appendingPathComponent("model.safetensors"))
        func matrix(_ name: String, _ rows: Int, _ cols: Int) throws -> WeightMatrix {
            let v = try st.floats(name)
            guard v.count == rows * cols else { throw LoraError("\(st.url.path): \(name) has \(v.count) values, expected [\(rows), \(cols)]") }
            return WeightMatrix(rows: rows, cols: cols, values: v)
        }
        func vector(_ name: String) throws -> FloatBuffer { FloatBuffer(try st.floats(name)) }
        var layers: [LlamaLayerWeights] = []
        for l in 0..<c.num_hidden_layers {
            let p = "model.layers.\(l)."
            func m(_ t: LoraTarget) throws -> WeightMatrix {
                let s = t.shape(c)
                return try matrix(p + t.parent + "." + t.rawValue + ".weight", s.out, s.in)
            }
            layers.append(LlamaLayerWeights(
                input_layernorm: try vector(p + "input_layernorm.weight"),
                self_attn: LlamaAttentionWeights(q_proj: try m(.q_proj), k_proj: try m(.k_proj), v_proj: try m(.v_proj), o_proj: try m(.o_proj)),
                post_attention_layernorm: try vector(p + "post_attention_layernorm.weight"),
                mlp: LlamaMLPWeights(gate_proj: try m(.gate_proj), up_proj: try m(.up_proj), down_proj: try m(.down_proj))))
        }
        let embed = try matrix("model.embed_tokens.weight", c.vocab_size, c.hidden_size)
        let head = c.tie_word_embeddings ? nil : try matrix("lm_head.weight", c.vocab_size, c.hidden_size)
        return (c, LlamaWeights(model: LlamaModelWeights(embed_tokens: embed, layers: layers, norm: try vector("model.norm.weight")), lm_head: head))
    }
}

extension LoraModel {
    /// Loads a Hugging Face folder (`config.json` + F32/BF16/F16 `model.safetensors`) as a frozen base.
    /// (Until the Llama module's loader is merged.)
    ///
    /// ```swift
    /// let (config, weights) = try LoraModel.loadBase(directory: URL(fileURLWithPath: "tiny-llama"))
    /// ```
    public static func loadBase(directory: URL) throws -> (LlamaConfig, LlamaWeights) {
        try TempHFLoader.load(directory: directory)
    }
}
