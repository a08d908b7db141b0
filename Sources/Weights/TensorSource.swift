import Kernels

/// Anything that can hand out named tensors, as f32 or as stored: a safetensors file or checkpoint, or a
/// GGUF file seen through Hugging Face names. The Llama loader reads weights through this protocol only.
///
/// Names and shapes are PyTorch's (`model.layers.0.self_attn.q_proj.weight`, `[out, in]`).
///
/// ```swift
/// let source: TensorSource = try SafetensorsCheckpoint(directory: folder)
/// let shape = try source.shape(of: "model.norm.weight")     // [576]
/// let norm = try source.floats("model.norm.weight")
/// ```
public protocol TensorSource: AnyObject {
    /// Every tensor name, sorted.
    func tensorNames() -> [String]
    /// The PyTorch-order shape of `name`; throws if there is no such tensor.
    func shape(of name: String) throws -> [Int]
    /// Converts `name` to f32 into `out`, which must have room for exactly `count` elements
    /// (the product of its shape; a mismatch throws).
    func readFloats(_ name: String, into out: UnsafeMutablePointer<Float>, count: Int) throws
    /// Where `name` is, or would be, in the files being read, in their own words: a GGUF says
    /// `blk.0.attn_q.weight` for `model.layers.0.self_attn.q_proj.weight`. For messages.
    func tensorLocation(of name: String) -> TensorLocation
    /// `name` as its file stores it, for a reader that keeps the weight in its stored type (no round trip
    /// through f32), rows in transformers' order (a llama GGUF's query and key rows come reordered, in a copy);
    /// nil where the source can only convert it (an integer tensor). The default is nil.
    func storedTensor(_ name: String) throws -> StoredTensor?
    /// The type `storedTensor` would hand out, without reading or reordering anything (for memory estimates);
    /// by default that of `storedTensor`.
    func storedType(_ name: String) throws -> GGMLType?
    /// The reader is done with `name` (it holds a copy): a mapped source gives its pages back to the OS, so
    /// loading a model costs its weights in memory, not the weights plus the file. By default nothing.
    func release(_ name: String)
    /// Whether `readFloatRows` can convert part of `name` (rows of its first dimension), so a loader that
    /// converts to another type needs one block of f32 at a time instead of the whole tensor. By default no.
    func readsRows(_ name: String) -> Bool
    /// Rows `first ..< first + count` of `name` (each `cols` values) as f32 into `out`, where `readsRows(name)`.
    func readFloatRows(_ name: String, first: Int, count: Int, cols: Int, into out: UnsafeMutablePointer<Float>) throws
}

/// A tensor as its file stores it: the element type in ggml's vocabulary (F32, F16, BF16, or a block type
/// such as Q8_0 or Q4_1), the PyTorch-order shape, and the bytes, rows of the first dimension one after the
/// other. The bytes live in the source's mapping: valid while the source does.
///
/// ```swift
/// if let w = try source.storedTensor("model.layers.0.mlp.up_proj.weight") {
///     print(w.type, w.shape, w.bytes.count)     // BF16 [1536, 576] 1769472
/// }
/// ```
public struct StoredTensor {
    public var type: GGMLType
    public var shape: [Int]
    public var bytes: UnsafeRawBufferPointer
    /// What keeps `bytes` alive when they are not the source's own (a reordered copy); nil for a mapping.
    public var owner: AnyObject?

    public init(type: GGMLType, shape: [Int], bytes: UnsafeRawBufferPointer, owner: AnyObject? = nil) {
        self.type = type; self.shape = shape; self.bytes = bytes; self.owner = owner
    }
}

/// Bytes allocated for a `StoredTensor` that is a copy, freed with it.
public final class OwnedBytes {
    public let buffer: UnsafeMutableRawBufferPointer
    public init(count: Int) { buffer = .allocate(byteCount: Swift.max(count, 1), alignment: 64) }
    deinit { buffer.deallocate() }
}

/// A tensor as a message names it: the file, and the tensor's name and shape as that file writes them.
///
/// ```swift
/// let where_ = gguf.tensorLocation(of: "model.layers.0.self_attn.q_proj.weight")
/// print("\(where_) is missing")           // model.gguf: tensor 'blk.0.attn_q.weight' is missing
/// print(where_.shapeWord, where_.inFileOrder([576, 192]))   // dims [192, 576]
/// ```
public struct TensorLocation: Sendable, Equatable, CustomStringConvertible {
    /// The file (its name, or the index of a sharded checkpoint).
    public var file: String
    /// The tensor's name in that file.
    public var name: String
    /// The file lists dimensions fastest-varying first, the reverse of PyTorch's shape (GGUF's `ne`).
    public var reversedDimensions: Bool

    public init(file: String, name: String, reversedDimensions: Bool = false) {
        self.file = file; self.name = name; self.reversedDimensions = reversedDimensions
    }

    public var description: String { "\(file): tensor '\(name)'" }

    /// What the file calls a tensor's extent: `shape`, or a GGUF's `dims`.
    public var shapeWord: String { reversedDimensions ? "dims" : "shape" }

    /// A PyTorch-order shape in the file's order: `[32, 64]` stays, a GGUF writes `[64, 32]`.
    public func inFileOrder(_ pytorchShape: [Int]) -> [Int] { reversedDimensions ? pytorchShape.reversed() : pytorchShape }
}

extension TensorSource {
    /// The tensor `name` as f32, in row-major PyTorch order.
    public func floats(_ name: String) throws -> [Float] {
        let n = try shape(of: name).reduce(1, *)
        if n == 0 { return [] }
        var values = [Float](repeating: 0, count: n)
        try values.withUnsafeMutableBufferPointer { try readFloats(name, into: $0.baseAddress!, count: n) }
        return values
    }

    /// Total elements over every tensor (for the memory check before loading; tied embeddings count once).
    ///
    /// ```swift
    /// try WeightMemory.check(parameters: source.parameterCount(), storage: .bf16, what: "SmolLM2")
    /// ```
    public func parameterCount() -> Int {
        tensorNames().reduce(0) { $0 + ((try? shape(of: $1).reduce(1, *)) ?? 0) }
    }

    /// Whether the source has a tensor called `name`.
    public func contains(_ name: String) -> Bool { (try? shape(of: name)) != nil }

    public func storedTensor(_ name: String) throws -> StoredTensor? { nil }

    public func storedType(_ name: String) throws -> GGMLType? { try storedTensor(name)?.type }

    public func release(_ name: String) {}

    public func readsRows(_ name: String) -> Bool { false }

    public func readFloatRows(_ name: String, first: Int, count: Int, cols: Int, into out: UnsafeMutablePointer<Float>) throws {
        throw WeightsError(file: tensorLocation(of: name).file, field: "tensor \"\(name)\"", "this source reads whole tensors only")
    }

    /// The bytes of rows `first ..< first + count` of a stored tensor whose rows take `rowBytes` each,
    /// after checking they lie inside it (for `readFloatRows`).
    func rowRange(_ raw: UnsafeRawBufferPointer, name: String, first: Int, count: Int, rowBytes: Int) throws -> UnsafeRawPointer {
        guard first >= 0, count >= 0, rowBytes > 0, (first + count) * rowBytes <= raw.count, let base = raw.baseAddress else {
            throw WeightsError(file: tensorLocation(of: name).file, field: "tensor \"\(name)\"",
                               "rows \(first)..<\(first + count) of \(rowBytes) bytes each are outside its \(raw.count) bytes")
        }
        return base + first * rowBytes
    }
}

extension StorageType {
    /// The ggml element type of this storage (F32, BF16, F16, Q8_0, Q4_0, Q4_1).
    public var ggmlType: GGMLType {
        switch self {
        case .f32: return .F32
        case .bf16: return .BF16
        case .f16: return .F16
        case .q8_0: return .Q8_0
        case .q4_0: return .Q4_0
        case .q4_1: return .Q4_1
        }
    }

    /// The storage that keeps a ggml type as it is, or nil for a type medrepl does not keep (Q6_K, ...).
    public init?(keeping type: GGMLType) {
        guard let kept = StorageType.allCases.first(where: { $0.ggmlType == type }) else { return nil }
        self = kept
    }
}

extension WeightMatrix {
    /// `stored` kept as it is when it already is in `storage`'s type, so a bf16 checkpoint loaded as bf16 is one
    /// copy and no conversion; nil when the types differ (the caller converts through f32).
    ///
    /// ```swift
    /// let w = try source.storedTensor(name).flatMap { WeightMatrix(rows: 1536, cols: 576, stored: $0, storage: .bf16) }
    /// ```
    public convenience init?(rows: Int, cols: Int, stored: StoredTensor, storage: StorageType) {
        guard stored.type == storage.ggmlType, stored.bytes.count == storage.bytes(rows * cols),
              let bytes = stored.bytes.baseAddress else { return nil }
        self.init(rows: rows, cols: cols, storage: storage, copying: bytes)
    }
}
