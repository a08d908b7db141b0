import Foundation

/// A Hugging Face checkpoint as one `TensorSource`: either a single `model.safetensors`, or the shards
/// listed by `model.safetensors.index.json` (`{"metadata": {...}, "weight_map": {"tensor": "shard file"}}`).
///
/// Each shard is memory-mapped once; the index is checked against the shards (every listed tensor
/// must exist in its shard).
///
/// ```swift
/// let ckpt = try SafetensorsCheckpoint(directory: URL(fileURLWithPath: "TinyLlama-1.1B-Chat-v1.0"))
/// for name in ckpt.tensorNames() { print(name, try ckpt.shape(of: name)) }
/// ```
public final class SafetensorsCheckpoint: TensorSource, @unchecked Sendable {
    /// The shards, in the order of their file names.
    public let files: [SafetensorsFile]
    /// Tensor name → index into `files`.
    public let location: [String: Int]
    /// The index file, when the checkpoint is sharded.
    public let indexURL: URL?

    /// The index file name Hugging Face uses.
    public static let indexName = "model.safetensors.index.json"

    /// A single file.
    public init(file url: URL) throws {
        let file = try SafetensorsFile(url: url)
        files = [file]
        location = Dictionary(uniqueKeysWithValues: file.tensors.keys.map { ($0, 0) })
        indexURL = nil
    }

    /// Several files whose tensor names must not repeat (no index needed).
    public init(files urls: [URL]) throws {
        var files: [SafetensorsFile] = []
        var location: [String: Int] = [:]
        for url in urls.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) {
            let file = try SafetensorsFile(url: url)
            for name in file.tensors.keys {
                if let other = location[name] {
                    throw WeightsError(file: url.lastPathComponent, field: "tensor \"\(name)\"",
                                       "also present in \(files[other].url.lastPathComponent)")
                }
                location[name] = files.count
            }
            files.append(file)
        }
        self.files = files
        self.location = location
        indexURL = nil
    }

    /// The shards named by a `model.safetensors.index.json`, looked up beside it.
    public init(index url: URL) throws {
        let name = url.lastPathComponent
        let object = try JSONFile.object(try JSONFile.read(url), file: name)
        guard let map = object["weight_map"] as? [String: Any] else {
            throw WeightsError(file: name, field: "weight_map", "missing or not an object of tensor → file")
        }
        let directory = url.deletingLastPathComponent()
        var shardIndex: [String: Int] = [:]
        var files: [SafetensorsFile] = []
        var location: [String: Int] = [:]
        for (tensor, value) in map.sorted(by: { $0.key < $1.key }) {
            guard let shard = value as? String, !shard.isEmpty, !shard.contains("/"), shard != ".." else {
                throw WeightsError(file: name, field: "weight_map.\(tensor)", "must be a file name in the same folder")
            }
            if shardIndex[shard] == nil {
                let shardURL = directory.appendingPathComponent(shard)
                guard FileManager.default.fileExists(atPath: shardURL.path) else {
                    throw WeightsError(file: name, field: "weight_map.\(tensor)", "shard \(shard) is missing from \(directory.path)")
                }
                shardIndex[shard] = files.count
                files.append(try SafetensorsFile(url: shardURL))
            }
            let i = shardIndex[shard]!
            guard files[i].tensors[tensor] != nil else {
                throw WeightsError(file: name, field: "weight_map.\(tensor)", "tensor not found in shard \(shard)")
            }
            location[tensor] = i
        }
        self.files = files
        self.location = location
        indexURL = url
    }

    /// The checkpoint in a model folder: the index when there is one, else `model.safetensors`,
    /// else every `*.safetensors` file.
    public convenience init(directory: URL) throws {
        let index = directory.appendingPathComponent(Self.indexName)
        let single = directory.appendingPathComponent("model.safetensors")
        let fm = FileManager.default
        if fm.fileExists(atPath: index.path) {
            try self.init(index: index)
        } else if fm.fileExists(atPath: single.path) {
            try self.init(file: single)
        } else {
            let all = ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? [])
                .filter { $0.hasSuffix(".safetensors") }
                .map { directory.appendingPathComponent($0) }
            guard !all.isEmpty else {
                throw WeightsError(file: directory.path, "no model.safetensors, \(Self.indexName) or *.safetensors file")
            }
            try self.init(files: all)
        }
    }

    /// The file holding `name` and its header entry.
    public func locate(_ name: String) throws -> (file: SafetensorsFile, info: SafetensorsTensorInfo) {
        guard let i = location[name] else {
            throw WeightsError(file: tensorLocation(of: name).file, field: "tensor \"\(name)\"", "no such tensor in the checkpoint")
        }
        return (files[i], try files[i].info(name))
    }

    /// The `__metadata__` of the first shard (Hugging Face writes `{"format": "pt"}`).
    public var metadata: [String: String] { files.first?.metadata ?? [:] }

    public func tensorNames() -> [String] { location.keys.sorted() }

    public func storedTensor(_ name: String) throws -> StoredTensor? { try locate(name).file.storedTensor(name) }

    public func release(_ name: String) { (try? locate(name))?.file.release(name) }

    public func readsRows(_ name: String) -> Bool { (try? locate(name))?.file.readsRows(name) ?? false }

    public func readFloatRows(_ name: String, first: Int, count: Int, cols: Int, into out: UnsafeMutablePointer<Float>) throws {
        try locate(name).file.readFloatRows(name, first: first, count: count, cols: cols, into: out)
    }

    public func shape(of name: String) throws -> [Int] { try locate(name).info.shape }

    /// The shard holding `name`; for a tensor that is nowhere, the index (or the files) that should list it.
    public func tensorLocation(of name: String) -> TensorLocation {
        if let i = location[name] { return TensorLocation(file: files[i].url.lastPathComponent, name: name) }
        return TensorLocation(file: indexURL?.lastPathComponent ?? files.map(\.url.lastPathComponent).joined(separator: ", "), name: name)
    }

    public func readFloats(_ name: String, into out: UnsafeMutablePointer<Float>, count: Int) throws {
        try locate(name).file.readFloats(name, into: out, count: count)
    }
}
