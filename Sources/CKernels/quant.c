// ggml's block quantization, for weights kept quantized (Q8_0, Q4_0, Q4_1) and the 8-bit activations
// multiplied with them (Q8_0 against Q8_0 and Q4_0, Q8_1 against Q4_1), as llama.cpp does on the CPU.
//
//   format  bytes per 32 values               value
//   Q8_0    d: f16, qs: 32 × i8          (34)  d · q
//   Q4_0    d: f16, qs: 16 bytes         (18)  d · (q − 8); low nibbles are values 0..<16, high 16..<32
//   Q4_1    d: f16, m: f16, qs: 16 bytes (20)  d · q + m; same nibble order
//   Q8_1    d: f16, s: f16, qs: 32 × i8  (36)  d · q; s = d · Σ q (what a Q4_1 product needs for m)
//
// Quantization is ggml's reference (quantize_row_*_ref in ggml-quants.c), so a row quantized here is the
// bytes llama.cpp and gguf-py write for it. A product sums the integer products exactly (int32) in eight
// lanes per block and accumulates them in f32 with the same operations in the same order at every kernel
// level (see "products" below), so the AVX2 kernel equals the scalar one bit for bit.
#include "ckernels.h"
#include "kernels.h"
#include <math.h>
#include <string.h>

#pragma clang fp contract(off)   // the block sums below must round the same way at every level

static inline uint16_t to_half(float f) { _Float16 h = (_Float16)f; uint16_t u; memcpy(&u, &h, 2); return u; }
static inline float from_half(const uint8_t *p) { _Float16 h; memcpy(&h, p, 2); return (float)h; }

size_t mk_quant_block_bytes(int format) {
    switch (format) {
    case MK_WEIGHT_Q8_0: return 34;
    case MK_WEIGHT_Q4_0: return 18;
    case MK_WEIGHT_Q4_1: return 20;
    case MK_WEIGHT_Q8_1: return 36;
    default: return 0;
    }
}

// ---- quantize and dequantize (ggml's reference formulas) ----------------------------------------------

static void quantize_q8(const float *x, uint8_t *b, int with_sum) {
    float amax = 0;
    for (int j = 0; j < MK_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127, id = d != 0 ? 1.0f / d : 0.0f;
    int8_t *qs = (int8_t *)(b + (with_sum ? 4 : 2));
    int sum = 0;
    for (int j = 0; j < MK_QK; j++) { qs[j] = (int8_t)roundf(x[j] * id); sum += qs[j]; }
    uint16_t h = to_half(d);
    memcpy(b, &h, 2);
    if (with_sum) { h = to_half((float)sum * d); memcpy(b + 2, &h, 2); }
}

static void quantize_q4_0(const float *x, uint8_t *b) {
    float amax = 0, max = 0;
    for (int j = 0; j < MK_QK; j++) if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
    const float d = max / -8, id = d != 0 ? 1.0f / d : 0.0f;
    uint16_t h = to_half(d);
    memcpy(b, &h, 2);
    for (int j = 0; j < MK_QK / 2; j++) {
        int8_t lo = (int8_t)(x[j] * id + 8.5f), hi = (int8_t)(x[j + MK_QK / 2] * id + 8.5f);
        if (lo > 15) lo = 15;
        if (hi > 15) hi = 15;
        b[2 + j] = (uint8_t)lo | (uint8_t)(hi << 4);
    }
}

static void quantize_q4_1(const float *x, uint8_t *b) {
    float min = x[0], max = x[0];
    for (int j = 1; j < MK_QK; j++) { if (x[j] < min) min = x[j]; if (x[j] > max) max = x[j]; }
    const float d = (max - min) / 15, id = d != 0 ? 1.0f / d : 0.0f;
    uint16_t h = to_half(d);
    memcpy(b, &h, 2);
    h = to_half(min);
    memcpy(b + 2, &h, 2);
    for (int j = 0; j < MK_QK / 2; j++) {
        int8_t lo = (int8_t)((x[j] - min) * id + 0.5f), hi = (int8_t)((x[j + MK_QK / 2] - min) * id + 0.5f);
        if (lo > 15) lo = 15;
        if (hi > 15) hi = 15;
        b[4 + j] = (uint8_t)lo | (uint8_t)(hi << 4);
    }
}

void mk_quantize_row(int format, const float *x, void *out, size_t n) {
    uint8_t *b = out;
    const size_t bytes = mk_quant_block_bytes(format);
    for (size_t i = 0; i < n / MK_QK; i++, x += MK_QK, b += bytes) {
        switch (format) {
        case MK_WEIGHT_Q8_0: quantize_q8(x, b, 0); break;
        case MK_WEIGHT_Q8_1: quantize_q8(x, b, 1); break;
        case MK_WEIGHT_Q4_0: quantize_q4_0(x, b); break;
        case MK_WEIGHT_Q4_1: quantize_q4_1(x, b); break;
        default: return;
        }
    }
}

void mk_dequantize_row(int format, const void *q, float *out, size_t n) {
    const uint8_t *b = q;
    const size_t bytes = mk_quant_block_bytes(format);
    for (size_t i = 0; i < n / MK_QK; i++, out += MK_QK, b += bytes) {
        const float d = from_half(b);
        switch (format) {
        case MK_WEIGHT_Q8_0: case MK_WEIGHT_Q8_1: {
            const int8_t *qs = (const int8_t *)(b + (format == MK_WEIGHT_Q8_1 ? 4 : 2));
            for (int j = 0; j < MK_QK; j++) out[j] = (float)qs[j] * d;
            break;
        }
        case MK_WEIGHT_Q4_0:
            for (int j = 0; j < MK_QK / 2; j++) {
                out[j] = (float)((b[2 + j] & 0x0F) - 8) * d;
                out[j + MK_QK / 2] = (float)((b[2 + j] >> 4) - 8) * d;
            }
            break;
        case MK_WEIGHT_Q4_1: {
            const float m = from_half(b + 2);
            for (int j = 0; j < MK_QK / 2; j++) {
                out[j] = (float)(b[4 + j] & 0x0F) * d + m;
                out[j + MK_QK / 2] = (float)(b[4 + j] >> 4) * d + m;
            }
            break;
        }
        default: return;
        }
    }
}

// ---- products -------------------------------------------------------------------------------------------
//
// Every level computes the same thing in the same order, so they agree bit for bit:
//   lane m (0..<8) of a block: the integer Σ of w_j · a_j over its values 4m ..< 4m + 4 (what vpmaddubsw then
//   vpmaddwd, or VNNI's vpdpbusd, leave in 32-bit lane m);
//   blocks 0, 2, 4, ... add into even[m], blocks 1, 3, 5, ... into odd[m] (so AVX-512 takes two blocks per
//   register): even[m] = even[m] + (float)lane_m · (dw · da), block after block, no fused multiply-add;
//   Q4_1 adds off = off + mw · sa per block, in block order (its offset m times the activations' d · Σq);
//   with acc[m] = even[m] + odd[m], the result is ((acc0 + acc4) + (acc2 + acc6)) + ((acc1 + acc5) + (acc3 + acc7)) + off.

int mk_quant_activation_format(int format) { return format == MK_WEIGHT_Q4_1 ? MK_WEIGHT_Q8_1 : MK_WEIGHT_Q8_0; }

// A product's block layout: blocks per row, bytes per weight block and per activation block, and where an
// activation block's values start (after d, or d and s).
typedef struct { size_t blocks, wbytes, abytes; int aoff; } quant_layout;
static inline quant_layout layout_of(int format, size_t cols) {
    const int activation = mk_quant_activation_format(format);
    return (quant_layout){ cols / MK_QK, mk_quant_block_bytes(format), mk_quant_block_bytes(activation),
                           activation == MK_WEIGHT_Q8_1 ? 4 : 2 };
}

static inline float block_scale(const uint8_t *wb, const uint8_t *ab) { return from_half(wb) * from_half(ab); }

// The activations' d (and, for Q8_1, s) as f32, once per call instead of once per weight row: the same values
// block_scale and block_offset convert, so the products do not change. At most MK_SCALES blocks per row.
enum { MK_SCALES = 1024 };
static inline void activation_scales(const void *xq, size_t n, quant_layout L, float *d, float *s) {
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < L.blocks; k++) {
            const uint8_t *ab = (const uint8_t *)xq + (i * L.blocks + k) * L.abytes;
            d[i * L.blocks + k] = from_half(ab);
            if (L.aoff == 4) s[i * L.blocks + k] = from_half(ab + 2);
        }
}
static inline float block_offset(const uint8_t *wb, const uint8_t *ab) { return from_half(wb + 2) * from_half(ab + 2); }
static inline float lanes_total(const float *even, const float *odd, float off) {
    float acc[8];
    for (int m = 0; m < 8; m++) acc[m] = even[m] + odd[m];
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7])) + off;
}

// The weight's value j of a block as an integer (Q4_0: q − 8; Q4_1: q).
static inline int32_t weight_q(int format, const uint8_t *wb, int j) {
    if (format == MK_WEIGHT_Q8_0) return ((const int8_t *)(wb + 2))[j];
    const uint8_t *qs = wb + (format == MK_WEIGHT_Q4_1 ? 4 : 2);
    const int q = j < MK_QK / 2 ? (qs[j] & 0x0F) : (qs[j - MK_QK / 2] >> 4);
    return format == MK_WEIGHT_Q4_0 ? q - 8 : q;
}

static void matmul_q_scalar(const void *w, int format, const void *xq, float *y, size_t rows, size_t cols,
                            size_t n, size_t row_begin, size_t row_end, int accumulate) {
    const quant_layout L = layout_of(format, cols);
    const size_t blocks = L.blocks, wbytes = L.wbytes, abytes = L.abytes;
    const int aoff = L.aoff;
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *wr = (const uint8_t *)w + r * blocks * wbytes;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *ar = (const uint8_t *)xq + i * blocks * abytes;
            float acc[2][8] = {{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}}, off = 0;
            for (size_t k = 0; k < blocks; k++) {
                const uint8_t *wb = wr + k * wbytes, *ab = ar + k * abytes;
                const int8_t *a = (const int8_t *)(ab + aoff);
                const float scale = block_scale(wb, ab);
                for (int m = 0; m < 8; m++) {
                    int32_t lane = 0;
                    for (int j = 4 * m; j < 4 * m + 4; j++) lane += weight_q(format, wb, j) * (int32_t)a[j];
                    const float term = (float)lane * scale;
                    acc[k % 2][m] = acc[k % 2][m] + term;
                }
                if (format == MK_WEIGHT_Q4_1) off = off + block_offset(wb, ab);
            }
            const float sum = lanes_total(acc[0], acc[1], off);
            y[i * rows + r] = accumulate ? y[i * rows + r] + sum : sum;
        }
    }
}

#if MK_X86
// ---- AVX2: the lanes by vpmaddubsw and vpmaddwd, one block at a time -------------------------------------
MK_BEGIN_AVX2
// The weight block as 32 signed (Q8_0, Q4_0) or unsigned (Q4_1) bytes, in value order.
static inline __m256i load_weight_block(int format, const uint8_t *wb) {
    if (format == MK_WEIGHT_Q8_0) return _mm256_loadu_si256((const __m256i *)(wb + 2));
    const __m128i packed = _mm_loadu_si128((const __m128i *)(wb + (format == MK_WEIGHT_Q4_1 ? 4 : 2)));
    const __m128i low = _mm_set1_epi8(0x0F);
    __m256i q = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), low), _mm_and_si128(packed, low));
    if (format == MK_WEIGHT_Q4_0) q = _mm256_sub_epi8(q, _mm256_set1_epi8(8));
    return q;
}

// The 8 lanes of one block: Σ over values 4m ..< 4m + 4 of w · a.
static inline __m256i block_lanes_avx2(int format, __m256i wq, __m256i a) {
    const __m256i p16 = format == MK_WEIGHT_Q4_1
        ? _mm256_maddubs_epi16(wq, a)                                               // unsigned q · signed a
        : _mm256_maddubs_epi16(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(a, wq));  // |w| · a·sign(w)
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

static inline __attribute__((always_inline))
void matmul_q_rows_avx2(const size_t n, const void *w, int format, const void *xq, float *y, size_t rows,
                        size_t cols, size_t row_begin, size_t row_end, int accumulate, const float *ad, const float *as) {
    const quant_layout L = layout_of(format, cols);
    const size_t blocks = L.blocks, wbytes = L.wbytes, abytes = L.abytes;
    const int aoff = L.aoff;
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *wr = (const uint8_t *)w + r * blocks * wbytes;
        __m256 acc[2][8];
        float off[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (size_t i = 0; i < n; i++) { acc[0][i] = _mm256_setzero_ps(); acc[1][i] = _mm256_setzero_ps(); }
        for (size_t k = 0; k < blocks; k++) {
            const uint8_t *wb = wr + k * wbytes;
            mk_prefetch_ahead(wb);
            const __m256i wq = load_weight_block(format, wb);   // loaded once for all n inputs
            for (size_t i = 0; i < n; i++) {
                const uint8_t *ab = (const uint8_t *)xq + (i * blocks + k) * abytes;
                const __m256i lanes = block_lanes_avx2(format, wq, _mm256_loadu_si256((const __m256i *)(ab + aoff)));
                const float da = ad ? ad[i * blocks + k] : from_half(ab);
                const __m256 term = _mm256_mul_ps(_mm256_cvtepi32_ps(lanes), _mm256_set1_ps(from_half(wb) * da));
                acc[k % 2][i] = _mm256_add_ps(acc[k % 2][i], term);
                if (format == MK_WEIGHT_Q4_1) off[i] = off[i] + from_half(wb + 2) * (as ? as[i * blocks + k] : from_half(ab + 2));
            }
        }
        for (size_t i = 0; i < n; i++) {
            float even[8], odd[8];
            _mm256_storeu_ps(even, acc[0][i]);
            _mm256_storeu_ps(odd, acc[1][i]);
            const float sum = lanes_total(even, odd, off[i]);
            y[i * rows + r] = accumulate ? y[i * rows + r] + sum : sum;
        }
    }
}

static void matmul_q_avx2(const void *w, int format, const void *xq, float *y, size_t rows, size_t cols,
                          size_t n, size_t row_begin, size_t row_end, int accumulate) {
    const quant_layout L = layout_of(format, cols);
    float ad[8 * MK_SCALES], as[8 * MK_SCALES];
    const int precomputed = L.blocks <= MK_SCALES;
    if (precomputed) activation_scales(xq, n, L, ad, as);
    const float *d = precomputed ? ad : NULL, *s = precomputed ? as : NULL;
#define ROWS(N) case N: matmul_q_rows_avx2(N, w, format, xq, y, rows, cols, row_begin, row_end, accumulate, d, s); break;
    switch (n) { ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7) ROWS(8) default: break; }
#undef ROWS
}
MK_END

// ---- AVX-512: two blocks per register, lanes 0..<8 the even block's, 8..<16 the odd one's ---------------
MK_BEGIN_AVX512
// Blocks k and k + 1 of a weight row as 64 signed (Q8_0, Q4_0) or unsigned (Q4_1) bytes, in value order.
static inline __m512i load_weight_pair(int format, const uint8_t *wb, size_t wbytes) {
    if (format == MK_WEIGHT_Q8_0)
        return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(wb + 2))),
                                  _mm256_loadu_si256((const __m256i *)(wb + wbytes + 2)), 1);
    const int qoff = format == MK_WEIGHT_Q4_1 ? 4 : 2;
    const __m256i packed = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)(wb + wbytes + qoff)),
                                            _mm_loadu_si128((const __m128i *)(wb + qoff)));
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i lo = _mm256_and_si256(packed, low), hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low);
    __m512i q = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_set_m128i(_mm256_castsi256_si128(hi), _mm256_castsi256_si128(lo))),
        _mm256_set_m128i(_mm256_extracti128_si256(hi, 1), _mm256_extracti128_si256(lo, 1)), 1);
    if (format == MK_WEIGHT_Q4_0) q = _mm512_sub_epi8(q, _mm512_set1_epi8(8));
    return q;
}

static inline __m512i pair_lanes_avx512(int format, __m512i wq, __m512i a) {
    __m512i p16;
    if (format == MK_WEIGHT_Q4_1) {
        p16 = _mm512_maddubs_epi16(wq, a);
    } else {   // |w| · a·sign(w): a negated where w < 0 (vpsignb has no 512-bit form)
        const __mmask64 negative = _mm512_movepi8_mask(wq);
        p16 = _mm512_maddubs_epi16(_mm512_abs_epi8(wq), _mm512_mask_sub_epi8(a, negative, _mm512_setzero_si512(), a));
    }
    return _mm512_madd_epi16(p16, _mm512_set1_epi16(1));
}

static inline __attribute__((always_inline))
void matmul_q_rows_avx512(const size_t n, const void *w, int format, const void *xq, float *y, size_t rows,
                          size_t cols, size_t row_begin, size_t row_end, int accumulate,
                          const float *ad, const float *as) {
    const quant_layout L = layout_of(format, cols);
    const size_t blocks = L.blocks, wbytes = L.wbytes, abytes = L.abytes;
    const int aoff = L.aoff;
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *wr = (const uint8_t *)w + r * blocks * wbytes;
        __m512 acc[8];   // per input: even blocks' lanes below, odd blocks' above
        float off[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (size_t i = 0; i < n; i++) acc[i] = _mm512_setzero_ps();
        size_t k = 0;
        for (; k + 2 <= blocks; k += 2) {
            const uint8_t *wb = wr + k * wbytes;
            mk_prefetch_ahead(wb);
            const __m512i wq = load_weight_pair(format, wb, wbytes);
            for (size_t i = 0; i < n; i++) {
                const uint8_t *ab = (const uint8_t *)xq + (i * blocks + k) * abytes;
                const __m512i a = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(ab + aoff))),
                                                     _mm256_loadu_si256((const __m256i *)(ab + abytes + aoff)), 1);
                const float *d = ad + i * blocks + k;
                const __m512 scale = _mm512_insertf32x8(_mm512_set1_ps(from_half(wb) * d[0]),
                                                        _mm256_set1_ps(from_half(wb + wbytes) * d[1]), 1);
                const __m512 term = _mm512_mul_ps(_mm512_cvtepi32_ps(pair_lanes_avx512(format, wq, a)), scale);
                acc[i] = _mm512_add_ps(acc[i], term);
                if (format == MK_WEIGHT_Q4_1) {
                    const float *sa = as + i * blocks + k;
                    off[i] = off[i] + from_half(wb + 2) * sa[0];
                    off[i] = off[i] + from_half(wb + wbytes + 2) * sa[1];
                }
            }
        }
        for (size_t i = 0; i < n; i++) {
            float lanes[16];
            _mm512_storeu_ps(lanes, acc[i]);
            if (k < blocks) {   // an odd number of blocks: the last one is even
                const uint8_t *wb = wr + k * wbytes, *ab = (const uint8_t *)xq + (i * blocks + k) * abytes;
                const __m256i l8 = block_lanes_avx2(format, load_weight_block(format, wb), _mm256_loadu_si256((const __m256i *)(ab + aoff)));
                const __m256 term = _mm256_mul_ps(_mm256_cvtepi32_ps(l8), _mm256_set1_ps(block_scale(wb, ab)));
                _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_loadu_ps(lanes), term));
                if (format == MK_WEIGHT_Q4_1) off[i] = off[i] + block_offset(wb, ab);
            }
            const float sum = lanes_total(lanes, lanes + 8, off[i]);
            y[i * rows + r] = accumulate ? y[i * rows + r] + sum : sum;
        }
    }
}

static void matmul_q_avx512(const void *w, int format, const void *xq, float *y, size_t rows, size_t cols,
                            size_t n, size_t row_begin, size_t row_end, int accumulate) {
    const quant_layout L = layout_of(format, cols);
    if (L.blocks > MK_SCALES) { matmul_q_avx2(w, format, xq, y, rows, cols, n, row_begin, row_end, accumulate); return; }   // scales converted per block
    float ad[8 * MK_SCALES], as[8 * MK_SCALES];
    activation_scales(xq, n, L, ad, as);
#define ROWS(N) case N: matmul_q_rows_avx512(N, w, format, xq, y, rows, cols, row_begin, row_end, accumulate, ad, as); break;
    switch (n) { ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7) ROWS(8) default: break; }
#undef ROWS
}
MK_END
#endif

void mk_matmul_q_small(const void *w, int format, const void *xq, float *y, size_t rows, size_t cols,
                       size_t n, size_t row_begin, size_t row_end, int accumulate) {
    if (n > 8) n = 8;
#if MK_X86
    MK_DISPATCH_VOID(matmul_q, w, format, xq, y, rows, cols, n, row_begin, row_end, accumulate);
#endif
    matmul_q_scalar(w, format, xq, y, rows, cols, n, row_begin, row_end, accumulate);
}
