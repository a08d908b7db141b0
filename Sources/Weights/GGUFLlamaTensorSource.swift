/// A llama GGUF file seen through Hugging Face tensor names and layout, so the Llama loader can read it
/// exactly like a safetensors checkpoint.
///
/// Names map as `token_embd.weight` → `model.embed_tokens.weight`, `blk.N.attn_q.weight` →
/// `model.layers.N.self_attn.q_proj.weight` (also `attn_k`, `attn_v`, `attn_output` → `o_proj`), `ffn_gate/up/down`
/// → `mlp.gate_proj/up_proj/down_proj`, `attn_norm` → `input_layernorm`, `ffn_norm` →
/// `post_attention_layernorm`, `output_norm.weight` → `model.norm.weight`, `output.weight` → `lm_head.weight`.
/// Query and key rows are un-permuted (see `GGUFFile.unpermuteQK`). Tensors with no Hugging Face
/// counterpart (such as `rope_freqs.weight`) are left out. A file without `output.weight` has tied embeddings.
///
/// ```swift
/// let source = try GGUFLlamaTensorSource(file: GGUFFile(url: url))
/// let q = try source.floats("model.layers.0.self_attn.q_proj.weight")   // transformers' row order
/// ```
public final class GGUFLlamaTensorSource: TensorSource, @unchecked Sendable {
    public let file: GGUFFile
    public let hyperparameters: GGUFLlamaHyperparameters
    /// Hugging Face name → GGUF name.
    public let ggufNames: [String: String]

    public init(file: GGUFFile) throws {
        self.file = file
        let architecture = try file.string("general.architecture")
        guard architecture == "llama" else {
            throw WeightsError(file: file.name, field: "metadata \"general.architecture\"",
                               "architecture \"\(architecture)\" is not supported (only llama)")
        }
        hyperparameters = try file.llamaHyperparameters()
        var map: [String: String] = [:]
        for info in file.tensorInfos {
            if let hf = Self.huggingFaceName(info.name) { map[hf] = info.name }
        }
        ggufNames = map
    }

    /// The Hugging Face name of a llama GGUF tensor name, or nil when it has none.
    public static func huggingFaceName(_ gguf: String) -> String? {
        switch gguf {
        case "token_embd.weight": return "model.embed_tokens.weight"
        case "output_norm.weight": return "model.norm.weight"
        case "output.weight": return "lm_head.weight"
        default: break
        }
        let parts = gguf.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0, parts[3] == "weight" || parts[3] == "bias" else {
            return nil
        }
        let module: String
        switch parts[2] {
        case "attn_q": module = "self_attn.q_proj"
        case "attn_k": module = "self_attn.k_proj"
        case "attn_v": module = "self_attn.v_proj"
        case "attn_output": module = "self_attn.o_proj"
        case "ffn_gate": module = "mlp.gate_proj"
        case "ffn_up": module = "mlp.up_proj"
        case "ffn_down": module = "mlp.down_proj"
        case "attn_norm": module = "input_layernorm"
        case "ffn_norm": module = "post_attention_layernorm"
        default: return nil
        }
        return "model.layers.\(layer).\(module).\(parts[3])"
    }

    public func tensorNames() -> [String] { ggufNames.keys.sorted() }

    func ggufName(_ name: String) throws -> String {
        guard let g = ggufNames[name] else {
            throw WeightsError(file: file.name, field: "tensor \"\(name)\"", "no such tensor (no GGUF counterpart in this file)")
        }
        return g
    }

    public func shape(of name: String) throws -> [Int] { try file.tensor(ggufName(name)).shape }

    public func readFloats(_ name: String, into out: UnsafeMutablePointer<Float>, count: Int) throws {
        let g = try ggufName(name)
        try file.readFloats(g, into: out, count: count)
        let heads: Int
        if name.hasSuffix("self_attn.q_proj.weight") || name.hasSuffix("self_attn.q_proj.bias") {
            heads = hyperparameters.headCount
        } else if name.hasSuffix("self_attn.k_proj.weight") || name.hasSuffix("self_attn.k_proj.bias") {
            heads = hyperparameters.headCountKV
        } else {
            return
        }
        let shape = try file.tensor(g).shape
        let rows = shape[0], cols = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
        guard rows % (2 * heads) == 0 else {
            throw WeightsError(file: file.name, field: "tensor \"\(g)\"", "\(rows) rows cannot be split into \(heads) heads of even size")
        }
        GGUFFile.unpermuteQK(out, rows: rows, cols: cols, heads: heads)
    }
}

extension GGUFFile {
    /// Undoes llama.cpp's query/key row permutation, in place.
    ///
    /// llama.cpp's converter views a projection's rows as `[heads, 2, headDim/2]` and swaps the last two
    /// axes, so that rotary pairs sit next to each other (`(x0, x1), (x2, x3), ...` instead of transformers'
    /// rotate-half pairs `(x_i, x_{i+headDim/2})`). Stored row `h·headDim + 2j + k` is therefore
    /// original row `h·headDim + k·headDim/2 + j`. `heads` is the query head count for `q_proj` and the
    /// key-value head count for `k_proj`. `values` is `[rows, cols]` row-major.
    ///
    /// ```swift
    /// GGUFFile.unpermuteQK(q.baseAddress!, rows: 576, cols: 576, heads: 9)
    /// ```
    public static func unpermuteQK(_ values: UnsafeMutablePointer<Float>, rows: Int, cols: Int, heads: Int) {
        precondition(heads > 0 && rows % (2 * heads) == 0, "unpermuteQK: \(rows) rows, \(heads) heads")
        let headDim = rows / heads, half = headDim / 2
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: headDim * cols)
        defer { scratch.deallocate() }
        for h in 0..<heads {
            let head = values + h * headDim * cols      // [headDim, cols]
            scratch.update(from: head, count: headDim * cols)
            for j in 0..<half {
                for k in 0..<2 {
                    (head + (k * half + j) * cols).update(from: scratch + (2 * j + k) * cols, count: cols)
                }
            }
        }
    }

    /// `unpermuteQK` on an array, returning the un-permuted copy.
    ///
    /// ```swift
    /// let q = GGUFFile.unpermuteQK(try gguf.floats("blk.0.attn_q.weight"), rows: 576, cols: 576, heads: 9)
    /// ```
    public static func unpermuteQK(_ values: [Float], rows: Int, cols: Int, heads: Int) -> [Float] {
        precondition(values.count == rows * cols, "unpermuteQK: \(values.count) values for [\(rows), \(cols)]")
        var out = values
        out.withUnsafeMutableBufferPointer { if let p = $0.baseAddress { unpermuteQK(p, rows: rows, cols: cols, heads: heads) } }
        return out
    }
}
