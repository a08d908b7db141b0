import Foundation
import Kernels
import Llama
import Tokenizers

/// W3: greedy generation with the KV cache, as `ask`/`generate` run it: the first `--prompt-tokens` tokens
/// of tools/bench/prompt.txt, the same prompt in each of `--batch` rows, exactly `--new-tokens` new tokens.
enum GenerationWorkload {
    /// Options: --model-gguf, --prompt-file, --prompt-tokens (100), --new-tokens (128), --batch (1), --dtype (f32|bf16|f16|q8_0|q4_0|q4_1|keep),
    /// --bf16-products 0|1 (LlamaModel.productPrecision .bf16; 0).
    static func run(_ o: BenchOptions) throws -> [String: Any] {
        let modelURL = URL(fileURLWithPath: o.string("model-gguf", "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
        // keep: the GGUF's own types (F32/F16/BF16/Q8_0/Q4_0/Q4_1 as they are, others f32)
        let keep = o.string("dtype", "f32") == "keep"
        let storage = keep ? .f32 : try o.storage(.f32)
        let batch = try o.int("batch", 1), newTokens = try o.int("new-tokens", 128), promptTokens = try o.int("prompt-tokens", 100)
        let promptFile = o.string("prompt-file", "tools/bench/prompt.txt")
        guard let text = try? String(contentsOfFile: promptFile, encoding: .utf8) else { throw BenchError("\(promptFile): cannot read the prompt") }

        let start = now()
        let model = try LlamaModel.load(gguf: modelURL, storage: storage, keepStored: keep)
        // 1: llama.cpp's bf16 arithmetic on a bf16 model (activations rounded to bf16, AVX512-BF16)
        if try o.int("bf16-products", 0) != 0 { model.productPrecision = .bf16 }
        let tokenizer = try loadTokenizer(at: modelURL)
        let loadSeconds = now() - start
        let prompt = Array(tokenizer.encode(text.trimmingCharacters(in: .whitespacesAndNewlines), addSpecialTokens: true).prefix(promptTokens))
        guard prompt.count == promptTokens else { throw BenchError("\(promptFile): only \(prompt.count) tokens, \(promptTokens) needed") }

        let speed = try model.measureGeneration(prompt: prompt, newTokens: newTokens, batch: batch)
        let products = productSeconds(model, batch: batch)
        return [
            "dtype": keep ? "keep" : storage.rawValue, "storage": model.weights.storageDescription, "bf16_products": model.productPrecision == .bf16 && WeightMatrix.bf16ProductsAvailable, "batch": batch, "prompt_tokens": prompt.count, "new_tokens": newTokens,
            "load_s": loadSeconds, "prefill_s": speed.prefillSeconds, "total_s": speed.totalSeconds,
            "prompt_tok_s": speed.promptTokensPerSecond, "decode_tok_s": speed.decodeTokensPerSecond,
            "weight_bytes": model.weights.byteCount, "products_s": products,
            "prompt_ids": prompt, "first_reply_ids": Array(speed.firstReply.prefix(16)),
        ]
    }

    /// Seconds of one decode step's weight products alone (`batch` inputs): each layer's q/k/v, o, gate/up and
    /// down as the decoder block runs them, then the output head; the median of 15 passes after one to warm
    /// up. The rest of a decode step (attention, norms, sampling, the cores' hand-offs) is what decode_tok_s
    /// adds to it.
    static func productSeconds(_ model: LlamaModel, batch n: Int) -> Double {
        let w = model.weights, c = model.config
        let widest = Swift.max(c.vocab_size, c.intermediate_size, c.hidden_size, c.num_attention_heads * c.head_dim)
        let x = FloatBuffer((0..<(n * widest)).map { Float(($0 % 97) - 48) / 64 })
        let ys = (0..<3).map { _ in FloatBuffer(count: n * widest) }
        let p = model.productPrecision
        func pass() {
            for l in w.model.layers {
                WeightMatrix.forward(x.pointer, n: n, [(l.self_attn.q_proj, ys[0].pointer), (l.self_attn.k_proj, ys[1].pointer), (l.self_attn.v_proj, ys[2].pointer)], precision: p)
                l.self_attn.o_proj.forward(x.pointer, into: ys[0].pointer, n: n, precision: p)
                WeightMatrix.forward(x.pointer, n: n, [(l.mlp.gate_proj, ys[0].pointer), (l.mlp.up_proj, ys[1].pointer)], precision: p)
                l.mlp.down_proj.forward(x.pointer, into: ys[0].pointer, n: n, precision: p)
            }
            w.output.forward(x.pointer, into: ys[0].pointer, n: n, precision: p)
        }
        pass()
        let times = (0..<15).map { _ -> Double in
            let start = now()
            pass()
            return now() - start
        }
        return times.sorted()[times.count / 2]
    }
}
