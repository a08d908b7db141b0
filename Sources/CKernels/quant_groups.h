// The decode product on matrices kept in row groups (quant.c, "row groups"), included by quant.c once per
// kernel level inside that level's target region: QG_NAME is the entry's name, QG_LANES(format, q, a) the
// eight rows' integer block sums at that level (q: the group block's 8 vectors, q[j] holding each row's
// values 4j ..< 4j + 4 in its lane; a: the activation block's values). The order of operations is
// matmul_q_scalar's, so every level gives the scalar bits.
//
//   y[i, r] (+)= Σ_k isum(r, k, i) · (dw · da) (+ Σ_k mw · sa for Q4)   r in [row_begin, row_end) ∩ whole groups, i < n
//
// A group block is one run of 272 (Q8_0), 144 (Q4_0) or 160 (Q4_1) bytes: its eight d (and m) convert in one
// instruction, its values are eight vectors with a row in each 32-bit lane (Q4's 128 bytes of nibbles
// unpacked), and each vector meets four activation bytes broadcast from memory; a row's result ends in its
// own lane, so a group stores eight outputs at once, with no sums across lanes.

// Groups [row_begin / 8, ⌈row_end / 8⌉) for n inputs, rows outside [row_begin, row_end) left as they are;
// always inlined with constant n and format (QG_NAME's switch), so the accumulators live in registers.
static inline __attribute__((always_inline))
void MK_CAT(QG_NAME, _groups)(const size_t n, const int format, const uint8_t *w, const uint8_t *xq, float *y,
                              size_t rows, quant_layout L, size_t row_begin, size_t row_end, int accumulate,
                              const float *ad, const float *as) {
    const size_t blocks = L.blocks, gbytes = 8 * L.wbytes, abytes = L.abytes, h = header_bytes(format);
    const int aoff = L.aoff;
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    for (size_t g = row_begin / 8; 8 * g < row_end; g++) {
        const uint8_t *gw = w + g * blocks * gbytes;
        __m256 acc[8], off[8];
        for (size_t i = 0; i < n; i++) acc[i] = off[i] = _mm256_setzero_ps();
        for (size_t k = 0; k < blocks; k++) {
            const uint8_t *gb = gw + k * gbytes, *qs = gb + 8 * h;
            for (size_t line = 0; line < gbytes; line += 64) mk_prefetch_ahead(gb + line);
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)gb));
            const __m256 mw = format == MK_WEIGHT_Q4_1 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(gb + 16)))
                                                       : _mm256_mul_ps(dw, _mm256_set1_ps(-8));   // exact
            __m256i q[8];   // q[j]: values 4j ..< 4j + 4 of each row (Q4: chunk j's low nibbles, then the high)
            if (format == MK_WEIGHT_Q8_0)
                for (int j = 0; j < 8; j++) q[j] = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
            else
                for (int c = 0; c < 4; c++) {
                    const __m256i packed = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
                    q[c] = _mm256_and_si256(packed, nibble);
                    q[4 + c] = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibble);
                }
            for (size_t i = 0; i < n; i++) {
                const uint8_t *a = xq + (i * blocks + k) * abytes + aoff;
                const __m256 lanes = _mm256_cvtepi32_ps(QG_LANES(format, q, a));
                acc[i] = _mm256_fmadd_ps(lanes, _mm256_mul_ps(dw, _mm256_broadcast_ss(ad + i * blocks + k)), acc[i]);
                if (format != MK_WEIGHT_Q8_0) off[i] = _mm256_fmadd_ps(mw, _mm256_broadcast_ss(as + i * blocks + k), off[i]);
            }
        }
        const int whole = 8 * g >= row_begin && 8 * g + 8 <= row_end;
        for (size_t i = 0; i < n; i++) {
            const __m256 sum = format == MK_WEIGHT_Q8_0 ? acc[i] : _mm256_add_ps(acc[i], off[i]);
            float *out = y + i * rows + 8 * g;
            if (whole) {
                _mm256_storeu_ps(out, accumulate ? _mm256_add_ps(_mm256_loadu_ps(out), sum) : sum);
                continue;
            }
            float part[8];
            _mm256_storeu_ps(part, sum);
            for (size_t m = 0; m < 8; m++)
                if (8 * g + m >= row_begin && 8 * g + m < row_end) out[m] = accumulate ? out[m] + part[m] : part[m];
        }
    }
}

static void QG_NAME(const void *w, int format, const void *xq, float *y, size_t rows, size_t cols,
                    size_t n, size_t row_begin, size_t row_end, int accumulate) {
    const quant_layout L = layout_of(format, cols);
    const activations_layout A = activations_of(mk_quant_activation_format(format), cols, n);
    const float *ad = (const float *)((const uint8_t *)xq + A.scales), *as = ad + n * A.blocks;
#define GROUPS(N, F) case N: MK_CAT(QG_NAME, _groups)(N, F, w, xq, y, rows, L, row_begin, row_end, accumulate, ad, as); break;
#define FORMAT(F) case F: switch (n) { GROUPS(1, F) GROUPS(2, F) GROUPS(3, F) GROUPS(4, F) GROUPS(5, F) GROUPS(6, F) GROUPS(7, F) GROUPS(8, F) default: break; } break;
    switch (format) { FORMAT(MK_WEIGHT_Q8_0) FORMAT(MK_WEIGHT_Q4_0) FORMAT(MK_WEIGHT_Q4_1) default: break; }
#undef FORMAT
#undef GROUPS
}
