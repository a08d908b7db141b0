// LoRA dropout masks: element i of a tensor is kept when 16-bit lane (i mod 4) of
// SplitMix64(key + (i/4 + 1) * golden) is at or above `threshold`. The mask is a pure function of
// (key, i), so the backward redraws it instead of storing it. With AVX-512, eight draws (32 elements)
// are mixed at once and compared as 32 words; the result is bit-identical to the scalar loop.
#include "ckernels.h"
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__)
#include <immintrin.h>
#define MK_DROPOUT_AVX512 1
#endif

static const uint64_t golden = 0x9E3779B97F4A7C15ull;

static inline uint64_t splitmix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline int kept(uint64_t key, size_t i, uint32_t threshold) {
    uint64_t draw = splitmix(key + (uint64_t)(i / 4 + 1) * golden);
    return ((draw >> ((i & 3) * 16)) & 0xFFFF) >= threshold;
}

#if MK_DROPOUT_AVX512
// The keep mask of elements [i, i + 32), i a multiple of 4: bit j for element i + j.
static inline __mmask32 keep_mask32(uint64_t key, size_t i, __m512i threshold16) {
    const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    __m512i group = _mm512_add_epi64(_mm512_set1_epi64((long long)(i / 4 + 1)), lane);
    __m512i z = _mm512_add_epi64(_mm512_set1_epi64((long long)key),
                                 _mm512_mullo_epi64(group, _mm512_set1_epi64((long long)golden)));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ull));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), _mm512_set1_epi64((long long)0x94D049BB133111EBull));
    z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
    return _mm512_cmpge_epu16_mask(z, threshold16);
}
#endif

// accumulate = 0: out[i] = kept ? in[i] · keep : 0;  accumulate = 1: out[i] += kept ? in[i] · keep : 0.
static inline void dropout(float *out, const float *in, size_t begin, size_t end,
                           uint64_t key, uint32_t threshold, float keep, int accumulate) {
    size_t i = begin;
#if MK_DROPOUT_AVX512
    if (threshold <= 0xFFFF && begin % 4 == 0) {
        const __m512i t = _mm512_set1_epi16((short)threshold);
        const __m512 scale = _mm512_set1_ps(keep);
        for (; i + 32 <= end; i += 32) {
            __mmask32 m = keep_mask32(key, i, t);
            for (int half = 0; half < 2; half++) {
                __mmask16 k = (__mmask16)(m >> (16 * half));
                __m512 v = _mm512_loadu_ps(in + i + 16 * half);
                __m512 r = accumulate ? _mm512_mask3_fmadd_ps(v, scale, _mm512_loadu_ps(out + i + 16 * half), k)
                                      : _mm512_maskz_mul_ps(k, v, scale);
                _mm512_storeu_ps(out + i + 16 * half, r);
            }
        }
    }
#endif
    for (; i < end; i++) {
        if (accumulate) { if (kept(key, i, threshold)) out[i] += in[i] * keep; }
        else out[i] = kept(key, i, threshold) ? in[i] * keep : 0.0f;
    }
}

void mk_dropout_apply(float *out, const float *x, size_t begin, size_t end,
                      uint64_t key, uint32_t threshold, float keep) {
    dropout(out, x, begin, end, key, threshold, keep, 0);
}

void mk_dropout_accumulate(float *dx, const float *g, size_t begin, size_t end,
                           uint64_t key, uint32_t threshold, float keep) {
    dropout(dx, g, begin, end, key, threshold, keep, 1);
}
