#include "ckernels.h"
#include <string.h>

void mk_bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
    uint32_t *out = (uint32_t *)dst;
    for (size_t i = 0; i < n; i++) out[i] = (uint32_t)src[i] << 16;
}

void mk_f32_to_bf16(const float *src, uint16_t *dst, size_t n) {
    const uint32_t *in = (const uint32_t *)src;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = in[i];
        if ((x & 0x7fffffff) > 0x7f800000) { dst[i] = (uint16_t)((x >> 16) | 0x40); continue; }
        uint32_t rounding = 0x7fff + ((x >> 16) & 1);
        dst[i] = (uint16_t)((x + rounding) >> 16);
    }
}

void mk_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = (float)(*(const _Float16 *)&src[i]);
}

void mk_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        _Float16 h = (_Float16)src[i];
        memcpy(&dst[i], &h, 2);
    }
}
