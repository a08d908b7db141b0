import Foundation
import Llama
import Kernels
import Weights
import TestSupport

// Finding fixtures and reading the small safetensors files the fixture script writes.

enum TestPaths {
    static let fixtures = Repository.url("Tests/Fixtures")
}

/// A minimal reader of F32 safetensors files, enough for the test fixtures (independent of the Weights module's
/// reader, which the loaders use): the tensors in memory.
func readTestSafetensors(_ url: URL) throws -> InMemoryTensors {
    var tensors: [String: (shape: [Int], values: [Float])] = [:]
    let data = try Data(contentsOf: url)
    let headerLength = data.prefix(8).withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self).littleEndian) }
    let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
    let base = 8 + headerLength
    for (name, info) in header where name != "__metadata__" {
        let info = info as! [String: Any]
        precondition(info["dtype"] as! String == "F32", "test reader handles F32 only")
        let shape = (info["shape"] as! [Int])
        let offsets = info["data_offsets"] as! [Int]
        let bytes = data.subdata(in: (base + offsets[0])..<(base + offsets[1]))
        let values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        tensors[name] = (shape, values)
    }
    return InMemoryTensors(shaped: tensors)
}

/// One tiny-model fixture: an HF folder plus reference.json made by transformers.
struct TinyFixture {
    let name: String
    let directory: URL
    let config: LlamaConfig
    let tensors: InMemoryTensors
    let inputIds: [[Int]]
    let attentionMask: [[Int]]
    let labels: [[Int]]
    let logits: [Float]        // [B, T, V] flattened
    let loss: Float

    /// The Llamas (untied, tied, llama3 rope) and a Llama-like architecture (Qwen2: biased q, k, v).
    static let names = ["tiny-llama", "tiny-llama-tied", "tiny-llama3-rope", "tiny-qwen2"]

    /// nil when the fixture folder is absent.
    static func load(_ name: String) throws -> TinyFixture? {
        let dir = TestPaths.fixtures.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("reference.json").path) else { return nil }
        let config = try LlamaConfig.load(from: dir.appendingPathComponent("config.json"))
        let tensors = try readTestSafetensors(dir.appendingPathComponent("model.safetensors"))
        let ref = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("reference.json"))) as! [String: Any]
        let logits = (ref["logits"] as! [[[Double]]]).flatMap { $0.flatMap { $0.map(Float.init) } }
        return TinyFixture(name: name, directory: dir, config: config, tensors: tensors,
                           inputIds: ref["input_ids"] as! [[Int]],
                           attentionMask: ref["attention_mask"] as! [[Int]],
                           labels: ref["labels"] as! [[Int]],
                           logits: logits, loss: Float(ref["loss"] as! Double))
    }
}

func maxAbsDiff<A: Collection, B: Collection>(_ a: A, _ b: B) -> Float where A.Element == Float, B.Element == Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
}
