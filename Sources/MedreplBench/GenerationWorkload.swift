import Foundation
import Kernels
import Llama
import Tokenizers

/// W3: greedy generation with the KV cache, as `ask`/`generate` run it: the first `--prompt-tokens` tokens
/// of tools/bench/prompt.txt, the same prompt in each of `--batch` rows, exactly `--new-tokens` new tokens.
enum GenerationWorkload {
    /// Options: --model-gguf, --prompt-file, --prompt-tokens (100), --new-tokens (128), --batch (1), --dtype (f32|bf16|f16),
    /// --bf16-products 0|1 (LlamaModel.productPrecision .bf16; 0).
    static func run(_ o: BenchOptions) throws -> [String: Any] {
        let modelURL = URL(fileURLWithPath: o.string("model-gguf", "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
        let storage = try o.storage(.f32)
        let batch = try o.int("batch", 1), newTokens = try o.int("new-tokens", 128), promptTokens = try o.int("prompt-tokens", 100)
        let promptFile = o.string("prompt-file", "tools/bench/prompt.txt")
        guard let text = try? String(contentsOfFile: promptFile, encoding: .utf8) else { throw BenchError("\(promptFile): cannot read the prompt") }

        var start = now()
        let model = try LlamaModel.load(gguf: modelURL, storage: storage)
        // 1: llama.cpp's bf16 arithmetic on a bf16 model (activations rounded to bf16, AVX512-BF16)
        if try o.int("bf16-products", 0) != 0 { model.productPrecision = .bf16 }
        let tokenizer = try loadTokenizer(at: modelURL)
        let loadSeconds = now() - start
        let prompt = Array(tokenizer.encode(text.trimmingCharacters(in: .whitespacesAndNewlines), addSpecialTokens: true).prefix(promptTokens))
        guard prompt.count == promptTokens else { throw BenchError("\(promptFile): only \(prompt.count) tokens, \(promptTokens) needed") }

        // Every row runs to newTokens: no stop token ends it early.
        let config = GenerationConfig(max_new_tokens: newTokens, do_sample: false, stop_at_eos: false)
        var firstToken: Double? = nil
        start = now()
        let replies = try model.generate(prompts: Array(repeating: prompt, count: batch), config: config) { _, _ in
            if firstToken == nil { firstToken = now() }
        }
        let total = now() - start
        let prefill = (firstToken ?? now()) - start
        // The first new token comes out of the prefill step; the other newTokens - 1 are decode steps.
        let decodeSteps = newTokens - 1
        return [
            "dtype": storage.rawValue, "bf16_products": model.productPrecision == .bf16 && WeightMatrix.bf16ProductsAvailable, "batch": batch, "prompt_tokens": prompt.count, "new_tokens": newTokens,
            "load_s": loadSeconds, "prefill_s": prefill, "total_s": total,
            "prompt_tok_s": Double(batch * prompt.count) / prefill,
            "decode_tok_s": Double(batch * decodeSteps) / max(total - prefill, 1e-9),
            "weight_bytes": model.config.memoryEstimate(storage: storage).weights,
            "prompt_ids": prompt, "first_reply_ids": Array(replies[0].tokens.prefix(16)),
        ]
    }
}
