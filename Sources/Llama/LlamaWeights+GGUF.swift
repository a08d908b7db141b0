// Writing a model as a GGUF file that llama.cpp loads: the tensors under llama.cpp's names
// (`token_embd.weight`, `blk.N.attn_q.weight`, ...; `GGUFLlamaTensorSource.ggufName` is the one table),
// query and key rows permuted as llama.cpp's converter does for llama, matrices in one storage type
// (f32, f16, bf16 or ggml's blocks), norms, biases and rope divisors in F32.
import Foundation
import Kernels
import Weights

/// llama.cpp's `general.file_type` (`LLAMA_FTYPE_*`) of a file whose matrices are mostly `storage`.
extension StorageType {
    public var ggufFileType: UInt32 {
        switch self {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 7
        case .bf16: return 32
        }
    }
}

extension LlamaWeights {
    /// A GGUF writer holding these weights and `config`'s metadata, each matrix in `storage` (nil: as kept in
    /// memory; a matrix whose rows are not whole blocks stays f32). Matrices are converted one at a time while
    /// the file is written. Add the vocabulary (`tokenizer.ggml.*`) before writing.
    ///
    /// ```swift
    /// var writer = try model.weights.ggufWriter(config: model.config, storage: .q8_0, name: "SmolLM2 + adapter")
    /// for (key, value) in vocabulary { writer.set(key, value) }
    /// try writer.write(to: URL(fileURLWithPath: "merged.Q8_0.gguf"))
    /// ```
    public func ggufWriter(config c: LlamaConfig, storage: StorageType?, name: String) throws -> GGUFWriter {
        var writer = GGUFWriter()
        writer.set("general.name", .string(name))
        for (key, value) in c.ggufMetadata { writer.set(key, value) }
        let main = storage ?? storageTypesByBytes.first ?? .f32
        writer.set("general.file_type", .uint32(main.ggufFileType))
        if main.isQuantized { writer.set("general.quantization_version", .uint32(2)) }   // ggml's GGML_QNT_VERSION

        func matrix(_ gguf: String, _ w: WeightMatrix, permutedHeads: Int? = nil) throws {
            let type = (storage ?? w.storage).fitting(cols: w.cols)
            try writer.add(gguf, type: type.ggmlType, shape: [w.rows, w.cols]) {
                let m = w.storage == type ? w : w.converted(to: type)
                if m.keepsGGMLOrder {
                    return Self.stored(m.data, m.byteCount, type: type.ggmlType, shape: [w.rows, w.cols], owner: m, permutedHeads: permutedHeads)
                }
                let rows = OwnedBytes(count: m.byteCount)   // quantized matrices keep row groups: the rows in ggml's order
                m.ggmlRows(0, m.rows, into: rows.buffer.baseAddress!)
                return Self.stored(rows.buffer.baseAddress!, m.byteCount, type: type.ggmlType, shape: [w.rows, w.cols], owner: rows, permutedHeads: permutedHeads)
            }
        }
        func vector(_ gguf: String, _ v: FloatBuffer, permutedHeads: Int? = nil) throws {
            try writer.add(gguf, type: .F32, shape: [v.count]) {
                Self.stored(UnsafeMutableRawPointer(v.pointer), v.count * 4, type: .F32, shape: [v.count], owner: v, permutedHeads: permutedHeads)
            }
        }
        func ggufName(_ huggingFace: String) -> String { GGUFLlamaTensorSource.ggufName(huggingFace: huggingFace)! }

        try matrix(ggufName("model.embed_tokens.weight"), model.embed_tokens)
        for (l, layer) in model.layers.enumerated() {
            let p = "model.layers.\(l)."
            try vector(ggufName(p + "input_layernorm.weight"), layer.input_layernorm)
            for (t, w) in layer.projections {
                // llama.cpp's converter reorders llama's query and key rows for its rotary pairs
                let heads = !c.architecture.ggufPermutesQueryKey ? nil
                    : t == .q_proj ? c.num_attention_heads : t == .k_proj ? c.num_key_value_heads : nil
                try matrix(ggufName(p + "\(t.parent).\(t.rawValue).weight"), w, permutedHeads: heads)
                if let bias = w.bias { try vector(ggufName(p + "\(t.parent).\(t.rawValue).bias"), bias, permutedHeads: heads) }
            }
            try vector(ggufName(p + "post_attention_layernorm.weight"), layer.post_attention_layernorm)
        }
        try vector(ggufName("model.norm.weight"), model.norm)
        if let head = lm_head { try matrix(ggufName("lm_head.weight"), head) }
        if let factors = c.ggufRopeFactors { try vector("rope_freqs.weight", FloatBuffer(factors)) }
        return writer
    }

    /// Bytes as a GGUF tensor: rows in place, or a copy with the query/key rows in llama.cpp's order.
    static func stored(_ data: UnsafeMutableRawPointer, _ count: Int, type: GGMLType, shape: [Int], owner: AnyObject,
                       permutedHeads: Int?) -> StoredTensor {
        let raw = UnsafeRawBufferPointer(start: data, count: count)
        guard let heads = permutedHeads else { return StoredTensor(type: type, shape: shape, bytes: raw, owner: owner) }
        let copy = OwnedBytes(count: count)
        GGUFFile.unpermuteQK(rows: raw, into: copy.buffer, rowCount: shape[0], heads: heads, toGGUF: true)
        return StoredTensor(type: type, shape: shape, bytes: UnsafeRawBufferPointer(start: copy.buffer.baseAddress, count: count), owner: copy)
    }
}
