// y[n, rows] (+)= x[n, cols] · Wᵀ for half-precision (bf16 or IEEE f16) weights W[rows, cols] and
// a few input rows (n ≤ 8): the decode-time product. Each 16-wide block of a weight row is widened
// to f32 in registers and multiplied into all n inputs, so the weights stream from memory once.
#include "ckernels.h"
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

static inline float half_to_f32(uint16_t h, int bf16) {
    if (bf16) {
        union { uint32_t u; float f; } v = { (uint32_t)h << 16 };
        return v.f;
    }
    _Float16 f;
    __builtin_memcpy(&f, &h, 2);
    return (float)f;
}

void mk_half_matmul_nt(const uint16_t *w, int bf16, const float *x, float *y,
                       size_t rows, size_t cols, size_t n, size_t row_begin, size_t row_end,
                       int accumulate) {
    if (n > 8) n = 8;  // callers never pass more; keeps the accumulators in registers
    for (size_t r = row_begin; r < row_end; r++) {
        const uint16_t *wr = w + r * cols;
        float sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        size_t j = 0;
#if defined(__AVX512F__)
        __m512 acc0[8], acc1[8];
        for (size_t i = 0; i < n; i++) { acc0[i] = _mm512_setzero_ps(); acc1[i] = _mm512_setzero_ps(); }
        for (; j + 32 <= cols; j += 32) {
            __m256i h0 = _mm256_loadu_si256((const __m256i *)(wr + j));
            __m256i h1 = _mm256_loadu_si256((const __m256i *)(wr + j + 16));
            __m512 w0, w1;
            if (bf16) {
                w0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h0), 16));
                w1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h1), 16));
            } else {
                w0 = _mm512_cvtph_ps(h0);
                w1 = _mm512_cvtph_ps(h1);
            }
            for (size_t i = 0; i < n; i++) {
                acc0[i] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + i * cols + j), acc0[i]);
                acc1[i] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + i * cols + j + 16), acc1[i]);
            }
        }
        for (size_t i = 0; i < n; i++) sums[i] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[i], acc1[i]));
#endif
        for (; j < cols; j++) {
            float wv = half_to_f32(wr[j], bf16);
            for (size_t i = 0; i < n; i++) sums[i] += wv * x[i * cols + j];
        }
        for (size_t i = 0; i < n; i++) {
            if (accumulate) y[i * rows + r] += sums[i];
            else y[i * rows + r] = sums[i];
        }
    }
}
