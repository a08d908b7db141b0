// Small C kernels that Swift cannot express as fast: CPU features and the kernel level, bf16/f16
// conversion, ggml's block quantization, the decode-time products, the thread pool, LoRA dropout, exp, attention for one query and
// the AVX512-BF16 products. Built for baseline x86-64; each kernel carries code for every level it
// supports and picks one at each call from mk_isa_level() (see cpu.c).
#ifndef MEDREPL_CKERNELS_H
#define MEDREPL_CKERNELS_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int avx2;
    int fma;
    int avx512f;
    int avx512dq;
    int avx512bw;
    int avx512vl;
    int avx512_bf16;
    int avx512_vnni;
    int amx_tile;
    int amx_bf16;
    int f16c;
    unsigned family;   // display family, as /proc/cpuinfo's "cpu family"
    unsigned model;    // display model
    char vendor[13];
    char brand[49];
} mk_cpu_features;

/// Reads CPUID. OS support for AVX/AVX-512 state is checked through XGETBV.
void mk_cpu_detect(mk_cpu_features *out);

/// Kernel levels, each including the ones below it.
/// scalar: portable C (what the compiler makes of it for baseline x86-64);
/// avx2: AVX2 + FMA + F16C; avx512: + AVX-512 F/BW/DQ/VL; avx512bf16: + AVX512-BF16.
enum { MK_ISA_SCALAR = 0, MK_ISA_AVX2 = 1, MK_ISA_AVX512 = 2, MK_ISA_AVX512_BF16 = 3 };
/// The best level `f` supports.
int mk_isa_of(const mk_cpu_features *f);
/// "scalar", "avx2", "avx512", "avx512bf16" ("unknown" otherwise); mk_isa_parse is its inverse
/// (-1 for NULL, -2 for a name that is not a level).
const char *mk_isa_name(int level);
int mk_isa_parse(const char *name);
/// The level of this CPU; the process's level (the CPU's, lowered by MEDREPL_ISA as read at start-up,
/// never raised).
int mk_isa_cpu(void);
int mk_isa_process(void);
/// The level the kernels use on the calling thread: the process's, or this thread's override.
int mk_isa_level(void);
/// Sets the calling thread's level (clamped to the process's; -1 removes the override) and returns the
/// previous override (-1 for none). Pool jobs run at the level of the thread that started them.
int mk_isa_override_thread(int level);

/// Whether the decode products of f32/bf16/f16 weights ask for their bytes ahead of the hardware
/// prefetchers (kernels.h): 1 unless `f` is an AMD (or Hygon) CPU. mk_cpu_stream_prefetch() is this CPU's
/// choice, read at start-up; mk_stream_prefetch() the process's, which starts as the CPU's and
/// mk_set_stream_prefetch changes (the benchmark's --stream-prefetch, for measuring both on one machine).
/// The results are the same either way.
int mk_cpu_prefers_stream_prefetch(const mk_cpu_features *f);
int mk_cpu_stream_prefetch(void);
int mk_stream_prefetch(void);
void mk_set_stream_prefetch(int on);

/// bf16 <-> f32 (round-to-nearest-even on the way down, NaN kept quiet).
void mk_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
void mk_f32_to_bf16(const float *src, uint16_t *dst, size_t n);
/// IEEE half <-> f32.
void mk_f16_to_f32(const uint16_t *src, float *dst, size_t n);
void mk_f32_to_f16(const float *src, uint16_t *dst, size_t n);

/// Σ x[i] read once, as fast as a core can (the machine probe's memory read bandwidth).
float mk_read_sum(const float *x, size_t n);

enum { MK_WEIGHT_F32 = 0, MK_WEIGHT_BF16 = 1, MK_WEIGHT_F16 = 2,
       /// ggml's blocks of MK_QK values (quant.c): weights Q8_0, Q4_0, Q4_1; activations Q8_0, Q8_1.
       MK_WEIGHT_Q8_0 = 3, MK_WEIGHT_Q4_0 = 4, MK_WEIGHT_Q4_1 = 5, MK_WEIGHT_Q8_1 = 6 };
enum { MK_QK = 32 };
/// y[n, rows] (+)= x[n, cols] · W[rows, cols]ᵀ over rows [row_begin, row_end), W stored as `format`
/// (MK_WEIGHT_*), n ≤ 8.
void mk_matmul_nt_small(const void *w, int format, const float *x, float *y,
                        size_t rows, size_t cols, size_t n, size_t row_begin, size_t row_end,
                        int accumulate);

/// Bytes of one block of MK_QK values in a quantized format (0 for the others).
size_t mk_quant_block_bytes(int format);
/// ggml's reference quantization of x[n] (n a multiple of MK_QK) into `format`'s blocks, and back.
void mk_quantize_row(int format, const float *x, void *out, size_t n);
void mk_dequantize_row(int format, const void *q, float *out, size_t n);
/// The 8-bit format a weight format multiplies with: Q8_1 for Q4_1, Q8_0 for Q8_0 and Q4_0.
int mk_quant_activation_format(int format);
/// x[n, cols] quantized row by row to an activation format (Q8_0 or Q8_1) for mk_matmul_q_small: the rows'
/// blocks (mk_quantize_row's bytes), then each block's scales as f32. `out` holds
/// mk_quant_activations_bytes(activation, cols, n) bytes, 32-byte aligned.
size_t mk_quant_activations_bytes(int activation, size_t cols, size_t n);
void mk_quantize_activations(int activation, const float *x, size_t n, size_t cols, void *out);
/// y[n, rows] (+)= x[n, cols] · W[rows, cols]ᵀ over rows [row_begin, row_end), W in a quantized weight
/// format, x already quantized by mk_quantize_activations to its activation format (`xq`); cols a multiple
/// of MK_QK, n ≤ 8. Integer block sums, blocks accumulated in order in f32: every level gives the same bits.
void mk_matmul_q_small(const void *w, int format, const void *xq, float *y, size_t rows, size_t cols,
                       size_t n, size_t row_begin, size_t row_end, int accumulate);
/// Whether a matrix of `format` is kept in row groups of eight (Q8_0, Q4_0, Q4_1: quant.c, "row groups"),
/// its rows after the last whole group row after row, as ggml writes them. mk_matmul_q_small takes a
/// matrix so kept.
int mk_quant_grouped(int format);
/// Rows [first, first + count) of a `rows × cols` matrix kept as mk_quant_grouped says, from or to `count`
/// rows of ggml blocks in row-major order, and dequantized to out[count, cols].
void mk_quant_put_rows(int format, const void *src, void *matrix, size_t rows, size_t cols, size_t first, size_t count);
void mk_quant_get_rows(int format, const void *matrix, void *dst, size_t rows, size_t cols, size_t first, size_t count);
void mk_dequantize_rows(int format, const void *matrix, size_t rows, size_t cols, size_t first, size_t count, float *out);

/// LoRA dropout over elements [begin, end) (begin a multiple of 4): element i is kept when 16-bit lane
/// i mod 4 of SplitMix64(key + (i / 4 + 1) · 0x9E3779B97F4A7C15) is ≥ threshold (0...65536).
/// apply: out[i] = kept ? x[i] · keep : 0.  accumulate: dx[i] += kept ? g[i] · keep : 0.
void mk_dropout_apply(float *out, const float *x, size_t begin, size_t end,
                      uint64_t key, uint32_t threshold, float keep);
void mk_dropout_accumulate(float *dx, const float *g, size_t begin, size_t end,
                           uint64_t key, uint32_t threshold, float keep);

/// exp, vectorised (within 2 ulp of expf; exp(-inf) = 0, exp(+inf) = +inf).
/// mk_exp: out[i] = exp(x[i]).  mk_sum_exp: Σ exp(x[i] − shift).
/// mk_exp_store: out[i] = exp(x[i] − shift) · scale, returning Σ exp(x[i] − shift). out may equal x.
void mk_exp(const float *x, float *out, size_t n);
float mk_sum_exp(const float *x, size_t n, float shift);
float mk_exp_store(float *out, const float *x, size_t n, float shift, float scale);
/// The Llama MLP gate: out = silu(gate) · up; and its backward from dact:
/// dup = dact · silu(gate), dgate = dact · up · σ(gate) · (1 + gate · (1 − σ(gate))).
void mk_swiglu_forward(float *out, const float *gate, const float *up, size_t n);
void mk_swiglu_backward(float *dgate, float *dup, const float *dact, const float *gate, const float *up, size_t n);

/// Products with a frozen bf16 weight W[n, k] on AVX512-BF16 (mk_gemm_bf16_available() == 1 when the
/// calling thread's level is avx512bf16; otherwise these do nothing); the other operand already rounded
/// to bf16, sums in f32.
/// nt: y[m, ldy] (+)= x[m, k] · Wᵀ for W's rows (y's columns) [n_begin, n_end); k even.
/// nn: dx[m, k] (+)= dy[m, n] · W for dx's columns [k_begin, k_end); n even.
int mk_gemm_bf16_available(void);
void mk_gemm_bf16_nt(const uint16_t *w, const uint16_t *x, float *y, size_t m, size_t k, size_t ldy,
                     size_t n_begin, size_t n_end, int accumulate);
void mk_gemm_bf16_nn(const uint16_t *w, const uint16_t *dy, float *dx, size_t m, size_t n, size_t k,
                     size_t k_begin, size_t k_end, int accumulate);
/// matvec: y[rows] (+)= W · x for one input x[cols] in bf16, over W's rows [row_begin, row_end) (decode).
void mk_matvec_bf16(const uint16_t *w, const uint16_t *x, float *y, size_t cols,
                    size_t row_begin, size_t row_end, int accumulate);

/// One attention query: row[j] = softmax_j(q · k_j · scale) over slots j < visible (0 where key_mask[j]
/// is 0; key_mask may be NULL), out[head_dim] = Σ_j row[j] · v_j; slot j's key and value start at
/// k + j · stride and v + j · stride. Returns 1; 0 when every slot is masked (row and out zeroed); -1,
/// doing nothing, when there is no kernel for head_dim at this level (avx2 and up, head_dim 64 or 128).
int mk_attention_query(const float *q, const float *k, const float *v, size_t stride, size_t visible,
                       const int32_t *key_mask, float scale, float *row, float *out, size_t head_dim);

/// A job chunk: `chunk` is in [0, chunks).
typedef void (*mk_pool_fn)(void *ctx, long chunk);
/// Runs fn(ctx, 0..<chunks) on the calling thread and up to `threads - 1` pooled workers, which spin
/// briefly between jobs (see pool.c). Returns 1 when done; 0, having run nothing, when another thread
/// is using the pool (the caller then runs the chunks some other way).
int mk_pool_run(long chunks, int threads, mk_pool_fn fn, void *ctx);
/// 1 while the calling thread is running a chunk of a pool job.
int mk_pool_in_job(void);

/// `bytes` of memory aligned to 64 bytes, freed with mk_free; from 4 MiB up aligned to 2 MiB and asked on
/// huge pages (madvise), unless mk_set_huge_pages(0). NULL when out of memory.
void *mk_alloc(size_t bytes);
void mk_free(void *p);
/// 1 when large buffers ask for huge pages (the default; `medrepl-bench --huge-pages 0` measures without).
int mk_huge_pages(void);
void mk_set_huge_pages(int on);

#endif
