import Foundation

/// One tensor's entry in a safetensors header.
///
/// ```swift
/// let info = try file.info("model.norm.weight")   // dtype .BF16, shape [576], begin..end in the data section
/// ```
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public var name: String
    public var dtype: SafetensorsDType
    /// PyTorch order, slowest dimension first.
    public var shape: [Int]
    /// Byte range inside the data section (which starts right after the header).
    public var begin: Int
    public var end: Int

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { end - begin }
}

/// A memory-mapped `.safetensors` file: an 8-byte little-endian header length, a JSON header
/// (`{"__metadata__": {...}, "name": {"dtype", "shape", "data_offsets"}, ...}`), then the raw tensor bytes.
///
/// The whole header is validated on open, so every later access is in bounds.
///
/// ```swift
/// let file = try SafetensorsFile(url: URL(fileURLWithPath: "model.safetensors"))
/// print(file.metadata["format"] ?? "-")                    // "pt"
/// let w = try file.floats("model.embed_tokens.weight")      // converted from BF16/F16 as needed
/// let raw = try file.rawBytes("model.norm.weight")          // points into the mapping
/// ```
public final class SafetensorsFile: TensorSource, @unchecked Sendable {
    public let url: URL
    public let mapped: MappedFile
    /// The `__metadata__` strings (empty when absent).
    public let metadata: [String: String]
    /// Every tensor by name.
    public let tensors: [String: SafetensorsTensorInfo]
    /// File offset of the data section (8 + header length).
    public let dataStart: Int

    /// The safetensors library refuses headers above 100 MB; so do we (a corrupt length would otherwise be believed).
    public static let maxHeaderLength = 100_000_000

    public init(url: URL) throws {
        self.url = url
        let file = try MappedFile(url: url)
        mapped = file
        let name = file.name
        let headerLength = try file.readLE(UInt64.self, at: 0, field: "header length")
        guard headerLength <= UInt64(file.count - 8) else {
            throw WeightsError(file: name, field: "header length",
                               "\(headerLength) bytes runs past the end of the file (\(file.count) bytes)")
        }
        guard headerLength <= UInt64(Self.maxHeaderLength) else {
            throw WeightsError(file: name, field: "header length", "\(headerLength) bytes exceeds the 100 MB limit")
        }
        let headerBytes = try file.bytes(at: 8, length: Int(headerLength), field: "header")
        dataStart = 8 + Int(headerLength)
        let dataSize = file.count - dataStart

        let object = try JSONFile.object(Data(headerBytes), file: name, field: "header")

        var metadata: [String: String] = [:]
        var tensors: [String: SafetensorsTensorInfo] = [:]
        for (key, value) in object {
            if key == "__metadata__" {
                guard let dict = value as? [String: Any] else {
                    throw WeightsError(file: name, field: "__metadata__", "must be an object of strings")
                }
                for (k, v) in dict {
                    guard let s = v as? String else {
                        throw WeightsError(file: name, field: "__metadata__.\(k)", "must be a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            tensors[key] = try Self.parseEntry(key, value, file: name, dataSize: dataSize)
        }

        // Tensors may not share bytes: sort by start and compare neighbours.
        let ordered = tensors.values.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.begin < a.end && b.byteCount > 0 && a.byteCount > 0 {
            throw WeightsError(file: name, field: "tensor \"\(b.name)\"",
                               "data_offsets [\(b.begin), \(b.end)] overlap tensor \"\(a.name)\" [\(a.begin), \(a.end)]")
        }
        self.metadata = metadata
        self.tensors = tensors
    }

    private static func parseEntry(_ key: String, _ value: Any, file: String, dataSize: Int) throws -> SafetensorsTensorInfo {
        let field = "tensor \"\(key)\""
        guard let entry = value as? [String: Any] else {
            throw WeightsError(file: file, field: field, "must be an object with dtype, shape and data_offsets")
        }
        guard let dtypeName = entry["dtype"] as? String else {
            throw WeightsError(file: file, field: field + " dtype", "missing or not a string")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw WeightsError(file: file, field: field + " dtype", "unknown dtype \"\(dtypeName)\" (known: \(known))")
        }
        guard let shapeList = entry["shape"] as? [Any] else {
            throw WeightsError(file: file, field: field + " shape", "missing or not an array")
        }
        var shape: [Int] = []
        var elements = 1
        for d in shapeList {
            guard let n = exactInt(d), n >= 0 else {
                throw WeightsError(file: file, field: field + " shape", "\(shapeList) must hold non-negative integers")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: n)
            guard !overflow else { throw WeightsError(file: file, field: field + " shape", "\(shapeList) is too large") }
            shape.append(n)
            elements = product
        }
        guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
              let begin = exactInt(offsets[0]), let end = exactInt(offsets[1]) else {
            throw WeightsError(file: file, field: field + " data_offsets", "missing or not two integers")
        }
        guard begin >= 0, begin <= end else {
            throw WeightsError(file: file, field: field + " data_offsets", "[\(begin), \(end)] is not a sorted, non-negative range")
        }
        guard end <= dataSize else {
            throw WeightsError(file: file, field: field + " data_offsets",
                               "[\(begin), \(end)] out of range (data section is \(dataSize) bytes)")
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, bytes == end - begin else {
            throw WeightsError(file: file, field: field,
                               "shape \(shape) × \(dtype.rawValue) (\(dtype.size) bytes) needs \(overflow ? "too many" : String(bytes)) bytes but data_offsets [\(begin), \(end)] hold \(end - begin)")
        }
        return SafetensorsTensorInfo(name: key, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// Integers only: JSON numbers with a fraction are refused.
    static func exactInt(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let d = number.doubleValue
        guard d == d.rounded(), abs(d) < 9.0e15 else { return nil }
        return number.intValue
    }

    // MARK: access

    /// The header entry of `name`; throws naming the file when there is none.
    public func info(_ name: String) throws -> SafetensorsTensorInfo {
        guard let info = tensors[name] else {
            throw WeightsError(file: mapped.name, field: "tensor \"\(name)\"", "no such tensor (the file has \(tensors.count))")
        }
        return info
    }

    /// The tensor's bytes inside the mapping, as stored (little-endian `dtype`). Valid while `self` lives.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let t = try info(name)
        return try mapped.bytes(at: dataStart + t.begin, length: t.byteCount, field: "tensor \"\(name)\"")
    }

    public func tensorNames() -> [String] { tensors.keys.sorted() }

    /// F32, F16 and BF16 tensors as stored; nil for the integer types.
    public func storedTensor(_ name: String) throws -> StoredTensor? {
        let t = try info(name)
        let type: GGMLType
        switch t.dtype {
        case .F32: type = .F32
        case .F16: type = .F16
        case .BF16: type = .BF16
        default: return nil
        }
        return StoredTensor(type: type, shape: t.shape, bytes: try rawBytes(name))
    }

    public func shape(of name: String) throws -> [Int] { try info(name).shape }

    public func release(_ name: String) {
        if let raw = try? rawBytes(name) { mapped.release(raw) }
    }

    public func readsRows(_ name: String) -> Bool { (try? info(name)) != nil }

    public func readFloatRows(_ name: String, first: Int, count: Int, cols: Int, into out: UnsafeMutablePointer<Float>) throws {
        let t = try info(name)
        let start = try rowRange(try rawBytes(name), name: name, first: first, count: count, rowBytes: cols * t.dtype.size)
        if count > 0 { convertToFloat(t.dtype, start, count: count * cols, into: out) }
    }

    public func tensorLocation(of name: String) -> TensorLocation { TensorLocation(file: mapped.name, name: name) }

    public func readFloats(_ name: String, into out: UnsafeMutablePointer<Float>, count: Int) throws {
        let t = try info(name)
        guard count == t.elementCount else {
            throw WeightsError(file: mapped.name, field: "tensor \"\(name)\"",
                               "caller expects \(count) elements but shape \(t.shape) has \(t.elementCount)")
        }
        let raw = try rawBytes(name)
        if count > 0 { convertToFloat(t.dtype, raw.baseAddress!, count: count, into: out) }
    }
}
