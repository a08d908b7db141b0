import Foundation
import Testing
import Llama
import Kernels

@Suite struct GenerationTests {
    func tinyModel(_ name: String = "tiny-llama") throws -> LlamaModel? {
        guard let f = try TinyFixture.load(name) else { return nil }
        return try LlamaModel(config: f.config, source: f.tensors, storage: .f32)
    }

    /// argmax is the first place of the largest logit, as torch.argmax, wherever it is (vector body or tail),
    /// passing over NaNs; a NaN first logit is the answer, as a scan that only moves to larger values leaves it.
    @Test func argmaxIsTheFirstLargestLogit() {
        func argmax(_ x: [Float]) -> Int { x.withUnsafeBufferPointer { Sampler.argmax($0.baseAddress!, x.count) } }
        for n in [1, 5, 16, 17, 40, 49_152] {
            var x = (0..<n).map { Float(($0 * 7919) % 101) / 10 }
            for spot in Set([0, n / 3, n - 1]) {
                x[spot] = 20
                var scan = 0
                for i in 1..<n where x[i] > x[scan] { scan = i }
                #expect(argmax(x) == scan && scan == x.firstIndex(of: 20), "n \(n), largest at \(spot)")
                x[spot] = 0
            }
            if n > 3 {
                x[n - 1] = 30; x[n - 2] = 30; x[1] = .nan
                #expect(argmax(x) == n - 2, "ties: the first; NaN passed over (n \(n))")
                x[0] = .nan
                #expect(argmax(x) == 0, "a NaN first logit (n \(n))")
            }
        }
        #expect(argmax([-.infinity, -.infinity]) == 0)
    }

    /// Greedy decoding through the cache picks, at every step, the argmax of a full forward over
    /// the prompt and reply so far (recomputed from scratch).
    @Test func greedyWithCacheEqualsRecomputation() throws {
        guard let model = try tinyModel() else { print("skipped: tiny-llama fixture absent"); return }
        let prompt = [1, 70, 4, 42, 29]
        var g = GenerationConfig(max_new_tokens: 12)
        g.stop_at_eos = false
        let reply = try model.generate(prompt: prompt, config: g)
        #expect(reply.tokens.count == 12)
        #expect(reply.stopReason == .maxNewTokens)
        var seq = prompt
        for _ in 0..<12 {
            let logits = try model.forward(inputIds: [seq])
            let last = Array(logits[0, seq.count - 1])
            seq.append(last.withUnsafeBufferPointer { Sampler.argmax($0.baseAddress!, last.count) })
        }
        #expect(reply.tokens == Array(seq[prompt.count...]))
    }

    /// Each new token's log-probability is its log-softmax under a full forward pass over the prompt and the reply
    /// so far, in Double, whatever temperature and repetition penalty the sampler applied to choose it; the
    /// confidence is their mean, minimum and product as probabilities.
    @Test func logprobsAreTheModelsOwnLogSoftmax() throws {
        guard let model = try tinyModel() else { print("skipped: tiny-llama fixture absent"); return }
        let prompt = [1, 70, 4, 42, 29]
        // Sampled with a temperature and a repetition penalty (the sampler changes the logits in place, so they are copied
        // first), and greedy (read from the row as it is).
        var sampled = GenerationConfig(max_new_tokens: 8, do_sample: true, temperature: 0.7, top_p: 0.9, top_k: 0, repetition_penalty: 1.3, seed: 5)
        sampled.stop_at_eos = false
        var greedy = GenerationConfig(max_new_tokens: 8)
        greedy.stop_at_eos = false
        for g in [sampled, greedy] {
            let reply = try model.generate(prompt: prompt, config: g)
            #expect(reply.logprobs.count == reply.tokens.count && reply.tokens.count == 8)
            let logits = try model.forward(inputIds: [prompt + reply.tokens])
            var expected: [Double] = []
            for (k, id) in reply.tokens.enumerated() {
                let row = Array(logits[0, prompt.count - 1 + k]).map(Double.init)
                let m = row.max()!, lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
                expected.append(row[id] - lse)
                #expect(abs(Double(reply.logprobs[k]) - expected[k]) < 1e-4, "token \(k): \(reply.logprobs[k]) against \(expected[k])")
            }
            let c = try #require(reply.confidence)
            let p = expected.map { exp($0) }
            #expect(abs(c.meanTokenProbability - p.reduce(0, +) / 8) < 1e-4)
            #expect(abs(c.minimumTokenProbability - p.min()!) < 1e-4)
            #expect(abs(c.answerProbability - exp(expected.reduce(0, +))) < 1e-4 * max(c.answerProbability, 1e-30) + 1e-12)
        }
        #expect(Generation(tokens: [], stopReason: .maxNewTokens).confidence == nil)
    }

    /// Rows of different lengths decoded together give what each gives alone.
    @Test func batchedGenerationEqualsSingle() throws {
        guard let model = try tinyModel("tiny-llama3-rope") else { print("skipped: fixture absent"); return }
        let prompts = [[1, 17, 88], [1, 70, 4, 42, 29, 88, 123], [5]]
        for sample in [false, true] {
            var g = GenerationConfig(max_new_tokens: 10, do_sample: sample, temperature: 0.9, top_p: 0.95, top_k: 20, seed: 3)
            g.stop_at_eos = false
            let together = try model.generate(prompts: prompts, config: g)
            for (r, p) in prompts.enumerated() {
                var single = g; single.seed = g.seed + UInt64(r)
                #expect(try model.generate(prompt: p, config: single) == together[r])
            }
        }
    }

    @Test func samplingIsReproducibleForASeed() throws {
        guard let model = try tinyModel() else { print("skipped: tiny-llama fixture absent"); return }
        var g = GenerationConfig(max_new_tokens: 24, do_sample: true, temperature: 1.5, top_p: 1, top_k: 0, seed: 11)
        g.stop_at_eos = false
        var streamed: [Int] = []
        let a = try model.generate(prompt: [1, 2, 3], config: g) { streamed.append($0) }
        let b = try model.generate(prompt: [1, 2, 3], config: g)
        #expect(a == b)
        #expect(streamed == a.tokens)
        g.seed = 12
        let c = try model.generate(prompt: [1, 2, 3], config: g)
        #expect(c.tokens != a.tokens)
    }

    @Test func stopsAtStopTokenWithoutReturningIt() throws {
        guard let model = try tinyModel() else { print("skipped: tiny-llama fixture absent"); return }
        var g = GenerationConfig(max_new_tokens: 8)
        g.stop_at_eos = false
        let free = try model.generate(prompt: [1, 70, 4], config: g)
        g.stop_token_ids = [free.tokens[3]]
        let stopped = try model.generate(prompt: [1, 70, 4], config: g)
        let firstStop = free.tokens.firstIndex(of: free.tokens[3])!
        #expect(stopped.tokens == Array(free.tokens[..<firstStop]))
        #expect(stopped.stopReason == .stopToken(free.tokens[3]))
    }

    @Test func badGenerationSettingsAreRejected() throws {
        guard let model = try tinyModel() else { print("skipped: tiny-llama fixture absent"); return }
        var g = GenerationConfig(); g.temperature = 0
        #expect(throws: LlamaError.self) { try model.generate(prompt: [1], config: g) }
        #expect(throws: LlamaError.self) { try model.generate(prompt: [], config: GenerationConfig()) }
        #expect(throws: LlamaError.self) { try model.generate(prompt: [1, 999], config: GenerationConfig()) }
    }
}

/// The sampler's processors on hand-made distributions, checked against the frequencies they must give.
@Suite struct SamplerTests {
    func frequencies(_ probs: [Float], _ g: GenerationConfig, draws: Int = 40000) -> [Double] {
        var sampler = Sampler(config: g, vocab: probs.count)
        var counts = [Int](repeating: 0, count: probs.count)
        var row = [Float](repeating: 0, count: probs.count)
        for _ in 0..<draws {
            for i in probs.indices { row[i] = logf(probs[i]) }
            counts[row.withUnsafeMutableBufferPointer { sampler.next(logits: $0.baseAddress!, seen: nil) }] += 1
        }
        return counts.map { Double($0) / Double(draws) }
    }

    @Test func samplingFollowsTheDistribution() {
        let f = frequencies([0.5, 0.3, 0.2], GenerationConfig(do_sample: true, top_k: 0, seed: 1))
        #expect(abs(f[0] - 0.5) < 0.01 && abs(f[1] - 0.3) < 0.01 && abs(f[2] - 0.2) < 0.01)
    }

    @Test func topKAndTopPRenormalise() {
        // top-k 2 keeps {0.5, 0.3} → 0.625 / 0.375
        let k = frequencies([0.5, 0.3, 0.2], GenerationConfig(do_sample: true, top_k: 2, seed: 2))
        #expect(abs(k[0] - 0.625) < 0.01 && abs(k[1] - 0.375) < 0.01 && k[2] == 0)
        // top-p 0.6: 0.3 has 0.5 above it (< 0.6, kept), 0.2 has 0.8 (dropped)
        let p = frequencies([0.5, 0.3, 0.2], GenerationConfig(do_sample: true, top_p: 0.6, top_k: 0, seed: 3))
        #expect(abs(p[0] - 0.625) < 0.01 && p[2] == 0)
        // top-p 0.5: transformers drops every token whose ascending cumulative mass is ≤ 0.5
        let q = frequencies([0.5, 0.3, 0.2], GenerationConfig(do_sample: true, top_p: 0.5, top_k: 0, seed: 4))
        #expect(q[0] == 1)
    }

    @Test func temperatureSharpens() {
        // p^(1/T) renormalised: T = 0.5 squares the probabilities → 0.25/0.38, 0.09/0.38, 0.04/0.38
        let f = frequencies([0.5, 0.3, 0.2], GenerationConfig(do_sample: true, temperature: 0.5, top_k: 0, seed: 5))
        #expect(abs(f[0] - 0.25 / 0.38) < 0.01 && abs(f[1] - 0.09 / 0.38) < 0.01)
    }

    @Test func repetitionPenaltyAndGreedy() {
        var row: [Float] = [2, 1.9, -1]
        let seen = [true, false, false]
        var greedy = Sampler(config: GenerationConfig(), vocab: 3)
        #expect(row.withUnsafeMutableBufferPointer { greedy.next(logits: $0.baseAddress!, seen: nil) } == 0)
        var penalised = Sampler(config: GenerationConfig(repetition_penalty: 1.2), vocab: 3)
        #expect(seen.withUnsafeBufferPointer { s in
            row.withUnsafeMutableBufferPointer { penalised.next(logits: $0.baseAddress!, seen: s.baseAddress!) }
        } == 1)
        #expect(abs(row[0] - 2 / 1.2) < 1e-6)
    }

    @Test func seededRandomIsDeterministic() {
        var a = SeededRandom(seed: 99), b = SeededRandom(seed: 99), c = SeededRandom(seed: 100)
        let xs = (0..<8).map { _ in a.next() }
        #expect(xs == (0..<8).map { _ in b.next() })
        #expect(xs != (0..<8).map { _ in c.next() })
        var n = SeededRandom(seed: 1)
        let z = (0..<20000).map { _ in Double(n.nextNormal()) }
        let mean = z.reduce(0, +) / 20000, varz = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20000
        #expect(abs(mean) < 0.03 && abs(varz - 1) < 0.05)
    }
}

@Suite struct ScoringTests {
    /// The two fixture rows scored one by one recombine into transformers' batch loss (a mean over
    /// the 9 + 6 predicted tokens of the two rows).
    @Test func scoresRecombineIntoTheReferenceLoss() throws {
        guard let f = try TinyFixture.load("tiny-llama") else { print("skipped: fixture absent"); return }
        let model = try LlamaModel(config: f.config, source: f.tensors, storage: .f32)
        let rows = (0..<2).map { b in Array(f.inputIds[b][..<f.attentionMask[b].reduce(0, +)]) }
        let scores = try rows.map { try model.score(tokens: $0) }
        let combined = (scores[0].meanLoss * Float(scores[0].tokenCount) + scores[1].meanLoss * Float(scores[1].tokenCount))
            / Float(scores[0].tokenCount + scores[1].tokenCount)
        #expect(abs(combined - f.loss) < 1e-5)
        #expect(abs(scores[0].perplexity - expf(scores[0].meanLoss)) < 1e-3)
        // an answer given a prompt counts only the answer tokens
        let full = try model.loss(inputIds: [rows[0]], labels: [[-100, -100, -100, -100] + Array(rows[0][4...])])
        let answer = try model.score(prompt: Array(rows[0][..<4]), answer: Array(rows[0][4...]))
        #expect(answer.tokenCount == rows[0].count - 4)
        #expect(abs(answer.meanLoss - full) < 1e-6)
        #expect(answer.meanLoss != scores[0].meanLoss)
    }
}

/// `productPrecision = .bf16` on a bf16 model (llama.cpp's bf16 arithmetic): a prompt of more than 8
/// tokens (the bf16 GEMM) and a single token (the bf16 matrix-vector product) give logits within bf16
/// rounding of the f32 arithmetic's, and not identical to them (the bf16 kernels ran).
@Suite struct BF16ArithmeticTests {
    @Test(.enabled(if: WeightMatrix.bf16ProductsAvailable, "this CPU has no AVX512-BF16 (or MEDREPL_ISA lowers the level): the fallback is checked below"))
    func logitsStayWithinBF16Rounding() throws {
        guard let f = try TinyFixture.load("tiny-llama") else { print("skipped: tiny-llama fixture absent"); return }
        let model = try LlamaModel(config: f.config, source: f.tensors, storage: .bf16)
        for ids in [[1] + (0..<20).map { 3 + $0 * 5 }, [42]] {
            model.productPrecision = .f32
            let f32 = try model.forward(inputIds: [ids]).values
            model.productPrecision = .bf16
            let bf16 = try model.forward(inputIds: [ids]).values
            let scale = f32.map(abs).max()!
            let worst = zip(f32, bf16).map { abs($0 - $1) }.max()! / scale
            #expect(worst < 3e-2 && f32 != bf16, "\(ids.count) tokens: worst logit difference \(worst) of the largest")
        }
    }

    /// Below the avx512bf16 kernel level, bf16 arithmetic is the f32 arithmetic: the same logits.
    @Test func belowTheBF16LevelTheLogitsAreF32s() throws {
        guard let f = try TinyFixture.load("tiny-llama") else { print("skipped: tiny-llama fixture absent"); return }
        let model = try LlamaModel(config: f.config, source: f.tensors, storage: .bf16)
        try KernelLevel.with(.avx2) {
            for ids in [[1] + (0..<20).map { 3 + $0 * 5 }, [42]] {
                model.productPrecision = .f32
                let f32 = try model.forward(inputIds: [ids]).values
                model.productPrecision = .bf16
                #expect(try model.forward(inputIds: [ids]).values == f32, "\(ids.count) tokens at \(KernelLevel.current)")
            }
        }
    }
}
