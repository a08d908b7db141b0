import Foundation
import Kernels
import Llama
import TestSupport
import Training

enum TrainingPaths {
    static let fixtures = Repository.url("Tests/Fixtures")
    static let tinyLlama = fixtures.appendingPathComponent("tiny-llama")
    static let lora = fixtures.appendingPathComponent("lora")

    /// A fresh empty folder under the temporary directory.
    static func scratch(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-training-\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The tiny random Llama fixture, loaded once.
enum TinyLlama {
    static let base: LlamaModel = try! LlamaModel.load(directory: TrainingPaths.tinyLlama)
    static var config: LlamaConfig { base.config }
    static var weights: LlamaWeights { base.weights }

    static func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    /// The fixture's reference batch (2 rows of 10, the second right-padded).
    static func referenceBatch() throws -> (TrainingBatch, [String: Any]) {
        let ref = try json(TrainingPaths.tinyLlama.appendingPathComponent("reference.json"))
        let batch = try TrainingBatch(input_ids: ref["input_ids"] as! [[Int]], attention_mask: ref["attention_mask"] as! [[Int]],
                                      labels: ref["labels"] as! [[Int]])
        return (batch, ref)
    }

    /// A LoRA model on the tiny base whose lora_B is seeded non-zero, so every gradient is non-trivial.
    static func model(r: Int = 4, alpha: Double = 8, dropout: Double = 0, targets: [String] = ["all-linear"], seed: UInt64 = 7) throws -> LoraModel {
        let lora = try LoraConfig(r: r, lora_alpha: alpha, lora_dropout: dropout, target_modules: targets, seed: seed)
        let model = try LoraModel(config: config, weights: weights, lora: lora)
        var g = SeededRandom(seed: seed &+ 1000)
        for m in model.adapter.modules { for i in 0..<m.lora_B.count { m.lora_B[i] = 0.05 * g.nextNormal() } }
        return model
    }

    /// Random rows of 3..<maxLen tokens (ids 3..<128), labels = ids.
    static func examples(_ n: Int, maxLen: Int = 14, seed: UInt64 = 3) -> [TokenizedExample] {
        var g = SeededRandom(seed: seed)
        return (0..<n).map { _ in
            let len = 3 + Int(g.next() % UInt64(maxLen - 3))
            let ids = [1] + (1..<len).map { _ in 3 + Int(g.next() % 125) }
            return TokenizedExample(input_ids: ids)
        }
    }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var m: Float = 0
    for i in 0..<a.count { m = max(m, abs(a[i] - b[i])) }
    return m
}

func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }
