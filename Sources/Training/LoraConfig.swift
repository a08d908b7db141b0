import Foundation
import Llama
import Support

/// Bad LoRA configuration, adapter file or training input.
public struct LoraError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}

/// LoRA hyper-parameters with peft's names and meanings.
///
/// ```swift
/// let lora = try LoraConfig(r: 16, lora_alpha: 32, lora_dropout: 0.05,
///                           target_modules: ["q_proj", "k_proj", "v_proj", "o_proj",
///                                            "gate_proj", "up_proj", "down_proj"])
/// print(lora.scaling)     // 2.0
/// print(try lora.trainableParametersLine(config: llamaConfig))
/// ```
public struct LoraConfig: Sendable, Equatable {
    /// The rank of the update `B·A`.
    public var r: Int
    public var lora_alpha: Double
    /// Dropout probability on the adapter's input, in training only.
    public var lora_dropout: Double
    /// Module names as given by the user: short names (`q_proj`), paths (`self_attn.q_proj`), or `all-linear`.
    public var target_modules: [String]
    /// Only "none" is supported (as in the notebook).
    public var bias: String
    /// Scale by `lora_alpha / sqrt(r)` instead of `lora_alpha / r`.
    public var use_rslora: Bool
    public var task_type: String
    /// Seeds the initialisation of `lora_A` and the dropout masks.
    public var seed: UInt64
    /// Written into `adapter_config.json`.
    public var base_model_name_or_path: String?

    public init(r: Int = 8, lora_alpha: Double = 8, lora_dropout: Double = 0, target_modules: [String] = ["q_proj", "v_proj"],
                bias: String = "none", use_rslora: Bool = false, task_type: String = "CAUSAL_LM", seed: UInt64 = 42,
                base_model_name_or_path: String? = nil) throws {
        self.r = r; self.lora_alpha = lora_alpha; self.lora_dropout = lora_dropout
        self.target_modules = target_modules; self.bias = bias; self.use_rslora = use_rslora
        self.task_type = task_type; self.seed = seed; self.base_model_name_or_path = base_model_name_or_path
        try validate()
    }

    /// The notebook's adapter: r = 16, lora_alpha = 32, dropout 0.05 on all seven projections. `lora_config` starts from it.
    public static let notebook = try! LoraConfig(r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: LoraTarget.allCases.map(\.rawValue))

    /// Every setting a user can give, declared once: `lora_config`'s parameters, `show cfg`, `cfg.NAME` and the
    /// checks come from here.
    public static let settings = SettingsTable<LoraConfig>([
        Setting("r", \.r, .positiveInteger, help: "the rank of the update B·A"),
        Setting("lora_alpha", \.lora_alpha, .positive, help: "scaling numerator: the update is scaled by lora_alpha / r"),
        Setting("lora_dropout", \.lora_dropout, .belowOne, help: "dropout on the adapter's input while training"),
        Setting("target_modules", \.target_modules, .nonEmpty, help: "projections to adapt, or [\"all-linear\"]"),
        Setting("use_rslora", \.use_rslora, help: "scale by lora_alpha / sqrt(r)"),
        Setting("bias", \.bias, kind: .choice(["none"]), help: "biases trained with the adapter (medrepl: none)"),
        Setting("task_type", \.task_type, kind: .choice(["CAUSAL_LM"]), help: "the model's task (medrepl: CAUSAL_LM)"),
        Setting("seed", \.seed, .nonNegative, help: "seeds lora_A's initialisation and dropout"),
    ])

    /// Each setting in its range, and every target module matching a projection.
    public func validate() throws {
        do { try Self.settings.check(self) } catch let error as SettingError { throw LoraError(error.description) }
        _ = try resolvedTargets()
    }

    /// The factor on `B·A·x`: `lora_alpha / r`, or `lora_alpha / sqrt(r)` with rsLoRA.
    public var scaling: Float {
        Float(use_rslora ? lora_alpha / Double(r).squareRoot() : lora_alpha / Double(r))
    }

    /// The projections adapted in every layer. peft matches a name when the module path equals it or ends
    /// with `.name`; `all-linear` is every linear layer but the output head. Throws when a name matches nothing.
    public func resolvedTargets() throws -> [LoraTarget] {
        if target_modules == ["all-linear"] { return LoraTarget.allCases }
        var found = Set<LoraTarget>()
        for name in target_modules {
            let matches = LoraTarget.allCases.filter { t in
                let suffix = "\(t.parent).\(t.rawValue)"
                return name == t.rawValue || name == suffix || suffix.hasSuffix("." + name)
                    || (name.hasPrefix("model.") && name.hasSuffix("." + suffix))
            }
            guard !matches.isEmpty else {
                let known = LoraTarget.allCases.map(\.rawValue).joined(separator: ", ")
                throw LoraError("target module \"\(name)\" matches no module of the model (a Llama layer has \(known); or use \"all-linear\")")
            }
            found.formUnion(matches)
        }
        return LoraTarget.allCases.filter { found.contains($0) }
    }

    /// The number of trainable adapter parameters: `r · (in + out)` for every adapted projection of every layer.
    public func trainableParameterCount(config: LlamaConfig) throws -> Int {
        try resolvedTargets().reduce(0) { sum, t in
            let s = t.shape(config)
            return sum + r * (s.in + s.out)
        } * config.num_hidden_layers
    }

    /// The line peft's `print_trainable_parameters()` prints, such as
    /// `trainable params: 4,884,480 || all params: 139,399,488 || trainable%: 3.5039`.
    public func trainableParametersLine(config: LlamaConfig) throws -> String {
        let trainable = try trainableParameterCount(config: config)
        let all = config.parameterCount + trainable   // a tied lm_head counted once, as model.parameters() does
        let percent = 100 * Double(trainable) / Double(all)
        return "trainable params: \(formatCount(trainable)) || all params: \(formatCount(all)) || trainable%: \(String(format: "%.4f", percent))"
    }
}
