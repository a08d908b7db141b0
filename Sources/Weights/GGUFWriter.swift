import Foundation
import Support

/// Writes a GGUF file (version 3), the layout `GGUFFile` reads: `"GGUF"`, version, tensor count, metadata
/// count, the metadata `(key, type, value)` in the order set, the tensor infos in the order added, padding
/// to `general.alignment` (32), then each tensor's bytes, each starting on the alignment.
///
/// Tensors are handed over as closures called one at a time while the file is written, so a model can be
/// converted matrix by matrix (quantizing one, writing it, dropping it) instead of all at once. The file is
/// written atomically: a reader finds the previous file or this one whole.
///
/// ```swift
/// var writer = GGUFWriter()
/// writer.set("general.architecture", .string("llama"))
/// writer.add("output_norm.weight", type: .F32, shape: [576]) { StoredTensor(type: .F32, shape: [576], bytes: raw) }
/// try writer.write(to: URL(fileURLWithPath: "model.gguf"))
/// ```
public struct GGUFWriter {
    /// Metadata in file order.
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    private var tensors: [(name: String, type: GGMLType, shape: [Int], data: () throws -> StoredTensor)] = []
    /// Where each tensor's data starts (ggml's `GGML_DEFAULT_ALIGNMENT`; `general.alignment` is not written).
    public static let alignment = 32

    public init() {}


    /// Sets `key` to `value`: replaces an earlier value (keeping its place), or appends.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) { metadata[i].value = value } else { metadata.append((key, value)) }
    }

    /// Adds a tensor of `type` and PyTorch-order `shape` (`[rows, cols]`, rows of `cols` values); `data` is
    /// called once, while the file is written, and must return exactly that type, shape and byte count.
    public mutating func add(_ name: String, type: GGMLType, shape: [Int], data: @escaping () throws -> StoredTensor) throws {
        guard !name.isEmpty, name.utf8.count < 64 else {
            throw WeightsError(file: "GGUF writer", field: "tensor \"\(name)\"", "a tensor name must have 1 to 63 bytes (ggml's limit)")
        }
        guard !tensors.contains(where: { $0.name == name }) else {
            throw WeightsError(file: "GGUF writer", field: "tensor \"\(name)\"", "added twice")
        }
        guard (1...4).contains(shape.count), shape.allSatisfy({ $0 > 0 }), shape.last! % type.blockSize == 0 else {
            throw WeightsError(file: "GGUF writer", field: "tensor \"\(name)\"",
                               "shape \(shape) cannot be stored as \(type.name) (rows must be whole blocks of \(type.blockSize))")
        }
        tensors.append((name, type, shape, data))
    }

    /// Bytes of a tensor's data.
    static func byteCount(_ type: GGMLType, _ shape: [Int]) -> Int { shape.reduce(1, *) / type.blockSize * type.typeSize }

    /// Writes the file atomically. `progress` is called after each tensor with (data bytes written, data bytes).
    public func write(to url: URL, progress: (Int, Int) -> Void = { _, _ in }) throws {
        var header = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        u32(0x4655_4747)   // "GGUF"
        u32(3)
        u64(UInt64(tensors.count))
        u64(UInt64(metadata.count))
        for (key, value) in metadata {
            GGUFValue.string(key).encode(into: &header)
            u32(value.type.rawValue)
            value.encode(into: &header)
        }
        let align = Self.alignment
        var offsets: [Int] = [], offset = 0
        for t in tensors {
            offset = (offset + align - 1) / align * align
            offsets.append(offset)
            offset += Self.byteCount(t.type, t.shape)
        }
        let dataBytes = offset
        for (t, start) in zip(tensors, offsets) {
            GGUFValue.string(t.name).encode(into: &header)
            u32(UInt32(t.shape.count))
            for d in t.shape.reversed() { u64(UInt64(d)) }   // GGUF order: a row's length first
            u32(t.type.id)
            u64(UInt64(start))
        }
        let padding = [UInt8](repeating: 0, count: align)
        try AtomicFile.write(to: url) { fd in
            var written = 0
            func put(_ raw: UnsafeRawBufferPointer) throws {
                try AtomicFile.writeAll(fd, raw, path: url.path)
                written += raw.count
            }
            func pad() throws {
                let n = (align - written % align) % align
                try padding.withUnsafeBytes { try put(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
            }
            try header.withUnsafeBytes { try put($0) }
            try pad()
            let dataStart = written
            for (t, start) in zip(tensors, offsets) {
                try pad()
                precondition(written - dataStart == start, "GGUF writer: tensor offsets out of step")
                let stored = try t.data()
                guard stored.type == t.type, stored.shape == t.shape, stored.bytes.count == Self.byteCount(t.type, t.shape) else {
                    throw WeightsError(file: url.lastPathComponent, field: "tensor \"\(t.name)\"",
                                       "announced as \(t.type.name) \(t.shape) but given \(stored.type.name) \(stored.shape), \(stored.bytes.count) bytes")
                }
                try withExtendedLifetime(stored.owner) { try put(stored.bytes) }
                progress(written - dataStart, dataBytes)
            }
        }
    }
}

extension GGUFValue {
    /// Appends the value as GGUF stores it (without its type tag; an array carries its element type and
    /// count): the inverse of `GGUFFile`'s reading.
    public func encode(into data: inout Data) {
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        switch self {
        case .uint8(let v): put(v)
        case .int8(let v): put(v)
        case .uint16(let v): put(v)
        case .int16(let v): put(v)
        case .uint32(let v): put(v)
        case .int32(let v): put(v)
        case .uint64(let v): put(v)
        case .int64(let v): put(v)
        case .float32(let v): put(v.bitPattern)
        case .float64(let v): put(v.bitPattern)
        case .bool(let v): put(UInt8(v ? 1 : 0))
        case .string(let s): put(UInt64(s.utf8.count)); data.append(contentsOf: s.utf8)
        case .array(let elementType, let values):
            put(elementType.rawValue)
            put(UInt64(values.count))
            for v in values { v.encode(into: &data) }   // a nested array: its own element type, count, values
        }
    }
}
