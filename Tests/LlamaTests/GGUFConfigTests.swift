import Foundation
import Llama
import TestSupport
import Testing
import Weights

/// A GGUF's `llama.*` metadata is read once, by `LlamaConfig(gguf:)` (the weights module reads only the head
/// counts it needs to un-permute the query and key rows).
@Suite struct GGUFConfigTests {
    @Test func theWeightsFixtureFile() throws {
        let url = Repository.url("Tests/WeightsTests/Fixtures/quants.gguf")
        let c = try LlamaConfig(gguf: GGUFFile(url: url))
        #expect(c.hidden_size == 16 && c.num_hidden_layers == 1 && c.intermediate_size == 32)
        #expect(c.num_attention_heads == 4 && c.num_key_value_heads == 2 && c.head_dim == 4)
        #expect(c.rms_norm_eps == 1e-5 && c.rope_theta == 10000 && c.max_position_embeddings == 64 && c.vocab_size == 5)
        #expect(try GGUFLlamaTensorSource(file: GGUFFile(url: url)).heads == (query: 4, keyValue: 2))
    }

    @Test func smolLM2() throws {
        guard let url = Repository.smolLM2 else {
            print("skipped: \(Repository.smolLM2Absent)")
            return
        }
        let c = try LlamaConfig(gguf: GGUFFile(url: url))
        #expect(c.num_hidden_layers == 30 && c.hidden_size == 576 && c.intermediate_size == 1536)
        #expect(c.num_attention_heads == 9 && c.num_key_value_heads == 3 && c.head_dim == 64 && c.vocab_size == 49152)
        #expect(c == LlamaConfig.smolLM2_135M)
    }
}
