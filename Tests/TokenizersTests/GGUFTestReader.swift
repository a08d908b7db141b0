import Foundation
import Tokenizers

/// A test-only reader of GGUF metadata, enough to get at `tokenizer.ggml.*` while the Weights module's
/// GGUF reader is not on this branch. It reads key/value pairs and stops before the tensor infos.
enum GGUFTestReader {
    enum Value {
        case int(Int), float(Double), bool(Bool), string(String)
        case strings([String]), floats([Float]), ints([Int32]), other
    }

    static func metadata(_ url: URL) throws -> [String: Value] {
        let data = try Data(contentsOf: url, options: .alwaysMapped)
        return try data.withUnsafeBytes { raw -> [String: Value] in
            var offset = 0
            func need(_ n: Int) throws {
                if offset + n > raw.count { throw TokenizerError(url.path, "truncated metadata at byte \(offset)") }
            }
            func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
                try need(MemoryLayout<T>.size)
                var v: T = 0
                withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + MemoryLayout<T>.size])) }
                offset += MemoryLayout<T>.size
                return T(littleEndian: v)
            }
            func string() throws -> String {
                let n = Int(try read(UInt64.self))
                try need(n)
                defer { offset += n }
                return String(decoding: raw[offset..<offset + n], as: UTF8.self)
            }
            func scalar(_ type: UInt32) throws -> Value {
                switch type {
                case 0: return .int(Int(try read(UInt8.self)))
                case 1: return .int(Int(try read(Int8.self)))
                case 2: return .int(Int(try read(UInt16.self)))
                case 3: return .int(Int(try read(Int16.self)))
                case 4: return .int(Int(try read(UInt32.self)))
                case 5: return .int(Int(try read(Int32.self)))
                case 6: return .float(Double(Float(bitPattern: try read(UInt32.self))))
                case 7: return .bool(try read(UInt8.self) != 0)
                case 8: return .string(try string())
                case 10: return .int(Int(try read(UInt64.self)))
                case 11: return .int(Int(try read(Int64.self)))
                case 12: return .float(Double(bitPattern: try read(UInt64.self)))
                default: throw TokenizerError(url.path, "unknown value type \(type)")
                }
            }
            guard try read(UInt32.self) == 0x4655_4747 else { throw TokenizerError(url.path, "not a GGUF file") }
            _ = try read(UInt32.self)                 // version
            _ = try read(UInt64.self)                 // tensor count
            let count = Int(try read(UInt64.self))
            var values: [String: Value] = [:]
            for _ in 0..<count {
                let key = try string()
                let type = try read(UInt32.self)
                if type != 9 { values[key] = try scalar(type); continue }
                let elementType = try read(UInt32.self)
                let n = Int(try read(UInt64.self))
                switch elementType {
                case 8: values[key] = .strings(try (0..<n).map { _ in try string() })
                case 6: values[key] = .floats(try (0..<n).map { _ in Float(bitPattern: try read(UInt32.self)) })
                case 5: values[key] = .ints(try (0..<n).map { _ in try read(Int32.self) })
                default: for _ in 0..<n { _ = try scalar(elementType) }; values[key] = .other
                }
            }
            return values
        }
    }

    /// The tokenizer metadata of a GGUF file as a `GGUFVocabulary`.
    static func vocabulary(_ url: URL) throws -> GGUFVocabulary {
        let m = try metadata(url)
        func int(_ key: String) -> Int? { if case .int(let v)? = m[key] { return v }; return nil }
        func bool(_ key: String) -> Bool? { if case .bool(let v)? = m[key] { return v }; return nil }
        func str(_ key: String) -> String? { if case .string(let v)? = m[key] { return v }; return nil }
        guard case .strings(let tokens)? = m["tokenizer.ggml.tokens"], let model = str("tokenizer.ggml.model") else {
            throw TokenizerError(url.path, "no tokenizer.ggml.tokens/model")
        }
        var v = GGUFVocabulary(model: model, tokens: tokens, source: url.path)
        v.pre = str("tokenizer.ggml.pre")
        if case .floats(let s)? = m["tokenizer.ggml.scores"] { v.scores = s }
        if case .ints(let t)? = m["tokenizer.ggml.token_type"] { v.tokenTypes = t }
        if case .strings(let merges)? = m["tokenizer.ggml.merges"] { v.merges = merges }
        v.bosTokenId = int("tokenizer.ggml.bos_token_id")
        v.eosTokenId = int("tokenizer.ggml.eos_token_id")
        v.unknownTokenId = int("tokenizer.ggml.unknown_token_id")
        v.paddingTokenId = int("tokenizer.ggml.padding_token_id")
        v.addBosToken = bool("tokenizer.ggml.add_bos_token")
        v.addEosToken = bool("tokenizer.ggml.add_eos_token")
        v.addSpacePrefix = bool("tokenizer.ggml.add_space_prefix")
        v.chatTemplate = str("tokenizer.chat_template")
        return v
    }
}
