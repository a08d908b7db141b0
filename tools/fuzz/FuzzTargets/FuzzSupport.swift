import Foundation
import Llama
import TestSupport

/// Files the targets write their input to: one folder per process, overwritten on every input.
enum Scratch {
    /// `/dev/shm` when there is one (no disk traffic at thousands of inputs a second), else the temporary folder.
    static let root: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm")
                                                                      : FileManager.default.temporaryDirectory
        let url = base.appendingPathComponent("medrepl-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return url
    }()

    /// Writes `bytes` as the file `name` and returns its URL.
    static func file(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let url = root.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// A folder `name` holding exactly `files` (name → bytes).
    static func folder(_ name: String, files: [String: [UInt8]]) throws -> URL {
        let url = root.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (file, bytes) in files { try Data(bytes).write(to: url.appendingPathComponent(file)) }
        return url
    }
}

/// The test fixtures some targets put beside their input (Tests/Fixtures of the checkout).
enum Fixtures {
    static func url(_ path: String) -> URL { Repository.url("Tests/Fixtures").appendingPathComponent(path) }

    nonisolated(unsafe) private static var cache: [String: [UInt8]] = [:]

    /// A fixture's bytes, read once.
    static func bytes(_ path: String) throws -> [UInt8] {
        if let b = cache[path] { return b }
        let b = [UInt8](try Data(contentsOf: url(path)))
        cache[path] = b
        return b
    }

    /// The config of the tiny random Llama the LoRA fixture belongs to.
    static let tinyLlamaConfig: LlamaConfig = try! LlamaConfig.load(from: url("tiny-llama/config.json"))
}

/// Using a config the way `load_model` and `ask` do, when the model is small enough to build quickly.
enum Model {
    /// Weights and activations above this are not built (the estimate and its checks still run).
    static let maxBytes = 8 << 20

    static func exercise(_ config: LlamaConfig, make: () throws -> LlamaModel) throws {
        try config.validate()
        let estimate = config.memoryEstimate(storage: .f32, batch: 1, maxTokens: 8)
        _ = estimate.description
        guard estimate.total <= maxBytes else { return }
        let model = try make()
        let ids = [0, 1, 2, 1].map { $0 % max(config.vocab_size, 1) }
        _ = try model.score(tokens: ids)
        _ = try model.generate(prompt: ids, config: GenerationConfig(max_new_tokens: 3))
    }
}
