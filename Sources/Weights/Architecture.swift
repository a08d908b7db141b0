/// A Llama-like decoder architecture: what a checkpoint of it holds beyond LlamaForCausalLM's tensors, and
/// how its files name it. Everything else (the block, LoRA, training, generation, adapters) is Llama's and
/// shared, so an architecture that differs from Llama only in such data is one entry in `all`, with a
/// reference fixture and a test (tools/fixtures/make_fixtures.py's `tiny-qwen2` stage shows how).
///
/// ```swift
/// let arch = try Architecture.named(className: "Qwen2ForCausalLM")   // .qwen2
/// arch.hasBias("self_attn.q_proj")                                   // true
/// arch.ggufKey("attention.head_count")                               // "qwen2.attention.head_count"
/// ```
public struct Architecture: Sendable, Equatable, CustomStringConvertible {
    /// transformers' class, as `config.json`'s `architectures` lists it.
    public var className: String
    /// `config.json`'s `model_type`, which is also GGUF's `general.architecture` and its metadata prefix.
    public var modelType: String
    /// The projections (`self_attn.q_proj`, ...) whose `nn.Linear` always has a bias.
    public var biasedProjections: [String]
    /// Whether llama.cpp's converter permuted the query and key rows of this architecture's GGUF files
    /// (`GGUFFile.unpermuteQK` undoes it): true for llama, false for qwen2.
    public var ggufPermutesQueryKey: Bool
    /// `config.json` switches this architecture has that medrepl implements only one way: field → that value
    /// (a file with the other is refused, naming the field). Exports write them.
    public var requiredSettings: [String: Bool]

    public var description: String { className }

    /// Whether the projection (`self_attn.q_proj`, `mlp.down_proj`, ...) carries a bias.
    public func hasBias(_ projection: String) -> Bool { biasedProjections.contains(projection) }

    /// The GGUF metadata key of a setting: `llama.block_count`, `qwen2.attention.head_count`.
    public func ggufKey(_ setting: String) -> String { modelType + "." + setting }

    public static let llama = Architecture(className: "LlamaForCausalLM", modelType: "llama", biasedProjections: [],
                                           ggufPermutesQueryKey: true, requiredSettings: [:])
    /// Qwen2 (Qwen2 and Qwen2.5): Llama with biases on the query, key and value projections.
    public static let qwen2 = Architecture(className: "Qwen2ForCausalLM", modelType: "qwen2",
                                           biasedProjections: ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"],
                                           ggufPermutesQueryKey: false, requiredSettings: ["use_sliding_window": false])

    /// Every architecture medrepl runs.
    public static let all: [Architecture] = [.llama, .qwen2]

    /// "LlamaForCausalLM or Qwen2ForCausalLM", for messages.
    public static var classNames: String { all.map(\.className).joined(separator: " or ") }
    /// "'llama' or 'qwen2'", for messages.
    public static var modelTypes: String { all.map { "'\($0.modelType)'" }.joined(separator: " or ") }

    /// The architecture whose `model_type` (or GGUF `general.architecture`) is `modelType`, or nil.
    public static func named(modelType: String) -> Architecture? { all.first { $0.modelType == modelType } }
    /// The architecture of a transformers class name, or nil.
    public static func named(className: String) -> Architecture? { all.first { $0.className == className } }
}
