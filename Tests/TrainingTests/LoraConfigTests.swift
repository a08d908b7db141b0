import Foundation
import Testing
import Llama
import Training

struct LoraConfigTests {
    static let notebookModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

    @Test func tinyLlamaTrainableLineMatchesPeft() throws {
        var c = LlamaConfig(vocab_size: 32000, hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22,
                            num_attention_heads: 32, num_key_value_heads: 4)
        c.tie_word_embeddings = false
        let lora = try LoraConfig(r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: Self.notebookModules)
        #expect(try lora.trainableParametersLine(config: c)
                == "trainable params: 12,615,680 || all params: 1,112,664,064 || trainable%: 1.1338")
    }

    @Test func smolLM2TrainableLineMatchesPeft() throws {
        var c = LlamaConfig(vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
                            num_attention_heads: 9, num_key_value_heads: 3)
        c.tie_word_embeddings = true
        let lora = try LoraConfig(r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: Self.notebookModules)
        #expect(try lora.trainableParametersLine(config: c)
                == "trainable params: 4,884,480 || all params: 139,399,488 || trainable%: 3.5039")
        // all-linear is the same seven modules (lm_head excluded), and the adapter allocates exactly that many
        let all = try LoraConfig(r: 16, lora_alpha: 32, target_modules: ["all-linear"])
        #expect(try all.trainableParameterCount(config: c) == 4_884_480)
    }

    @Test func adapterParameterCountEqualsTheLine() throws {
        let lora = try LoraConfig(r: 4, lora_alpha: 8, target_modules: ["q_proj", "self_attn.v_proj", "down_proj"])
        let adapter = try LoraAdapter(config: lora, model: TinyLlama.config)
        #expect(adapter.targets == [.q_proj, .v_proj, .down_proj])
        #expect(adapter.parameterCount == (try lora.trainableParameterCount(config: TinyLlama.config)))
        // 2 layers × 4 × ((64 + 64) + (64 + 32) + (176 + 64))
        #expect(adapter.parameterCount == 2 * 4 * (128 + 96 + 240))
    }

    @Test func scalingIsAlphaOverROrOverSqrtR() throws {
        #expect(try LoraConfig(r: 16, lora_alpha: 32).scaling == 2)
        #expect(try LoraConfig(r: 16, lora_alpha: 32, use_rslora: true).scaling == 8)
    }

    @Test func initialisationIsPeftsKaimingUniformAndZeroB() throws {
        let lora = try LoraConfig(r: 8, lora_alpha: 16, target_modules: ["all-linear"], seed: 5)
        let a = try LoraAdapter(config: lora, model: TinyLlama.config)
        for m in a.modules {
            let bound = 1 / Float(m.inFeatures).squareRoot()
            let values = m.lora_A.array
            #expect(values.allSatisfy { abs($0) <= bound })
            #expect(maxAbs(values) > 0.9 * bound)            // fills the interval
            #expect(m.lora_B.array.allSatisfy { $0 == 0 })
        }
        // seeded: the same seed gives the same A, another seed another A
        let b = try LoraAdapter(config: lora, model: TinyLlama.config)
        #expect(a.modules[3].lora_A.array == b.modules[3].lora_A.array)
        let c = try LoraAdapter(config: try LoraConfig(r: 8, lora_alpha: 16, target_modules: ["all-linear"], seed: 6), model: TinyLlama.config)
        #expect(a.modules[3].lora_A.array != c.modules[3].lora_A.array)
    }

    @Test func badConfigurationsAreClearErrors() {
        #expect(throws: LoraError.self) { try LoraConfig(r: 0, lora_alpha: 8) }
        #expect(throws: LoraError.self) { try LoraConfig(r: -4, lora_alpha: 8) }
        do {
            _ = try LoraConfig(r: 8, target_modules: ["q_proj", "qkv_proj"])
            Issue.record("a target matching no module was accepted")
        } catch {
            #expect("\(error)".contains("qkv_proj"))
        }
        #expect(throws: LoraError.self) { try LoraConfig(r: 8, bias: "all") }
        #expect(throws: LoraError.self) { try LoraConfig(r: 8, lora_dropout: 1) }
    }
}
