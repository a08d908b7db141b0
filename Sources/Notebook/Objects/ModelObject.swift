import Datasets
import Foundation
import Language
import Llama
import Support
import Tokenizers
import Training
import Weights

/// A tokenizer living in the session (`tok = load_tokenizer smollm2`).
public final class TokenizerObject: LiveObject {
    public let tokenizer: any Tokenizer
    /// Where it came from, as the user named it.
    public let source: String
    /// The file (and field) its chat template is read from, for messages; nil when not known.
    public let templateSource: ChatTemplateSource?

    public init(_ tokenizer: any Tokenizer, source: String, templateSource: ChatTemplateSource? = nil) {
        self.tokenizer = tokenizer
        self.source = source
        self.templateSource = templateSource
    }

    public var typeName: String { "Tokenizer" }
    public var summary: String {
        "\(tokenizer.vocabSize) tokens from \(source), pad=\(tokenizer.padTokenId.map(String.init) ?? "none") (\(tokenizer.paddingSide))"
    }
    public var fieldNames: [String] {
        ["vocab_size", "bos_token_id", "eos_token_id", "pad_token_id", "padding_side", "add_bos_token", "chat_template", "source"]
    }
    public func field(_ name: String) -> Value? {
        func id(_ v: Int?) -> Value { v.map { .int($0) } ?? .none }
        switch name {
        case "vocab_size": return .int(tokenizer.vocabSize)
        case "bos_token_id": return id(tokenizer.bosTokenId)
        case "eos_token_id": return id(tokenizer.eosTokenId)
        case "pad_token_id": return id(tokenizer.padTokenId)
        case "padding_side": return .string("\(tokenizer.paddingSide)")
        case "add_bos_token": return .bool(tokenizer.settings.addBosToken)
        case "chat_template":
            guard let t = tokenizer.chatTemplate else { return Value.none }
            return .string(ChatTemplate.detect(jinja: t).map(templateName) ?? "custom")
        case "source": return .string(source)
        default: return nil
        }
    }
}

/// The short name of a chat template family, as `chat_prompt template=` accepts it.
func templateName(_ t: ChatTemplate) -> String {
    switch t {
    case .chatml: return "chatml"
    case .llama3: return "llama3"
    case .zephyr: return "zephyr"
    case .llama2: return "llama2"
    case .raw: return "raw"
    }
}

/// A model living in the session: the frozen base weights, the tokenizer that came with it, and the
/// LoRA wrapper around it once `lora` has been applied. Training, generation and evaluation verbs
/// all work on this one object, so an adapter trained in one cell is the one evaluated in the next.
public final class ModelObject: LiveObject {
    /// The base model; never modified in place.
    public let base: LlamaModel
    /// The name the user loaded it by (`smollm2`, a folder, a .gguf, a hub id, or `random:tinyllama`).
    public let source: String
    /// The tokenizer found beside the weights (nil for random models without one).
    public var tokenizer: TokenizerObject?
    /// The LoRA wrapper (adapter + training forward), once configured. Setting it attaches the adapter to
    /// the inference forward of `base` (see `inference`).
    public var lora: LoraModel? {
        didSet {
            if oldValue !== lora {   // another adapter: what it was trained on is not known
                trainedQuestions = []; trainedMode = nil; trainedAnswerFormat = nil; trainingRecord = nil; returnedRun = nil
            }
            syncAdapter()
        }
    }
    /// The questions the adapter was trained on in this session (`train`): evaluations leave them out by default.
    public var trainedQuestions: Set<String> = []
    /// The `tokenize_dataset` mode the adapter was trained with in this session ("notebook" or "default"), for `protocol=auto`.
    public var trainedMode: String?
    /// How the answers were written in default-mode training in this session ("The answer is X." for `.sentence`):
    /// `compare` and `answer_loss` score the answers written the same way, so the loss measures what training lowered.
    public var trainedAnswerFormat: AnswerFormat?
    /// What the session's training of the adapter recorded at its end, the `trainer_state.json` and
    /// `training_run.json` that `save_adapter` writes beside it; nil once another adapter is loaded or applied.
    public var trainingRecord: TrainingRecord?
    /// The run.json beside the adapter `load_adapter` loaded, when an exported train.py trained it (`show` shows it).
    var returnedRun: ReturnedRun?
    /// The files it was loaded from (nil for random models): where the tokenizer files are copied from.
    public var files: ModelFiles?
    /// The tokenizer that came with the weights. While `tokenizer` is still this object (not one given
    /// with `tokenizer=TOK`), saved folders can write the weights' own vocabulary beside them.
    public let ownTokenizer: TokenizerObject?

    public init(base: LlamaModel, source: String, tokenizer: TokenizerObject?, files: ModelFiles? = nil) {
        self.base = base
        self.source = source
        self.tokenizer = tokenizer
        self.ownTokenizer = tokenizer
        self.files = files
    }

    public var typeName: String { "Model" }
    /// "Qwen2ForCausalLM, " for a Llama-like architecture other than Llama, which goes without saying ("").
    var architectureWord: String { base.config.architecture == .llama ? "" : "\(base.config.architecture), " }

    public var summary: String {
        var text = "\(source): \(architectureWord)\(base.config.num_hidden_layers) layers, hidden \(base.config.hidden_size), "
            + "\(formatCount(base.parameterCount)) parameters, \(base.weights.storageDescription) weights"
        if let lora { text += lora.adapterEnabled ? ", LoRA adapter on" : ", LoRA adapter off" }
        return text
    }
    public var fieldNames: [String] {
        ["source", "parameters", "storage", "num_hidden_layers", "hidden_size", "intermediate_size",
         "num_attention_heads", "num_key_value_heads", "vocab_size", "tie_word_embeddings", "max_position_embeddings",
         "rope_theta", "path", "tokenizer", "adapter_enabled", "adapter", "trained_by"]
    }
    public func field(_ name: String) -> Value? {
        let c = base.config
        switch name {
        case "source": return .string(source)
        case "parameters": return .int(base.parameterCount)
        case "storage": return .string(base.weights.storageDescription)
        case "num_hidden_layers": return .int(c.num_hidden_layers)
        case "hidden_size": return .int(c.hidden_size)
        case "intermediate_size": return .int(c.intermediate_size)
        case "num_attention_heads": return .int(c.num_attention_heads)
        case "num_key_value_heads": return .int(c.num_key_value_heads)
        case "vocab_size": return .int(c.vocab_size)
        case "tie_word_embeddings": return .bool(c.tie_word_embeddings)
        case "tokenizer": return tokenizer.map { .object($0) } ?? Value.none
        case "adapter_enabled": return lora.map { .bool($0.adapterEnabled) } ?? Value.none
        case "max_position_embeddings": return .int(c.max_position_embeddings)
        case "rope_theta": return .double(Double(c.rope_theta))
        case "trained_by": return returnedRun.map { .string($0.summary) } ?? Value.none
        case "path": return files.map { .string(($0.ggufFile ?? $0.directory).path) } ?? Value.none
        case "adapter":
            guard let a = lora?.adapter else { return Value.none }
            return .object(RecordObject(typeName: "LoraAdapter", fields: [
                ("r", .int(a.config.r)), ("lora_alpha", .double(a.config.lora_alpha)),
                ("scaling", .double(Double(a.config.scaling))),
                ("target_modules", .list(a.targets.map { .string($0.rawValue) })),
                ("use_rslora", .bool(a.config.use_rslora)), ("parameters", .int(a.parameterCount)),
                ("enabled", .bool(lora?.adapterEnabled ?? false))]))
        default: return nil
        }
    }
}
