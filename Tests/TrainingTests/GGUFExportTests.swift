import Foundation
import Testing
import Kernels
import Llama
import Training

/// A merged export of a model loaded from a Llama-3-style GGUF (rope scaling as `rope_freqs.weight`):
/// its config.json carries the llama3 `rope_scaling` behind the divisors, so the exported folder gives
/// the same logits as the GGUF; divisors that no llama3 parameters explain refuse the export.
@Suite struct GGUFExportTests {
    static let gguf = TrainingPaths.fixtures.appendingPathComponent("tiny-llama3-rope-gguf/model.gguf")

    @Test func exportFromALlama3GGUFKeepsTheRopeScaling() throws {
        guard FileManager.default.fileExists(atPath: Self.gguf.path) else { print("skipped: tiny-llama3-rope-gguf fixture absent"); return }
        let base = try LlamaModel.load(gguf: Self.gguf)
        let ids = [[1, 17, 99, 5, 64, 3, 120, 42, 8, 77, 31, 2, 90, 15, 60, 7]]
        let expected = try base.forward(inputIds: ids).values
        let dir = TrainingPaths.scratch("gguf-export")
        defer { try? FileManager.default.removeItem(at: dir) }
        let zero = try LoraModel(base: base, lora: LoraConfig(r: 1, lora_alpha: 1, target_modules: ["q_proj"]))
        try zero.exportMerged(to: dir)
        let exported = try LlamaModel.load(directory: dir)
        #expect(exported.config.rope_scaling == RopeScaling(rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4,
                                                            original_max_position_embeddings: 64))
        #expect(exported.config.rope_freq_factors == nil)
        #expect(maxAbsDiff(try exported.forward(inputIds: ids).values, expected) < 1e-5)

        // Divisors with no llama3 parameters behind them cannot be written as config.json.
        var odd = base.config
        odd.rope_scaling = nil
        odd.rope_freq_factors = [1, 3, 1, 3, 1, 3, 1, 3]
        let strange = try LoraModel(base: LlamaModel(config: odd, weights: base.weights, storage: .f32),
                                    lora: LoraConfig(r: 1, lora_alpha: 1, target_modules: ["q_proj"]))
        let refused = TrainingPaths.scratch("gguf-export-refused")
        defer { try? FileManager.default.removeItem(at: refused) }
        #expect(throws: LoraError.self) { try strange.exportMerged(to: refused) }
        #expect(!FileManager.default.fileExists(atPath: refused.appendingPathComponent("model.safetensors").path))
    }
}
