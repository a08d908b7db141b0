import Datasets
import Foundation
import Kernels
import Llama
import Tokenizers
import Training

/// W1 (the notebook exactly) and W2 (medrepl's default pipeline): LoRA training of a GGUF model on the
/// QA rows in their file order, through the same `Trainer` the `train` verb uses.
enum TrainingWorkload {
    /// The notebook's seven target modules, rank 16, alpha 32.
    static let targets = LoraTarget.allCases.map(\.rawValue)

    /// Options: --model-gguf, --data, --rows, --max-length, --max-steps, --logging-steps, --lora-dropout, --seed,
    /// --init-adapter (a peft folder whose weights and config start the run; W1's parity runs),
    /// --dtype f32|bf16 (how the base is stored; f32), --bf16 0|1 (bf16 autocast of the base's products;
    /// 1 with a bf16 base), --checkpointing (activation recomputation).
    static func run(_ o: BenchOptions, notebookMode: Bool) throws -> [String: Any] {
        let modelURL = URL(fileURLWithPath: o.string("model-gguf", "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
        let maxLength = try o.int("max-length", 512)
        let seed = UInt64(try o.int("seed", 42))

        var start = now()
        let storage = try o.storage(.f32)
        let base = try LlamaModel.load(gguf: modelURL, storage: storage)
        let tokenizer = try loadTokenizer(at: modelURL)
        let loadSeconds = now() - start
        guard let eos = tokenizer.eosTokenId else { throw BenchError("\(modelURL.path): the tokenizer has no EOS token") }
        let pad = eos   // the notebook's tokenizer.pad_token = tokenizer.eos_token

        let data = try QADataset.load(path: o.string("data", "../shared/data/medical_o1_verifiable_problem.demo198.json"))
        let rows = try data.select(0..<min(try o.int("rows", 200), data.count))
        let examples = notebookMode
            ? notebookExamples(rows, tokenizer: tokenizer, maxLength: maxLength, pad: pad)
            : try defaultExamples(rows, tokenizer: tokenizer, template: ChatTemplateSource(tokenizerAt: modelURL), maxLength: maxLength)

        let model: LoraModel
        if let folder = o.optionalString("init-adapter") {
            let adapter = try LoraAdapter.load(from: URL(fileURLWithPath: folder), model: base.config)
            model = try LoraModel(config: base.config, weights: base.weights, adapter: adapter)
        } else {
            let lora = try LoraConfig(r: 16, lora_alpha: 32, lora_dropout: try o.double("lora-dropout", 0.05),
                                      target_modules: targets, seed: seed)
            model = try LoraModel(base: base, lora: lora)
        }
        let initialChecksum = loraAChecksum(model.adapter)

        let output = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: output) }
        var args = TrainingArguments.notebook(output_dir: output.path)
        args.max_steps = try o.int("max-steps", -1)
        args.logging_steps = try o.int("logging-steps", 10)
        args.save_steps = 0
        args.seed = seed
        args.shuffle = false                      // the reference's sequential sampler: the same batches
        args.padding = notebookMode ? .maxLength(maxLength) : .longest
        args.bf16 = try o.int("bf16", storage == .bf16 ? 1 : 0) != 0
        args.gradient_checkpointing = o.flag("checkpointing")
        let trainer = try Trainer(model: model, args: args, examples: examples, padTokenId: pad)
        trainer.showProgress = false
        var logged: [[String: Any]] = []
        trainer.onLog = {
            logged.append(["step": $0.step, "loss": $0.loss, "grad_norm": $0.grad_norm])
            // at once, so that a run stopped early still shows its losses
            FileHandle.standardError.write(Data("log \(jsonLine(logged.last!))\n".utf8))
        }

        start = now()
        let out = try trainer.train()
        let wall = now() - start

        // The rows the steps read: every row for a full epoch, the first steps × 4 for a shortened run.
        let used = examples.prefix(min(examples.count, trainer.state.global_step * args.gradient_accumulation_steps))
        let real = used.reduce(0) { $0 + ($1.attention_mask?.reduce(0, +) ?? $1.input_ids.count) }
        let fed = notebookMode ? used.count * maxLength : real
        return [
            "mode": notebookMode ? "notebook" : "default", "dtype": storage.rawValue, "bf16_products": args.bf16 && WeightMatrix.bf16ProductsAvailable,
            "checkpointing": args.gradient_checkpointing, "rows": examples.count, "steps": trainer.state.global_step,
            "load_s": loadSeconds, "wall_s": wall, "s_per_step": wall / Double(max(out.global_step, 1)),
            "real_tokens": real, "fed_tokens": fed, "real_tok_s": Double(real) / wall, "fed_tok_s": Double(fed) / wall,
            "processed_tokens": real,   // trailing padding is skipped: only real positions are computed
            "linear_params": base.config.parametersMultipliedPerToken,
            "losses": logged, "step_losses": trainer.state.step_losses,
            "final_loss": logged.last?["loss"] ?? NSNull(),
            "lora_dropout": model.adapter.config.lora_dropout, "init_lora_A_abs_sum": initialChecksum,
            "max_tokens_per_pass": args.max_tokens_per_pass,
        ]
    }

    /// The notebook's pipeline: format_prompts (Llama-3 text, short rows skipped), then each text truncated
    /// and padded to `maxLength`, labels = ids with every pad-id position -100.
    static func notebookExamples(_ rows: QADataset, tokenizer: any Tokenizer, maxLength: Int, pad: Int) -> [TokenizedExample] {
        rows.map(template: .notebookLlama3).rows.map {
            .notebook(tokens: tokenizer.encode($0.text!, addSpecialTokens: true), maxLength: maxLength, padTokenId: pad)
        }
    }

    /// medrepl's default pipeline (`tokenize_dataset mode=default`): the tokenizer's chat template, loss on the
    /// answer and its end-of-turn token only, each batch padded to its longest row.
    static func defaultExamples(_ rows: QADataset, tokenizer: any Tokenizer, template: ChatTemplateSource,
                                maxLength: Int) throws -> [TokenizedExample] {
        let chat = try ChatTemplate.recognise(tokenizer.chatTemplate, from: template)
        let kept = rows.filter(minQuestionLength: PromptTemplate.notebookLlama3.minQuestionLength,
                               minAnswerLength: PromptTemplate.notebookLlama3.minAnswerLength)
        return try kept.rows.map {
            try TokenizedExample.chat(question: $0.question, answer: $0.answer, template: chat, tokenizer: tokenizer,
                                      maxLength: maxLength).example
        }
    }

    /// Sum of |lora_A| over the adapter: equal on both sides when they start from the same weights.
    static func loraAChecksum(_ adapter: LoraAdapter) -> Double {
        adapter.modules.reduce(0.0) { sum, m in
            (0..<m.lora_A.count).reduce(sum) { $0 + Double(abs(m.lora_A.pointer[$1])) }
        }
    }
}
