// One query of grouped-query attention against the keys and values of a cache: the decode step's
// attention (one query per row and head). In Swift, each key took a vdot (a full lane reduction) and a
// vaxpy whose load and store of the output went through memory every key; here the output stays in
// registers over all keys: AVX-512, head_dim 64 or 128 in 4 or 8 vectors; AVX2, 8 vectors of 8 (head_dim
// 128 in two passes over the values, so the 16 registers are not exceeded). The scalar level has no
// kernel: Swift's loop (Kernels/Attention.swift) runs instead.
#include "ckernels.h"
#include "kernels.h"
#include <math.h>

#if MK_X86
MK_BEGIN_AVX2
static inline __attribute__((always_inline))
int attend_avx2(const int nv, const float *q, const float *k, const float *v, size_t stride, size_t visible,
                const int32_t *key_mask, float scale, float *row, float *out) {
    float max_score = -INFINITY;
    for (size_t j = 0; j < visible; j++) {
        if (key_mask && key_mask[j] == 0) { row[j] = -INFINITY; continue; }
        const float *kj = k + j * stride;
        __m256 a0 = _mm256_mul_ps(_mm256_loadu_ps(q), _mm256_loadu_ps(kj));
        __m256 a1 = _mm256_mul_ps(_mm256_loadu_ps(q + 8), _mm256_loadu_ps(kj + 8));
        for (int i = 2; i < nv; i += 2) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 8 * i), _mm256_loadu_ps(kj + 8 * i), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 8 * i + 8), _mm256_loadu_ps(kj + 8 * i + 8), a1);
        }
        float s = mk_hsum8(_mm256_add_ps(a0, a1)) * scale;
        row[j] = s;
        if (s > max_score) max_score = s;
    }
    if (max_score == -INFINITY) {
        for (size_t j = 0; j < visible; j++) row[j] = 0;
        for (int i = 0; i < nv; i++) _mm256_storeu_ps(out + 8 * i, _mm256_setzero_ps());
        return 0;
    }
    float inv = 1.0f / mk_exp_store(row, row, visible, max_score, 1.0f);   // exp(-inf) = 0: masked keys
    for (size_t j = 0; j < visible; j++) row[j] *= inv;
    for (int half = 0; half < nv; half += 8) {   // 8 output vectors at a time
        __m256 o[8];
        for (int i = 0; i < 8; i++) o[i] = _mm256_setzero_ps();
        for (size_t j = 0; j < visible; j++) {
            float p = row[j];
            if (p == 0) continue;
            const float *vj = v + j * stride + 8 * half;
            __m256 pv = _mm256_set1_ps(p);
            for (int i = 0; i < 8; i++) o[i] = _mm256_fmadd_ps(pv, _mm256_loadu_ps(vj + 8 * i), o[i]);
        }
        for (int i = 0; i < 8; i++) _mm256_storeu_ps(out + 8 * (half + i), o[i]);
    }
    return 1;
}

static int attention_query_avx2(const float *q, const float *k, const float *v, size_t stride, size_t visible,
                                const int32_t *key_mask, float scale, float *row, float *out, size_t head_dim) {
    if (head_dim == 64) return attend_avx2(8, q, k, v, stride, visible, key_mask, scale, row, out);
    if (head_dim == 128) return attend_avx2(16, q, k, v, stride, visible, key_mask, scale, row, out);
    return -1;
}
MK_END

MK_BEGIN_AVX512
static inline __attribute__((always_inline))
int attend_avx512(const int nv, const float *q, const float *k, const float *v, size_t stride, size_t visible,
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

static int attention_query_avx512(const float *q, const float *k, const float *v, size_t stride, size_t visible,
                                  const int32_t *key_mask, float scale, float *row, float *out, size_t head_dim) {
    if (head_dim == 64) return attend_avx512(4, q, k, v, stride, visible, key_mask, scale, row, out);
    if (head_dim == 128) return attend_avx512(8, q, k, v, stride, visible, key_mask, scale, row, out);
    return -1;
}
MK_END
#endif

int mk_attention_query(const float *q, const float *k, const float *v, size_t stride, size_t visible,
                       const int32_t *key_mask, float scale, float *row, float *out, size_t head_dim) {
    MK_DISPATCH(attention_query, q, k, v, stride, visible, key_mask, scale, row, out, head_dim);
    (void)q; (void)k; (void)v; (void)stride; (void)visible; (void)key_mask; (void)scale; (void)row; (void)out; (void)head_dim;
    return -1;
}
