// One query of grouped-query attention against the keys and values of a cache: the decode step's
// attention (one query per row and head). In Swift, each key took a vdot (a full lane reduction) and a
// vaxpy whose load and store of the output went through memory every key; here the output stays in
// registers over all keys (head_dim 64 or 128: 4 or 8 vectors).
#include "ckernels.h"
#include <math.h>
#if defined(__AVX512F__)
#include <immintrin.h>

static inline __attribute__((always_inline))
int attend(const int nv, const float *q, const float *k, const float *v, size_t stride, size_t visible,
           const int32_t *key_mask, float scale, float *row, float *out) {
    __m512 qv[8];
    for (int i = 0; i < nv; i++) qv[i] = _mm512_loadu_ps(q + 16 * i);
    float max_score = -INFINITY;
    for (size_t j = 0; j < visible; j++) {
        if (key_mask && key_mask[j] == 0) { row[j] = -INFINITY; continue; }
        const float *kj = k + j * stride;
        __m512 acc = _mm512_mul_ps(qv[0], _mm512_loadu_ps(kj));
        for (int i = 1; i < nv; i++) acc = _mm512_fmadd_ps(qv[i], _mm512_loadu_ps(kj + 16 * i), acc);
        float s = _mm512_reduce_add_ps(acc) * scale;
        row[j] = s;
        if (s > max_score) max_score = s;
    }
    __m512 o[8];
    for (int i = 0; i < nv; i++) o[i] = _mm512_setzero_ps();
    if (max_score == -INFINITY) {
        for (size_t j = 0; j < visible; j++) row[j] = 0;
        for (int i = 0; i < nv; i++) _mm512_storeu_ps(out + 16 * i, o[i]);
        return 0;
    }
    float inv = 1.0f / mk_exp_store(row, row, visible, max_score, 1.0f);   // exp(-inf) = 0: masked keys
    for (size_t j = 0; j < visible; j++) {
        float p = row[j] * inv;
        row[j] = p;
        if (p == 0) continue;
        const float *vj = v + j * stride;
        __m512 pv = _mm512_set1_ps(p);
        for (int i = 0; i < nv; i++) o[i] = _mm512_fmadd_ps(pv, _mm512_loadu_ps(vj + 16 * i), o[i]);
    }
    for (int i = 0; i < nv; i++) _mm512_storeu_ps(out + 16 * i, o[i]);
    return 1;
}
#endif

int mk_attention_query(const float *q, const float *k, const float *v, size_t stride, size_t visible,
                       const int32_t *key_mask, float scale, float *row, float *out, size_t head_dim) {
#if defined(__AVX512F__)
    if (head_dim == 64) return attend(4, q, k, v, stride, visible, key_mask, scale, row, out);
    if (head_dim == 128) return attend(8, q, k, v, stride, visible, key_mask, scale, row, out);
#endif
    (void)q; (void)k; (void)v; (void)stride; (void)visible; (void)key_mask; (void)scale; (void)row; (void)out;
    return -1;
}
