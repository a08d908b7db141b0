import Foundation
import Testing
import Kernels
import Llama
import Weights

// The storage seam: a weight already in the storage type asked for is copied as its file stores it, never
// through f32 (`TensorSource.storedTensor`), and gives the same model as the conversion path.

/// A source that hands out what `inner` does, counting the tensors read as f32.
final class CountingSource: TensorSource {
    let inner: any TensorSource
    let stored: Bool
    var floatReads: [String] = []

    init(_ inner: any TensorSource, stored: Bool) { self.inner = inner; self.stored = stored }

    func tensorNames() -> [String] { inner.tensorNames() }
    func shape(of name: String) throws -> [Int] { try inner.shape(of: name) }
    func tensorLocation(of name: String) -> TensorLocation { inner.tensorLocation(of: name) }
    func readFloats(_ name: String, into out: UnsafeMutablePointer<Float>, count: Int) throws {
        floatReads.append(name)
        try inner.readFloats(name, into: out, count: count)
    }
    func storedTensor(_ name: String) throws -> StoredTensor? { stored ? try inner.storedTensor(name) : nil }
}

@Suite struct StoredWeightsTests {
    /// tiny-llama written as a BF16 checkpoint, in a fresh folder.
    static func bf16Checkpoint() throws -> (TinyFixture, URL)? {
        guard let f = try TinyFixture.load("tiny-llama") else { return nil }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-bf16-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var writer = SafetensorsWriter()
        for (name, t) in f.tensors.tensors { try writer.add(name, shape: t.shape, floats: t.values, as: .BF16) }
        let file = dir.appendingPathComponent("model.safetensors")
        try writer.write(to: file)
        return (f, file)
    }

    @Test func bf16WeightsLoadedAsBF16AreCopiedAsStored() throws {
        guard let (f, file) = try Self.bf16Checkpoint() else { print("skipped: fixture tiny-llama absent"); return }
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let kept = CountingSource(try SafetensorsFile(url: file), stored: true)
        let converted = CountingSource(try SafetensorsFile(url: file), stored: false)
        let a = try LlamaWeights(config: f.config, source: kept, storage: .bf16)
        let b = try LlamaWeights(config: f.config, source: converted, storage: .bf16)
        // only the norms went through f32 on the stored path; every tensor on the other
        #expect(kept.floatReads.allSatisfy { $0.hasSuffix("norm.weight") } && kept.floatReads.count == 2 * 2 + 1)
        #expect(converted.floatReads.count == f.tensors.tensors.count)
        // and the two paths give the same bits
        let pairs = zip(a.model.layers, b.model.layers).flatMap { zip($0.projections.map(\.weight), $1.projections.map(\.weight)) }
            + [(a.model.embed_tokens, b.model.embed_tokens), (a.output, b.output)]
        for (x, y) in pairs {
            #expect(x.storage == .bf16 && Array(UnsafeBufferPointer(start: x.half, count: x.rows * x.cols))
                    == Array(UnsafeBufferPointer(start: y.half, count: y.rows * y.cols)))
        }
        // a storage other than the file's converts: f32 from bf16 reads every tensor as f32
        let widened = CountingSource(try SafetensorsFile(url: file), stored: true)
        _ = try LlamaWeights(config: f.config, source: widened, storage: .f32)
        #expect(widened.floatReads.count == f.tensors.tensors.count)
    }

    /// A GGUF's tensors are handed out in their GGML type; a llama file's permuted query and key rows as a copy in
    /// transformers' row order, the same values `readFloats` un-permutes.
    @Test func ggufTensorsAreStoredWithQueryAndKeyRowsReordered() throws {
        let llama = try GGUFLlamaTensorSource(file: GGUFFile(url: TestPaths.fixtures.appendingPathComponent("tiny-llama3-rope-gguf/model.gguf")))
        for name in ["model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight"] {
            let stored = try #require(try llama.storedTensor(name))
            #expect(stored.type == .F32 && stored.owner != nil)
            #expect(Array(stored.bytes.bindMemory(to: Float.self)) == (try llama.floats(name)), "\(name)")
        }
        let v = try #require(try llama.storedTensor("model.layers.0.self_attn.v_proj.weight"))
        #expect(v.type == .F32 && v.shape == [32, 64] && v.bytes.count == 32 * 64 * 4)
        let qwen2 = try GGUFLlamaTensorSource(file: GGUFFile(url: TestPaths.fixtures.appendingPathComponent("tiny-qwen2/model.gguf")))
        let q = try #require(try qwen2.storedTensor("model.layers.0.self_attn.q_proj.weight"))
        #expect(q.type == .F32 && q.shape == [64, 64])
    }
}
