import Kernels

// LoRA, one layer type for inference and training:
//
//   y[R, out] = x[R, in] · Wᵀ  +  scaling · (x · Aᵀ)[R, r] · Bᵀ
//
// A `LoraLinear` holds A and B (and their gradients); the inference forward reads them at every step
// (`attachAdapter`), training updates them in place, so a model with an adapter attached always runs the
// adapter as it is now. The base weights are never copied or modified.

/// The linear layers of a Llama decoder layer that LoRA can adapt, named as in the checkpoint.
public enum LoraTarget: String, CaseIterable, Sendable, Codable, Comparable {
    case q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj

    /// `self_attn` or `mlp`: the module that owns this projection.
    public var parent: String {
        switch self {
        case .q_proj, .k_proj, .v_proj, .o_proj: return "self_attn"
        case .gate_proj, .up_proj, .down_proj: return "mlp"
        }
    }

    /// `[out_features, in_features]` of the frozen weight in a model of this config.
    public func shape(_ c: LlamaConfig) -> (out: Int, in: Int) {
        let q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim
        switch self {
        case .q_proj: return (q, c.hidden_size)
        case .k_proj, .v_proj: return (kv, c.hidden_size)
        case .o_proj: return (c.hidden_size, q)
        case .gate_proj, .up_proj: return (c.intermediate_size, c.hidden_size)
        case .down_proj: return (c.hidden_size, c.intermediate_size)
        }
    }

    /// The module path inside the model, such as `model.layers.3.self_attn.q_proj`.
    public func modulePath(layer: Int) -> String { "model.layers.\(layer).\(parent).\(rawValue)" }

    public static func < (a: LoraTarget, b: LoraTarget) -> Bool { a.rawValue < b.rawValue }
}

/// One adapted projection: `y = W·x + scaling · B·(A·dropout(x))`, with its gradients. The one LoRA layer type:
/// the inference forward reads it (`LlamaModel.attachAdapter`), training updates it in place (Training's
/// `LoraAdapter` owns the layers and their optimizer state), merging and adapter files read and write it.
///
/// `lora_A` and `lora_B` are named as in peft's state dict.
///
/// ```swift
/// let q = LoraLinear(layer: 0, target: .q_proj, r: 16, inFeatures: 576, outFeatures: 576, scaling: 2)
/// var layer = LoraLayer(); layer[.q_proj] = q
/// ```
public final class LoraLinear: @unchecked Sendable {
    public let layer: Int
    public let target: LoraTarget
    public let r: Int
    public let inFeatures: Int
    public let outFeatures: Int
    public let scaling: Float
    public let lora_A: FloatBuffer   // [r, in]
    public let lora_B: FloatBuffer   // [out, r]
    public let grad_A: FloatBuffer   // [r, in]
    public let grad_B: FloatBuffer   // [out, r]

    public init(layer: Int, target: LoraTarget, r: Int, inFeatures: Int, outFeatures: Int, scaling: Float) {
        self.layer = layer; self.target = target; self.r = r
        self.inFeatures = inFeatures; self.outFeatures = outFeatures; self.scaling = scaling
        lora_A = FloatBuffer(count: r * inFeatures)
        lora_B = FloatBuffer(count: outFeatures * r)
        grad_A = FloatBuffer(count: r * inFeatures)
        grad_B = FloatBuffer(count: outFeatures * r)
    }

}

/// The adapters of one decoder layer; property names equal the module names (nil when not adapted).
public struct LoraLayer: @unchecked Sendable {
    public init() {}

    /// The adapted projections of the layer, in forward order (`LoraTarget` order).
    public var all: [LoraLinear] { LoraTarget.allCases.compactMap { self[$0] } }

    public var q_proj: LoraLinear?
    public var k_proj: LoraLinear?
    public var v_proj: LoraLinear?
    public var o_proj: LoraLinear?
    public var gate_proj: LoraLinear?
    public var up_proj: LoraLinear?
    public var down_proj: LoraLinear?

    public subscript(_ t: LoraTarget) -> LoraLinear? {
        get {
            switch t {
            case .q_proj: return q_proj
            case .k_proj: return k_proj
            case .v_proj: return v_proj
            case .o_proj: return o_proj
            case .gate_proj: return gate_proj
            case .up_proj: return up_proj
            case .down_proj: return down_proj
            }
        }
        set {
            switch t {
            case .q_proj: q_proj = newValue
            case .k_proj: k_proj = newValue
            case .v_proj: v_proj = newValue
            case .o_proj: o_proj = newValue
            case .gate_proj: gate_proj = newValue
            case .up_proj: up_proj = newValue
            case .down_proj: down_proj = newValue
            }
        }
    }
}

/// out[N, out] += scaling · (inp[N, in] · Aᵀ)[N, r] · Bᵀ; `scratch` holds the [N, r] product. (Training's
/// `lora_forward` in LoraLinearOps.swift is this with dropout and the saved product its backward needs.)
@inline(__always)
func lora_inference_forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, lora: LoraLinear?,
                            scratch: UnsafeMutablePointer<Float>, N: Int) {
    guard let m = lora else { return }
    BLAS.sgemm(transB: true, m: N, n: m.r, k: m.inFeatures, a: inp, b: m.lora_A.pointer, c: scratch)
    BLAS.sgemm(transB: true, m: N, n: m.outFeatures, k: m.r, alpha: m.scaling, a: scratch, b: m.lora_B.pointer, beta: 1, c: out)
}

extension LlamaModel {
    /// Attaches LoRA layers (one `LoraLayer` per decoder layer) to the inference forward (generation, scoring,
    /// `forward`), or detaches them with nil. The base weights are neither copied nor modified; A and B are read
    /// at every step, so updating them in place (training) takes effect at the next call. Throws
    /// `LlamaError.invalidInput` unless every layer fits the projection it adapts.
    ///
    /// ```swift
    /// try model.attachAdapter(adapter.layers)     // replies now use the adapter
    /// try model.attachAdapter(nil)                // the base model again
    /// ```
    public func attachAdapter(_ layers: [LoraLayer]?) throws {
        if let layers {
            guard layers.count == config.num_hidden_layers else {
                throw LlamaError.invalidInput("LoRA layers for \(layers.count) decoder layers, the model has \(config.num_hidden_layers)")
            }
            for (l, layer) in layers.enumerated() {
                for m in layer.all {
                    let s = m.target.shape(config)
                    guard m.r > 0, m.inFeatures == s.in, m.outFeatures == s.out else {
                        throw LlamaError.invalidInput("LoRA layer \(l) \(m.target) is [\(m.outFeatures), r=\(m.r), \(m.inFeatures)], the projection is [\(s.out), \(s.in)]")
                    }
                }
            }
        }
        adapterLayers = layers
        adapterMaxRank = layers?.flatMap { $0.all.map(\.r) }.max() ?? 0
    }

    /// Whether an adapter is attached.
    public var hasAdapter: Bool { adapterLayers != nil }
}
