#include "ckernels.h"
#include <cpuid.h>
#include <string.h>

static unsigned long long xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

void mk_cpu_detect(mk_cpu_features *out) {
    memset(out, 0, sizeof *out);
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    unsigned max_leaf = a;
    memcpy(out->vendor + 0, &b, 4);
    memcpy(out->vendor + 4, &d, 4);
    memcpy(out->vendor + 8, &c, 4);
    out->vendor[12] = 0;

    __get_cpuid(1, &a, &b, &c, &d);
    unsigned base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
    out->family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
    out->model = (base_family == 0x6 || base_family == 0xf) ? (((a >> 16) & 0xf) << 4) + base_model : base_model;
    int osxsave = (c >> 27) & 1;
    int avx = (c >> 28) & 1;
    out->fma = (c >> 12) & 1;
    out->f16c = (c >> 29) & 1;
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int ymm_ok = avx && ((xcr0 & 0x6) == 0x6);
    int zmm_ok = ymm_ok && ((xcr0 & 0xe0) == 0xe0);
    int amx_ok = (xcr0 & 0x60000) == 0x60000;

    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        out->avx2 = ymm_ok && ((b >> 5) & 1);
        out->avx512f = zmm_ok && ((b >> 16) & 1);
        out->avx512bw = zmm_ok && ((b >> 30) & 1);
        out->avx512vl = zmm_ok && ((b >> 31) & 1);
        out->amx_bf16 = amx_ok && ((d >> 22) & 1);
        out->amx_tile = amx_ok && ((d >> 24) & 1);
        __cpuid_count(7, 1, a, b, c, d);
        out->avx512_bf16 = zmm_ok && ((a >> 5) & 1);
    }
    out->fma = out->fma && ymm_ok;
    out->f16c = out->f16c && ymm_ok;

    unsigned ext;
    __get_cpuid(0x80000000, &ext, &b, &c, &d);
    if (ext >= 0x80000004) {
        unsigned regs[12];
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &regs[i * 4], &regs[i * 4 + 1], &regs[i * 4 + 2], &regs[i * 4 + 3]);
        memcpy(out->brand, regs, 48);
        out->brand[48] = 0;
    }
}
