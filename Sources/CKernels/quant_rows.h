// The quantized decode product's vector body, included by quant.c once per kernel level inside that level's
// target region: QR_NAME is the entry's name, QR_LANES(format, wq, a) the 8 integer lanes of one block at
// that level. The order of operations is quant.c's ("products"), so every level gives the scalar bits.
//
//   y[i, r] (+)= Σ_k Σ_m lanes(w[r, k], a[i, k])_m · dw · da (+ Q4_0's or Q4_1's mw · sa)    r in [row_begin, row_end), i < n
//
// Blocks go in groups of eight: one gather reads the group's headers, so the eight scales dw · da (and
// the offsets) take a few vector instructions instead of a scalar f16 conversion per block. The activations'
// da and sa come as f32 after their blocks (mk_quantize_activations), computed once per input, not per call. The gather
// for the next group (or the next row's first) is issued before the current group's blocks, so its
// latency hides behind them.

// Rows [row_begin, row_end) for n inputs; always inlined with constant n and format (QR_NAME's switch), so
// the accumulators live in registers and the inner loop tests nothing.
static inline __attribute__((always_inline))
void MK_CAT(QR_NAME, _rows)(const size_t n, const int format, const void *w, const void *xq, float *y, size_t rows,
                            quant_layout L, size_t row_begin, size_t row_end, int accumulate,
                            const float *ad, const float *as, size_t stride) {
    const size_t blocks = L.blocks, wbytes = L.wbytes, abytes = L.abytes;
    const int aoff = L.aoff, offsets = format != MK_WEIGHT_Q8_0;
    const size_t first = blocks < 8 ? blocks : 8;
    __m256i headers = row_begin < row_end ? group_headers((const uint8_t *)w + row_begin * blocks * wbytes, wbytes, first)
                                          : _mm256_setzero_si256();
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *wr = (const uint8_t *)w + r * blocks * wbytes;
        __m256 even[8], odd[8], off[8];
        for (size_t i = 0; i < n; i++) even[i] = odd[i] = off[i] = _mm256_setzero_ps();
        for (size_t k = 0; k < blocks; k += 8) {
            const size_t count = blocks - k < 8 ? blocks - k : 8;
            const uint8_t *wg = wr + k * wbytes;
            const __m256i current = headers;
            if (k + 8 < blocks) headers = group_headers(wg + 8 * wbytes, wbytes, blocks - k - 8 < 8 ? blocks - k - 8 : 8);
            else if (r + 1 < row_end) headers = group_headers(wr + blocks * wbytes, wbytes, first);
            __m256 dw, mw = _mm256_setzero_ps();
            float scale[8][8] __attribute__((aligned(32)));
            header_scales(current, format == MK_WEIGHT_Q4_1, &dw, &mw);
            if (format == MK_WEIGHT_Q4_0) mw = _mm256_mul_ps(dw, _mm256_set1_ps(-8));   // exact
            for (size_t i = 0; i < n; i++) {
                _mm256_store_ps(scale[i], _mm256_mul_ps(dw, _mm256_loadu_ps(ad + i * stride + k)));
                if (offsets) off[i] = _mm256_fmadd_ps(mw, _mm256_loadu_ps(as + i * stride + k), off[i]);
            }
            // block b of the group: its lanes times its scale (scale[i][b], broadcast by a load: a lane
            // permute per block took the shuffle port the nibbles' unpacking needs), into even or odd
#define QR_BLOCK(b) do { \
                const uint8_t *wb = wg + (size_t)(b) * wbytes; \
                mk_prefetch_ahead(wb); \
                const __m256i wq = load_weight_block(format, wb); \
                for (size_t i = 0; i < n; i++) { \
                    const uint8_t *ab = (const uint8_t *)xq + (i * blocks + k + (size_t)(b)) * abytes; \
                    const __m256 lanes = _mm256_cvtepi32_ps(QR_LANES(format, wq, _mm256_loadu_si256((const __m256i *)(ab + aoff)))); \
                    const __m256 s = _mm256_broadcast_ss(&scale[i][b]); \
                    if ((b) % 2 == 0) even[i] = _mm256_fmadd_ps(lanes, s, even[i]); \
                    else odd[i] = _mm256_fmadd_ps(lanes, s, odd[i]); \
                } \
            } while (0)
            if (count == 8) {
                QR_BLOCK(0); QR_BLOCK(1); QR_BLOCK(2); QR_BLOCK(3); QR_BLOCK(4); QR_BLOCK(5); QR_BLOCK(6); QR_BLOCK(7);
            } else {
                for (size_t b = 0; b < count; b++) QR_BLOCK(b);
            }
#undef QR_BLOCK
        }
        for (size_t i = 0; i < n; i++) {   // mk_hsum8 adds in tree8's order
            const float sum = mk_hsum8(_mm256_add_ps(even[i], odd[i])) + mk_hsum8(off[i]);
            y[i * rows + r] = accumulate ? y[i * rows + r] + sum : sum;
        }
    }
}

static void QR_NAME(const void *w, int format, const void *xq, float *y, size_t rows, size_t cols,
                    size_t n, size_t row_begin, size_t row_end, int accumulate) {
    const quant_layout L = layout_of(format, cols);
    const activations_layout A = activations_of(mk_quant_activation_format(format), cols, n);
    const float *ad = (const float *)((const uint8_t *)xq + A.scales), *as = ad + n * A.stride;
    const size_t stride = A.stride;
#define ROWS(N, F) case N: MK_CAT(QR_NAME, _rows)(N, F, w, xq, y, rows, L, row_begin, row_end, accumulate, ad, as, stride); break;
#define FORMAT(F) case F: switch (n) { ROWS(1, F) ROWS(2, F) ROWS(3, F) ROWS(4, F) ROWS(5, F) ROWS(6, F) ROWS(7, F) ROWS(8, F) default: break; } break;
    switch (format) { FORMAT(MK_WEIGHT_Q8_0) FORMAT(MK_WEIGHT_Q4_0) FORMAT(MK_WEIGHT_Q4_1) default: break; }
#undef FORMAT
#undef ROWS
}
