import Foundation
import Kernels

/// Picks the next token from a row of logits, as transformers' logits processors and warpers do
/// (repetition penalty, then temperature, top-k, top-p), with its own seeded generator. All scratch
/// is allocated once, for the vocabulary size.
///
/// ```swift
/// var sampler = Sampler(config: g, vocab: model.config.vocab_size)
/// let id = sampler.next(logits: row, seen: nil)
/// ```
public struct Sampler {
    public let config: GenerationConfig
    public let vocab: Int
    public private(set) var rng: SeededRandom
    private var candidates: [Int32]    // [V] token ids still allowed, most likely first
    private var probs: [Float]         // [V] their probabilities
    private var topValues: [Float]     // [top_k] the k largest logits, descending

    public init(config: GenerationConfig, vocab: Int) {
        self.config = config
        self.vocab = vocab
        rng = SeededRandom(seed: config.seed)
        candidates = [Int32](repeating: 0, count: vocab)
        probs = [Float](repeating: 0, count: vocab)
        topValues = [Float](repeating: 0, count: max(1, min(config.top_k, vocab)))
    }

    /// The index of the largest logit (the first one on ties, like `torch.argmax`).
    /// NaNs are passed over, but a NaN first logit stays the answer, as in a scan that only moves on to a
    /// larger value.
    public static func argmax(_ logits: UnsafePointer<Float>, _ n: Int) -> Int {
        guard n > 1, !logits[0].isNaN else { return 0 }
        let largest = vmax(logits, n)   // vectorised; then the first place it occurs
        var i = 0
        let r = UnsafeRawPointer(logits)
        while i + 16 <= n && !any(r.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) .== largest) { i += 16 }
        while i < n && logits[i] != largest { i += 1 }
        return i < n ? i : 0
    }

    /// Chooses a token from `logits[V]`, which it may modify. `seen[V]` marks the tokens of the
    /// prompt and reply so far, for the repetition penalty.
    public mutating func next(logits: UnsafeMutablePointer<Float>, seen: UnsafePointer<Bool>?) -> Int {
        let V = vocab
        if config.repetition_penalty != 1, let seen {
            let p = config.repetition_penalty
            for i in 0..<V where seen[i] { logits[i] = logits[i] < 0 ? logits[i] * p : logits[i] / p }
        }
        if !config.do_sample { return Sampler.argmax(logits, V) }
        if config.temperature != 1 {
            let inv = 1 / config.temperature
            for i in 0..<V { logits[i] *= inv }
        }
        // top-k: every token at least as likely as the k-th stays
        var count = 0
        if config.top_k > 0 && config.top_k < V {
            let k = config.top_k
            let threshold: Float = topValues.withUnsafeMutableBufferPointer { top in
                var filled = 0
                for i in 0..<V {
                    let x = logits[i]
                    if filled == k && x <= top[k - 1] { continue }
                    var j = filled < k ? filled : k - 1
                    while j > 0 && top[j - 1] < x { top[j] = top[j - 1]; j -= 1 }
                    top[j] = x
                    if filled < k { filled += 1 }
                }
                return top[k - 1]
            }
            for i in 0..<V where logits[i] >= threshold { candidates[count] = Int32(i); count += 1 }
        } else {
            for i in 0..<V where logits[i] > -.infinity { candidates[count] = Int32(i); count += 1 }
        }
        if count == 0 { return Sampler.argmax(logits, V) }
        // most likely first, probabilities over the candidates
        candidates.withUnsafeMutableBufferPointer { c in
            var slice = UnsafeMutableBufferPointer(rebasing: c[0..<count])
            slice.sort { logits[Int($0)] > logits[Int($1)] }
        }
        let maxLogit = logits[Int(candidates[0])]
        var sum: Float = 0
        for j in 0..<count { let e = expf(logits[Int(candidates[j])] - maxLogit); probs[j] = e; sum += e }
        for j in 0..<count { probs[j] /= sum }
        // top-p: keep a token while the mass of the tokens above it is below top_p
        var kept = count
        if config.top_p < 1 {
            var above: Float = 0
            kept = 0
            while kept < count && (kept == 0 || above < config.top_p) { above += probs[kept]; kept += 1 }
        }
        var total: Float = 0
        for j in 0..<kept { total += probs[j] }
        let u = rng.nextUniform() * total
        var acc: Float = 0
        for j in 0..<kept {
            acc += probs[j]
            if u < acc { return Int(candidates[j]) }
        }
        return Int(candidates[kept - 1])
    }
}
