import CKernels
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

    /// The position in `LoraTarget.allCases` (forward order).
    public var index: Int {
        switch self {
        case .q_proj: return 0
        case .k_proj: return 1
        case .v_proj: return 2
        case .o_proj: return 3
        case .gate_proj: return 4
        case .up_proj: return 5
        case .down_proj: return 6
        }
    }

    /// The projection's path inside a decoder layer: `self_attn.q_proj`, `mlp.down_proj`.
    public var projection: String { parent + "." + rawValue }

    /// The module path inside the model, such as `model.layers.3.self_attn.q_proj`.
    public func modulePath(layer: Int) -> String { "model.layers.\(layer).\(projection)" }

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

// MARK: - The layer's forward and backward
//
//   y[N, out] = x[N, in] · Wᵀ + scaling · (d(x)[N, in] · Aᵀ)[N, r] · Bᵀ,   d = dropout (training only).
// The frozen W gets no gradient; A and B do. The low-rank product a = d(x)·Aᵀ is saved for the backward;
// the dropout mask is a hash of (key, element), so the backward redraws it instead of storing d(x).

/// Where a LoRA layer's dropout mask comes from: `key` identifies the micro-batch and module, `p` the probability.
public struct DropoutSpec: Sendable {
    public var p: Float
    public var key: UInt64
    public init(p: Float, key: UInt64) { self.p = p; self.key = key }

    /// The lane threshold for `p` (p is honoured to 1/65536): element i of a mask is dropped when 16-bit
    /// lane i mod 4 of SplitMix64(key + (i / 4 + 1) · golden) is below it (`mk_dropout_apply` draws the masks).
    public static func threshold(_ p: Float) -> UInt32 { UInt32((Double(p) * 65536).rounded()) }
}

/// xd[N, in] = x ⊙ mask / (1 − p), mask[i] = 1 with probability 1 − p (a pure function of key and i,
/// the stream `mk_dropout_apply` documents).
func dropout_apply(_ xd: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, _ spec: DropoutSpec) {
    let keep = 1 / (1 - spec.p), threshold = DropoutSpec.threshold(spec.p)
    dropout_blocks(count) { start, end in
        mk_dropout_apply(xd, x, start, end, spec.key, threshold, keep)
    }
}

/// dx[i] += g[i] · mask[i] / (1 − p), with the mask `dropout_apply` drew for the same key.
func dropout_accumulate(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, count: Int, _ spec: DropoutSpec) {
    let keep = 1 / (1 - spec.p), threshold = DropoutSpec.threshold(spec.p)
    dropout_blocks(count) { start, end in
        mk_dropout_accumulate(dx, g, start, end, spec.key, threshold, keep)
    }
}

/// Splits `0..<count` into blocks of 4096 (a multiple of 4, so a draw's lanes never straddle two blocks)
/// spread over the cores; `body(start, end)` runs once per range of whole blocks.
@inline(__always)
func dropout_blocks(_ count: Int, _ body: (Int, Int) -> Void) {
    let block = 4096
    Parallel.rows((count + block - 1) / block, workPerRow: block * 4) { range in
        body(range.lowerBound * block, min(count, range.upperBound * block))
    }
}

/// y[N, out] = x[N, in]·Wᵀ + the adapter's term; a[N, r] saved.
/// `scratch[N, in]` holds the dropped-out input when dropout is on.
func loralinear_forward(_ y: UnsafeMutablePointer<Float>, _ a: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                        _ w: WeightMatrix, _ lora: LoraLinear?, dropout: DropoutSpec?, scratch: UnsafeMutablePointer<Float>,
                        N: Int, precision: ProductPrecision) {
    w.forward(x, into: y, n: N, precision: precision)
    lora_forward_add(y, a, x, lora, dropout: dropout, scratch: scratch, N: N)
}

/// y[N, out] += the adapter's term of x[N, in] (nothing without an adapter); a[N, r] saved: the part of
/// `loralinear_forward` after the frozen product, for projections whose products ran together.
func lora_forward_add(_ y: UnsafeMutablePointer<Float>, _ a: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                      _ lora: LoraLinear?, dropout: DropoutSpec?, scratch: UnsafeMutablePointer<Float>, N: Int) {
    guard let lora else { return }
    var input = x
    if let d = dropout {
        dropout_apply(scratch, x, count: N * lora.inFeatures, d)
        input = UnsafePointer(scratch)
    }
    BLAS.sgemm(transB: true, m: N, n: lora.r, k: lora.inFeatures, a: input, b: lora.lora_A.pointer, c: a)
    BLAS.sgemm(transB: true, m: N, n: lora.outFeatures, k: lora.r, alpha: lora.scaling, a: a, b: lora.lora_B.pointer,
               beta: 1, c: y)
}

/// dx[N, in] = dy[N, out]·W + the adapter's input gradient (+ dx when `accumulate`);
/// grad_B += scaling·dyᵀ·a; grad_A += (scaling·dy·B)ᵀ·d(x).
/// `da[N, r]` and `scratch[N, in]` are scratch.
func loralinear_backward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                         _ a: UnsafePointer<Float>, _ w: WeightMatrix, _ lora: LoraLinear?, dropout: DropoutSpec?,
                         da: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, N: Int, accumulate: Bool,
                         precision: ProductPrecision) {
    w.backwardInput(dy, into: dx, n: N, accumulate: accumulate, precision: precision)
    guard let lora else { return }
    let r = lora.r, nin = lora.inFeatures, nout = lora.outFeatures
    // grad_B[out, r] += scaling · dyᵀ[out, N] · a[N, r]
    BLAS.sgemm(transA: true, m: nout, n: r, k: N, alpha: lora.scaling, a: dy, lda: nout, b: a, beta: 1, c: lora.grad_B.pointer)
    // da[N, r] = scaling · dy[N, out] · B[out, r]
    BLAS.sgemm(m: N, n: r, k: nout, alpha: lora.scaling, a: dy, b: lora.lora_B.pointer, c: da)
    var input = x
    if let d = dropout {
        dropout_apply(scratch, x, count: N * nin, d)
        input = UnsafePointer(scratch)
    }
    // grad_A[r, in] += daᵀ[r, N] · d(x)[N, in]
    BLAS.sgemm(transA: true, m: r, n: nin, k: N, a: da, lda: r, b: input, beta: 1, c: lora.grad_A.pointer)
    if let d = dropout {
        // dx += (da · A) ⊙ mask / (1 − p)
        BLAS.sgemm(m: N, n: nin, k: r, a: da, b: lora.lora_A.pointer, c: scratch)
        dropout_accumulate(dx, scratch, count: N * nin, d)
    } else {
        BLAS.sgemm(m: N, n: nin, k: r, a: da, b: lora.lora_A.pointer, beta: 1, c: dx)
    }
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
