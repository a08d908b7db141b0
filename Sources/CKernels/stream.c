// Σ x[i], reading x once as fast as a core can: the machine probe's memory read bandwidth, the bound that
// decoding one sequence (every weight read once per token) is measured against. It reads ahead as the
// decode products do (MK_PREFETCH_BYTES where mk_stream_prefetch(), kernels.h), so the bound is what those
// loops can reach: without the prefetch a plain sum read 28 GB/s on an Intel Xeon (model 207, 2 cores) where
// the products streamed 33; on an AMD Zen 4 the sum read 22.4 GB/s on one core with it and 24.7 without.
#include "ckernels.h"
#include "kernels.h"

#if MK_X86
MK_BEGIN_AVX2
static inline __attribute__((always_inline)) float read_sum_avx2(const int prefetch, const float *x, size_t n) {
    __m256 a = _mm256_setzero_ps(), b = a;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        if (prefetch) mk_prefetch_ahead(x + i);
        a = _mm256_add_ps(a, _mm256_loadu_ps(x + i));
        b = _mm256_add_ps(b, _mm256_loadu_ps(x + i + 8));
    }
    float s = mk_hsum8(_mm256_add_ps(a, b));
    for (; i < n; i++) s += x[i];
    return s;
}

static float read_avx2(const float *x, size_t n) {
    return mk_stream_prefetch() ? read_sum_avx2(1, x, n) : read_sum_avx2(0, x, n);
}
MK_END
#endif

float mk_read_sum(const float *x, size_t n) {
#if MK_X86
    if (mk_isa_level() >= MK_ISA_AVX2) return read_avx2(x, n);
#endif
    float s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s;
}
