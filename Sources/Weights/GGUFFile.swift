import Foundation

/// One tensor's entry in a GGUF file.
///
/// ```swift
/// let info = try gguf.tensor("token_embd.weight")  // type Q8_0, dims [576, 49152], shape [49152, 576]
/// ```
public struct GGUFTensorInfo: Sendable, Equatable {
    public var name: String
    /// GGUF order: `ne[0]` (the fastest-varying dimension, a row's length) first.
    public var dims: [Int]
    public var type: GGMLType
    /// Offset from the start of the data section (a multiple of the file's alignment).
    public var offset: Int

    /// PyTorch order: the reverse of `dims` (`[rows, cols]` for a matrix).
    public var shape: [Int] { dims.reversed() }
    public var elementCount: Int { dims.reduce(1, *) }
    /// Bytes of stored data.
    public var byteCount: Int { elementCount / type.blockSize * type.typeSize }
}

/// A memory-mapped GGUF file (versions 2 and 3): metadata, tensor infos and tensor data.
///
/// Layout: `"GGUF"`, version `u32`, tensor count `u64`, metadata count `u64`, then metadata
/// `(key: string, type: u32, value)`, tensor infos `(name, n_dims: u32, ne: u64 × n_dims, type: u32,
/// offset: u64)`, padding to `general.alignment` (default 32), then the data section. Strings are
/// `u64` length + UTF-8 bytes. Every read is bounds-checked; errors name the file and the key or tensor.
///
/// ```swift
/// let gguf = try GGUFFile(url: URL(fileURLWithPath: "SmolLM2-135M-Instruct.Q4_1.gguf"))
/// print(gguf.version, gguf.architecture ?? "?")             // 3 llama
/// let w = try gguf.floats("blk.0.attn_q.weight")             // dequantized, GGUF row order
/// print(try gguf.tensor("blk.0.attn_q.weight").shape)       // [576, 576] (PyTorch order)
/// ```
public final class GGUFFile: @unchecked Sendable {
    public let url: URL
    public let mapped: MappedFile
    public let version: UInt32
    /// All metadata, by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensor infos in file order.
    public let tensorInfos: [GGUFTensorInfo]
    /// Tensor name → index in `tensorInfos`.
    public let tensorIndex: [String: Int]
    /// `general.alignment`, or 32.
    public let alignment: Int
    /// File offset of the data section.
    public let dataStart: Int

    /// Nested arrays deeper than this are refused (a corrupt file must not recurse without end).
    static let maxArrayDepth = 8

    public var name: String { mapped.name }

    public init(url: URL) throws {
        self.url = url
        let file = try MappedFile(url: url)
        mapped = file
        let fileName = file.name
        var cursor = Cursor(file: file)

        let magic = try cursor.read(UInt32.self, field: "magic")
        guard magic == 0x4655_4747 else {   // "GGUF" read little-endian
            let text = withUnsafeBytes(of: magic.littleEndian) { String(decoding: $0, as: UTF8.self) }
            throw WeightsError(file: fileName, field: "magic", "not a GGUF file (starts with \(text.debugDescription), expected \"GGUF\")")
        }
        version = try cursor.read(UInt32.self, field: "version")
        guard version == 2 || version == 3 else {
            throw WeightsError(file: fileName, field: "version", "GGUF version \(version) is not supported (only 2 and 3)")
        }
        let tensorCount = try cursor.readCount(field: "tensor_count", minBytesEach: 8 + 4 + 4 + 8)
        let kvCount = try cursor.readCount(field: "metadata_kv_count", minBytesEach: 8 + 4)

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for i in 0..<kvCount {
            let key = try cursor.readString(field: "metadata key #\(i)")
            let typeID = try cursor.read(UInt32.self, field: "metadata \"\(key)\" type")
            metadata[key] = try cursor.readValue(typeID, field: "metadata \"\(key)\"", depth: 0)
            keys.append(key)
        }

        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let v = a.int, v > 0, v & (v - 1) == 0 else {
                throw WeightsError(file: fileName, field: "metadata \"general.alignment\"", "\(a) is not a positive power of two")
            }
            alignment = v
        }
        self.alignment = alignment

        var infos: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        infos.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let name = try cursor.readString(field: "tensor #\(i) name")
            let field = "tensor \"\(name)\""
            let nDims = try cursor.read(UInt32.self, field: field + " n_dims")
            guard (1...4).contains(nDims) else {
                throw WeightsError(file: fileName, field: field + " n_dims", "\(nDims) dimensions (ggml allows 1 to 4)")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let ne = try cursor.read(UInt64.self, field: field + " ne[\(d)]")
                guard ne < 1 << 40, case let (p, overflow) = elements.multipliedReportingOverflow(by: Int(ne)), !overflow, p < 1 << 48 else {
                    throw WeightsError(file: fileName, field: field + " ne[\(d)]", "dimension \(ne) is too large")
                }
                dims.append(Int(ne))
                elements = p
            }
            let typeID = try cursor.read(UInt32.self, field: field + " type")
            guard let type = GGMLType(id: typeID) else {
                throw WeightsError(file: fileName, field: field + " type", "unknown ggml type \(typeID)")
            }
            guard dims[0] % type.blockSize == 0 else {
                throw WeightsError(file: fileName, field: field + " ne[0]",
                                   "row length \(dims[0]) is not a multiple of the \(type.name) block size \(type.blockSize)")
            }
            let offset = try cursor.read(UInt64.self, field: field + " offset")
            guard offset < 1 << 48, Int(offset) % alignment == 0 else {
                throw WeightsError(file: fileName, field: field + " offset", "\(offset) is not a multiple of the alignment \(alignment)")
            }
            guard index[name] == nil else {
                throw WeightsError(file: fileName, field: field, "tensor name appears twice")
            }
            index[name] = infos.count
            infos.append(GGUFTensorInfo(name: name, dims: dims, type: type, offset: Int(offset)))
        }

        let start = (cursor.offset + alignment - 1) / alignment * alignment
        dataStart = start
        let dataSize = max(file.count - start, 0)
        for t in infos where t.byteCount > 0 {
            guard t.offset <= dataSize, t.byteCount <= dataSize - t.offset else {
                throw WeightsError(file: fileName, field: "tensor \"\(t.name)\"",
                                   "data [\(t.offset), \(t.offset + t.byteCount)) runs past the end of the file (data section is \(dataSize) bytes; truncated?)")
            }
        }
        let ordered = infos.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.offset < a.offset + a.byteCount {
            throw WeightsError(file: fileName, field: "tensor \"\(b.name)\"", "data overlaps tensor \"\(a.name)\"")
        }
        self.metadata = metadata
        metadataKeys = keys
        tensorInfos = infos
        tensorIndex = index
    }

    // MARK: tensors

    /// The info of tensor `name`; throws naming the file when absent.
    public func tensor(_ name: String) throws -> GGUFTensorInfo {
        guard let i = tensorIndex[name] else {
            throw WeightsError(file: self.name, field: "tensor \"\(name)\"", "no such tensor (the file has \(tensorInfos.count))")
        }
        return tensorInfos[i]
    }

    /// The stored bytes of tensor `name`, inside the mapping.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let t = try tensor(name)
        return try mapped.bytes(at: dataStart + t.offset, length: t.byteCount, field: "tensor \"\(name)\"")
    }

    /// Dequantizes tensor `name` to f32 into `out` (room for exactly `count` values), in stored order
    /// (row-major over the PyTorch shape; rows of `ne[0]` values).
    public func readFloats(_ name: String, into out: UnsafeMutablePointer<Float>, count: Int) throws {
        let t = try tensor(name)
        guard count == t.elementCount else {
            throw WeightsError(file: self.name, field: "tensor \"\(name)\"",
                               "caller expects \(count) values but shape \(t.shape) has \(t.elementCount)")
        }
        guard t.type.isDequantizable else {
            throw WeightsError(file: self.name, field: "tensor \"\(name)\"", "type \(t.type.name) cannot be dequantized (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q6_K)")
        }
        let raw = try rawBytes(name)
        if count > 0 { try GGMLDequantize.convert(t.type, raw.baseAddress!, count: count, into: out) }
    }

    /// The tensor `name` dequantized to f32, in stored order.
    public func floats(_ name: String) throws -> [Float] {
        let n = try tensor(name).elementCount
        if n == 0 { return [] }
        var values = [Float](repeating: 0, count: n)
        try values.withUnsafeMutableBufferPointer { try readFloats(name, into: $0.baseAddress!, count: n) }
        return values
    }

    // MARK: metadata

    /// Throws naming the file and key unless `key` holds an integer.
    public func int(_ key: String) throws -> Int {
        guard let v = metadata[key] else { throw WeightsError(file: name, field: "metadata \"\(key)\"", "missing") }
        guard let i = v.int else { throw WeightsError(file: name, field: "metadata \"\(key)\"", "expected an integer, found \(v.type)") }
        return i
    }

    /// Throws naming the file and key unless `key` holds a number.
    public func float(_ key: String) throws -> Float {
        guard let v = metadata[key] else { throw WeightsError(file: name, field: "metadata \"\(key)\"", "missing") }
        guard let f = v.float else { throw WeightsError(file: name, field: "metadata \"\(key)\"", "expected a number, found \(v.type)") }
        return f
    }

    /// Throws naming the file and key unless `key` holds a string.
    public func string(_ key: String) throws -> String {
        guard let v = metadata[key] else { throw WeightsError(file: name, field: "metadata \"\(key)\"", "missing") }
        guard let s = v.string else { throw WeightsError(file: name, field: "metadata \"\(key)\"", "expected a string, found \(v.type)") }
        return s
    }
}

/// A bounds-checked reading position in a mapped file.
struct Cursor {
    let file: MappedFile
    var offset = 0

    init(file: MappedFile) { self.file = file }

    // Field names are built only when an error is thrown: vocabularies hold hundreds of thousands of strings.
    mutating func read<T: FixedWidthInteger>(_ type: T.Type, field: @autoclosure () -> String) throws -> T {
        let size = MemoryLayout<T>.size
        guard offset <= file.count - size else {
            try file.check(offset, size, field: field())
            return 0
        }
        let v = T(littleEndian: file.base!.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return v
    }

    /// A u64 count that cannot be true when fewer than `count × minBytesEach` bytes remain.
    mutating func readCount(field: @autoclosure () -> String, minBytesEach: Int) throws -> Int {
        let n = try read(UInt64.self, field: field())
        guard n <= UInt64(max(file.count - offset, 0) / max(minBytesEach, 1)) else {
            throw WeightsError(file: file.name, field: field(), "\(n) cannot fit in the \(file.count - offset) remaining bytes (corrupt or truncated)")
        }
        return Int(n)
    }

    mutating func readString(field: @autoclosure () -> String) throws -> String {
        let length = try read(UInt64.self, field: field() + " length")
        guard length <= UInt64(max(file.count - offset, 0)) else {
            throw WeightsError(file: file.name, field: field(), "string of \(length) bytes runs past the end of the file (\(file.count) bytes)")
        }
        let bytes = UnsafeRawBufferPointer(start: file.base! + offset, count: Int(length))
        offset += Int(length)
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func readValue(_ typeID: UInt32, field: @autoclosure () -> String, depth: Int) throws -> GGUFValue {
        guard let type = GGUFValueType(rawValue: typeID) else {
            throw WeightsError(file: file.name, field: field(), "unknown value type \(typeID)")
        }
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, field: field()))
        case .int8: return .int8(try read(Int8.self, field: field()))
        case .uint16: return .uint16(try read(UInt16.self, field: field()))
        case .int16: return .int16(try read(Int16.self, field: field()))
        case .uint32: return .uint32(try read(UInt32.self, field: field()))
        case .int32: return .int32(try read(Int32.self, field: field()))
        case .uint64: return .uint64(try read(UInt64.self, field: field()))
        case .int64: return .int64(try read(Int64.self, field: field()))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, field: field())))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, field: field())))
        case .bool:
            let b = try read(UInt8.self, field: field())
            return .bool(b != 0)   // like llama.cpp, any non-zero byte is true
        case .string: return .string(try readString(field: field()))
        case .array:
            guard depth < GGUFFile.maxArrayDepth else {
                throw WeightsError(file: file.name, field: field(), "arrays nested deeper than \(GGUFFile.maxArrayDepth)")
            }
            let elementID = try read(UInt32.self, field: field() + " element type")
            guard let elementType = GGUFValueType(rawValue: elementID) else {
                throw WeightsError(file: file.name, field: field(), "unknown array element type \(elementID)")
            }
            let minBytes: Int
            switch elementType {
            case .uint8, .int8, .bool: minBytes = 1
            case .uint16, .int16: minBytes = 2
            case .uint32, .int32, .float32: minBytes = 4
            case .uint64, .int64, .float64, .string: minBytes = 8
            case .array: minBytes = 12
            }
            let n = try readCount(field: field() + " length", minBytesEach: minBytes)
            var values: [GGUFValue] = []
            values.reserveCapacity(n)
            for i in 0..<n {
                values.append(try readValue(elementID, field: "\(field())[\(i)]", depth: depth + 1))
            }
            return .array(elementType, values)
        }
    }
}
