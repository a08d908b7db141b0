import Foundation
import CKernels
import Kernels
import Llama

// A frozen linear layer with an optional LoRA adapter:
//   y[N, out] = x[N, in] · Wᵀ + scaling · (d(x)[N, in] · Aᵀ)[N, r] · Bᵀ,   d = dropout (training only).
// The frozen W gets no gradient; A and B do. The low-rank product a = d(x)·Aᵀ is saved for the backward;
// the dropout mask is a hash of (key, element), so the backward redraws it instead of storing d(x).

/// Where dropout masks come from: `key` identifies the micro-batch and module, `p` the probability.
struct DropoutSpec {
    var p: Float
    var key: UInt64
}

/// xd[N, in] = x ⊙ mask / (1 − p), mask[i] = 1 with probability 1 − p (a pure function of key and i,
/// the stream `mk_dropout_apply` documents).
func dropout_apply(_ xd: FloatPointer, _ x: UnsafePointer<Float>, count: Int, _ spec: DropoutSpec) {
    let keep = 1 / (1 - spec.p), threshold = TrainingRandom.dropoutThreshold(spec.p)
    dropout_blocks(count) { start, end in
        mk_dropout_apply(xd, x, start, end, spec.key, threshold, keep)
    }
}

/// dx[i] += g[i] · mask[i] / (1 − p), with the mask `dropout_apply` drew for the same key.
func dropout_accumulate(_ dx: FloatPointer, _ g: UnsafePointer<Float>, count: Int, _ spec: DropoutSpec) {
    let keep = 1 / (1 - spec.p), threshold = TrainingRandom.dropoutThreshold(spec.p)
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

/// y[N, out] = x[N, in]·Wᵀ (+ y when `accumulate`) + the adapter's term; a[N, r] saved.
/// `scratch[N, in]` holds the dropped-out input when dropout is on.
func loralinear_forward(_ y: FloatPointer, _ a: FloatPointer, _ x: UnsafePointer<Float>, _ w: WeightMatrix,
                        _ lora: LoraLinear?, dropout: DropoutSpec?, scratch: FloatPointer, N: Int, accumulate: Bool = false,
                        precision: ProductPrecision) {
    w.forward(x, into: y, n: N, accumulate: accumulate, precision: precision)
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
func loralinear_backward(_ dx: FloatPointer, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ a: UnsafePointer<Float>,
                         _ w: WeightMatrix, _ lora: LoraLinear?, dropout: DropoutSpec?,
                         da: FloatPointer, scratch: FloatPointer, N: Int, accumulate: Bool, precision: ProductPrecision) {
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
