import Datasets
import Foundation
import Kernels
import Language
import Llama
import Support
import Tokenizers
import Training
import Weights

// LoRA adapters on a loaded model: load one made by peft, switch it on and off without reloading the
// base, merge it into a new model, export the merged model, save the adapter in peft's layout.

extension VerbGroup {
    /// `load_adapter`, `adapter`, `merge_adapter`, `export_model`, `save_adapter`.
    public static var adapters: VerbGroup {
        VerbGroup("Adapters", intro: "Load, switch, merge, export and save LoRA adapters (peft's layout).", verbs: [
            Verb("load_adapter", summary: "Load a peft LoRA adapter folder onto a model (on at once; the base is unchanged).",
                 positional: [Parameter("model", .object("Model"), help: "the base model"),
                              Parameter("path", .path, help: "a folder with adapter_config.json and adapter_model.safetensors",
                                        completion: .path(extensions: []))],
                 examples: ["load_adapter model outputs/medical-lora"]) { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                let path = try inv.string("path")
                let url = session.resolvePath(path)
                guard FileManager.default.fileExists(atPath: url.path) else {
                    throw inv.error("\(path): \(ResourceName.missingMessage(path, at: url))", at: "path")
                }
                let adapter = try LoraAdapter.load(from: url, model: model.base.config)
                if let lora = model.lora {
                    try lora.setAdapter(adapter)
                    lora.adapterEnabled = true
                    // the loaded adapter was not trained here: what the session trained on no longer describes it
                    model.trainingRecord = nil; model.trainedQuestions = []; model.trainedMode = nil; model.trainedAnswerFormat = nil
                    model.syncAdapter()
                } else {
                    model.lora = try LoraModel(config: model.base.config, weights: model.base.weights, adapter: adapter)
                }
                let c = adapter.config
                session.writeLine("adapter \(path): r=\(c.r), lora_alpha=\(Value.format(c.lora_alpha)), scaling \(Value.format(Double(c.scaling))), "
                    + "\(adapter.targets.map(\.rawValue).joined(separator: ",")), \(formatCount(adapter.parameterCount)) parameters: on")
                if let trained = trainedSummary(folder: url) { session.writeLine("  \(Trainer.runFileName): \(trained)") }
                model.returnedRun = ReturnedRun(folder: url)
                if let run = model.returnedRun {
                    session.writeLine("  \(ReturnedRun.fileName): \(run.summary)")
                    // protocol=auto and the answer format follow how the exported run trained, as after train here
                    model.trainedMode = run.mode
                    model.trainedAnswerFormat = run.answerFormat.flatMap(AnswerFormat.init(rawValue:))
                }
                return .none
            },
            Verb("adapter", summary: "Switch a model's LoRA adapter on or off (nothing is reloaded or merged).",
                 positional: [Parameter("model", .object("Model"), help: "a model with an adapter"),
                              Parameter("state", .choice(["on", "off"]), help: "on or off")],
                 examples: ["adapter model off", "adapter model on"]) { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                let lora = try loraOf(model, inv)
                lora.adapterEnabled = try inv.string("state") == "on"
                model.syncAdapter()
                session.writeLine("adapter \(lora.adapterEnabled ? "on" : "off")")
                return .none
            },
            Verb("merge_adapter", summary: "A new model with the adapter folded into its weights (W + scaling·B·A).",
                 details: "The sum is computed in f32. The merged projections keep the base's storage type, except on a "
                    + "quantized base (q8_0, q4_0, q4_1), where they stay f32 unless dtype= asks to re-quantize them (rounding "
                    + "W + scaling·B·A to 4 or 8 bits again loses much of what the adapter changed). The original keeps its adapter.",
                 positional: [Parameter("model", .object("Model"), help: "a model with an adapter")],
                 keywords: [Parameter("dtype", .choice(StorageType.allCases.map(\.rawValue)), optional: true,
                                      help: "store the merged projections in this type (default: the base's, f32 for a quantized base)")],
                 examples: ["merged = merge_adapter model", "small = merge_adapter model dtype=q8_0"]) { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                let lora = try loraOf(model, inv)
                let asked = try inv.optionalString("dtype").flatMap(StorageType.init(rawValue:))
                let merged = ModelObject(base: lora.mergedModel(storage: asked), source: model.source + "+adapter", tokenizer: model.tokenizer, files: model.files)
                var line = "merged \(lora.adapter.modules.count) adapted projections into a new model (\(merged.base.weights.storageDescription) weights)"
                if asked == nil, lora.weights.model.layers.first?.self_attn.q_proj.storage.isQuantized == true {
                    line += ": the sums are kept in f32 (dtype=q8_0 re-quantizes them)"
                }
                session.writeLine(line)
                return .object(merged)
            },
            Verb("export_model", summary: "Write the model (adapter merged, when it has one on) as a Hugging Face folder or a GGUF file.",
                 details: "format=hf (the default) writes a folder: config.json, an F32 model.safetensors and the tokenizer files "
                    + "(see save_adapter). format=gguf (the default for a path ending in .gguf) writes one file that llama.cpp "
                    + "loads: the matrices in type= (default: as they are in memory), norms in F32, the vocabulary of the "
                    + "GGUF the model came from with the tokenizer's current special tokens and chat template. The adapter's "
                    + "sum W + scaling·B·A is computed in f32 and quantized once.",
                 positional: [Parameter("model", .object("Model"), help: "the model"),
                              Parameter("path", .path, help: "the folder (format=hf) or file (format=gguf) to write")],
                 keywords: [Parameter("format", .choice(["hf", "gguf"]), optional: true,
                                      help: "hf: a Hugging Face folder; gguf: a llama.cpp file (default: gguf for a path ending in .gguf, else hf)"),
                            Parameter("type", .choice(StorageType.allCases.map(\.rawValue)), optional: true,
                                      help: "format=gguf: the matrices' type: f32, f16, bf16, or ggml's blocks q8_0, q4_0, q4_1 (a matrix whose rows are not whole blocks of 32 stays f32; default: as kept in memory)")],
                 examples: ["export_model model outputs/merged", "export_model model outputs/medical.Q8_0.gguf type=q8_0"]) { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                let path = try inv.string("path")
                let url = session.resolvePath(path)
                let format = try inv.optionalString("format") ?? (url.pathExtension.lowercased() == "gguf" ? "gguf" : "hf")
                let type = try inv.optionalString("type").flatMap(StorageType.init(rawValue:))
                let merging = model.lora?.adapterEnabled == true
                if format == "gguf" {
                    try exportGGUF(model, to: url, type: type, inv, session)
                    let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
                    session.writeLine("exported \(model.source)\(merging ? " with its adapter merged" : "") to \(path): GGUF, "
                        + "\(type?.rawValue ?? "weights as kept") (\(decimalBytes(size)))")
                    return .none
                }
                if type != nil {
                    throw inv.error("type= is for format=gguf; a Hugging Face folder is written in f32", at: "type",
                                    hint: "export_model model \(path).gguf type=\(type!.rawValue)")
                }
                // A model without an active adapter is exported through a zero adapter: W + 0 = W.
                let lora = try model.lora.flatMap { $0.adapterEnabled ? $0 : nil }
                    ?? LoraModel(base: model.base, lora: LoraConfig(r: 1, lora_alpha: 1, target_modules: ["q_proj"]))
                // One folder write: a reader finds the previous export or this one whole, never a mix.
                let tokenizerFiles = try AtomicFolder.write(to: url, what: LoraModel.exportFolderName) { folder in
                    try lora.writeMergedFiles(into: folder)
                    return try writeTokenizerFiles(model, to: folder, session)
                }
                session.writeLine("exported \(model.source)\(merging ? " with its adapter merged" : "") to \(path): "
                    + (["config.json", "model.safetensors"] + tokenizerFiles).joined(separator: ", "))
                return .none
            },
            Verb("save_adapter", summary: "Save the adapter in peft's layout, with the tokenizer files beside it.",
                 details: "Writes adapter_config.json and adapter_model.safetensors as peft does; an adapter trained in this "
                    + "session also gets trainer_state.json (transformers' layout) and training_run.json: the SHA-256 of the "
                    + "model, tokenizer and data files, the rows, the tokenization, every training argument, the seed, the "
                    + "medrepl version and the CPU kernel level. A model loaded from a "
                    + "folder gets its tokenizer files copied; a GGUF-loaded one gets them written from the GGUF's vocabulary "
                    + "and the tokenizer's current settings: tokenizer.json (byte-level vocabularies) or tokenizer.model "
                    + "(SentencePiece ones), tokenizer_config.json with the special tokens, padding and chat template, and "
                    + "special_tokens_map.json.",
                 positional: [Parameter("model", .object("Model"), help: "a model with an adapter"),
                              Parameter("path", .path, help: "the folder to write")],
                 examples: ["save_adapter model outputs/medical-lora"]) { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                let lora = try loraOf(model, inv)
                let url = session.resolvePath(try inv.string("path"))
                // One folder write: a reader finds the previous adapter or this one whole, never a mix.
                let tokenizerFiles = try AtomicFolder.write(to: url, what: LoraAdapter.folderName) { folder in
                    try lora.adapter.writeFiles(into: folder)
                    var written = try writeTokenizerFiles(model, to: folder, session)
                    if let record = model.trainingRecord { written += try record.write(into: folder) }   // what made it, as a checkpoint records it
                    return written
                }
                session.writeLine("saved adapter to \(try inv.string("path")): "
                    + ([LoraAdapter.configFileName, LoraAdapter.weightsFileName] + tokenizerFiles).joined(separator: ", "))
                return .none
            },
        ])
    }
}

/// `export_model ... format=gguf`: the weights (the adapter merged in f32 when it is on) in `type`, the model's
/// config as GGUF metadata, and the vocabulary of the GGUF the model came from, its special tokens and chat
/// template taken from the tokenizer as it is now; one atomic file write, with progress.
func exportGGUF(_ model: ModelObject, to url: URL, type: StorageType?, _ inv: Invocation, _ session: Session) throws {
    guard let gguf = model.files?.ggufFile, let tokenizer = model.tokenizer, tokenizer === model.ownTokenizer else {
        let origin = model.files?.ggufFile == nil ? "was not loaded from a GGUF file" : "uses another tokenizer than its GGUF's"
        throw inv.error("format=gguf copies the vocabulary of the GGUF file a model was loaded from, and \(model.source) \(origin)",
                        at: "format", hint: "export_model MODEL FOLDER format=hf, then convert FOLDER with llama.cpp's convert_hf_to_gguf.py")
    }
    let weights: LlamaWeights
    if let lora = model.lora, lora.adapterEnabled {
        weights = lora.mergedWeights(storage: type == nil ? nil : .f32)   // the sums in f32, quantized once by the writer
    } else {
        weights = model.base.weights
    }
    var writer = try weights.ggufWriter(config: model.base.config, storage: type, name: model.source)
    let source = try GGUFFile(url: gguf)
    for key in source.metadataKeys where key.hasPrefix("tokenizer.") { writer.set(key, source.metadata[key]!) }
    let settings = tokenizer.tokenizer.settings
    let ids: [(String, Int?)] = [("bos_token_id", settings.bosTokenId), ("eos_token_id", settings.eosTokenId),
                                 ("padding_token_id", settings.padTokenId), ("unknown_token_id", settings.unkTokenId)]
    for (key, id) in ids { if let id { writer.set("tokenizer.ggml." + key, .uint32(UInt32(id))) } }
    writer.set("tokenizer.ggml.add_bos_token", .bool(settings.addBosToken))
    writer.set("tokenizer.ggml.add_eos_token", .bool(settings.addEosToken))
    if let template = settings.chatTemplate { writer.set("tokenizer.chat_template", .string(template)) }
    var bar: ProgressBar?
    try writer.write(to: url) { done, total in
        // made at the first chunk, already written: the rate counts from there
        if bar == nil && ProgressBar.enabled {
            bar = ProgressBar(total: max(total / 1_000_000, 1), label: "export", unit: "MB", startingAt: done / 1_000_000)
        }
        bar?.update(done / 1_000_000)
    }
    bar?.finish()
}

func loraOf(_ model: ModelObject, _ inv: Invocation) throws -> LoraModel {
    guard let lora = model.lora else {
        throw inv.error("this model has no adapter", at: "model", hint: "load_adapter MODEL PATH, or apply_lora MODEL CFG")
    }
    return lora
}

/// Puts the tokenizer beside saved weights: the folder's own files when the model came from one; for a
/// GGUF model whose tokenizer is the file's vocabulary, tokenizer.json (byte-level) or tokenizer.model
/// (SentencePiece), tokenizer_config.json and special_tokens_map.json written from it; else
/// tokenizer_config.json alone. Returns the names written; a note (a vocabulary of another kind) goes to the session.
func writeTokenizerFiles(_ model: ModelObject, to folder: URL, _ session: Session) throws -> [String] {
    var written: [String] = []
    if let files = model.files, files.ggufFile == nil {
        for (name, source) in files.tokenizerFiles.sorted(by: { $0.key < $1.key }) {
            let data = try FileSystemError.attempt("cannot read the tokenizer file", path: source.path) { try Data(contentsOf: source) }
            try AtomicFile.write(data, to: folder.appendingPathComponent(name))
            written.append(name)
        }
        return written
    }
    guard let tok = model.tokenizer?.tokenizer else { return [] }
    if let gguf = model.files?.ggufFile, model.tokenizer === model.ownTokenizer {
        let vocabulary = try GGUFVocabulary(gguf: GGUFFile(url: gguf))
        let result = try HuggingFaceTokenizerFiles.write(vocabulary: vocabulary, tokenizer: tok, to: folder)
        if let note = result.note { session.writeLine("note: \(note)") }
        return result.files
    }
    let data = try JSONSerialization.data(withJSONObject: HuggingFaceTokenizerFiles.configFields(tok),
                                          options: [.prettyPrinted, .sortedKeys])
    try AtomicFile.write(data, to: folder.appendingPathComponent("tokenizer_config.json"))
    return ["tokenizer_config.json"]
}
