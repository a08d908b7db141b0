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
// bytes llama.cpp and gguf-py write for it. Weight matrices are kept in groups of eight rows and multiplied
// eight rows at a time (see "row groups"); a product sums each block's integer products exactly (int32) and
// accumulates the blocks in f32 with the same operations in the same order at every kernel level, so the
// AVX2 and VNNI kernels equal the scalar one bit for bit.
#include "ckernels.h"
#include "kernels.h"
#include <math.h>
#include <stdlib.h>
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

static int quantize_q8(const float *x, uint8_t *b, int with_sum) {   // returns Σ q
    float amax = 0;
    for (int j = 0; j < MK_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127, id = d != 0 ? 1.0f / d : 0.0f;
    int8_t *qs = (int8_t *)(b + (with_sum ? 4 : 2));
    int sum = 0;
    for (int j = 0; j < MK_QK; j++) { qs[j] = (int8_t)roundf(x[j] * id); sum += qs[j]; }
    uint16_t h = to_half(d);
    memcpy(b, &h, 2);
    if (with_sum) { h = to_half((float)sum * d); memcpy(b + 2, &h, 2); }
    return sum;
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

#if MK_X86
MK_BEGIN_AVX2   // below
static void quantize_row_avx2(int format, const float *x, uint8_t *b, size_t n);
static void dequantize_row_avx2(int format, const uint8_t *b, float *out, size_t n);
MK_END
#endif

static inline int is_block_format(int format) { return format >= MK_WEIGHT_Q8_0 && format <= MK_WEIGHT_Q8_1; }

void mk_quantize_row(int format, const float *x, void *out, size_t n) {
    uint8_t *b = out;
#if MK_X86
    if (mk_isa_level() >= MK_ISA_AVX2 && is_block_format(format)) { quantize_row_avx2(format, x, b, n); return; }
#endif
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
#if MK_X86
    if (mk_isa_level() >= MK_ISA_AVX2 && is_block_format(format)) { dequantize_row_avx2(format, b, out, n); return; }
#endif
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
// A product multiplies the weights' integers with activations quantized per block to 8 bits (Q8_0, or Q8_1
// for Q4_1), as llama.cpp does; "row groups" below defines its sums.
//
// Activations are quantized at the AVX2 level too (quantize_q8_avx2, the reference's bytes), and weights
// dequantized for prefill and training likewise (dequantize_row_avx2): scalar, with f16 conversions by library
// calls on baseline x86-64, these took about a tenth of SmolLM2's quantized decode and prompt time.

int mk_quant_activation_format(int format) { return format == MK_WEIGHT_Q4_1 ? MK_WEIGHT_Q8_1 : MK_WEIGHT_Q8_0; }

// A product's block layout: blocks per row, bytes per weight block and per activation block, and where an
// activation block's values start (after d, or d and s).
typedef struct { size_t blocks, wbytes, abytes; int aoff; } quant_layout;
static inline quant_layout layout_of(int format, size_t cols) {
    const int activation = mk_quant_activation_format(format);
    return (quant_layout){ cols / MK_QK, mk_quant_block_bytes(format), mk_quant_block_bytes(activation),
                           activation == MK_WEIGHT_Q8_1 ? 4 : 2 };
}

// What mk_quantize_activations writes for n rows of x: the rows' blocks, then, from the next 32-byte
// boundary, each block's d and sa (see "row groups") as f32, d[n][blocks] then sa[n][blocks], computed once
// per input rather than per matrix row.
typedef struct { size_t blocks, abytes, scales; } activations_layout;
static inline activations_layout activations_of(int activation, size_t cols, size_t n) {
    const size_t blocks = cols / MK_QK, abytes = mk_quant_block_bytes(activation);
    return (activations_layout){ blocks, abytes, (n * blocks * abytes + 31) / 32 * 32 };
}

size_t mk_quant_activations_bytes(int activation, size_t cols, size_t n) {
    const activations_layout A = activations_of(activation, cols, n);
    return A.scales + 2 * n * A.blocks * sizeof(float);
}

// The integer the products multiply for the weight's value j of a block (Q8_0: q; Q4_0 and Q4_1: the
// unsigned nibble q, their offsets added per block).
static inline int32_t weight_q(int format, const uint8_t *wb, int j) {
    if (format == MK_WEIGHT_Q8_0) return ((const int8_t *)(wb + 2))[j];
    const uint8_t *qs = wb + (format == MK_WEIGHT_Q4_1 ? 4 : 2);
    return j < MK_QK / 2 ? (qs[j] & 0x0F) : (qs[j - MK_QK / 2] >> 4);
}

// ---- row groups: how a quantized weight matrix is kept in memory --------------------------------------
//
// A Q8_0, Q4_0 or Q4_1 matrix keeps its rows in groups of eight, block by block, so that a decode product
// reads eight rows' block k as one run of bytes and its integer dot products put a row in each 32-bit lane
// (llama.cpp's repacked Q4_0 layouts, ggml-cpu/repack.cpp, are the same idea):
//
//   group g (rows 8g ..< 8g + 8), block k, at (g · blocks + k) · 8 · wbytes:
//     d[8]             f16, row m's d                                   16 bytes
//     m[8]             f16, row m's m (Q4_1 only)                       16 bytes
//     qs[C][8][4]      chunk c, row m: the row's qs[4c ..< 4c + 4]       32 · C bytes (C: Q8_0 8, Q4 4)
//   so byte 32c + 4m + t of qs holds row m's value 4c + t (Q8_0), or its values 4c + t (low nibble) and
//   16 + 4c + t (high nibble) for Q4_0 and Q4_1.
// A group takes the bytes of its eight rows, so the rows past the last whole group (rows mod 8) are where
// ggml's row-major order puts them, row after row.
//
// A product sums a block's 32 integer products per row exactly (isum_k: the weights' integers q, Q8_0's
// signed bytes or Q4's unsigned nibbles, times the activations') and accumulates the blocks in order in f32,
// one sum per row:
//   acc = fma((float)isum_k, dw_k · da_k, acc), off = fma(mw_k, sa_k, off) for k = 0, 1, ...; y = acc + off
// where Q4_1's mw is its m and sa the Q8_1 activations' s; Q4_0's mw is −8 · dw (exact, as its value is
// d · (q − 8)) and sa = da · (float)Σq (the integer sum exact); Q8_0 has no offset: y = acc.
// matmul_q_scalar is that definition; the vector levels (quant_groups.h) give its bits for whole groups.

int mk_quant_grouped(int format) { return format == MK_WEIGHT_Q8_0 || format == MK_WEIGHT_Q4_0 || format == MK_WEIGHT_Q4_1; }

// Bytes before a weight block's values: d, and Q4_1's m.
static inline size_t header_bytes(int format) { return format == MK_WEIGHT_Q4_1 ? 4 : 2; }

// Row m of a group block gb, to or from a ggml block.
static void group_block_put(int format, uint8_t *gb, size_t m, const uint8_t *block) {
    const size_t h = header_bytes(format), chunks = (mk_quant_block_bytes(format) - h) / 4;
    memcpy(gb + 2 * m, block, 2);
    if (h == 4) memcpy(gb + 16 + 2 * m, block + 2, 2);
    for (size_t c = 0; c < chunks; c++) memcpy(gb + 8 * h + 32 * c + 4 * m, block + h + 4 * c, 4);
}
static void group_block_get(int format, const uint8_t *gb, size_t m, uint8_t *block) {
    const size_t h = header_bytes(format), chunks = (mk_quant_block_bytes(format) - h) / 4;
    memcpy(block, gb + 2 * m, 2);
    if (h == 4) memcpy(block + 2, gb + 16 + 2 * m, 2);
    for (size_t c = 0; c < chunks; c++) memcpy(block + h + 4 * c, gb + 8 * h + 32 * c + 4 * m, 4);
}

// Whether row r of a matrix of `rows` rows is kept in a group (else row after row, where ggml puts it).
static inline int row_in_group(int format, size_t rows, size_t r) { return mk_quant_grouped(format) && r < rows / 8 * 8; }

void mk_quant_put_rows(int format, const void *src, void *matrix, size_t rows, size_t cols, size_t first, size_t count) {
    const size_t wbytes = mk_quant_block_bytes(format), blocks = cols / MK_QK, row_bytes = blocks * wbytes;
    for (size_t i = 0; i < count; i++) {
        const size_t r = first + i;
        const uint8_t *s = (const uint8_t *)src + i * row_bytes;
        if (!row_in_group(format, rows, r)) { memcpy((uint8_t *)matrix + r * row_bytes, s, row_bytes); continue; }
        uint8_t *g = (uint8_t *)matrix + r / 8 * 8 * row_bytes;
        for (size_t k = 0; k < blocks; k++) group_block_put(format, g + k * 8 * wbytes, r % 8, s + k * wbytes);
    }
}

void mk_quant_get_rows(int format, const void *matrix, void *dst, size_t rows, size_t cols, size_t first, size_t count) {
    const size_t wbytes = mk_quant_block_bytes(format), blocks = cols / MK_QK, row_bytes = blocks * wbytes;
    for (size_t i = 0; i < count; i++) {
        const size_t r = first + i;
        uint8_t *d = (uint8_t *)dst + i * row_bytes;
        if (!row_in_group(format, rows, r)) { memcpy(d, (const uint8_t *)matrix + r * row_bytes, row_bytes); continue; }
        const uint8_t *g = (const uint8_t *)matrix + r / 8 * 8 * row_bytes;
        for (size_t k = 0; k < blocks; k++) group_block_get(format, g + k * 8 * wbytes, r % 8, d + k * wbytes);
    }
}

void mk_dequantize_rows(int format, const void *matrix, size_t rows, size_t cols, size_t first, size_t count, float *out) {
    const size_t wbytes = mk_quant_block_bytes(format), blocks = cols / MK_QK, row_bytes = blocks * wbytes;
    enum { CHUNK = 64 };   // blocks gathered at a time
    uint8_t gathered[CHUNK * 36];
    for (size_t i = 0; i < count; i++, out += cols) {
        const size_t r = first + i;
        if (!row_in_group(format, rows, r)) { mk_dequantize_row(format, (const uint8_t *)matrix + r * row_bytes, out, cols); continue; }
        const uint8_t *g = (const uint8_t *)matrix + r / 8 * 8 * row_bytes;
        for (size_t k0 = 0; k0 < blocks; k0 += CHUNK) {
            const size_t chunk = blocks - k0 < CHUNK ? blocks - k0 : CHUNK;
            for (size_t k = 0; k < chunk; k++) group_block_get(format, g + (k0 + k) * 8 * wbytes, r % 8, gathered + k * wbytes);
            mk_dequantize_row(format, gathered, out + k0 * MK_QK, chunk * MK_QK);
        }
    }
}

// Row r's block k as ggml writes it: in place for a row kept row after row, else gathered into `scratch`.
static inline const uint8_t *row_block(int format, const uint8_t *matrix, size_t rows, size_t blocks, size_t r, size_t k,
                                       uint8_t *scratch) {
    const size_t wbytes = mk_quant_block_bytes(format);
    if (!row_in_group(format, rows, r)) return matrix + (r * blocks + k) * wbytes;
    group_block_get(format, matrix + (r / 8 * blocks + k) * 8 * wbytes, r % 8, scratch);
    return scratch;
}

// The products' definition (see above) for rows [row_begin, row_end), kept in groups or not; the vector
// levels (quant_groups.h) give its bits for whole groups, and it takes the rows after the last one.
static void matmul_q_scalar(const void *w, int format, const void *xq, float *y, size_t rows, size_t cols,
                            size_t n, size_t row_begin, size_t row_end, int accumulate) {
    const quant_layout L = layout_of(format, cols);
    const activations_layout A = activations_of(mk_quant_activation_format(format), cols, n);
    const float *ad = (const float *)((const uint8_t *)xq + A.scales), *as = ad + n * A.blocks;
    uint8_t scratch[36];
    for (size_t r = row_begin; r < row_end; r++) {
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, off[8] = {0, 0, 0, 0, 0, 0, 0, 0};   // per input (n ≤ 8)
        for (size_t k = 0; k < L.blocks; k++) {
            const uint8_t *wb = row_block(format, w, rows, L.blocks, r, k, scratch);   // once for all inputs
            const float dw = from_half(wb);
            const float mw = format == MK_WEIGHT_Q4_1 ? from_half(wb + 2) : dw * -8;
            for (size_t i = 0; i < n; i++) {
                const int8_t *a = (const int8_t *)xq + (i * L.blocks + k) * L.abytes + L.aoff;
                int32_t isum = 0;
                for (int j = 0; j < MK_QK; j++) isum += weight_q(format, wb, j) * (int32_t)a[j];
                acc[i] = fmaf((float)isum, dw * ad[i * A.blocks + k], acc[i]);
                if (format != MK_WEIGHT_Q8_0) off[i] = fmaf(mw, as[i * A.blocks + k], off[i]);
            }
        }
        for (size_t i = 0; i < n; i++) {
            const float sum = format == MK_WEIGHT_Q8_0 ? acc[i] : acc[i] + off[i];
            y[i * rows + r] = accumulate ? y[i * rows + r] + sum : sum;
        }
    }
}

#if MK_X86
// ---- AVX2: the lanes by vpmaddubsw and vpmaddwd --------------------------------------------------------
MK_BEGIN_AVX2
// from_half by F16C's conversion (the same value).
static float from_half_avx2(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return _cvtsh_ss(h); }

// The largest and the smallest of the 8 lanes (exact in any order).
static inline float hmax8(__m256 v) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_max_ss(h, _mm_movehdup_ps(h)));
}
static inline float hmin8(__m256 v) {
    __m128 h = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_min_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_min_ss(h, _mm_movehdup_ps(h)));
}

// quantize_q8 (ggml's reference) for one block, the same bytes: amax is exact in any order, roundf's halves
// away from zero are kept (truncate, then step away where the exact fraction is at least one half), and
// the f16 conversions round to nearest even as the casts do. Returns Σ q.
static inline int quantize_q8_avx2(const float *x, uint8_t *b, int with_sum) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4];
    for (int j = 0; j < 4; j++) v[j] = _mm256_loadu_ps(x + 8 * j);
    const float amax = hmax8(_mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1])),
                                           _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3]))));
    const float d = amax / 127, id = d != 0 ? 1.0f / d : 0.0f;
    __m256i q[4];
    for (int j = 0; j < 4; j++) {
        const __m256 t = _mm256_mul_ps(v[j], _mm256_set1_ps(id));
        const __m256 r = _mm256_round_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m256 away = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(t, r)), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
        const __m256 step = _mm256_or_ps(_mm256_and_ps(sign, t), _mm256_set1_ps(1.0f));   // ±1 with t's sign
        q[j] = _mm256_cvttps_epi32(_mm256_add_ps(r, _mm256_and_ps(away, step)));
    }
    const __m256i bytes = _mm256_permutevar8x32_epi32(
        _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3])),
        _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)(b + (with_sum ? 4 : 2)), bytes);
    const __m256i s8 = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
    const int sum = _mm_cvtsi128_si32(s4);
    uint16_t hd = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    memcpy(b, &hd, 2);
    if (with_sum) { hd = _cvtss_sh((float)sum * d, _MM_FROUND_TO_NEAREST_INT); memcpy(b + 2, &hd, 2); }
    return sum;
}

// quantize_q4_0 and quantize_q4_1 (ggml's reference) for one block, the same bytes: the same f32 operations
// on each value (a multiply, an add, a truncation, the clamp to 15), and Q4_0's signed extreme is the first
// value of largest magnitude, as the reference's strict comparison keeps it.
static inline void quantize_q4_avx2(int format, const float *x, uint8_t *b) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4];
    for (int j = 0; j < 4; j++) v[j] = _mm256_loadu_ps(x + 8 * j);
    float d, bias;   // q = trunc((x − min) · id + 0.5) for Q4_1; trunc(x · id + 8.5) for Q4_0
    __m256 shift = _mm256_setzero_ps();
    if (format == MK_WEIGHT_Q4_0) {
        __m256 a[4];
        for (int j = 0; j < 4; j++) a[j] = _mm256_andnot_ps(sign, v[j]);
        const __m256 amax = _mm256_set1_ps(hmax8(_mm256_max_ps(_mm256_max_ps(a[0], a[1]), _mm256_max_ps(a[2], a[3]))));
        int first = 0;
        for (int j = 0; j < 4; j++) {
            const int hits = _mm256_movemask_ps(_mm256_cmp_ps(a[j], amax, _CMP_EQ_OQ));
            if (hits) { first = 8 * j + __builtin_ctz((unsigned)hits); break; }
        }
        d = x[first] / -8;
        bias = 8.5f;
        uint16_t h16 = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        memcpy(b, &h16, 2);
    } else {
        const float min = hmin8(_mm256_min_ps(_mm256_min_ps(v[0], v[1]), _mm256_min_ps(v[2], v[3])));
        const float max = hmax8(_mm256_max_ps(_mm256_max_ps(v[0], v[1]), _mm256_max_ps(v[2], v[3])));
        d = (max - min) / 15;
        bias = 0.5f;
        shift = _mm256_set1_ps(min);
        uint16_t h16 = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        memcpy(b, &h16, 2);
        h16 = _cvtss_sh(min, _MM_FROUND_TO_NEAREST_INT);
        memcpy(b + 2, &h16, 2);
    }
    const float id = d != 0 ? 1.0f / d : 0.0f;
    __m256i q[4];
    for (int j = 0; j < 4; j++) {
        const __m256 t = format == MK_WEIGHT_Q4_1 ? _mm256_sub_ps(v[j], shift) : v[j];
        q[j] = _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(t, _mm256_set1_ps(id)), _mm256_set1_ps(bias))),
                                _mm256_set1_epi32(15));
    }
    // values 0..<16 (low nibbles) and 16..<32 (high), as bytes in order
    const __m128i low = _mm_packus_epi16(_mm_packs_epi32(_mm256_castsi256_si128(q[0]), _mm256_extracti128_si256(q[0], 1)),
                                         _mm_packs_epi32(_mm256_castsi256_si128(q[1]), _mm256_extracti128_si256(q[1], 1)));
    const __m128i high = _mm_packus_epi16(_mm_packs_epi32(_mm256_castsi256_si128(q[2]), _mm256_extracti128_si256(q[2], 1)),
                                          _mm_packs_epi32(_mm256_castsi256_si128(q[3]), _mm256_extracti128_si256(q[3], 1)));
    _mm_storeu_si128((__m128i *)(b + (format == MK_WEIGHT_Q4_1 ? 4 : 2)), _mm_or_si128(low, _mm_slli_epi16(high, 4)));
}

// mk_quantize_row at the AVX2 level.
static void quantize_row_avx2(int format, const float *x, uint8_t *b, size_t n) {
    const size_t bytes = mk_quant_block_bytes(format);
    for (size_t i = 0; i < n / MK_QK; i++, x += MK_QK, b += bytes) {
        if (format == MK_WEIGHT_Q4_0 || format == MK_WEIGHT_Q4_1) quantize_q4_avx2(format, x, b);
        else quantize_q8_avx2(x, b, format == MK_WEIGHT_Q8_1);
    }
}

// mk_dequantize_row's values, the same operations (an integer, converted, times d; Q4_1's then plus m).
static void dequantize_row_avx2(int format, const uint8_t *b, float *out, size_t n) {
    const size_t bytes = mk_quant_block_bytes(format);
    for (size_t i = 0; i < n / MK_QK; i++, out += MK_QK, b += bytes) {
        uint16_t h;
        memcpy(&h, b, 2);
        const __m256 d = _mm256_set1_ps(_cvtsh_ss(h));
        __m256i q[4];   // the block's 32 integers, 8 by 8
        if (format == MK_WEIGHT_Q8_0 || format == MK_WEIGHT_Q8_1) {
            const uint8_t *qs = b + (format == MK_WEIGHT_Q8_1 ? 4 : 2);
            for (int j = 0; j < 4; j++) q[j] = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(qs + 8 * j)));
        } else {
            const __m128i packed = _mm_loadu_si128((const __m128i *)(b + (format == MK_WEIGHT_Q4_1 ? 4 : 2)));
            const __m128i low = _mm_and_si128(packed, _mm_set1_epi8(0x0F));
            const __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F));
            q[0] = _mm256_cvtepu8_epi32(low);
            q[1] = _mm256_cvtepu8_epi32(_mm_srli_si128(low, 8));
            q[2] = _mm256_cvtepu8_epi32(high);
            q[3] = _mm256_cvtepu8_epi32(_mm_srli_si128(high, 8));
            if (format == MK_WEIGHT_Q4_0)
                for (int j = 0; j < 4; j++) q[j] = _mm256_sub_epi32(q[j], _mm256_set1_epi32(8));
        }
        __m256 m = _mm256_setzero_ps();
        if (format == MK_WEIGHT_Q4_1) { memcpy(&h, b + 2, 2); m = _mm256_set1_ps(_cvtsh_ss(h)); }
        for (int j = 0; j < 4; j++) {
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(q[j]), d);
            if (format == MK_WEIGHT_Q4_1) v = _mm256_add_ps(v, m);
            _mm256_storeu_ps(out + 8 * j, v);
        }
    }
}

static inline int32_t four_bytes(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

// A group block's eight rows' integer sums (quant_groups.h): vector j (values 4j ..< 4j + 4 of each row)
// meets those four activation values broadcast. Q4's unsigned nibbles: vpmaddubsw's 16-bit pairs add up
// over the block (at most 8 · 2 · 15 · 127 = 30,480: exact) and one vpmaddwd leaves row m's sum in lane m.
// Q8_0's signed bytes: |w| · (a with w's sign), and each vector's pairs widened to 32 bits (a pair reaches
// 2 · 127 · 127).
static inline __m256i group_lanes_avx2(int format, const __m256i *q, const uint8_t *a) {
    const __m256i ones = _mm256_set1_epi16(1);
    if (format == MK_WEIGHT_Q8_0) {
        __m256i s[2] = { _mm256_setzero_si256(), _mm256_setzero_si256() };
        for (int j = 0; j < 8; j++) {
            const __m256i aj = _mm256_set1_epi32(four_bytes(a + 4 * j));
            s[j % 2] = _mm256_add_epi32(s[j % 2], _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(q[j], q[j]), _mm256_sign_epi8(aj, q[j])), ones));
        }
        return _mm256_add_epi32(s[0], s[1]);
    }
    __m256i p[4];
    for (int c = 0; c < 4; c++)
        p[c] = _mm256_add_epi16(_mm256_maddubs_epi16(q[c], _mm256_set1_epi32(four_bytes(a + 4 * c))),
                                _mm256_maddubs_epi16(q[4 + c], _mm256_set1_epi32(four_bytes(a + 16 + 4 * c))));
    return _mm256_madd_epi16(_mm256_add_epi16(_mm256_add_epi16(p[0], p[1]), _mm256_add_epi16(p[2], p[3])), ones);
}

#define QG_NAME matmul_qg_avx2
#define QG_LANES group_lanes_avx2
#include "quant_groups.h"
#undef QG_NAME
#undef QG_LANES
MK_END

// ---- AVX-512 VNNI: the lanes by one vpdpbusd (the same integers: no pair of products reaches 2^15) ----
MK_BEGIN_AVX512VNNI
// group_lanes_avx2's sums by vpdpbusd (unsigned · signed: Q8_0 as |w| · (a with w's sign)), in two chains.
static inline __m256i group_lanes_vnni(int format, const __m256i *q, const uint8_t *a) {
    __m256i s[2] = { _mm256_setzero_si256(), _mm256_setzero_si256() };
    for (int j = 0; j < 8; j++) {
        const __m256i aj = _mm256_set1_epi32(four_bytes(a + 4 * j));
        s[j % 2] = format == MK_WEIGHT_Q8_0 ? _mm256_dpbusd_epi32(s[j % 2], _mm256_abs_epi8(q[j]), _mm256_sign_epi8(aj, q[j]))
                                            : _mm256_dpbusd_epi32(s[j % 2], q[j], aj);
    }
    return _mm256_add_epi32(s[0], s[1]);
}

#define QG_NAME matmul_qg_vnni
#define QG_LANES group_lanes_vnni
#include "quant_groups.h"
#undef QG_NAME
#undef QG_LANES
MK_END
#endif

void mk_quantize_activations(int activation, const float *x, size_t n, size_t cols, void *out) {
    int (*quantize)(const float *, uint8_t *, int) = quantize_q8;   // one block; returns Σ q
    float (*half)(const uint8_t *) = from_half;   // a library call at baseline x86-64 (__extendhfsf2)
#if MK_X86
    if (mk_isa_level() >= MK_ISA_AVX2) { quantize = quantize_q8_avx2; half = from_half_avx2; }
#endif
    const activations_layout A = activations_of(activation, cols, n);
    const int with_sum = activation == MK_WEIGHT_Q8_1;
    float *d = (float *)((uint8_t *)out + A.scales), *s = d + n * A.blocks;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < A.blocks; k++) {
            uint8_t *b = (uint8_t *)out + (i * A.blocks + k) * A.abytes;
            const int sum = quantize(x + i * cols + k * MK_QK, b, with_sum);
            d[i * A.blocks + k] = half(b);
            s[i * A.blocks + k] = with_sum ? half(b + 2) : d[i * A.blocks + k] * (float)sum;   // sa: Q8_1's s, or d · Σq
        }
}

void mk_matmul_q_small(const void *w, int format, const void *xq, float *y, size_t rows, size_t cols,
                       size_t n, size_t row_begin, size_t row_end, int accumulate) {
    if (n > 8) n = 8;
    typedef void (*product)(const void *, int, const void *, float *, size_t, size_t, size_t, size_t, size_t, int);
    product by_groups = matmul_q_scalar;
#if MK_X86
    const int level = mk_isa_level();
    if (level >= MK_ISA_AVX512 && mk_cpu_avx512_vnni()) by_groups = matmul_qg_vnni;
    else if (level >= MK_ISA_AVX2) by_groups = matmul_qg_avx2;
#endif
    // whole groups of eight rows at the level's speed; the few rows after them (at most 7) by the definition
    const size_t grouped = mk_quant_grouped(format) ? rows / 8 * 8 : 0;
    if (row_begin < grouped) by_groups(w, format, xq, y, rows, cols, n, row_begin, row_end < grouped ? row_end : grouped, accumulate);
    if (row_end > grouped) matmul_q_scalar(w, format, xq, y, rows, cols, n, row_begin > grouped ? row_begin : grouped, row_end, accumulate);
}
