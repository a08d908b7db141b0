// bf16/f16 <-> f32 conversion of whole tensors (loading, bf16 storage, the bf16 operands of autocast).
// The loops are plain C; the avx2 level compiles the same loops with AVX2 and F16C (8 halves a vector)
// instead of SSE2 and a library call per f16 value.
#include "ckernels.h"
#include "kernels.h"
#include <string.h>

static inline __attribute__((always_inline)) void bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
    uint32_t *out = (uint32_t *)dst;
    for (size_t i = 0; i < n; i++) out[i] = (uint32_t)src[i] << 16;
}

static inline __attribute__((always_inline)) void f32_to_bf16(const float *src, uint16_t *dst, size_t n) {
    const uint32_t *in = (const uint32_t *)src;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = in[i];
        if ((x & 0x7fffffff) > 0x7f800000) { dst[i] = (uint16_t)((x >> 16) | 0x40); continue; }
        uint32_t rounding = 0x7fff + ((x >> 16) & 1);
        dst[i] = (uint16_t)((x + rounding) >> 16);
    }
}

static inline __attribute__((always_inline)) void f16_to_f32(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        _Float16 h;
        memcpy(&h, &src[i], 2);
        dst[i] = (float)h;
    }
}

static inline __attribute__((always_inline)) void f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        _Float16 h = (_Float16)src[i];
        memcpy(&dst[i], &h, 2);
    }
}

#if MK_X86
MK_BEGIN_AVX2
static void bf16_to_f32_avx2(const uint16_t *src, float *dst, size_t n) { bf16_to_f32(src, dst, n); }
static void f32_to_bf16_avx2(const float *src, uint16_t *dst, size_t n) { f32_to_bf16(src, dst, n); }
static void f16_to_f32_avx2(const uint16_t *src, float *dst, size_t n) { f16_to_f32(src, dst, n); }
static void f32_to_f16_avx2(const float *src, uint16_t *dst, size_t n) { f32_to_f16(src, dst, n); }
MK_END
#define ANY_VECTOR(name, ...) do { if (mk_isa_level() >= MK_ISA_AVX2) { name##_avx2(__VA_ARGS__); return; } } while (0)
#else
#define ANY_VECTOR(name, ...) do { } while (0)
#endif

void mk_bf16_to_f32(const uint16_t *src, float *dst, size_t n) { ANY_VECTOR(bf16_to_f32, src, dst, n); bf16_to_f32(src, dst, n); }
void mk_f32_to_bf16(const float *src, uint16_t *dst, size_t n) { ANY_VECTOR(f32_to_bf16, src, dst, n); f32_to_bf16(src, dst, n); }
void mk_f16_to_f32(const uint16_t *src, float *dst, size_t n) { ANY_VECTOR(f16_to_f32, src, dst, n); f16_to_f32(src, dst, n); }
void mk_f32_to_f16(const float *src, uint16_t *dst, size_t n) { ANY_VECTOR(f32_to_f16, src, dst, n); f32_to_f16(src, dst, n); }
