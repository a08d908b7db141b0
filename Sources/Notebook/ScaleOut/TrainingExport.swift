import Datasets
import Foundation
import Language
import NotebookFormat
import Support
import Tokenizers
import Training

// A session's training run written out for transformers' Trainer + peft + accelerate (export_training).
//
// The run is described as data (run_config.json) and one fixed script (train.py, ExportedProject.swift) does the
// notebook's work with it. Every part is checked before anything is written: the rows are rebuilt here from the
// data file exactly as train.py will build them (the template as text and fields, the answer format, the
// tokenization) and compared with the rows the trainer holds; a setting with no equivalent in transformers stops
// the export, pointing at the command that set it.

/// What `export_training` writes: run_config.json's contents, the data files to copy and the adapter to start from.
struct TrainingExport {
    /// run_config.json.
    var config: [String: Any?]
    /// Local data files, copied into the project's data/ under these names.
    var dataFiles: [(url: URL, name: String)] = []
    /// The adapter as it is now: where the exported run starts (initial_adapter/).
    var initialAdapter: LoraAdapter
    /// What the user should know (said after the facts).
    var warnings: [String] = []
    /// Facts for the one-line summary and the README.
    var rowCount = 0, evalRowCount = 0, steps = 0, mode = "", maxLength = 0, modelName = "", modelFile = ""

    /// The export of `trainer`'s run. Errors point at the command that set what does not translate.
    init(_ trainer: TrainerObject, inv: Invocation, session: Session, exportedFrom: String) throws {
        func refuse(_ message: String, _ object: AnyObject?, at option: String?, hint: String? = nil) -> Error {
            if let object, let origin = session.origin(of: object) {
                return origin.error("\(message): export_training stops here", at: option, hint: hint)
            }
            return inv.error(message, at: "trainer", hint: hint)
        }
        let model = trainer.model, tokens = trainer.tokens, run = trainer.trainer, args = run.args
        guard let lora = model.lora else { throw inv.error("the trainer's model has no LoRA adapter", at: "trainer") }
        guard let recipe = tokens.recipe else {
            throw refuse("the training rows were not tokenized by tokenize_dataset, so how to rebuild them is not known", tokens, at: nil)
        }
        initialAdapter = lora.adapter
        mode = tokens.mode; maxLength = tokens.maxLength; rowCount = tokens.examples.count; steps = run.state.max_steps

        // the model and its tokenizer
        guard let files = model.files else {
            throw refuse("the model has random weights, which no file holds for train.py to load", model, at: "init",
                         hint: "write them with export_model MODEL DIR first, then load_model DIR")
        }
        var modelPart: [String: Any?] = ["name": model.source, "storage_here": model.base.weights.storageDescription]
        if let gguf = files.ggufFile {
            modelPart["folder"] = gguf.deletingLastPathComponent().standardizedFileURL.path
            modelPart["gguf_file"] = gguf.lastPathComponent
            modelFile = session.displayPath(gguf)
        } else if files.directory.path.contains("/models--") {
            modelPart["hub_id"] = model.source
            modelFile = model.source
        } else {
            modelPart["folder"] = files.directory.standardizedFileURL.path
            modelFile = session.displayPath(files.directory)
        }
        if model.source == "smollm2" { modelPart["hub_id"] = "HuggingFaceTB/SmolLM2-135M-Instruct" }
        modelName = model.source
        let stored = model.base.weights.storageDescription
        if stored != "f32" {
            warnings.append("note: medrepl holds this model's weights as \(stored); train.py loads them from the file as float32 "
                            + "(give it --dtype bfloat16 on a GPU), so its base differs from this one by that rounding")
        }
        let tok = recipe.tokenizer
        guard let eos = tok.eosTokenId else { throw refuse("the tokenizer has no EOS token", tokens, at: nil) }
        let tokenizerPart: [String: Any?] = ["pad_token_id": tokens.padTokenId, "eos_token_id": eos, "padding_side": "right",
                                             "end_of_turn_ids": tok.endOfTurnTokenIds.sorted()]

        // the formatting, as text and fields that rebuild every row
        var formatting: [String: Any?] = ["mode": tokens.mode, "answer_format": tokens.answerFormat]
        let text: TemplateText, prompt: TemplateText?
        if tokens.mode == "notebook" {
            guard let render = tokens.render, let t = TemplateText(render) else {
                throw refuse("the rows' texts were not made by format_prompts, so train.py cannot make them", tokens, at: "data",
                             hint: "format them with texts = format_prompts DATA, then tokenize_dataset texts ...")
            }
            text = t; prompt = nil
        } else {
            guard let chat = recipe.chat, let t = TemplateText({ chat.text(question: $0, answer: $1) }),
                  let p = TemplateText({ q, _ in chat.prompt(question: q) }) else {
                throw refuse("the chat template cannot be written out as text around the question and the answer", tokens, at: "template")
            }
            text = t; prompt = p
        }
        if tokens.answerFormat == "self" {
            throw refuse("the answers are the model's own words (format_prompts answer_format=self), which are not in the data file",
                         tokens, at: "data", hint: "format with answer_format=bare or sentence to export, or train here")
        }
        guard let answers = AnswerFormat(rawValue: tokens.answerFormat) else {
            throw refuse("answer format '\(tokens.answerFormat)' has no equivalent in train.py", tokens, at: "data")
        }

        // the rows, rebuilt from the data file as train.py will rebuild them, and compared with the trainer's
        func rebuild(_ row: QARow) throws -> TokenizedExample {
            let answer = answers.apply(row.answer)
            if let prompt {
                return try TokenizedExample.chat(prompt: prompt.fill(question: row.question, answer: ""),
                                                 text: text.fill(question: row.question, answer: answer),
                                                 tokenizer: tok, maxLength: tokens.maxLength).example
            }
            return .notebook(tokens: tok.encode(text.fill(question: row.question, answer: answer), addSpecialTokens: true),
                             maxLength: tokens.maxLength, padTokenId: tokens.padTokenId)
        }
        var copied: [String: String] = [:], copies: [(url: URL, name: String)] = []
        // the training and held-out rows usually come from one file: read and hash it once
        var loaded: [String: (rows: [Int: QARow], sha256: String)] = [:]
        func rows(_ part: TokenizedDatasetObject, _ what: String) throws -> [String: Any?] {
            guard part.dataFiles.count == 1 else {
                throw refuse(part.dataFiles.isEmpty ? "the \(what) come from no data file" : "the \(what) come from \(part.dataFiles.count) data files; train.py reads one",
                             part, at: "data", hint: "load_dataset one JSON or JSON Lines file (or a hub dataset with one file)")
            }
            let url = session.resolvePath(part.dataFiles[0])
            let key = url.path + "\u{0}" + part.dataColumns.question + "\u{0}" + part.dataColumns.answer
            if loaded[key] == nil {
                let file = try QADataset.load(path: url.path, columns: part.dataColumns)
                loaded[key] = (Dictionary(file.rows.map { ($0.sourceRow, $0) }, uniquingKeysWith: { a, _ in a }), try SHA256.hex(fileAt: url))
            }
            let bySource = loaded[key]!.rows
            for (k, source) in part.sourceRows.enumerated() {
                if k % 64 == 0 { try session.checkCancelled() }
                guard let row = bySource[source] else { throw refuse("\(what) row \(k) (row \(source) of the file) is no longer in \(url.lastPathComponent)", part, at: "data") }
                guard try rebuild(row) == part.examples[k] else {
                    throw refuse("\(what) row \(k) (row \(source) of \(url.lastPathComponent)) comes out differently when rebuilt from the file "
                                 + "with the template written out as text: train.py would train on other tokens", part, at: "data")
                }
            }
            var source: [String: Any?]
            if url.path.contains("/datasets--") {
                source = ["hub_id": part.dataName, "split": "train"]
            } else {
                let name = copied[url.path] ?? uniqueName(url.lastPathComponent, taken: Set(copied.values))
                if copied[url.path] == nil { copied[url.path] = name; copies.append((url, name)) }
                source = ["file": "data/" + name]
            }
            source["sha256"] = loaded[key]!.sha256
            return ["source": source, "rows": rowRangePairs(part.sourceRows), "row_count": part.examples.count,
                    "question_field": part.dataColumns.question, "answer_field": part.dataColumns.answer,
                    "check": tokenCheck(part.examples)]
        }
        let dataPart = try rows(tokens, "training rows")
        let evalPart = try trainer.held.map { try rows($0, "held-out rows") }
        evalRowCount = trainer.held?.examples.count ?? 0
        dataFiles = copies
        formatting["text"] = text.json
        formatting["prompt"] = prompt?.json
        formatting["strip"] = text.strip

        // the training arguments, with transformers' names
        let argsObject: AnyObject? = trainer.arguments
        var targs: [String: Any?] = [
            "num_train_epochs": args.num_train_epochs, "max_steps": args.max_steps,
            "per_device_train_batch_size": args.per_device_train_batch_size,
            "gradient_accumulation_steps": args.gradient_accumulation_steps, "learning_rate": args.learning_rate,
            "lr_scheduler_type": "linear", "warmup_steps": args.warmup_steps, "weight_decay": args.weight_decay,
            "adam_beta1": args.adam_beta1, "adam_beta2": args.adam_beta2, "adam_epsilon": args.adam_epsilon,
            "optim": "adamw_torch", "max_grad_norm": args.max_grad_norm, "logging_strategy": "steps",
            "logging_steps": args.logging_steps, "save_strategy": args.save_steps > 0 ? "steps" : "no",
            "save_steps": max(args.save_steps, 1), "save_total_limit": args.save_total_limit, "seed": Int(args.seed),
            "gradient_checkpointing": args.gradient_checkpointing, "bf16": args.bf16,
        ]
        if args.gradient_checkpointing { targs["gradient_checkpointing_kwargs"] = ["use_reentrant": false] as [String: Any?] }
        if evalPart != nil {
            targs["eval_strategy"] = "steps"
            targs["eval_steps"] = args.evaluationInterval
            targs["per_device_eval_batch_size"] = args.per_device_eval_batch_size
            if args.load_best_model_at_end {
                // medrepl keeps the best evaluation's adapter whatever save_steps says; transformers can only put back a
                // checkpoint it saved, so train.py saves one at every evaluation
                if args.save_steps != args.evaluationInterval {
                    targs["save_strategy"] = "steps"
                    targs["save_steps"] = args.evaluationInterval
                    warnings.append("note: train.py saves a checkpoint at every evaluation (save_steps=\(args.evaluationInterval), not "
                                    + "\(args.save_steps)): transformers puts back the best adapter from a checkpoint, and medrepl's best "
                                    + "can be any evaluation")
                }
                targs["load_best_model_at_end"] = true
                targs["metric_for_best_model"] = args.metric_for_best_model
                targs["greater_is_better"] = false
            }
        }
        var early: [String: Any?]? = nil
        if let patience = args.early_stopping_patience {
            guard args.load_best_model_at_end else {
                throw refuse("early_stopping_patience=\(patience) has no equivalent without load_best_model_at_end=true: transformers' "
                             + "EarlyStoppingCallback requires it", argsObject, at: "early_stopping_patience",
                             hint: "add load_best_model_at_end=true (the best adapter is then the one kept), or leave out early stopping")
            }
            early = ["early_stopping_patience": patience, "early_stopping_threshold": args.early_stopping_threshold]
        }
        if run.state.global_step > 0 {
            warnings.append("note: this trainer has already run \(run.state.global_step) of its \(run.state.max_steps) steps: the exported run "
                            + "starts from the adapter as it is now and runs every step again")
        }

        // medrepl's data order, epoch by epoch, so that the exported run reads the rows in the same order
        var order: Any? = "file"
        if args.shuffle {
            let epochs = max(1, (run.state.max_steps + run.stepsPerEpoch - 1) / max(run.stepsPerEpoch, 1))
            order = ["epochs": (0..<epochs).map { run.dataOrder(epoch: $0) as Any? }] as [String: Any?]
        }
        let c = lora.adapter.config
        config = [
            "format": "medrepl training export", "format_version": 1, "medrepl_version": MedreplVersion.string,
            "exported_from": exportedFrom, "model": modelPart, "tokenizer": tokenizerPart, "formatting": formatting,
            "tokenization": ["max_length": tokens.maxLength] as [String: Any?], "data": dataPart, "eval_data": evalPart,
            "lora": ["r": c.r, "lora_alpha": c.lora_alpha, "lora_dropout": c.lora_dropout, "target_modules": c.target_modules,
                     "bias": c.bias, "use_rslora": c.use_rslora] as [String: Any?],
            "initial_adapter": "initial_adapter", "training_args": targs, "early_stopping": early, "data_order": order,
            "max_steps_here": run.state.max_steps,
        ]
    }
}

/// [0, 1, 2, 5] → [[0, 2], [5, 5]]: the rows as inclusive ranges (train.py's `row_indices` reads them).
func rowRangePairs(_ rows: [Int]) -> [Any?] {
    var out: [Any?] = [], i = 0
    while i < rows.count {
        var j = i
        while j + 1 < rows.count && rows[j + 1] == rows[j] + 1 { j += 1 }
        out.append([rows[i], rows[j]] as [Any?])
        i = j + 1
    }
    return out
}

/// What train.py compares its own tokenization with: the SHA-256 of `[[input_ids, labels], ...]` written as compact
/// JSON, and the first two rows in full (to say where a difference starts).
func tokenCheck(_ examples: [TokenizedExample]) -> [String: Any?] {
    var hash = SHA256()
    hash.update(Data("[".utf8))
    for (i, e) in examples.enumerated() {
        let row = "[[" + e.input_ids.map(String.init).joined(separator: ",") + "],[" + e.labels.map(String.init).joined(separator: ",") + "]]"
        hash.update(Data(((i == 0 ? "" : ",") + row).utf8))
    }
    hash.update(Data("]".utf8))
    return ["sha256": hash.hexDigest(),
            "first_rows": examples.prefix(2).map { ["input_ids": $0.input_ids, "labels": $0.labels] as [String: Any?] as Any? }]
}

/// `name`, or `name` with a number before its extension when another file took it.
private func uniqueName(_ name: String, taken: Set<String>) -> String {
    guard taken.contains(name) else { return name }
    let url = URL(fileURLWithPath: name)
    let stem = url.deletingPathExtension().lastPathComponent, ext = url.pathExtension
    var n = 2
    while taken.contains("\(stem)-\(n).\(ext)") { n += 1 }
    return "\(stem)-\(n).\(ext)"
}
