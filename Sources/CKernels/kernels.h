// Private to CKernels: the target regions each kernel level is compiled in.
//
//   MK_BEGIN_AVX2 ... MK_END        functions in between may use AVX2, FMA and F16C
//   MK_BEGIN_AVX512 ... MK_END      + AVX-512 F, BW, DQ, VL
//   MK_BEGIN_AVX512BF16 ... MK_END  + AVX512-BF16
//   MK_BEGIN_AVX512VNNI ... MK_END  + AVX512-VNNI (used at the AVX-512 levels where mk_cpu_avx512_vnni())
//
// The files themselves are built for baseline x86-64 (SSE2), so code outside a region runs anywhere;
// a kernel's public function reads mk_isa_level() and calls its region's version.
#ifndef MEDREPL_CKERNELS_PRIVATE_H
#define MEDREPL_CKERNELS_PRIVATE_H
#if defined(__x86_64__)
#include <immintrin.h>
#define MK_X86 1
#define MK_BEGIN_AVX2 _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,f16c\"))), apply_to = function)")
#define MK_BEGIN_AVX512 _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl\"))), apply_to = function)")
#define MK_BEGIN_AVX512BF16 _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512bf16\"))), apply_to = function)")
// + AVX512-VNNI (vpdpbusd): not a level of its own; a level from AVX-512 up uses it where mk_cpu_avx512_vnni()
#define MK_BEGIN_AVX512VNNI _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni\"))), apply_to = function)")
#define MK_END _Pragma("clang attribute pop")
#define MK_CAT_(a, b) a##b
#define MK_CAT(a, b) MK_CAT_(a, b)
// In a kernel's public function: run NAME_avx512 or NAME_avx2 when the level allows, else fall through
// (to the scalar code that follows). MK_DISPATCH returns the kernel's value; MK_DISPATCH_VOID returns.
#define MK_DISPATCH(name, ...) do { int level_ = mk_isa_level(); \
    if (level_ >= MK_ISA_AVX512) return name##_avx512(__VA_ARGS__); \
    if (level_ >= MK_ISA_AVX2) return name##_avx2(__VA_ARGS__); } while (0)
#define MK_DISPATCH_VOID(name, ...) do { int level_ = mk_isa_level(); \
    if (level_ >= MK_ISA_AVX512) { name##_avx512(__VA_ARGS__); return; } \
    if (level_ >= MK_ISA_AVX2) { name##_avx2(__VA_ARGS__); return; } } while (0)

// Whether the CPU has AVX512-VNNI (read once, at start-up).
int mk_cpu_avx512_vnni(void);

// Helpers the levels' kernels share.

// Decode products stream their weights once, row after row. The hardware prefetchers stop at each 4 KiB
// page, so each new page starts with a miss; asking for the bytes MK_PREFETCH_BYTES ahead keeps the next
// page in flight. Measured on an Intel Xeon (model 207, 2 cores, AVX2 kernels, SmolLM2-sized products):
// bf16 66 -> 120 tok/s, f32 49 -> 61 tok/s; 1 KiB ahead gained half of that, 8 and 16 KiB no more than 4.
// A prefetch never faults, so reading past the last row is harmless.
//
// The f32/bf16/f16 streams (matmul.c, gemm_bf16.c's decode product, stream.c) prefetch only where
// mk_stream_prefetch() says (cpu.c: not on AMD). On an AMD EPYC (Zen 4, family 25 model 17) the software
// prefetch slowed them: SmolLM2 decode without it, 6 interleaved runs each, f32 41.2 -> 52.1 tok/s and bf16
// 85.0 -> 98.1 at avx512bf16, bf16 95.4 -> 104.4 at avx2; one core's product of f32 weights read 22-24
// GB/s with it and 26-27 without. The quantized products (quant_groups.h) prefetch on every CPU: there
// it helped the Zen 4 too (q8_0 decode at avx2 141 -> 157 tok/s, q4_1 169 -> 182, 5 runs each).
#define MK_PREFETCH_BYTES 4096
#define mk_prefetch_ahead(p) _mm_prefetch((const char *)(p) + MK_PREFETCH_BYTES, _MM_HINT_T0)

MK_BEGIN_AVX2
// The sum of the 8 lanes.
static inline float mk_hsum8(__m256 v) {
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
}
MK_END
#else
#define MK_X86 0
#define MK_DISPATCH(name, ...) do { } while (0)
#define MK_DISPATCH_VOID(name, ...) do { } while (0)
#endif
#endif
