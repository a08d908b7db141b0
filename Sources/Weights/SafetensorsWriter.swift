import Foundation
import Support

/// Builds a `.safetensors` file in the canonical layout the `safetensors` library writes:
/// `__metadata__` first, tensors ordered by dtype (widest first) then by name, contiguous data,
/// and the JSON header padded with spaces to a multiple of 8 bytes. Files are written atomically.
///
/// ```swift
/// var writer = SafetensorsWriter(metadata: ["format": "pt"])
/// try writer.add("lora_A.weight", shape: [8, 576], floats: a)
/// try writer.add("lora_B.weight", shape: [576, 8], floats: b, as: .BF16)
/// try writer.write(to: URL(fileURLWithPath: "adapter_model.safetensors"))
/// ```
public struct SafetensorsWriter {
    /// The `__metadata__` strings (written with keys sorted; omitted when empty).
    public var metadata: [String: String]
    private var entries: [String: (dtype: SafetensorsDType, shape: [Int], bytes: Data)] = [:]

    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Adds a tensor from its raw little-endian bytes, which must be `shape.product × dtype.size` long.
    public mutating func add(_ name: String, dtype: SafetensorsDType, shape: [Int], bytes: Data) throws {
        guard !name.isEmpty, name != "__metadata__" else {
            throw WeightsError(file: "safetensors writer", field: "tensor \"\(name)\"", "invalid tensor name")
        }
        guard entries[name] == nil else {
            throw WeightsError(file: "safetensors writer", field: "tensor \"\(name)\"", "added twice")
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) * dtype.size == bytes.count else {
            throw WeightsError(file: "safetensors writer", field: "tensor \"\(name)\"",
                               "shape \(shape) × \(dtype.rawValue) does not match \(bytes.count) bytes")
        }
        entries[name] = (dtype, shape, bytes)
    }

    /// Adds f32 values stored as `F32`, `BF16` (round to nearest even) or `F16`.
    public mutating func add(_ name: String, shape: [Int], floats: [Float], as dtype: SafetensorsDType = .F32) throws {
        var data = Data(capacity: floats.count * dtype.size)
        switch dtype {
        case .F32:
            for v in floats { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        case .BF16:
            for v in floats { withUnsafeBytes(of: Self.bf16(v).littleEndian) { data.append(contentsOf: $0) } }
        case .F16:
            for v in floats { withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        default:
            throw WeightsError(file: "safetensors writer", field: "tensor \"\(name)\"",
                               "floats can be stored as F32, BF16 or F16, not \(dtype.rawValue)")
        }
        try add(name, dtype: dtype, shape: shape, bytes: data)
    }

    /// Adds 32-bit integers (`I32`).
    public mutating func add(_ name: String, shape: [Int], int32 values: [Int32]) throws {
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        try add(name, dtype: .I32, shape: shape, bytes: data)
    }

    /// Adds 64-bit integers (`I64`).
    public mutating func add(_ name: String, shape: [Int], int64 values: [Int64]) throws {
        var data = Data(capacity: values.count * 8)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        try add(name, dtype: .I64, shape: shape, bytes: data)
    }

    /// f32 → bf16 with round-to-nearest-even; NaN stays a quiet NaN.
    static func bf16(_ v: Float) -> UInt16 {
        let bits = v.bitPattern
        if v.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }

    /// Tensor names in file order.
    public var orderedNames: [String] {
        entries.keys.sorted { a, b in
            let ra = entries[a]!.dtype.rank, rb = entries[b]!.dtype.rank
            return ra != rb ? ra > rb : a < b
        }
    }

    /// The whole file's bytes.
    public func serialized() -> Data {
        var header = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(metadata[$0]!))" }
            parts.append("\"__metadata__\":{" + items.joined(separator: ",") + "}")
        }
        var offset = 0
        let names = orderedNames
        for name in names {
            let e = entries[name]!
            let shape = e.shape.map(String.init).joined(separator: ",")
            parts.append("\(JSONText.quoted(name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}")
            offset += e.bytes.count
        }
        header += parts.joined(separator: ",") + "}"
        var headerBytes = Data(header.utf8)
        let padding = (8 - headerBytes.count % 8) % 8
        headerBytes.append(contentsOf: [UInt8](repeating: 0x20, count: padding))

        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(headerBytes)
        for name in names { out.append(entries[name]!.bytes) }
        return out
    }

    /// Writes the file atomically (temporary file in the same folder, fsync, rename).
    public func write(to url: URL) throws {
        try AtomicFile.write(serialized(), to: url)
    }
}
