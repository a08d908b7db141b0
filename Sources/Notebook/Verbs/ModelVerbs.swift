import Foundation
import Kernels
import Language
import Llama
import Support
import Tokenizers
import Weights
#if canImport(Glibc)
import Glibc
#endif

// Loading models and tokenizers, and the Hugging Face login. The engine does the work (Weights finds
// the files, Llama loads them, Tokenizers reads the vocabulary); these verbs name things, print one
// line about what was loaded, and keep the result in the session.

extension VerbGroup {
    /// `load_model`, `load_tokenizer`, `configure_tokenizer`, `login`.
    public static var models: VerbGroup {
        VerbGroup("Models and tokenizers", intro: "Load a Llama-family model and its tokenizer; log in to the Hugging Face hub.", verbs: [
            Verb("load_model", summary: "Load a model and the tokenizer found with it.",
                 details: "NAME is `smollm2` (the default model the set-up script installs), a model folder "
                    + "(config.json + safetensors), a .gguf file, or a Hugging Face id ORG/NAME (the hub cache, "
                    + "downloaded when missing). With `init=random` NAME is a preset (`tinyllama`, `llama-3.2-1b`, "
                    + "`smollm2`) or a config.json, and the weights are seeded random numbers. The memory needed "
                    + "is checked before anything is read. Prints one line; the load time varies, so notebooks "
                    + "match it with a `(re)` pattern.",
                 positional: [Parameter("name", .path, help: "smollm2, a folder, a .gguf, ORG/NAME, or a preset with init=random",
                                        completion: .namesOrPath(names: randomPresets.keys.sorted(), extensions: ["gguf", "json"]))],
                 keywords: [Parameter("dtype", .choice(StorageType.allCases.map(\.rawValue) + ["keep"]), default: .string("f32"),
                                      help: "how the weights are stored in memory: f32, bf16, f16, or ggml's 8- and 4-bit blocks q8_0, q4_0, q4_1 (a matrix whose rows are not whole blocks of 32 stays f32); keep: as the file stores them (a Q4_1 GGUF stays Q4_1). Products with q8_0/q4_0/q4_1 weights of up to 8 tokens quantize the activations to 8 bits as llama.cpp does; longer ones (prompts, training) use the dequantized weights"),
                            Parameter("arithmetic", .choice(["f32", "bf16"]), default: .string("f32"), help: "bf16 (with dtype=bf16): inference rounds activations to bf16 and multiplies on AVX512-BF16, as llama.cpp does (without AVX512-BF16: f32, and a note says so)"),
                            Parameter("init", .choice(["load", "random"]), default: .string("load"), help: "random: seeded random weights from a preset or config"),
                            Parameter("seed", .int, optional: true, help: "seed of the random weights (default: the session seed)"),
                            Parameter("tokenizer", .object("Tokenizer"), optional: true, help: "use this tokenizer instead of the one found with the model")],
                 examples: ["model = load_model smollm2", "model = load_model models/SmolLM2-135M-Instruct.Q4_1.gguf dtype=bf16",
                            "small = load_model smollm2 dtype=keep",
                            "fast = load_model smollm2 dtype=bf16 arithmetic=bf16",
                            "big = load_model tinyllama init=random dtype=bf16 seed=1"], makes: "Model") { inv, session in
                let model = try loadModel(inv, session)
                // every model the session loaded, in order, each once: "smollm2, outputs/medical.Q8_0.gguf"
                let loaded = session.provenance["model"].map { $0.components(separatedBy: ", ") } ?? []
                if !loaded.contains(model.source) { session.provenance["model"] = (loaded + [model.source]).joined(separator: ", ") }
                return .object(model)
            },
            Verb("quantize", summary: "A copy of a model with its weights in another storage type (q8_0, q4_0, q4_1, bf16, f16, f32).",
                 details: "Each matrix is converted a block of rows at a time (one whose rows are not whole blocks of 32 stays "
                    + "f32 for the quantized types); norms and biases are shared. The model itself is unchanged, and the copy "
                    + "has its tokenizer but no adapter (load_adapter or lora it again). Quantizing an already quantized "
                    + "model rounds every weight a second time: SmolLM2's Q4_1 file as q8_0 has a 0.9% higher perplexity.",
                 positional: [Parameter("model", .object("Model"), help: "the model to copy"),
                              Parameter("type", .choice(StorageType.allCases.map(\.rawValue)), help: "the storage type of the copy")],
                 examples: ["q8 = quantize model q8_0", "back = quantize q8 f32"]) { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                guard let storage = StorageType(rawValue: try inv.string("type")) else { throw inv.error("unknown type", at: "type") }
                let start = Date()
                let base = LlamaModel(config: model.base.config, weights: model.base.weights.converted(to: storage), storage: storage)
                base.productPrecision = storage == .bf16 ? model.base.productPrecision : .f32
                let copy = ModelObject(base: base, source: "\(model.source) as \(storage.rawValue)", tokenizer: model.tokenizer, files: model.files)
                session.writeLine("\(storage.isQuantized ? "quantized" : "converted") \(model.source) to \(base.weights.storageDescription) weights "
                    + "(\(decimalBytes(base.weights.byteCount)), was \(model.base.weights.storageDescription), \(decimalBytes(model.base.weights.byteCount))) "
                    + "in \(String(format: "%.1f", Date().timeIntervalSince(start))) s" + (model.lora == nil ? "" : "; the copy has no adapter"))
                return .object(copy)
            },
            Verb("speed", summary: "Time a model's prompt processing and decoding on this machine (greedy, KV cache, as ask runs).",
                 details: "Feeds a fixed prompt of prompt_tokens token ids (the same ids for every model of this vocabulary) "
                    + "and generates exactly new_tokens, batch rows at a time; prints the prompt's and the decode's tokens per "
                    + "second and the weights' size. Timings vary from run to run: notebooks match them with a `(re)` pattern.",
                 positional: [Parameter("model", .object("Model"), help: "the model (its adapter as it is switched)")],
                 keywords: [Parameter("prompt_tokens", .int, default: .int(100), help: "tokens in the prompt"),
                            Parameter("new_tokens", .int, default: .int(64), help: "tokens generated (the first comes out of the prompt step)"),
                            Parameter("batch", .int, default: .int(1), help: "identical rows generated together")],
                 examples: ["speed model", "speed small prompt_tokens=200 new_tokens=128 batch=8"]) { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                let promptTokens = try inv.int("prompt_tokens"), newTokens = try inv.int("new_tokens"), batch = try inv.int("batch")
                guard promptTokens >= 1 else { throw inv.error("prompt_tokens must be at least 1, got \(promptTokens)", at: "prompt_tokens") }
                guard newTokens >= 2 else { throw inv.error("new_tokens must be at least 2 (the first comes out of the prompt step), got \(newTokens)", at: "new_tokens") }
                guard (1...64).contains(batch) else { throw inv.error("batch must be 1 to 64, got \(batch)", at: "batch") }
                let c = model.inference.config
                guard promptTokens + newTokens <= c.max_position_embeddings else {
                    throw inv.error("prompt_tokens + new_tokens (\(promptTokens + newTokens)) exceed the model's \(c.max_position_embeddings) positions", at: "prompt_tokens")
                }
                let prompt = (0..<promptTokens).map { 3 + ($0 * 7919) % Swift.max(c.vocab_size - 3, 1) }
                let s = try model.inference.measureGeneration(prompt: prompt, newTokens: newTokens, batch: batch) { try session.checkCancelled() }
                let rows = batch == 1 ? "" : " in \(batch) rows"
                session.writeLine(String(format: "prompt %d tokens%@: %.0f tok/s; decode %d tokens: %.0f tok/s", promptTokens, rows,
                                         s.promptTokensPerSecond, newTokens - 1, s.decodeTokensPerSecond)
                    + " (\(model.base.weights.storageDescription) weights, \(decimalBytes(model.base.weights.byteCount)))")
                return .none
            },
            Verb("load_tokenizer", summary: "Load a tokenizer alone.",
                 positional: [Parameter("name", .path, help: "a folder with tokenizer.json / tokenizer.model, a .gguf, smollm2 or ORG/NAME",
                                        completion: .namesOrPath(names: [ModelLocator.defaultName], extensions: ["gguf"]))],
                 examples: ["tok = load_tokenizer smollm2", "tok = load_tokenizer Tests/Fixtures/tiny-bpe"], makes: "Tokenizer") { inv, session in
                let name = try inv.string("name")
                let url = session.resolvePath(name)
                let found = FileManager.default.fileExists(atPath: url.path) ? url : try locate(name, inv, session).tokenizerLocation
                let object = TokenizerObject(try loadTokenizer(at: found), source: name, templateSource: ChatTemplateSource(tokenizerAt: found))
                session.writeLine("loaded tokenizer: \(object.summary)")
                return .object(object)
            },
            Verb("configure_tokenizer", summary: "Set the padding token and side (the notebook's pad_token = eos_token).",
                 positional: [Parameter("tokenizer", .object(""), help: "a Tokenizer, or a Model (its tokenizer)")],
                 keywords: [Parameter("pad", .text, optional: true, help: "eos, or a token id"),
                            Parameter("padding_side", .choice(["right", "left"]), optional: true, help: "where padding goes")],
                 examples: ["configure_tokenizer tok pad=eos padding_side=right"]) { inv, session in
                let object = try tokenizerObject(inv, "tokenizer")
                let tok = object.tokenizer
                if let pad = try inv.optionalString("pad") {
                    if pad == "eos" {
                        guard let eos = tok.eosTokenId else { throw inv.error("this tokenizer has no EOS token", at: "pad") }
                        tok.settings.padTokenId = eos
                    } else if let id = Int(pad) {
                        guard id >= 0 && id < tok.vocabSize else {
                            throw inv.error("pad id \(id) is outside the vocabulary of \(tok.vocabSize)", at: "pad")
                        }
                        tok.settings.padTokenId = id
                    } else {
                        throw inv.error("pad must be eos or a token id, not '\(pad)'", at: "pad")
                    }
                }
                if let side = try inv.optionalString("padding_side") {
                    tok.settings.paddingSide = side == "left" ? .left : .right
                }
                session.writeLine("tokenizer: \(object.summary)")
                return .none
            },
            Verb("login", summary: "Store a Hugging Face access token where huggingface_hub keeps it (mode 0600).",
                 details: "The token comes from `HF_TOKEN`, else it is asked for without echo on a terminal. "
                    + "There is deliberately no `token=` argument: commands are recorded in notebooks and history, "
                    + "and a token must never be. Only its length is ever printed.",
                 examples: ["login"]) { inv, session in
                var token: String? = nil
                if token == nil, let env = session.environment["HF_TOKEN"], !env.isEmpty { token = env }
                if token == nil {
                    guard isatty(STDIN_FILENO) != 0 else {
                        throw inv.error("no token: set HF_TOKEN, or run login in a terminal to be asked for it")
                    }
                    token = readSecret(prompt: "Hugging Face token (input hidden): ")
                }
                guard let token, !token.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw inv.error("no token given")
                }
                let url = try HubToken.store(token, environment: session.environment)
                let length = token.trimmingCharacters(in: .whitespacesAndNewlines).count
                session.writeLine("token stored (\(length) characters) in \(url.path)")
                return .none
            }.quiet(),
        ])
    }
}

// MARK: - Loading

/// The name → files step, with a message saying what was searched and what to do when nothing is found.
func locate(_ name: String, _ inv: Invocation, _ session: Session) throws -> ModelFiles {
    let locator = ModelLocator(environment: session.environment, currentDirectory: session.directory)
    do {
        return try locator.resolve(name)
    } catch let error as WeightsError {
        let isPath = name.contains("/") || ResourceName.looksLikePath(name)
        if !isPath && name.lowercased() != ModelLocator.defaultName {
            throw inv.error("unknown model '\(name)': no such file or folder in \(session.directory.path), not a Hugging Face id (ORG/NAME), not '\(ModelLocator.defaultName)'",
                            at: "name", hint: "use smollm2 (install it with `bash scripts/install.sh`), a model folder, a .gguf file or ORG/NAME; init=random takes tinyllama, llama-3.2-1b or smollm2")
        }
        throw error
    }
}

/// The preset configs `init=random` accepts.
let randomPresets: [String: LlamaConfig] = [
    "tinyllama": .tinyLlama_1_1B, "llama-3.2-1b": .llama3_2_1B, "smollm2": .smolLM2_135M,
]

func loadModel(_ inv: Invocation, _ session: Session) throws -> ModelObject {
    let name = try inv.string("name")
    let dtype = try inv.string("dtype"), keep = dtype == "keep"
    guard let storage = keep ? .f32 : StorageType(rawValue: dtype) else { throw inv.error("unknown dtype", at: "dtype") }
    guard let precision = ProductPrecision(rawValue: try inv.string("arithmetic")) else { throw inv.error("unknown arithmetic", at: "arithmetic") }
    if precision == .bf16 && storage != .bf16 {
        throw inv.error("arithmetic=bf16 multiplies bf16 weights: add dtype=bf16", at: "arithmetic")
    }
    if precision == .bf16, let note = WeightMatrix.bf16FallbackNote { session.writeLine(note) }
    let start = Date()
    // A tokenizer= given takes the place of the model's own, which is then not read at all: a GGUF without a
    // vocabulary, or a folder whose tokenizer files medrepl cannot read, loads with the tokenizer given.
    let given = inv.has("tokenizer") ? try inv.object("tokenizer", as: TokenizerObject.self) : nil
    let model: ModelObject
    if try inv.string("init") == "random" {
        if keep { throw inv.error("dtype=keep keeps a file's own types; random weights take f32, bf16, f16, q8_0, q4_0 or q4_1", at: "dtype") }
        let config: LlamaConfig
        if let preset = randomPresets[name.lowercased()] {
            config = preset
        } else if name.hasSuffix(".json") {
            config = try LlamaConfig.load(from: session.resolvePath(name))
        } else {
            throw inv.error("init=random needs a preset (\(randomPresets.keys.sorted().joined(separator: ", "))) or a config.json, not '\(name)'", at: "name")
        }
        let seed = try inv.optionalInt("seed") ?? session.seed
        let base = try LlamaModel.random(config: config, seed: UInt64(truncatingIfNeeded: seed), storage: storage, checkMemory: true)
        model = ModelObject(base: base, source: "random:\(name)", tokenizer: nil)
    } else {
        let files = try locate(name, inv, session)
        let base: LlamaModel
        let tokenizer: (any Tokenizer)?
        if let gguf = files.ggufFile {
            base = try LlamaModel.load(gguf: gguf, storage: storage, keepStored: keep)
            tokenizer = try given == nil && GGUFFile(url: gguf).hasVocabulary ? try loadTokenizer(gguf: gguf) : nil
        } else {
            guard let configFile = files.configFile else { throw inv.error("\(files.directory.path): no config.json", at: "name") }
            let config = try LlamaConfig.load(from: configFile)
            base = try LlamaModel(config: config, source: files.tensorSource(), storage: storage, keepStored: keep,
                                  name: files.directory.lastPathComponent)
            tokenizer = given == nil && !files.tokenizerFiles.isEmpty ? try loadTokenizer(folder: files.directory) : nil
        }
        let templateSource = ChatTemplateSource(tokenizerAt: files.tokenizerLocation)
        model = ModelObject(base: base, source: name, tokenizer: tokenizer.map { TokenizerObject($0, source: name, templateSource: templateSource) },
                            files: files)
    }
    if let given { model.tokenizer = given }
    model.base.productPrecision = precision
    let c = model.base.config
    let seconds = Date().timeIntervalSince(start)
    let file = model.files.map { " (\(($0.ggufFile ?? $0.directory).lastPathComponent))" } ?? ""
    let verb = model.files == nil ? "created" : "loaded"
    session.writeLine("\(verb) \(model.source)\(file): \(model.architectureWord)\(c.num_hidden_layers) layers, \(formatCount(model.base.parameterCount)) parameters, "
        + "\(model.base.weights.storageDescription) weights (\(decimalBytes(model.base.weights.byteCount))) in \(String(format: "%.1f", seconds)) s")
    if model.tokenizer == nil {
        session.writeLine("no tokenizer with it: give one with tokenizer=TOK (tok = load_tokenizer ...)")
    }
    return model
}

/// 538,060,032 → "538 MB", 2,200,096,768 → "2.2 GB" (decimal units, as download sizes are quoted).
func decimalBytes(_ bytes: Int) -> String {
    let b = Double(bytes)
    if b >= 1e9 { return String(format: "%.1f GB", b / 1e9) }
    if b >= 1e6 { return String(format: "%.0f MB", b / 1e6) }
    return String(format: "%.0f kB", b / 1e3)
}

/// The tokenizer of a Tokenizer or Model argument.
func tokenizerObject(_ inv: Invocation, _ name: String) throws -> TokenizerObject {
    switch inv.value(name) {
    case .object(let t as TokenizerObject): return t
    case .object(let m as ModelObject):
        guard let t = m.tokenizer else {
            throw inv.error("this model has no tokenizer", at: name, hint: "load one with load_tokenizer and pass it to load_model tokenizer=TOK")
        }
        return t
    case let v: throw inv.error("expected a Tokenizer or a Model, got \(v.typeName)", at: name)
    }
}

/// Reads a line from the terminal with echo off (restored afterwards, also on Ctrl-D).
func readSecret(prompt: String) -> String? {
    FileHandle.standardError.write(Data(prompt.utf8))
    var saved = termios()
    let haveTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
    if haveTerminal {
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
    }
    defer {
        if haveTerminal { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
        FileHandle.standardError.write(Data("\n".utf8))
    }
    return readLine(strippingNewline: true)
}
