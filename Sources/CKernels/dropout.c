// LoRA dropout masks: element i of a tensor is kept when 16-bit lane (i mod 4) of
// SplitMix64(key + (i/4 + 1) * golden) is at or above `threshold`. The mask is a pure function of
// (key, i), so the backward redraws it instead of storing it. AVX-512 mixes eight draws (32 elements)
// at once and compares them as 32 words; AVX2 mixes four (16 elements), with the 64-bit multiplies it
// lacks built from 32-bit ones. Every level gives the scalar loop's mask bit for bit.
#include "ckernels.h"
#include "kernels.h"

static const uint64_t golden = 0x9E3779B97F4A7C15ull;
#define MIX1 0xBF58476D1CE4E5B9ull
#define MIX2 0x94D049BB133111EBull

static inline uint64_t splitmix(uint64_t z) {
    z = (z ^ (z >> 30)) * MIX1;
    z = (z ^ (z >> 27)) * MIX2;
    return z ^ (z >> 31);
}

static inline int kept(uint64_t key, size_t i, uint32_t threshold) {
    uint64_t draw = splitmix(key + (uint64_t)(i / 4 + 1) * golden);
    return ((draw >> ((i & 3) * 16)) & 0xFFFF) >= threshold;
}

// accumulate = 0: out[i] = kept ? in[i] · keep : 0;  accumulate = 1: out[i] += kept ? in[i] · keep : 0.
static void dropout_scalar(float *out, const float *in, size_t begin, size_t end,
                           uint64_t key, uint32_t threshold, float keep, int accumulate) {
    for (size_t i = begin; i < end; i++) {
        if (accumulate) { if (kept(key, i, threshold)) out[i] += in[i] * keep; }
        else out[i] = kept(key, i, threshold) ? in[i] * keep : 0.0f;
    }
}

#if MK_X86
MK_BEGIN_AVX2
// a · b mod 2^64 in each 64-bit lane
static inline __m256i mullo64(__m256i a, __m256i b) {
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), b), _mm256_mul_epu32(a, _mm256_srli_epi64(b, 32)));
    return _mm256_add_epi64(_mm256_mul_epu32(a, b), _mm256_slli_epi64(cross, 32));
}

// The keep masks of elements [i, i + 16), i a multiple of 4: all ones in lane j of lo (elements i..i+7)
// and hi (i+8..i+15) where kept.
static inline void keep_mask16(uint64_t key, size_t i, __m256i threshold16, __m256i *lo, __m256i *hi) {
    __m256i group = _mm256_add_epi64(_mm256_set1_epi64x((long long)(i / 4 + 1)), _mm256_setr_epi64x(0, 1, 2, 3));
    __m256i z = _mm256_add_epi64(_mm256_set1_epi64x((long long)key), mullo64(group, _mm256_set1_epi64x((long long)golden)));
    z = mullo64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), _mm256_set1_epi64x((long long)MIX1));
    z = mullo64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), _mm256_set1_epi64x((long long)MIX2));
    z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
    __m256i ge = _mm256_cmpeq_epi16(_mm256_max_epu16(z, threshold16), z);   // word ≥ threshold, unsigned
    *lo = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(ge));
    *hi = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(ge, 1));
}

static void dropout_avx2(float *out, const float *in, size_t begin, size_t end,
                         uint64_t key, uint32_t threshold, float keep, int accumulate) {
    size_t i = begin;
    if (threshold <= 0xFFFF && begin % 4 == 0) {
        const __m256i t = _mm256_set1_epi16((short)threshold);
        const __m256 scale = _mm256_set1_ps(keep);
        for (; i + 16 <= end; i += 16) {
            __m256i m[2];
            keep_mask16(key, i, t, &m[0], &m[1]);
            for (int half = 0; half < 2; half++) {
                __m256 v = _mm256_and_ps(_mm256_loadu_ps(in + i + 8 * half), _mm256_castsi256_ps(m[half]));
                __m256 r = accumulate ? _mm256_fmadd_ps(v, scale, _mm256_loadu_ps(out + i + 8 * half)) : _mm256_mul_ps(v, scale);
                _mm256_storeu_ps(out + i + 8 * half, r);
            }
        }
    }
    dropout_scalar(out, in, i, end, key, threshold, keep, accumulate);
}
MK_END

MK_BEGIN_AVX512
// The keep mask of elements [i, i + 32), i a multiple of 4: bit j for element i + j.
static inline __mmask32 keep_mask32(uint64_t key, size_t i, __m512i threshold16) {
    const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    __m512i group = _mm512_add_epi64(_mm512_set1_epi64((long long)(i / 4 + 1)), lane);
    __m512i z = _mm512_add_epi64(_mm512_set1_epi64((long long)key),
                                 _mm512_mullo_epi64(group, _mm512_set1_epi64((long long)golden)));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), _mm512_set1_epi64((long long)MIX1));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), _mm512_set1_epi64((long long)MIX2));
    z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
    return _mm512_cmpge_epu16_mask(z, threshold16);
}

static void dropout_avx512(float *out, const float *in, size_t begin, size_t end,
                           uint64_t key, uint32_t threshold, float keep, int accumulate) {
    size_t i = begin;
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
    dropout_scalar(out, in, i, end, key, threshold, keep, accumulate);
}
MK_END
#endif

void mk_dropout_apply(float *out, const float *x, size_t begin, size_t end,
                      uint64_t key, uint32_t threshold, float keep) {
    MK_DISPATCH_VOID(dropout, out, x, begin, end, key, threshold, keep, 0);
    dropout_scalar(out, x, begin, end, key, threshold, keep, 0);
}

void mk_dropout_accumulate(float *dx, const float *g, size_t begin, size_t end,
                           uint64_t key, uint32_t threshold, float keep) {
    MK_DISPATCH_VOID(dropout, dx, g, begin, end, key, threshold, keep, 1);
    dropout_scalar(dx, g, begin, end, key, threshold, keep, 1);
}
