import Foundation
import Testing
import Llama
import Kernels
import TestSupport
import Tokenizers

// SmolLM2-135M-Instruct loaded from the Q4_1 GGUF (dequantized to f32), against transformers loading
// the same file: last-position logits over the whole vocabulary, a 512-id slice at every prompt
// position, and the 32-token greedy continuation of two ChatML medical prompts.

struct SmolLM2Reference {
    let texts: [String]
    let inputIds: [[Int]]
    let greedyIds: [[Int]]
    let greedyTexts: [String]
    let lastLogits: [[Float]]        // [2][V]
    let logitsSlice: [[Float]]       // [2][T * 512]
    static let sliceVocab = 512

    static func load() throws -> SmolLM2Reference? {
        let dir = TestPaths.fixtures.appendingPathComponent("smollm2")
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("reference.json").path) else { return nil }
        let ref = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("reference.json"))) as! [String: Any]
        let prompts = ref["prompts"] as! [[String: Any]]
        let tensors = try readTestSafetensors(dir.appendingPathComponent("logits.safetensors"))
        return SmolLM2Reference(texts: prompts.map { $0["text"] as! String },
                                inputIds: prompts.map { $0["input_ids"] as! [Int] },
                                greedyIds: prompts.map { $0["greedy_ids"] as! [Int] },
                                greedyTexts: prompts.map { $0["greedy_text"] as! String },
                                lastLogits: (0..<2).map { tensors.tensors["prompt\($0).last_logits"]!.values },
                                logitsSlice: (0..<2).map { tensors.tensors["prompt\($0).logits_slice"]!.values })
    }
}

@Suite(.serialized) struct SmolLM2ParityTests {
    func setUp() throws -> (LlamaModel, SmolLM2Reference)? {
        guard let url = Repository.smolLM2 else {
            print("skipped: \(Repository.smolLM2Absent)"); return nil
        }
        guard let ref = try SmolLM2Reference.load() else { print("skipped: Tests/Fixtures/smollm2 absent"); return nil }
        return (try LlamaModel.load(gguf: url, storage: .f32), ref)
    }

    @Test func logitsAndGreedyContinuationMatchTransformers() throws {
        guard let (model, ref) = try setUp() else { return }
        #expect(model.config == LlamaConfig.smolLM2_135M)
        // both prompts in one right-padded batch
        let T = ref.inputIds.map(\.count).max()!
        let ids = ref.inputIds.map { $0 + [Int](repeating: 2, count: T - $0.count) }
        let mask = ref.inputIds.map { [Int](repeating: 1, count: $0.count) + [Int](repeating: 0, count: T - $0.count) }
        let logits = try model.forward(inputIds: ids, attentionMask: mask)
        let S = SmolLM2Reference.sliceVocab
        for p in 0..<2 {
            let n = ref.inputIds[p].count
            let last = maxAbsDiff(logits[p, n - 1], ref.lastLogits[p])
            var slice: Float = 0
            for t in 0..<n { slice = max(slice, maxAbsDiff(logits[p, t].prefix(S), ref.logitsSlice[p][(t * S)..<((t + 1) * S)])) }
            print("SmolLM2 f32 prompt \(p): last logits max-abs \(last), all-position slice max-abs \(slice)")
            #expect(last < 5e-3)
            #expect(slice < 5e-3)
        }
        let replies = try model.generate(prompts: ref.inputIds, config: GenerationConfig(max_new_tokens: 32))
        for p in 0..<2 {
            #expect(replies[p].tokens == ref.greedyIds[p])
        }
        // the same through text: the GGUF's tokenizer, streaming
        let tokenizer = try loadTokenizer(gguf: Repository.smolLM2!)
        var streamed = ""
        let reply = try model.generate(text: ref.texts[1], tokenizer: tokenizer, config: GenerationConfig(max_new_tokens: 32)) {
            streamed += $0
        }
        #expect(reply.generation.tokens == ref.greedyIds[1])
        #expect(reply.text == ref.greedyTexts[1])
        #expect(streamed == ref.greedyTexts[1])
    }

    /// bf16 weights: the logits move by a few hundredths (documented tolerance 0.25 max-abs on logits
    /// that span about ±30; 0.13 measured), and the greedy reply starts the same way.
    @Test func bf16StaysClose() throws {
        guard let url = Repository.smolLM2, let ref = try SmolLM2Reference.load() else {
            print("skipped: SmolLM2 GGUF or fixture absent"); return
        }
        let model = try LlamaModel.load(gguf: url, storage: .bf16)
        let logits = try model.forward(inputIds: [ref.inputIds[0]])
        let diff = maxAbsDiff(logits[0, ref.inputIds[0].count - 1], ref.lastLogits[0])
        print("SmolLM2 bf16 prompt 0: last logits max-abs \(diff)")
        #expect(diff < 0.25)
        let reply = try model.generate(prompt: ref.inputIds[0], config: GenerationConfig(max_new_tokens: 8))
        #expect(reply.tokens == Array(ref.greedyIds[0].prefix(8)))
    }
}
