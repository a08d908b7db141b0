// y[n, rows] (+)= x[n, cols] · Wᵀ for weights W[rows, cols] in f32, bf16 or IEEE f16 and a few
// input rows (n ≤ 8): the decode-time product. Each block of a weight row is loaded (and widened to
// f32 in registers: bf16 by a shift, f16 by F16C) once and multiplied into all n inputs, so the weights
// stream from memory once, in their stored size. Callers split the rows over threads themselves, so no
// BLAS thread pool spins between products. Levels: scalar, AVX2 (8 lanes), AVX-512 (16 lanes).
//
// One weight row at a time, read in order, MK_PREFETCH_BYTES ahead (kernels.h) where mk_stream_prefetch():
// on an Intel Xeon (model 207) that took SmolLM2 decode from 56-64 to 87-94 tok/s in bf16 and 44-45 to
// 49-52 in f32 (AVX2 kernels, 3 interleaved runs each); on an AMD Zen 4 it slowed them (kernels.h). The
// weight format and the prefetch are constants in each inlined copy (matmul_*'s switch), so the inner
// loop tests nothing: f32 48-52 -> 53-55 tok/s, bf16 90-96 -> 94-101 on that Xeon.
//
// Four rows interleaved (each block of x loaded once for four rows) was 9% faster for f32 on a Zen 5 but
// much slower on a Zen 4 (SmolLM2 decode, 3 interleaved runs: f32 avx2 35-38 against 48-52 tok/s, avx512
// 33-36 against 47-51; bf16 avx2 47-50 against 79-85).
#include "ckernels.h"
#include "kernels.h"

static inline float weight_to_f32(const void *w, size_t i, int format) {
    if (format == MK_WEIGHT_F32) return ((const float *)w)[i];
    uint16_t h = ((const uint16_t *)w)[i];
    if (format == MK_WEIGHT_BF16) {
        union { uint32_t u; float f; } v = { (uint32_t)h << 16 };
        return v.f;
    }
    _Float16 f;
    __builtin_memcpy(&f, &h, 2);
    return (float)f;
}

// Σ_j W[r, j] · x[i, j] for columns [j, cols) of rows r, added to sums[i]: the tail after the vectors.
static inline __attribute__((always_inline))
void tail_columns(const size_t n, const void *w, int format, const float *x, size_t cols, size_t wr, size_t j, float *sums) {
    for (; j < cols; j++) {
        float wv = weight_to_f32(w, wr + j, format);
        for (size_t i = 0; i < n; i++) sums[i] += wv * x[i * cols + j];
    }
}

static inline __attribute__((always_inline))
void store_sums(const size_t n, const float *sums, float *y, size_t rows, size_t r, int accumulate) {
    for (size_t i = 0; i < n; i++) {
        if (accumulate) y[i * rows + r] += sums[i];
        else y[i * rows + r] = sums[i];
    }
}

static inline __attribute__((always_inline))
void matmul_rows_scalar(const size_t n, const void *w, int format, const float *x, float *y,
                        size_t rows, size_t cols, size_t row_begin, size_t row_end, int accumulate) {
    for (size_t r = row_begin; r < row_end; r++) {
        float sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        tail_columns(n, w, format, x, cols, r * cols, 0, sums);
        store_sums(n, sums, y, rows, r, accumulate);
    }
}

static void matmul_scalar(const void *w, int format, const float *x, float *y,
                          size_t rows, size_t cols, size_t n, size_t row_begin, size_t row_end, int accumulate) {
#define ROWS(N) case N: matmul_rows_scalar(N, w, format, x, y, rows, cols, row_begin, row_end, accumulate); break;
    switch (n) { ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7) ROWS(8) default: break; }
#undef ROWS
}

#if MK_X86
// ---- AVX2 + FMA + F16C ---------------------------------------------------------------------------
MK_BEGIN_AVX2
static inline __m256 load8(const void *w, size_t i, int format) {
    if (format == MK_WEIGHT_F32) return _mm256_loadu_ps((const float *)w + i);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + i));
    if (format == MK_WEIGHT_BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

// Rows [row_begin, row_end) for n inputs. Always inlined with a constant n (see matmul_*'s switch), so
// the 2n accumulators live in registers: with a run-time n the compiler kept them on the stack.
static inline __attribute__((always_inline))
void matmul_rows_avx2(const size_t n, const int prefetch, const void *w, int format, const float *x, float *y,
                      size_t rows, size_t cols, size_t row_begin, size_t row_end, int accumulate) {
    const size_t elsize = format == MK_WEIGHT_F32 ? 4 : 2;
    for (size_t r = row_begin; r < row_end; r++) {
        size_t wr = r * cols, j = 0;
        float sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        __m256 acc0[8], acc1[8];
        for (size_t i = 0; i < n; i++) { acc0[i] = _mm256_setzero_ps(); acc1[i] = _mm256_setzero_ps(); }
        for (; j + 16 <= cols; j += 16) {
            if (prefetch) mk_prefetch_ahead((const char *)w + (wr + j) * elsize);
            __m256 w0 = load8(w, wr + j, format), w1 = load8(w, wr + j + 8, format);
            for (size_t i = 0; i < n; i++) {
                acc0[i] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i * cols + j), acc0[i]);
                acc1[i] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i * cols + j + 8), acc1[i]);
            }
        }
        for (size_t i = 0; i < n; i++) sums[i] = mk_hsum8(_mm256_add_ps(acc0[i], acc1[i]));
        tail_columns(n, w, format, x, cols, wr, j, sums);
        store_sums(n, sums, y, rows, r, accumulate);
    }
}

static void matmul_avx2(const void *w, int format, const float *x, float *y,
                        size_t rows, size_t cols, size_t n, size_t row_begin, size_t row_end, int accumulate) {
#define ROWS(N, P, F) case N: matmul_rows_avx2(N, P, w, F, x, y, rows, cols, row_begin, row_end, accumulate); break;
#define FORMAT(P, F) case F: switch (n) { ROWS(1, P, F) ROWS(2, P, F) ROWS(3, P, F) ROWS(4, P, F) ROWS(5, P, F) ROWS(6, P, F) ROWS(7, P, F) ROWS(8, P, F) default: break; } break;
#define FORMATS(P) switch (format) { FORMAT(P, MK_WEIGHT_F32) FORMAT(P, MK_WEIGHT_BF16) FORMAT(P, MK_WEIGHT_F16) default: break; }
    if (mk_stream_prefetch()) FORMATS(1) else FORMATS(0)
#undef FORMATS
#undef FORMAT
#undef ROWS
}
MK_END

// ---- AVX-512 -------------------------------------------------------------------------------------
MK_BEGIN_AVX512
static inline __m512 load16(const void *w, size_t i, int format) {
    if (format == MK_WEIGHT_F32) return _mm512_loadu_ps((const float *)w + i);
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)w + i));
    if (format == MK_WEIGHT_BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtph_ps(h);
}

static inline __attribute__((always_inline))
void matmul_rows_avx512(const size_t n, const int prefetch, const void *w, int format, const float *x, float *y,
                        size_t rows, size_t cols, size_t row_begin, size_t row_end, int accumulate) {
    const size_t elsize = format == MK_WEIGHT_F32 ? 4 : 2;
    for (size_t r = row_begin; r < row_end; r++) {
        size_t wr = r * cols, j = 0;
        float sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        __m512 acc0[8], acc1[8];
        for (size_t i = 0; i < n; i++) { acc0[i] = _mm512_setzero_ps(); acc1[i] = _mm512_setzero_ps(); }
        for (; j + 32 <= cols; j += 32) {
            if (prefetch) mk_prefetch_ahead((const char *)w + (wr + j) * elsize);
            __m512 w0 = load16(w, wr + j, format), w1 = load16(w, wr + j + 16, format);
            for (size_t i = 0; i < n; i++) {
                acc0[i] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + i * cols + j), acc0[i]);
                acc1[i] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + i * cols + j + 16), acc1[i]);
            }
        }
        for (size_t i = 0; i < n; i++) sums[i] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[i], acc1[i]));
        tail_columns(n, w, format, x, cols, wr, j, sums);
        store_sums(n, sums, y, rows, r, accumulate);
    }
}

static void matmul_avx512(const void *w, int format, const float *x, float *y,
                          size_t rows, size_t cols, size_t n, size_t row_begin, size_t row_end, int accumulate) {
#define ROWS(N, P, F) case N: matmul_rows_avx512(N, P, w, F, x, y, rows, cols, row_begin, row_end, accumulate); break;
#define FORMAT(P, F) case F: switch (n) { ROWS(1, P, F) ROWS(2, P, F) ROWS(3, P, F) ROWS(4, P, F) ROWS(5, P, F) ROWS(6, P, F) ROWS(7, P, F) ROWS(8, P, F) default: break; } break;
#define FORMATS(P) switch (format) { FORMAT(P, MK_WEIGHT_F32) FORMAT(P, MK_WEIGHT_BF16) FORMAT(P, MK_WEIGHT_F16) default: break; }
    if (mk_stream_prefetch()) FORMATS(1) else FORMATS(0)
#undef FORMATS
#undef FORMAT
#undef ROWS
}
MK_END
#endif

void mk_matmul_nt_small(const void *w, int format, const float *x, float *y,
                        size_t rows, size_t cols, size_t n, size_t row_begin, size_t row_end,
                        int accumulate) {
    if (n > 8) n = 8;  // callers never pass more; keeps the accumulators in registers
    MK_DISPATCH_VOID(matmul, w, format, x, y, rows, cols, n, row_begin, row_end, accumulate);
    matmul_scalar(w, format, x, y, rows, cols, n, row_begin, row_end, accumulate);
}
