/// A GGUF file of a Llama-like architecture (`Architecture.all`: llama, qwen2) seen through Hugging Face tensor
/// names and layout, so the Llama loader can read it exactly like a safetensors checkpoint.
///
/// Names map as `token_embd.weight` → `model.embed_tokens.weight`, `blk.N.attn_q.weight` →
/// `model.layers.N.self_attn.q_proj.weight` (also `attn_k`, `attn_v`, `attn_output` → `o_proj`, and each
/// `.bias`), `ffn_gate/up/down` → `mlp.gate_proj/up_proj/down_proj`, `attn_norm` → `input_layernorm`,
/// `ffn_norm` → `post_attention_layernorm`, `output_norm.weight` → `model.norm.weight`, `output.weight` →
/// `lm_head.weight`. Where the architecture's converter permuted them (llama), query and key rows are
/// un-permuted (see `GGUFFile.unpermuteQK`). Tensors with no Hugging Face counterpart (such as
/// `rope_freqs.weight`) are left out. A file without `output.weight` has tied embeddings.
///
/// ```swift
/// let source = try GGUFLlamaTensorSource(file: GGUFFile(url: url))
/// let q = try source.floats("model.layers.0.self_attn.q_proj.weight")   // transformers' row order
/// ```
public final class GGUFLlamaTensorSource: TensorSource, @unchecked Sendable {
    public let file: GGUFFile
    /// The file's `general.architecture`.
    public let architecture: Architecture
    /// `<arch>.attention.head_count` and `.head_count_kv`: what un-permuting the query and key rows needs. (The
    /// rest of the metadata is the config's, read once by `LlamaConfig(gguf:)` in the Llama module.)
    public let heads: (query: Int, keyValue: Int)
    /// Hugging Face name → GGUF name.
    public let ggufNames: [String: String]

    public init(file: GGUFFile) throws {
        self.file = file
        let name = try file.string("general.architecture")
        guard let architecture = Architecture.named(modelType: name) else {
            throw WeightsError(file: file.name, field: "metadata \"general.architecture\"",
                               "architecture \"\(name)\" is not supported (only \(Architecture.modelTypes))")
        }
        self.architecture = architecture
        let countKey = architecture.ggufKey("attention.head_count"), kvKey = architecture.ggufKey("attention.head_count_kv")
        let query = try file.int(countKey)
        let keyValue = file.metadata[kvKey] == nil ? query : try file.int(kvKey)
        guard query > 0, keyValue > 0, query % keyValue == 0 else {
            throw WeightsError(file: file.name, field: "metadata \"\(countKey)\"",
                               "\(query) query heads and \(keyValue) key/value heads: both must be positive, the second dividing the first")
        }
        heads = (query, keyValue)
        var map: [String: String] = [:]
        for info in file.tensorInfos {
            if let hf = Self.huggingFaceName(info.name) { map[hf] = info.name }
        }
        ggufNames = map
    }

    /// Whole-model tensors, GGUF name → Hugging Face name.
    static let globalNames = [("token_embd.weight", "model.embed_tokens.weight"), ("output_norm.weight", "model.norm.weight"),
                              ("output.weight", "lm_head.weight")]
    /// Per-layer modules, `blk.N.<gguf>` → `model.layers.N.<hf>`.
    static let layerModules = [("attn_q", "self_attn.q_proj"), ("attn_k", "self_attn.k_proj"), ("attn_v", "self_attn.v_proj"),
                               ("attn_output", "self_attn.o_proj"), ("ffn_gate", "mlp.gate_proj"), ("ffn_up", "mlp.up_proj"),
                               ("ffn_down", "mlp.down_proj"), ("attn_norm", "input_layernorm"), ("ffn_norm", "post_attention_layernorm")]

    /// The Hugging Face name of a llama GGUF tensor name, or nil when it has none.
    public static func huggingFaceName(_ gguf: String) -> String? {
        translate(gguf, globals: globalNames, layerPrefix: ("blk", "model.layers"), modules: layerModules)
    }

    /// The llama GGUF name of a Hugging Face tensor name (`model.layers.0.self_attn.q_proj.weight` →
    /// `blk.0.attn_q.weight`), or nil when it has none.
    public static func ggufName(huggingFace name: String) -> String? {
        translate(name, globals: globalNames.map { ($1, $0) }, layerPrefix: ("model.layers", "blk"), modules: layerModules.map { ($1, $0) })
    }

    /// `name` through one direction of the tables: a whole-model name, or `<prefix>.N.<module>.weight|bias`.
    private static func translate(_ name: String, globals: [(String, String)], layerPrefix: (from: String, to: String),
                                  modules: [(String, String)]) -> String? {
        if let global = globals.first(where: { $0.0 == name }) { return global.1 }
        guard name.hasPrefix(layerPrefix.from + ".") else { return nil }
        let rest = name.dropFirst(layerPrefix.from.count + 1)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0 else { return nil }
        let tail = rest[rest.index(after: dot)...]
        for suffix in ["weight", "bias"] where tail.hasSuffix("." + suffix) {
            let module = String(tail.dropLast(suffix.count + 1))
            guard let mapped = modules.first(where: { $0.0 == module }) else { return nil }
            return "\(layerPrefix.to).\(layer).\(mapped.1).\(suffix)"
        }
        return nil
    }

    public func tensorNames() -> [String] { ggufNames.keys.sorted() }

    func ggufName(_ name: String) throws -> String {
        guard let g = ggufNames[name] else {
            throw WeightsError(file: file.name, field: "tensor \"\(tensorLocation(of: name).name)\"", "no such tensor in this file")
        }
        return g
    }

    public func shape(of name: String) throws -> [Int] { try file.tensor(ggufName(name)).shape }

    /// The GGUF's own name (`blk.0.attn_q.weight`), shapes as GGUF dims.
    public func tensorLocation(of name: String) -> TensorLocation {
        TensorLocation(file: file.name, name: ggufNames[name] ?? Self.ggufName(huggingFace: name) ?? name, reversedDimensions: true)
    }

    /// The heads whose rows llama.cpp's converter permuted in `name` (the query or key projection of a llama
    /// file), or nil when its rows are as transformers has them.
    func permutedHeads(_ name: String) -> Int? {
        guard architecture.ggufPermutesQueryKey else { return nil }
        if name.hasSuffix("self_attn.q_proj.weight") || name.hasSuffix("self_attn.q_proj.bias") { return heads.query }
        if name.hasSuffix("self_attn.k_proj.weight") || name.hasSuffix("self_attn.k_proj.bias") { return heads.keyValue }
        return nil
    }

    /// Every tensor as the file stores it (its GGML type); permuted query and key rows come as a copy with the
    /// rows in transformers' order (a row of blocks moves as a whole, so every type can be reordered).
    public func storedTensor(_ name: String) throws -> StoredTensor? {
        let g = try ggufName(name)
        let info = try file.tensor(g), raw = try file.rawBytes(g)
        guard let heads = try permutation(of: name, ggufName: g, rows: info.shape[0]) else {
            return StoredTensor(type: info.type, shape: info.shape, bytes: raw)
        }
        let copy = OwnedBytes(count: raw.count)
        GGUFFile.unpermuteQK(rows: raw, into: copy.buffer, rowCount: info.shape[0], heads: heads)
        return StoredTensor(type: info.type, shape: info.shape, bytes: UnsafeRawBufferPointer(copy.buffer), owner: copy)
    }

    /// Every dequantizable tensor whose rows come as the file has them (not a permuted query or key).
    public func readsRows(_ name: String) -> Bool {
        guard let g = try? ggufName(name), let info = try? file.tensor(g), info.type.isDequantizable else { return false }
        return permutedHeads(name) == nil
    }

    public func readFloatRows(_ name: String, first: Int, count: Int, cols: Int, into out: UnsafeMutablePointer<Float>) throws {
        let g = try ggufName(name)
        let info = try file.tensor(g), raw = try file.rawBytes(g)
        guard readsRows(name), cols % info.type.blockSize == 0 else {
            throw WeightsError(file: file.name, field: "tensor \"\(g)\"", "cannot be read a row at a time")
        }
        let start = try rowRange(raw, name: name, first: first, count: count, rowBytes: info.type.rowBytes(cols))
        if count > 0 { try GGMLDequantize.convert(info.type, start, count: count * cols, into: out) }
    }

    public func release(_ name: String) {
        if let g = try? ggufName(name), let raw = try? file.rawBytes(g) { file.mapped.release(raw) }
    }

    /// The file's type for `name`, without reading or reordering anything.
    public func storedType(_ name: String) throws -> GGMLType? { try file.tensor(ggufName(name)).type }

    public func readFloats(_ name: String, into out: UnsafeMutablePointer<Float>, count: Int) throws {
        let g = try ggufName(name)
        try file.readFloats(g, into: out, count: count)
        let shape = try file.tensor(g).shape
        guard let heads = try permutation(of: name, ggufName: g, rows: shape[0]) else { return }
        GGUFFile.unpermuteQK(out, rows: shape[0], cols: shape.dropFirst().reduce(1, *), heads: heads)
    }

    /// The heads `name`'s rows are un-permuted by (nil: none), once checked that its rows split into them.
    func permutation(of name: String, ggufName g: String, rows: Int) throws -> Int? {
        guard let heads = permutedHeads(name) else { return nil }
        guard rows % (2 * heads) == 0 else {
            throw WeightsError(file: file.name, field: "tensor \"\(g)\"", "\(rows) rows cannot be split into \(heads) heads of even size")
        }
        return heads
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
        // one head at a time through a copy of it: the row order is the raw version's
        let headRows = rows / heads, headBytes = headRows * cols * 4
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(headBytes, 1), alignment: 64)
        defer { scratch.deallocate() }
        for h in 0..<heads {
            let head = UnsafeMutableRawBufferPointer(start: values + h * headRows * cols, count: headBytes)
            scratch.copyMemory(from: UnsafeRawBufferPointer(head))
            unpermuteQK(rows: UnsafeRawBufferPointer(start: scratch.baseAddress, count: headBytes), into: head, rowCount: headRows, heads: 1)
        }
    }

    /// `unpermuteQK` on rows of any type (`rowCount` rows of equal size, f32 or blocks): `out` gets `rows` with
    /// stored row `h·headDim + 2j + k` at `h·headDim + k·headDim/2 + j`. `toGGUF: true` is the converter's own
    /// permutation, the inverse (transformers' row `h·headDim + k·headDim/2 + j` to `h·headDim + 2j + k`), for writing.
    public static func unpermuteQK(rows: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, rowCount: Int, heads: Int,
                                   toGGUF: Bool = false) {
        precondition(heads > 0 && rowCount % (2 * heads) == 0 && out.count >= rows.count, "unpermuteQK: \(rowCount) rows, \(heads) heads")
        let rowBytes = rows.count / Swift.max(rowCount, 1), headDim = rowCount / heads, half = headDim / 2
        for h in 0..<heads {
            for j in 0..<half {
                for k in 0..<2 {
                    let stored = h * headDim + 2 * j + k, original = h * headDim + k * half + j
                    let (from, to) = toGGUF ? (original, stored) : (stored, original)
                    (out.baseAddress! + to * rowBytes).copyMemory(from: rows.baseAddress! + from * rowBytes, byteCount: rowBytes)
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
