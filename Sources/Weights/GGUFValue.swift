/// The type tag of a GGUF metadata value, as stored in the file.
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12
}

/// One GGUF metadata value. Arrays keep their element type (an empty array still has one) and may nest.
///
/// The conveniences convert across widths, so callers need not know whether a writer chose
/// `uint32` or `int64` for a count:
///
/// ```swift
/// let gguf = try GGUFFile(url: url)
/// let tokens = gguf.metadata["tokenizer.ggml.tokens"]?.stringArray ?? []   // [String]
/// let layers = gguf.metadata["llama.block_count"]?.int                     // 30
/// let eps = gguf.metadata["llama.attention.layer_norm_rms_epsilon"]?.float // 1e-5
/// ```
public enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array(GGUFValueType, [GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// Any integer type as `Int` (nil for other types, and for a `uint64` above `Int.max`).
    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// Any number (float or integer) as `Double`.
    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }

    /// Any number as `Float`.
    public var float: Float? { double.map(Float.init) }

    public var bool: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var string: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    /// The elements of an array value.
    public var array: [GGUFValue]? {
        if case .array(_, let v) = self { return v }
        return nil
    }

    /// An array of strings (nil unless every element is a string).
    public var stringArray: [String]? {
        guard let a = array else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for v in a { guard let s = v.string else { return nil }; out.append(s) }
        return out
    }

    /// An array of integers of any width.
    public var intArray: [Int]? {
        guard let a = array else { return nil }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for v in a { guard let i = v.int else { return nil }; out.append(i) }
        return out
    }

    /// An array of numbers as `Float`.
    public var floatArray: [Float]? {
        guard let a = array else { return nil }
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for v in a { guard let f = v.float else { return nil }; out.append(f) }
        return out
    }

    /// Short text for listings; long arrays show their length and first elements only.
    public var description: String {
        switch self {
        case .string(let s): return s.count > 80 ? "\"\(s.prefix(77))...\"" : "\"\(s)\""
        case .array(let t, let a):
            let head = a.prefix(4).map(\.description).joined(separator: ", ")
            return "[\(t)] × \(a.count): [\(head)\(a.count > 4 ? ", ..." : "")]"
        case .bool(let b): return String(b)
        case .float32(let v): return String(v)
        case .float64(let v): return String(v)
        default: return int.map(String.init) ?? "?"
        }
    }
}
