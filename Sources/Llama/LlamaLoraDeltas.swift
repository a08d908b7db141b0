import Kernels

// LoRA in the inference forward, without touching the base weights:
//
//   y[R, out] = x[R, in] · Wᵀ  +  scale · (x · Aᵀ)[R, r] · Bᵀ
//
// The deltas only point at A and B; whoever owns them (Training's adapter) keeps updating them in place,
// so a model with deltas attached always runs the adapter as it is now. The Llama module knows nothing of
// training: the deltas are plain pointers with shapes, built by the layer that knows both.

/// One adapted projection: `A [r, in]` and `B [out, r]` (peft's `lora_A` / `lora_B`) and the scale
/// (`lora_alpha / r`, or `/ sqrt(r)` with rsLoRA).
///
/// ```swift
/// let q = LlamaLoraDelta(A: a.pointer, B: b.pointer, r: 16, inFeatures: 576, outFeatures: 576, scale: 2, owner: adapter)
/// ```
public struct LlamaLoraDelta: @unchecked Sendable {
    public let A: UnsafeMutablePointer<Float>   // [r, in]
    public let B: UnsafeMutablePointer<Float>   // [out, r]
    public let r: Int
    public let inFeatures: Int
    public let outFeatures: Int
    public let scale: Float
    /// Keeps the memory behind A and B alive while the delta is attached.
    public let owner: AnyObject?

    public init(A: UnsafeMutablePointer<Float>, B: UnsafeMutablePointer<Float>, r: Int, inFeatures: Int, outFeatures: Int,
                scale: Float, owner: AnyObject?) {
        self.A = A; self.B = B; self.r = r
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        self.scale = scale; self.owner = owner
    }
}

/// The deltas of one decoder layer; property names equal the projections they adapt (nil: not adapted).
public struct LlamaLoraLayer: @unchecked Sendable {
    public var q_proj: LlamaLoraDelta? = nil
    public var k_proj: LlamaLoraDelta? = nil
    public var v_proj: LlamaLoraDelta? = nil
    public var o_proj: LlamaLoraDelta? = nil
    public var gate_proj: LlamaLoraDelta? = nil
    public var up_proj: LlamaLoraDelta? = nil
    public var down_proj: LlamaLoraDelta? = nil

    public init() {}

    /// Every delta of the layer with the projection's name, in forward order.
    public var all: [(name: String, delta: LlamaLoraDelta?)] {
        [("q_proj", q_proj), ("k_proj", k_proj), ("v_proj", v_proj), ("o_proj", o_proj),
         ("gate_proj", gate_proj), ("up_proj", up_proj), ("down_proj", down_proj)]
    }
}

/// Per-layer LoRA deltas for `LlamaModel.attachAdapter(_:)`.
///
/// ```swift
/// var layers = [LlamaLoraLayer](repeating: LlamaLoraLayer(), count: config.num_hidden_layers)
/// layers[0].q_proj = LlamaLoraDelta(A: a, B: b, r: 4, inFeatures: 64, outFeatures: 64, scale: 2, owner: nil)
/// try model.attachAdapter(LlamaLoraDeltas(layers: layers))
/// ```
public struct LlamaLoraDeltas: @unchecked Sendable {
    public let layers: [LlamaLoraLayer]   // num_hidden_layers
    /// The largest rank, for the scratch of the low-rank product.
    public let maxRank: Int

    public init(layers: [LlamaLoraLayer]) {
        self.layers = layers
        maxRank = layers.flatMap { $0.all.compactMap { $0.delta?.r } }.max() ?? 0
    }

    /// Throws `LlamaError.invalidInput` unless every delta fits the projection it adapts in `config`.
    public func validate(for c: LlamaConfig) throws {
        guard layers.count == c.num_hidden_layers else {
            throw LlamaError.invalidInput("LoRA deltas for \(layers.count) layers, the model has \(c.num_hidden_layers)")
        }
        let shapes: [String: (out: Int, in: Int)] = [
            "q_proj": (c.qDim, c.hidden_size), "k_proj": (c.kvDim, c.hidden_size), "v_proj": (c.kvDim, c.hidden_size),
            "o_proj": (c.hidden_size, c.qDim), "gate_proj": (c.intermediate_size, c.hidden_size),
            "up_proj": (c.intermediate_size, c.hidden_size), "down_proj": (c.hidden_size, c.intermediate_size)]
        for (l, layer) in layers.enumerated() {
            for (name, delta) in layer.all {
                guard let d = delta else { continue }
                let s = shapes[name]!
                guard d.r > 0, d.inFeatures == s.in, d.outFeatures == s.out else {
                    throw LlamaError.invalidInput("LoRA delta for layer \(l) \(name) is [\(d.outFeatures), r=\(d.r), \(d.inFeatures)], the projection is [\(s.out), \(s.in)]")
                }
            }
        }
    }
}

/// out[N, out] += scale · (inp[N, in] · Aᵀ)[N, r] · Bᵀ; `scratch` holds the [N, r] product.
@inline(__always)
func lora_forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, delta: LlamaLoraDelta?,
                  scratch: UnsafeMutablePointer<Float>, N: Int) {
    guard let d = delta else { return }
    BLAS.sgemm(transB: true, m: N, n: d.r, k: d.inFeatures, a: inp, b: d.A, c: scratch)
    BLAS.sgemm(transB: true, m: N, n: d.outFeatures, k: d.r, alpha: d.scale, a: scratch, b: d.B, beta: 1, c: out)
}

extension LlamaModel {
    /// Attaches LoRA deltas to the inference forward (generation, scoring, `forward`), or detaches them
    /// with nil. The base weights are neither copied nor modified; the deltas' A and B are read at every
    /// step, so updating them in place (training) takes effect at the next call.
    ///
    /// ```swift
    /// try model.attachAdapter(deltas)     // replies now use the adapter
    /// try model.attachAdapter(nil)        // the base model again
    /// ```
    public func attachAdapter(_ deltas: LlamaLoraDeltas?) throws {
        try deltas?.validate(for: config)
        loraDeltas = deltas
    }

    /// Whether LoRA deltas are attached.
    public var hasAdapter: Bool { loraDeltas != nil }
}
