import Foundation
import Testing
import Kernels
import Llama
import Training

// Checks of the backward that need no reference: finite differences, and invariances the implementation
// promises (recomputation, skipped padding, adapter off).
struct BackwardTests {
    /// Gradients of every adapter tensor, in `namedTensors()` order.
    static func gradients(_ model: LoraModel, _ batch: TrainingBatch) throws -> [[Float]] {
        model.adapter.zeroGradients()
        _ = try model.forwardBackward(batch, lossDivisor: Double(batch.targetCount))
        return model.adapter.modules.flatMap { [$0.grad_A.array, $0.grad_B.array] }
    }

    @Test func baseLogitsAndLossMatchTransformersWithTheAdapterOff() throws {
        let (batch, ref) = try TinyLlama.referenceBatch()
        let model = try TinyLlama.model()
        model.adapterEnabled = false
        let logits = try model.logits(batch)
        let expected = (ref["logits"] as! [[[Double]]]).flatMap { $0.flatMap { $0.map(Float.init) } }
        #expect(maxAbsDiff(logits, expected) < 1e-4)
        let (sum, count) = try model.loss(batch)
        #expect(count == 15)
        #expect(abs(sum / Double(count) - (ref["loss"] as! Double)) < 1e-5)
        model.adapterEnabled = true   // B is non-zero: enabling changes the logits, disabling restores them
        #expect(maxAbsDiff(try model.logits(batch), expected) > 1e-3)
    }

    /// The training forward on the tied-embedding, llama3-rope and Qwen2 (biased q, k, v) fixtures: the same
    /// logits and loss as transformers.
    @Test(arguments: ["tiny-llama-tied", "tiny-llama3-rope", "tiny-qwen2"])
    func trainingForwardMatchesTransformersOn(fixture: String) throws {
        let dir = TrainingPaths.fixtures.appendingPathComponent(fixture)
        let base = try LlamaModel.load(directory: dir)
        let ref = try TinyLlama.json(dir.appendingPathComponent("reference.json"))
        let batch = try TrainingBatch(input_ids: ref["input_ids"] as! [[Int]], attention_mask: ref["attention_mask"] as! [[Int]],
                                      labels: ref["labels"] as! [[Int]])
        let model = try LoraModel(base: base, lora: LoraConfig(r: 2, lora_alpha: 4, target_modules: ["all-linear"]))
        let expected = (ref["logits"] as! [[[Double]]]).flatMap { $0.flatMap { $0.map(Float.init) } }
        #expect(maxAbsDiff(try model.logits(batch), expected) < 1e-4)
        let (sum, count) = try model.loss(batch)
        #expect(abs(sum / Double(count) - (ref["loss"] as! Double)) < 1e-5)
    }

    /// A bf16-stored base trains through the same code: gradients within bf16 rounding of the f32 ones.
    @Test func bf16BaseGivesCloseGradients() throws {
        let (batch, _) = try TinyLlama.referenceBatch()
        let f32 = try TinyLlama.model()
        let bf16Base = try LlamaModel.load(directory: TrainingPaths.tinyLlama, storage: .bf16)
        let bf16 = try LoraModel(config: bf16Base.config, weights: bf16Base.weights, adapter: f32.adapter)
        let g32 = try Self.gradients(f32, batch)
        let g16 = try Self.gradients(bf16, batch)
        for (a, b) in zip(g32, g16) { #expect(maxAbsDiff(a, b) <= 3e-2 * maxAbs(a)) }
    }

    /// Along each tensor's own gradient direction d = g/|g|, (L(θ + h·d) − L(θ − h·d)) / 2h must equal |g|.
    @Test func gradientsMatchFiniteDifferences() throws {
        let (batch, _) = try TinyLlama.referenceBatch()
        let model = try TinyLlama.model()
        let grads = try Self.gradients(model, batch)
        let tensors = model.adapter.namedTensors()
        let h: Float = 1e-2
        func meanLoss() throws -> Double { let (s, n) = try model.loss(batch); return s / Double(n) }
        var worst = 0.0
        for (i, t) in tensors.enumerated() {
            let g = grads[i]
            let norm = g.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            guard norm > 1e-6 else { continue }
            let original = t.values.array
            for j in 0..<g.count { t.values[j] = original[j] + h * g[j] / Float(norm) }
            let plus = try meanLoss()
            for j in 0..<g.count { t.values[j] = original[j] - h * g[j] / Float(norm) }
            let minus = try meanLoss()
            for j in 0..<g.count { t.values[j] = original[j] }
            let numeric = (plus - minus) / (2 * Double(h))
            worst = max(worst, abs(numeric - norm) / norm)
        }
        #expect(worst < 2e-2, "worst relative error of a directional derivative: \(worst)")
    }

    @Test func recomputationGivesIdenticalGradients() throws {
        let (batch, _) = try TinyLlama.referenceBatch()
        for dropout in [0.0, 0.1] {
            let model = try TinyLlama.model(dropout: dropout)
            model.adapter.zeroGradients()
            _ = try model.forwardBackward(batch, lossDivisor: 15, dropoutKey: 99)
            let stored = model.adapter.modules.flatMap { [$0.grad_A.array, $0.grad_B.array] }
            model.gradientCheckpointing = true
            model.adapter.zeroGradients()
            _ = try model.forwardBackward(batch, lossDivisor: 15, dropoutKey: 99)
            let recomputed = model.adapter.modules.flatMap { [$0.grad_A.array, $0.grad_B.array] }
            #expect(stored == recomputed)
        }
    }

    @Test func dropoutIsSeededAndOnlyInTraining() throws {
        let (batch, _) = try TinyLlama.referenceBatch()
        let model = try TinyLlama.model(dropout: 0.3)
        model.adapter.zeroGradients()
        let a = try model.forwardBackward(batch, lossDivisor: 15, dropoutKey: 1).lossSum
        let b = try model.forwardBackward(batch, lossDivisor: 15, dropoutKey: 1).lossSum
        let c = try model.forwardBackward(batch, lossDivisor: 15, dropoutKey: 2).lossSum
        let clean = try model.forwardBackward(batch, lossDivisor: 15, dropoutKey: nil).lossSum
        #expect(a == b)
        #expect(a != c)
        #expect(clean == (try model.loss(batch).lossSum))   // evaluation never drops out
        #expect(a != clean)
    }

    /// With dropout on, the backward must drop exactly the elements the forward dropped: the analytic gradient
    /// of lora_A agrees with a central difference of the loss under the same dropout key (in Double-rounded
    /// f32, so the tolerance is loose but a mask mismatch is far outside it).
    @Test func dropoutGradientMatchesFiniteDifferences() throws {
        let (batch, _) = try TinyLlama.referenceBatch()
        let model = try TinyLlama.model(dropout: 0.5)
        model.adapter.zeroGradients()
        _ = try model.forwardBackward(batch, lossDivisor: 1, dropoutKey: 11)
        // The loss evaluations below accumulate gradients too: keep the first pass's.
        let analytic = model.adapter.modules.map { $0.grad_A.array }
        var checked = 0
        for k in [0, model.adapter.modules.count - 1] {
            let m = model.adapter.modules[k], grad = analytic[k]
            // The entries with the largest gradients: a mismatched mask changes these the most.
            let picks = grad.indices.sorted { abs(grad[$0]) > abs(grad[$1]) }.prefix(3)
            for i in picks {
                let saved = m.lora_A[i], h: Float = 1e-2
                m.lora_A[i] = saved + h
                let plus = try model.forwardBackward(batch, lossDivisor: 1, dropoutKey: 11).lossSum
                m.lora_A[i] = saved - h
                let minus = try model.forwardBackward(batch, lossDivisor: 1, dropoutKey: 11).lossSum
                m.lora_A[i] = saved
                let numeric = (plus - minus) / Double(2 * h)
                #expect(abs(numeric - Double(grad[i])) <= 0.02 * abs(Double(grad[i])) + 1e-3,
                        "\(m.target) A[\(i)]: analytic \(grad[i]), numeric \(numeric)")
                checked += 1
            }
        }
        #expect(checked == 6)
    }

    /// Padding to a fixed length (the notebook) and padding to the longest row give the same loss and gradients:
    /// the positions after a row's last real token are skipped, and they could not change anything.
    @Test func skippedPaddingChangesNoGradient() throws {
        let examples = TinyLlama.examples(3)
        let model = try TinyLlama.model()
        let longest = try BatchBuilder(padding: .longest, padTokenId: 0).batch(examples)
        let fixed = try BatchBuilder(padding: .maxLength(40), padTokenId: 0).batch(examples)
        #expect(fixed.sequenceLength == 40 && longest.sequenceLength < 40)
        let g1 = try Self.gradients(model, longest)
        let l1 = try model.loss(longest)
        let g2 = try Self.gradients(model, fixed)
        let l2 = try model.loss(fixed)
        #expect(l1.targetCount == l2.targetCount)
        #expect(abs(l1.lossSum - l2.lossSum) < 1e-4)
        for (a, b) in zip(g1, g2) { #expect(maxAbsDiff(a, b) <= 1e-6 * max(1, maxAbs(a))) }
    }

    /// Packing several micro-batches into one pass changes the order of floating-point sums only.
    @Test func onePassOverSeveralBatchesEqualsOnePassEach() throws {
        let model = try TinyLlama.model()
        let builder = BatchBuilder(padding: .longest, padTokenId: 0)
        let batches = try [builder.batch(Array(TinyLlama.examples(5).prefix(2))), builder.batch(Array(TinyLlama.examples(5).suffix(3)))]
        let total = Double(batches.reduce(0) { $0 + $1.targetCount })
        model.adapter.zeroGradients()
        var separate = 0.0
        for b in batches { separate += try model.forwardBackward(b, lossDivisor: total).lossSum }
        let g1 = model.adapter.modules.flatMap { [$0.grad_A.array, $0.grad_B.array] }
        model.adapter.zeroGradients()
        let together = try model.forwardBackward(batches, lossDivisor: total)
        let g2 = model.adapter.modules.flatMap { [$0.grad_A.array, $0.grad_B.array] }
        #expect(together.targetCount == Int(total))
        #expect(abs(together.lossSum - separate) < 1e-4)
        for (a, b) in zip(g1, g2) { #expect(maxAbsDiff(a, b) <= 1e-5 * maxAbs(a)) }
    }

    /// The activation estimate the trainer checks before training is the arena a pass really allocates.
    /// The output head in chunks of 4 rows (15 targets: three whole chunks and a partial one, each loss and input
    /// gradient landing on its own row) gives the loss, logits and gradients of one chunk of all rows, within
    /// float rounding: up to 8 rows, products take the decode kernel, which sums in another order than sgemm.
    @Test func headChunksChangeNothing() throws {
        let (batch, _) = try TinyLlama.referenceBatch()
        let model = try TinyLlama.model()
        #expect(model.headRows >= 64)
        let whole = try model.forwardBackward(batch, lossDivisor: 15)
        let gradients = try Self.gradients(model, batch), logits = try model.logits(batch)
        model.headRows = 4
        let chunked = try model.forwardBackward(batch, lossDivisor: 15)
        #expect(chunked.targetCount == whole.targetCount && abs(chunked.lossSum - whole.lossSum) <= 1e-6 * abs(whole.lossSum))
        #expect(maxAbsDiff(try model.logits(batch), logits) <= 1e-5 * maxAbs(logits))
        for (a, b) in zip(try Self.gradients(model, batch), gradients) { #expect(maxAbsDiff(a, b) <= 1e-6 * maxAbs(b)) }
        #expect(model.activationBytes == model.activationBytes(tokens: 20, rows: 2, maxLength: 10))
    }

    @Test func activationEstimateIsTheArena() throws {
        for checkpointing in [false, true] {
            let model = try TinyLlama.model()
            model.gradientCheckpointing = checkpointing
            let batch = try TrainingBatch(input_ids: [Array(1...10), Array(11...20)])
            _ = try model.forwardBackward(batch, lossDivisor: 18)
            #expect(model.activationBytes == model.activationBytes(tokens: 20, rows: 2, maxLength: 10))
        }
    }

    @Test func badBatchesAreClearErrors() throws {
        let model = try TinyLlama.model()
        let outside = try TrainingBatch(input_ids: [[1, 500, 3]])
        #expect(throws: LoraError.self) { try model.loss(outside) }
        let badLabel = try TrainingBatch(input_ids: [[1, 5, 3]], labels: [[1, 5, -7]])
        #expect(throws: LoraError.self) { try model.loss(badLabel) }
        let tooLong = try TrainingBatch(input_ids: [[Int](repeating: 4, count: 129)])   // max_position_embeddings 128
        #expect(throws: LoraError.self) { try model.loss(tooLong) }
        #expect(throws: LoraError.self) { try TrainingBatch(input_ids: [[1, 2], [1]]) }
    }
}

/// bf16 autocast of the base products (`TrainingArguments.bf16`) on a bf16-stored base: the loss and every
/// adapter gradient stay within bf16 rounding of the f32 products' (and differ from them, so the bf16
/// kernels really ran); the Trainer sets the precision from the arguments.
/// Below the avx512bf16 kernel level (a CPU without AVX512-BF16, or MEDREPL_ISA) autocast falls back to
/// the f32 products: the same loss and gradients bit for bit.
@Suite struct BF16AutocastTests {
    static func lossAndGradients() throws -> (run: (ProductPrecision) throws -> (Double, [[Float]]), model: LoraModel) {
        let base = LlamaModel.random(config: TinyLlama.config, seed: 5, storage: .bf16)
        let lora = try LoraConfig(r: 4, lora_alpha: 8, target_modules: ["all-linear"], seed: 7)
        let model = try LoraModel(config: base.config, weights: base.weights, lora: lora)
        var g = SeededRandom(seed: 99)
        for m in model.adapter.modules { for i in 0..<m.lora_B.count { m.lora_B[i] = 0.05 * g.nextNormal() } }
        let (batch, _) = try TinyLlama.referenceBatch()
        func run(_ precision: ProductPrecision) throws -> (Double, [[Float]]) {
            model.baseProductPrecision = precision
            model.adapter.zeroGradients()
            let loss = try model.forwardBackward(batch, lossDivisor: Double(batch.targetCount)).lossSum
            return (loss, model.adapter.modules.flatMap { [$0.grad_A.array, $0.grad_B.array] })
        }
        return (run, model)
    }

    @Test(.enabled(if: WeightMatrix.bf16ProductsAvailable, "this CPU has no AVX512-BF16 (or MEDREPL_ISA lowers the level): the fallback is checked below"))
    func gradientsStayWithinBF16RoundingOfF32() throws {
        let run = try Self.lossAndGradients().run
        let (l32, g32) = try run(.f32), (l16, g16) = try run(.bf16)
        #expect(abs(l16 - l32) / abs(l32) < 1e-2, "loss \(l16) vs \(l32)")
        var worst: Float = 0, differs = false
        for (a, b) in zip(g16, g32) {
            let scale = b.map(abs).max()! + 1e-12
            worst = max(worst, maxAbsDiff(a, b) / scale)
            differs = differs || a != b
        }
        #expect(worst < 3e-2 && differs, "worst gradient difference \(worst) of each tensor's largest, differs: \(differs)")
    }

    @Test func belowTheBF16LevelAutocastIsTheF32Product() throws {
        try KernelLevel.with(.avx512) {
            let run = try Self.lossAndGradients().run
            let (l32, g32) = try run(.f32), (l16, g16) = try run(.bf16)
            #expect(l16 == l32 && g16 == g32, "at \(KernelLevel.current): loss \(l16) vs \(l32)")
        }
    }

    @Test func trainerTakesThePrecisionFromTheArguments() throws {
        var args = TrainerTests.args(TrainingPaths.scratch("bf16"))
        args.bf16 = true
        let t = try TrainerTests.trainer(args)
        #expect(t.model.baseProductPrecision == .bf16)
        args.bf16 = false
        #expect(try TrainerTests.trainer(args).model.baseProductPrecision == .f32)
    }
}
