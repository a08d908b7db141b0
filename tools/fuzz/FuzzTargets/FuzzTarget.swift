import Datasets
import Foundation
import Language
import Llama
import Notebook
import NotebookFormat
import Tokenizers
import Training
import Weights

// Fuzz targets: one per parser a user's file or typed line reaches. Each takes arbitrary bytes, hands
// them to the same entry point medrepl uses (through a file where medrepl reads a file), and then uses
// what was read the way medrepl would next (a config builds a small model and runs it; a tokenizer
// encodes and decodes; a notebook is written back), so a value that parses but breaks a later step is
// found too. A thrown error is the expected outcome for bad input; a trap, a sanitizer report, a
// timeout or an out-of-memory is a finding. tools/fuzz/run.sh drives them with libFuzzer; the test
// suite replays the seeds and every committed finding (tools/fuzz/regressions/TARGET/).
//
// ```swift
// FuzzTarget.config.run(Array("{\"hidden_size\": 8}".utf8))   // throws inside, returns quietly
// ```

/// A parser under fuzzing.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case gguf             // a .gguf file: header, metadata, tensors, config, vocabulary, a small model
    case safetensors      // a .safetensors file: header and tensors
    case config           // config.json: the config, its checks and estimate, a small model and one forward pass
    case tokenizer_json   // tokenizer.json: a tokenizer that encodes, decodes and applies its chat template
    case tokenizer_config // tokenizer_config.json beside the tiny BPE fixture's tokenizer.json
    case sentencepiece    // tokenizer.model bytes (libsentencepiece through the shim)
    case dataset_json     // a dataset .json file
    case dataset_jsonl    // a dataset .jsonl file
    case mednb            // a .mednb notebook: parsed, written back, parsed again
    case language         // a line of the command language, run in a session of the core verbs
    case adapter_config   // adapter_config.json beside the LoRA fixture's weights

    /// What the target reads, for `run.sh` and CONTRIBUTING.md.
    public var summary: String {
        switch self {
        case .gguf: return "GGUF files: header, metadata, tensor infos and data, the Llama config, the vocabulary, a small model"
        case .safetensors: return "safetensors files: the JSON header, offsets, dtypes, every tensor read as f32"
        case .config: return "config.json: fields, checks, the memory estimate, a small model and one forward pass"
        case .tokenizer_json: return "tokenizer.json: byte-level BPE or its SentencePiece-style refusal, encode/decode, chat template"
        case .tokenizer_config: return "tokenizer_config.json (special tokens, chat template) beside a fixed tokenizer.json"
        case .sentencepiece: return "tokenizer.model bytes through libsentencepiece"
        case .dataset_json: return "dataset .json files: rows, columns, line numbers"
        case .dataset_jsonl: return "dataset .jsonl files"
        case .mednb: return ".mednb notebooks: header, cells, recorded outputs, written back and parsed again"
        case .language: return "the command language: lexer, parser, and evaluation with the core verbs"
        case .adapter_config: return "adapter_config.json beside a fixed adapter_model.safetensors"
        }
    }

    /// Runs one input. Errors are expected (only a crash is a finding); the error is returned, so the
    /// replay can show how far a seed gets.
    @discardableResult
    public func run(_ bytes: [UInt8]) -> Error? {
        do { try body(bytes); return nil } catch { return error }
    }

    private func body(_ bytes: [UInt8]) throws {
        switch self {
        case .gguf:
            let url = try Scratch.file("model.gguf", bytes)
            let file = try GGUFFile(url: url)
            for info in file.tensorInfos where info.dims.reduce(1, *) <= 1 << 16 { _ = try? file.floats(info.name) }
            _ = try? loadTokenizer(gguf: url).exercise()
            let config = try LlamaConfig(gguf: file)
            try Model.exercise(config) { try LlamaModel.load(gguf: url) }
        case .safetensors:
            let url = try Scratch.file("model.safetensors", bytes)
            let checkpoint = try SafetensorsCheckpoint(file: url)
            for name in checkpoint.tensorNames() where (try? checkpoint.shape(of: name).reduce(1, *)) ?? .max <= 1 << 16 {
                _ = try? checkpoint.floats(name)
            }
        case .config:
            let config = try LlamaConfig.parse(json: Data(bytes))
            try Model.exercise(config) { LlamaModel.random(config: config, seed: 1) }
        case .tokenizer_json:
            let folder = try Scratch.folder("tokenizer-json", files: ["tokenizer.json": bytes])
            try loadTokenizer(folder: folder).exercise()
        case .tokenizer_config:
            let folder = try Scratch.folder("tokenizer-config", files: [
                "tokenizer.json": try Fixtures.bytes("tiny-bpe/tokenizer.json"), "tokenizer_config.json": bytes])
            try loadTokenizer(folder: folder).exercise()
        case .sentencepiece:
            let url = try Scratch.file("tokenizer.model", bytes)
            try SentencePieceTokenizer(modelFile: url).exercise()
        case .dataset_json, .dataset_jsonl:
            let url = try Scratch.file(self == .dataset_json ? "rows.json" : "rows.jsonl", bytes)
            // The medical-o1 columns, then the plain ones `load_dataset question=question answer=answer` names.
            if (try? QADataset.load(path: url.path)) == nil {
                _ = try QADataset.load(path: url.path, columns: QAColumns(question: "question", answer: "answer"))
            }
        case .mednb:
            let text = String(decoding: bytes, as: UTF8.self)
            let document = try NotebookDocument.parse(text, file: "fuzz.mednb")
            _ = try NotebookDocument.parse(document.serialized(), file: "fuzz.mednb")
        case .language:
            let session = Session(registry: Self.languageRegistry, output: OutputSink { _ in },
                                  environment: [:], directory: Scratch.root)
            try session.run(String(decoding: bytes, as: UTF8.self), file: "fuzz")
        case .adapter_config:
            let folder = try Scratch.folder("adapter", files: [
                "adapter_config.json": bytes,
                "adapter_model.safetensors": try Fixtures.bytes("lora/trained_adapter/adapter_model.safetensors")])
            _ = try LoraAdapter.load(from: folder, model: Fixtures.tinyLlamaConfig)
        }
    }

    /// The core verbs but those that wait or leave (`sleep`, `exit`): values, names, printing, help.
    static let languageRegistry = Registry(groups: [VerbGroup("Core", verbs: VerbGroup.core.verbs.filter {
        !["sleep", "exit"].contains($0.name)
    })])
}

extension Tokenizer {
    /// Encodes, decodes and formats a chat prompt: what `tokenize`, `ask` and training do first.
    func exercise() throws {
        let text = "Which nerve? The fac\u{0131}al nerve \u{1F9E0} <|im_end|> \n\t  x"
        let ids = encode(text, addSpecialTokens: true)
        _ = decode(ids)
        _ = decode([0, vocabSize - 1].filter { $0 >= 0 })
        if let template = chatTemplate.flatMap(ChatTemplate.detect(jinja:)) {
            _ = encode(template.text(question: "Q?", answer: "A."), addSpecialTokens: false)
        }
    }
}
