// exp over rows, vectorised: the softmax and cross-entropy of the output head (49,152 logits a row for
// SmolLM2) and the SiLU gate of the MLP. libm's expf is scalar and was 3% of a training step.
//
// exp(x) = 2^k · p(r), k = round(x / ln 2), r = x − k·ln 2 (ln 2 split in two so r is exact to f32),
// p a degree-6 polynomial on |r| ≤ ln 2 / 2 (Cephes' expf coefficients, within 2 ulp of expf), and 2^k
// applied by scalef, which neither overflows early nor needs a bit trick. x is clamped to [−104, 89]:
// below, exp is under the smallest denormal (0); above, 2^k · p overflows to +inf as expf does.
#include "ckernels.h"
#include <math.h>
#if defined(__AVX512F__)
#include <immintrin.h>

static inline __m512 exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, k);
}

static inline __m512 load_tail(const float *x, size_t n, __mmask16 *m, float fill) {
    *m = (__mmask16)((1u << n) - 1);
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), *m, x);
}
#endif

void mk_exp(const float *x, float *out, size_t n) {
    size_t i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, exp16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m;
        __m512 v = load_tail(x + i, n - i, &m, 0.0f);
        _mm512_mask_storeu_ps(out + i, m, exp16(v));
        i = n;
    }
#endif
    for (; i < n; i++) out[i] = expf(x[i]);
}

float mk_sum_exp(const float *x, size_t n, float shift) {
    size_t i = 0;
    float sum = 0;
#if defined(__AVX512F__)
    const __m512 s = _mm512_set1_ps(shift);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_add_ps(acc0, exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s)));
        acc1 = _mm512_add_ps(acc1, exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), s)));
    }
    for (; i + 16 <= n; i += 16) acc0 = _mm512_add_ps(acc0, exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s)));
    if (i < n) {
        __mmask16 m;
        __m512 v = load_tail(x + i, n - i, &m, -INFINITY);
        acc1 = _mm512_add_ps(acc1, _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(v, s))));
        i = n;
    }
    sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
#endif
    for (; i < n; i++) sum += expf(x[i] - shift);
    return sum;
}

float mk_exp_store(float *out, const float *x, size_t n, float shift, float scale) {
    size_t i = 0;
    float sum = 0;
#if defined(__AVX512F__)
    const __m512 s = _mm512_set1_ps(shift), c = _mm512_set1_ps(scale);
    __m512 acc = _mm512_setzero_ps();
    for (; i + 16 <= n; i += 16) {
        __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
        acc = _mm512_add_ps(acc, e);
        _mm512_storeu_ps(out + i, _mm512_mul_ps(e, c));
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s)));
        acc = _mm512_add_ps(acc, e);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(e, c));
        i = n;
    }
    sum = _mm512_reduce_add_ps(acc);
#endif
    for (; i < n; i++) { float e = expf(x[i] - shift); sum += e; out[i] = e * scale; }
    return sum;
}

void mk_swiglu_forward(float *out, const float *gate, const float *up, size_t n) {
    size_t i = 0;
#if defined(__AVX512F__)
    const __m512 one = _mm512_set1_ps(1.0f);
    for (; i + 16 <= n; i += 16) {
        __m512 g = _mm512_loadu_ps(gate + i);
        __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
    }
#endif
    for (; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

void mk_swiglu_backward(float *dgate, float *dup, const float *dact, const float *gate, const float *up, size_t n) {
    size_t i = 0;
#if defined(__AVX512F__)
    const __m512 one = _mm512_set1_ps(1.0f);
    for (; i + 16 <= n; i += 16) {
        __m512 g = _mm512_loadu_ps(gate + i), d = _mm512_loadu_ps(dact + i);
        __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
        _mm512_storeu_ps(dup + i, _mm512_mul_ps(_mm512_mul_ps(d, g), sig));
        // dgate = dact · up · σ · (1 + g · (1 − σ))
        __m512 t = _mm512_fmadd_ps(g, _mm512_sub_ps(one, sig), one);
        _mm512_storeu_ps(dgate + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(d, _mm512_loadu_ps(up + i)), sig), t));
    }
#endif
    for (; i < n; i++) {
        float g = gate[i], sig = 1.0f / (1.0f + expf(-g));
        dup[i] = dact[i] * g * sig;
        dgate[i] = dact[i] * up[i] * sig * (1.0f + g * (1.0f - sig));
    }
}
