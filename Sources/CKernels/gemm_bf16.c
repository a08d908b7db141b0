// Products with a frozen bf16 weight W[n, k] (row-major, PyTorch's Linear layout) on AVX512-BF16:
// vdpbf16ps multiplies 32 bf16 pairs and adds them into 16 f32 lanes, twice the multiply-adds of an
// f32 FMA, and the weights are read as stored (2 bytes each, no f32 copy). The other operand is
// rounded to bf16 by the caller, as torch's bf16 autocast does; sums are f32.
//
//   forward   y[m, n]  (+)= x[m, k] · Wᵀ
//   backward  dx[m, k] (+)= dy[m, n] · W
//
// Both are outer products: 8 rows of the activations × a strip of 32 output columns, 16 f32
// accumulators, each step one (a, b) pair of the reduction dimension broadcast from the activations
// against the strip's pairs. The strip is packed once (backward: two rows of W interleaved; forward:
// pairs of one W row, i.e. W transposed) and reused by every block of 8 rows; 4096 reduction rows at a
// time keep it in L2. A dot-product form of the forward (lane sums reduced at the end) reached ~220
// GFLOPS a core here, this one ~350. Callers split the output columns over threads.
// Only the avx512bf16 level has these products; below it mk_gemm_bf16_available() is 0 and callers
// multiply in f32 (WeightMatrix).
#include "ckernels.h"
#include "kernels.h"
#include <stdlib.h>

int mk_gemm_bf16_available(void) { return mk_isa_level() >= MK_ISA_AVX512_BF16; }

#if MK_X86
MK_BEGIN_AVX512BF16
// The first min(left, 32) of 32 lanes.
static inline __mmask32 tail_mask(size_t left) { return left >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << left) - 1); }

// out[i0 + r, c0 .. c0 + 32) for r < rows (≤ 8), masked to `cols` columns: operand rows i0.. (bf16 pairs
// along the reduction, `n` apart) times the packed strip of reduction rows [j_begin, j_end).
// 16 accumulators; each operand pair is a broadcast from memory.
#define DP2(r) { __m512bh d = (__m512bh)_mm512_set1_epi32(*(const int32_t *)(pd##r + j)); \
    lo##r = _mm512_dpbf16_ps(lo##r, d, pl); hi##r = _mm512_dpbf16_ps(hi##r, d, ph); }
#define STORE_ROW(r) if (r < rows) { \
    __m512 s0 = _mm512_permutex2var_ps(lo##r, first, hi##r), s1 = _mm512_permutex2var_ps(lo##r, second, hi##r); \
    float *o = out + (i0 + r) * ld_out + c0; \
    if (accumulate) { s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(m0, o)); \
                      s1 = _mm512_add_ps(s1, _mm512_maskz_loadu_ps(m1, o + 16)); } \
    _mm512_mask_storeu_ps(o, m0, s0); _mm512_mask_storeu_ps(o + 16, m1, s1); }

// `strip` holds the reduction rows × these 32 columns as interleaved pairs (see pack_strip).
static inline void strip_block(const __m512i *strip, const uint16_t *operand, float *out, size_t n, size_t ld_out,
                               size_t i0, size_t rows, size_t c0, size_t cols,
                               size_t j_begin, size_t j_end, int accumulate) {
#define ROW_PTR(r) const uint16_t *pd##r = operand + (i0 + (r < rows ? r : 0)) * n;
    ROW_PTR(0) ROW_PTR(1) ROW_PTR(2) ROW_PTR(3) ROW_PTR(4) ROW_PTR(5) ROW_PTR(6) ROW_PTR(7)
#undef ROW_PTR
    __m512 lo0 = _mm512_setzero_ps(), lo1 = lo0, lo2 = lo0, lo3 = lo0, lo4 = lo0, lo5 = lo0, lo6 = lo0, lo7 = lo0;
    __m512 hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0, hi4 = lo0, hi5 = lo0, hi6 = lo0, hi7 = lo0;
    __mmask32 m = tail_mask(cols);
    const __m512i *pw = strip;
#pragma clang loop unroll(disable)
    for (size_t j = j_begin; j < j_end; j += 2, pw += 2) {
        __m512bh pl = (__m512bh)_mm512_load_si512(pw), ph = (__m512bh)_mm512_load_si512(pw + 1);
        DP2(0) DP2(1) DP2(2) DP2(3) DP2(4) DP2(5) DP2(6) DP2(7)
    }
    // back to column order: [lo 0-3, hi 0-3, lo 4-7, hi 4-7] and [lo 8-11, hi 8-11, lo 12-15, hi 12-15]
    const __m512i first = _mm512_set_epi32(23, 22, 21, 20, 7, 6, 5, 4, 19, 18, 17, 16, 3, 2, 1, 0);
    const __m512i second = _mm512_set_epi32(31, 30, 29, 28, 15, 14, 13, 12, 27, 26, 25, 24, 11, 10, 9, 8);
    __mmask16 m0 = (__mmask16)m, m1 = (__mmask16)(m >> 16);
    STORE_ROW(0) STORE_ROW(1) STORE_ROW(2) STORE_ROW(3) STORE_ROW(4) STORE_ROW(5) STORE_ROW(6) STORE_ROW(7)
}
#undef DP2
#undef STORE_ROW

// W rows [j_begin, j_end) × columns [c0, c0 + cols) into strip: per row pair, two vectors of (W[j, c],
// W[j + 1, c]) pairs, of columns {0-3, 8-11, 16-19, 24-27} and {4-7, 12-15, 20-23, 28-31}. Read once per
// strip and reused by every block of dy rows: rows of W 4 KiB apart (k = 2048) would otherwise all fall
// in the same L1 sets.
static void pack_strip(__m512i *strip, const uint16_t *w, size_t k, size_t c0, size_t cols, size_t j_begin, size_t j_end) {
    __mmask32 m = tail_mask(cols);
    for (size_t j = j_begin; j < j_end; j += 2, strip += 2) {
        __m512i a = _mm512_maskz_loadu_epi16(m, w + j * k + c0), b = _mm512_maskz_loadu_epi16(m, w + (j + 1) * k + c0);
        _mm512_store_si512(strip, _mm512_unpacklo_epi16(a, b));
        _mm512_store_si512(strip + 1, _mm512_unpackhi_epi16(a, b));
    }
}

// W rows [c0, c0 + cols) × columns [j_begin, j_end) into strip, laid out as pack_strip lays out the
// transposed matrix: vector pair p holds (W[c, j], W[c, j + 1]) for j = j_begin + 2p, columns c in the
// same lane order. Scalar, one W row at a time (sequential reads): a few % of the products it feeds.
static void pack_strip_transposed(__m512i *strip, const uint16_t *w, size_t k, size_t c0, size_t cols,
                                  size_t j_begin, size_t j_end) {
    uint32_t *out = (uint32_t *)strip;
    size_t pairs = (j_end - j_begin) / 2;
    for (size_t c = 0; c < 32; c++) {
        // lane of column c: vector 0 has {0-3, 8-11, 16-19, 24-27}, vector 1 {4-7, 12-15, ...}
        size_t vector = (c >> 2) & 1, lane = (c >> 3) * 4 + (c & 3);
        uint32_t *dst = out + vector * 16 + lane;
        if (c >= cols) { for (size_t p = 0; p < pairs; p++) dst[p * 32] = 0; continue; }
        const uint32_t *src = (const uint32_t *)(w + (c0 + c) * k + j_begin);   // k and j_begin even
        for (size_t p = 0; p < pairs; p++) dst[p * 32] = src[p];
    }
}

// Both products are one outer-product loop over packed 32-column strips: `operand` [m, ld_operand]
// times the strip's matrix [n, ...] into out [m, ld_out], with the strips packed by `transposed` ?
// pack_strip_transposed : pack_strip.
static void strips_product(const uint16_t *w, int transposed, size_t w_ld, const uint16_t *operand, size_t ld_operand,
                           float *out, size_t ld_out, size_t m, size_t n, size_t c_begin, size_t c_end, int accumulate) {
    // reduction rows per chunk: a packed strip of them (64 B a row, 256 KiB) stays in L2 for every
    // block of 8 operand rows
    enum { chunk = 4096 };
    // one strip per thread, kept: the pool's workers and the caller reuse it for every product
    static _Thread_local __m512i *strip;
    if (!strip && !(strip = aligned_alloc(64, chunk * 64))) abort();   // 256 KiB; out of memory
    for (size_t j0 = 0; j0 < n; j0 += chunk) {
        size_t j1 = j0 + chunk < n ? j0 + chunk : n;
        int acc = accumulate || j0 > 0;
        for (size_t c0 = c_begin; c0 < c_end; c0 += 32) {
            size_t cols = c_end - c0 < 32 ? c_end - c0 : 32;
            if (transposed) pack_strip_transposed(strip, w, w_ld, c0, cols, j0, j1);
            else pack_strip(strip, w, w_ld, c0, cols, j0, j1);
            for (size_t i0 = 0; i0 < m; i0 += 8)
                strip_block(strip, operand, out, ld_operand, ld_out, i0, m - i0 < 8 ? m - i0 : 8, c0, cols, j0, j1, acc);
        }
    }
}

// The decode-time product of one input in bf16 arithmetic: y[rows] (+)= W · x with x already in bf16,
// one weight row at a time, two chains of vdpbf16ps each, so every row streams from memory in order.
// (Four rows interleaved, each block of x loaded once for four rows, was much slower on a Zen 4: SmolLM2
// decode 45 against 71 tok/s, 3 runs each. For 2 to 8 inputs the f32 widening product of matmul.c was
// faster on a Zen 5: 434 against 256 tok/s at batch 8, so only one input takes this path.)
// Σ_j x[j] · wr[j] over one row, two chains (alternate blocks of 32).
// Always inlined with a constant `prefetch` (matvec_bf16), as matmul.c's rows are.
static inline __attribute__((always_inline))
float row_dot(const int prefetch, const uint16_t *wr, const uint16_t *x, size_t cols) {
    __m512 a = _mm512_setzero_ps(), b = a;
    size_t j = 0;
    for (; j + 64 <= cols; j += 64) {
        if (prefetch) { mk_prefetch_ahead(wr + j); mk_prefetch_ahead(wr + j + 32); }
        a = _mm512_dpbf16_ps(a, (__m512bh)_mm512_loadu_si512(x + j), (__m512bh)_mm512_loadu_si512(wr + j));
        b = _mm512_dpbf16_ps(b, (__m512bh)_mm512_loadu_si512(x + j + 32), (__m512bh)_mm512_loadu_si512(wr + j + 32));
    }
    for (; j < cols; j += 32) {
        __mmask32 m = tail_mask(cols - j);
        a = _mm512_dpbf16_ps(a, (__m512bh)_mm512_maskz_loadu_epi16(m, x + j), (__m512bh)_mm512_maskz_loadu_epi16(m, wr + j));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a, b));
}

static void matvec_bf16(const uint16_t *w, const uint16_t *x, float *y, size_t cols,
                        size_t row_begin, size_t row_end, int accumulate) {
#define ROWS(P) for (size_t r = row_begin; r < row_end; r++) { \
        const float s = row_dot(P, w + r * cols, x, cols); \
        y[r] = accumulate ? y[r] + s : s; \
    }
    if (mk_stream_prefetch()) ROWS(1) else ROWS(0)
#undef ROWS
}
MK_END
#endif

void mk_gemm_bf16_nt(const uint16_t *w, const uint16_t *x, float *y, size_t m, size_t k, size_t ldy,
                     size_t n_begin, size_t n_end, int accumulate) {
#if MK_X86
    if (mk_gemm_bf16_available()) { strips_product(w, 1, k, x, k, y, ldy, m, k, n_begin, n_end, accumulate); return; }
#endif
    (void)w; (void)x; (void)y; (void)m; (void)k; (void)ldy; (void)n_begin; (void)n_end; (void)accumulate;
}

void mk_gemm_bf16_nn(const uint16_t *w, const uint16_t *dy, float *dx, size_t m, size_t n, size_t k,
                     size_t k_begin, size_t k_end, int accumulate) {
#if MK_X86
    if (mk_gemm_bf16_available()) { strips_product(w, 0, k, dy, n, dx, k, m, n, k_begin, k_end, accumulate); return; }
#endif
    (void)w; (void)dy; (void)dx; (void)m; (void)n; (void)k; (void)k_begin; (void)k_end; (void)accumulate;
}

void mk_matvec_bf16(const uint16_t *w, const uint16_t *x, float *y, size_t cols,
                    size_t row_begin, size_t row_end, int accumulate) {
#if MK_X86
    if (mk_gemm_bf16_available()) { matvec_bf16(w, x, y, cols, row_begin, row_end, accumulate); return; }
#endif
    (void)w; (void)x; (void)y; (void)cols; (void)row_begin; (void)row_end; (void)accumulate;
}
