// exp over rows, vectorised: the softmax and cross-entropy of the output head (49,152 logits a row for
// SmolLM2) and the SiLU gate of the MLP. libm's expf is scalar and was 3% of a training step.
//
// exp(x) = 2^k · p(r), k = round(x / ln 2), r = x − k·ln 2 (ln 2 split in two so r is exact to f32),
// p a degree-6 polynomial on |r| ≤ ln 2 / 2 (Cephes' expf coefficients, within 2 ulp of expf). x is
// clamped to [−104, 89]: below, exp is under the smallest denormal (0); above, 2^k · p overflows to +inf
// as expf does. 2^k is applied exactly: AVX-512's scalef, or on AVX2 two multiplications by normal
// powers of two (2^⌊k/2⌋ · 2^(k−⌊k/2⌋), the first exact), which round once as scalef does, so both
// levels give the same bits. The scalar level is libm's expf.
#include "ckernels.h"
#include "kernels.h"
#include <math.h>

#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define P0 1.9875691500e-4f
#define P1 1.3981999507e-3f
#define P2 8.3334519073e-3f
#define P3 4.1665795894e-2f
#define P4 1.6666665459e-1f
#define P5 5.0000001201e-1f

// ---- scalar -------------------------------------------------------------------------------------
static void exp_scalar(const float *x, float *out, size_t n) { for (size_t i = 0; i < n; i++) out[i] = expf(x[i]); }

static float sum_exp_scalar(const float *x, size_t n, float shift) {
    float sum = 0;
    for (size_t i = 0; i < n; i++) sum += expf(x[i] - shift);
    return sum;
}

static float exp_store_scalar(float *out, const float *x, size_t n, float shift, float scale) {
    float sum = 0;
    for (size_t i = 0; i < n; i++) { float e = expf(x[i] - shift); sum += e; out[i] = e * scale; }
    return sum;
}

static void swiglu_forward_scalar(float *out, const float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

static void swiglu_backward_scalar(float *dgate, float *dup, const float *dact, const float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = gate[i], sig = 1.0f / (1.0f + expf(-g));
        dup[i] = dact[i] * g * sig;
        dgate[i] = dact[i] * up[i] * sig * (1.0f + g * (1.0f - sig));
    }
}

#if MK_X86
// ---- AVX2 + FMA: 8 lanes, tails through lane masks -----------------------------------------------
MK_BEGIN_AVX2
static inline __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(89.0f));
    __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(LN2_HI), x);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(LN2_LO), r);
    __m256 p = _mm256_set1_ps(P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // k ∈ [−150, 129]: 2^k as 2^k1 · 2^k2 with both halves normal
    __m256i ki = _mm256_cvtps_epi32(k);
    __m256i k1 = _mm256_srai_epi32(ki, 1), k2 = _mm256_sub_epi32(ki, k1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

// lanes [0, left) set (left < 8)
static inline __m256i tail8(size_t left) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static void exp_avx2(const float *x, float *out, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, exp8(_mm256_loadu_ps(x + i)));
    if (i < n) { __m256i m = tail8(n - i); _mm256_maskstore_ps(out + i, m, exp8(_mm256_maskload_ps(x + i, m))); }
}

static float sum_exp_avx2(const float *x, size_t n, float shift) {
    const __m256 s = _mm256_set1_ps(shift);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_add_ps(acc0, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
        acc1 = _mm256_add_ps(acc1, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), s)));
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_add_ps(acc0, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
    if (i < n) {
        __m256i m = tail8(n - i);
        __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), s));
        acc1 = _mm256_add_ps(acc1, _mm256_and_ps(e, _mm256_castsi256_ps(m)));
    }
    return mk_hsum8(_mm256_add_ps(acc0, acc1));
}

static float exp_store_avx2(float *out, const float *x, size_t n, float shift, float scale) {
    const __m256 s = _mm256_set1_ps(shift), c = _mm256_set1_ps(scale);
    __m256 acc = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
        acc = _mm256_add_ps(acc, e);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(e, c));
    }
    if (i < n) {
        __m256i m = tail8(n - i);
        __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), s)), _mm256_castsi256_ps(m));
        acc = _mm256_add_ps(acc, e);
        _mm256_maskstore_ps(out + i, m, _mm256_mul_ps(e, c));
    }
    return mk_hsum8(acc);
}

static void swiglu_forward_avx2(float *out, const float *gate, const float *up, size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    swiglu_forward_scalar(out + i, gate + i, up + i, n - i);
}

static void swiglu_backward_avx2(float *dgate, float *dup, const float *dact, const float *gate, const float *up, size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i), d = _mm256_loadu_ps(dact + i);
        __m256 sig = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        _mm256_storeu_ps(dup + i, _mm256_mul_ps(_mm256_mul_ps(d, g), sig));
        __m256 t = _mm256_fmadd_ps(g, _mm256_sub_ps(one, sig), one);   // 1 + g · (1 − σ)
        _mm256_storeu_ps(dgate + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(d, _mm256_loadu_ps(up + i)), sig), t));
    }
    swiglu_backward_scalar(dgate + i, dup + i, dact + i, gate + i, up + i, n - i);
}
MK_END

// ---- AVX-512: 16 lanes, tails through mask registers ---------------------------------------------
MK_BEGIN_AVX512
static inline __m512 exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(LN2_HI), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(LN2_LO), r);
    __m512 p = _mm512_set1_ps(P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P5));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, k);
}

static inline __mmask16 tail16(size_t left) { return (__mmask16)((1u << left) - 1); }

static void exp_avx512(const float *x, float *out, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, exp16(_mm512_loadu_ps(x + i)));
    if (i < n) { __mmask16 m = tail16(n - i); _mm512_mask_storeu_ps(out + i, m, exp16(_mm512_maskz_loadu_ps(m, x + i))); }
}

static float sum_exp_avx512(const float *x, size_t n, float shift) {
    const __m512 s = _mm512_set1_ps(shift);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_add_ps(acc0, exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s)));
        acc1 = _mm512_add_ps(acc1, exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), s)));
    }
    for (; i + 16 <= n; i += 16) acc0 = _mm512_add_ps(acc0, exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s)));
    if (i < n) {
        __mmask16 m = tail16(n - i);
        acc1 = _mm512_add_ps(acc1, _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s))));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

static float exp_store_avx512(float *out, const float *x, size_t n, float shift, float scale) {
    const __m512 s = _mm512_set1_ps(shift), c = _mm512_set1_ps(scale);
    __m512 acc = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
        acc = _mm512_add_ps(acc, e);
        _mm512_storeu_ps(out + i, _mm512_mul_ps(e, c));
    }
    if (i < n) {
        __mmask16 m = tail16(n - i);
        __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s)));
        acc = _mm512_add_ps(acc, e);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(e, c));
    }
    return _mm512_reduce_add_ps(acc);
}

static void swiglu_forward_avx512(float *out, const float *gate, const float *up, size_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 g = _mm512_loadu_ps(gate + i);
        __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
    }
    swiglu_forward_scalar(out + i, gate + i, up + i, n - i);
}

static void swiglu_backward_avx512(float *dgate, float *dup, const float *dact, const float *gate, const float *up, size_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 g = _mm512_loadu_ps(gate + i), d = _mm512_loadu_ps(dact + i);
        __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
        _mm512_storeu_ps(dup + i, _mm512_mul_ps(_mm512_mul_ps(d, g), sig));
        __m512 t = _mm512_fmadd_ps(g, _mm512_sub_ps(one, sig), one);   // 1 + g · (1 − σ)
        _mm512_storeu_ps(dgate + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(d, _mm512_loadu_ps(up + i)), sig), t));
    }
    swiglu_backward_scalar(dgate + i, dup + i, dact + i, gate + i, up + i, n - i);
}
MK_END
#endif

void mk_exp(const float *x, float *out, size_t n) { MK_DISPATCH_VOID(exp, x, out, n); exp_scalar(x, out, n); }
float mk_sum_exp(const float *x, size_t n, float shift) { MK_DISPATCH(sum_exp, x, n, shift); return sum_exp_scalar(x, n, shift); }
float mk_exp_store(float *out, const float *x, size_t n, float shift, float scale) {
    MK_DISPATCH(exp_store, out, x, n, shift, scale);
    return exp_store_scalar(out, x, n, shift, scale);
}
void mk_swiglu_forward(float *out, const float *gate, const float *up, size_t n) {
    MK_DISPATCH_VOID(swiglu_forward, out, gate, up, n);
    swiglu_forward_scalar(out, gate, up, n);
}
void mk_swiglu_backward(float *dgate, float *dup, const float *dact, const float *gate, const float *up, size_t n) {
    MK_DISPATCH_VOID(swiglu_backward, dgate, dup, dact, gate, up, n);
    swiglu_backward_scalar(dgate, dup, dact, gate, up, n);
}
