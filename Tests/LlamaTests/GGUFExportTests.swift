import Foundation
import Testing
import Kernels
import Llama
import Weights

// Writing a model as a GGUF file (`LlamaWeights.ggufWriter`, what `export_model ... format=gguf` writes), against
// the files the fixture script wrote with gguf-py as llama.cpp's converter does (tiny-llama3-rope-gguf: query and
// key rows permuted, rope_freqs.weight; tiny-qwen2: biases, no permutation), and read back by the loader.

@Suite struct GGUFExportTests {
    static func temporaryFile(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-gguf-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name)
    }

    /// Every tensor of gguf-py's file is in ours with the same name, type, dims and bytes, and every `<arch>.*`
    /// number in its metadata has the same value in ours.
    @Test(arguments: [("tiny-llama3-rope", "tiny-llama3-rope-gguf"), ("tiny-qwen2", "tiny-qwen2")])
    func f32ExportEqualsTheConvertersFile(folder: String, ggufFolder: String) throws {
        guard let f = try TinyFixture.load(folder) else { print("skipped: fixture \(folder) absent"); return }
        let model = try LlamaModel.load(directory: f.directory, storage: .f32)
        let url = try Self.temporaryFile("model.gguf")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try model.weights.ggufWriter(config: model.config, storage: nil, name: folder).write(to: url)
        let ours = try GGUFFile(url: url)
        let reference = try GGUFFile(url: TestPaths.fixtures.appendingPathComponent(ggufFolder).appendingPathComponent("model.gguf"))
        #expect(Set(ours.tensorInfos.map(\.name)) == Set(reference.tensorInfos.map(\.name)))
        for info in reference.tensorInfos {
            let mine = try ours.tensor(info.name)
            #expect(mine.type == info.type && mine.dims == info.dims, "\(info.name): \(mine.type) \(mine.dims), expected \(info.type) \(info.dims)")
            #expect(Array(try ours.rawBytes(info.name)) == Array(try reference.rawBytes(info.name)), "\(info.name): bytes differ")
        }
        let arch = model.config.architecture.modelType
        for key in reference.metadataKeys where key.hasPrefix(arch + ".") || key == "general.architecture" {
            let expected = reference.metadata[key]!
            let found = ours.metadata[key]
            #expect(found?.string == expected.string && found?.double == expected.double, "\(key): \(String(describing: found)), expected \(expected)")
        }
    }

    /// Written and loaded back, in every storage type: the config is the same, and the logits are those of the
    /// model kept in that type in memory, bit for bit (the same bytes).
    @Test(arguments: TinyFixture.names)
    func exportedModelLoadsBackAsTheSameModel(name: String) throws {
        guard let f = try TinyFixture.load(name) else { print("skipped: fixture \(name) absent"); return }
        let model = try LlamaModel.load(directory: f.directory, storage: .f32)
        for storage in StorageType.allCases {
            let url = try Self.temporaryFile("model-\(storage).gguf")
            defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
            try model.weights.ggufWriter(config: model.config, storage: storage, name: name).write(to: url)
            let back = try LlamaModel.load(gguf: url, keepStored: true)
            var config = back.config
            config.torch_dtype = model.config.torch_dtype
            config.rope_freq_factors = model.config.rope_freq_factors
            #expect(config == model.config, "\(name) \(storage): config read back differs")
            // (the config read back: a GGUF carries Llama-3 rope scaling as divisors, which the model then uses as stored)
            let kept = try LlamaModel(config: back.config, source: f.tensors, storage: storage)
            #expect(back.weights.storageDescription == kept.weights.storageDescription, "\(name) \(storage): \(back.weights.storageDescription)")
            let a = try back.forward(inputIds: f.inputIds, attentionMask: f.attentionMask)
            let b = try kept.forward(inputIds: f.inputIds, attentionMask: f.attentionMask)
            let diff = maxAbsDiff(a.values, b.values)
            #expect(diff == 0, "\(name) \(storage): logits differ by \(diff)")
        }
    }
}
