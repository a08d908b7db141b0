// CPU features (CPUID, with XGETBV for the OS's support of the vector state) and the kernel level.
//
// Every kernel in CKernels is compiled for each level it supports, with per-function target attributes
// (kernels.h's MK_BEGIN_* regions), and picks its code at each call from mk_isa_level(): so one binary
// runs on any x86-64 CPU and uses what that CPU has, as llama.cpp's CPU variants and OpenBLAS's
// DYNAMIC_ARCH do. The level is the CPU's best, lowered (never raised) by MEDREPL_ISA for the process
// and by mk_isa_override_thread for one thread (the tests run each kernel at every level the CPU has;
// the pool's workers take the level of the thread that started the job).
#include "ckernels.h"
#include "kernels.h"
#include <cpuid.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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
        out->avx512dq = zmm_ok && ((b >> 17) & 1);
        out->avx512bw = zmm_ok && ((b >> 30) & 1);
        out->avx512vl = zmm_ok && ((b >> 31) & 1);
        out->avx512_vnni = zmm_ok && ((c >> 11) & 1);
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

static const char *const level_names[] = { "scalar", "avx2", "avx512", "avx512bf16" };

const char *mk_isa_name(int level) {
    return level >= MK_ISA_SCALAR && level <= MK_ISA_AVX512_BF16 ? level_names[level] : "unknown";
}

int mk_isa_parse(const char *name) {
    if (!name) return -1;
    for (int level = MK_ISA_SCALAR; level <= MK_ISA_AVX512_BF16; level++)
        if (strcasecmp(name, level_names[level]) == 0) return level;   // AVX2 as avx2
    return -2;
}

int mk_isa_of(const mk_cpu_features *f) {
    if (!(f->avx2 && f->fma && f->f16c)) return MK_ISA_SCALAR;
    if (!(f->avx512f && f->avx512bw && f->avx512dq && f->avx512vl)) return MK_ISA_AVX2;
    return f->avx512_bf16 ? MK_ISA_AVX512_BF16 : MK_ISA_AVX512;
}

// Set once, before main (a constructor), so every thread reads it without synchronisation.
static int cpu_level = MK_ISA_SCALAR, process_level = MK_ISA_SCALAR, cpu_vnni = 0, cpu_stream_prefetch = 1;
static _Atomic int stream_prefetch = 1;   // atomic: the benchmark and the tests may change it while kernels run
static _Thread_local int thread_level = -1;

// medrepl's Swift code is compiled for x86-64-v3 (Package.swift says why); on an older CPU it would stop
// on an illegal instruction somewhere, so say so first, in words, before any of it runs.
static void require_x86_64_v3(const mk_cpu_features *f) {
#if defined(MK_SWIFT_NEEDS_X86_64_V3) && MK_X86
    unsigned a, b, c, d;
    int bmi = __get_cpuid_count(7, 0, &a, &b, &c, &d) && ((b >> 3) & 1) && ((b >> 8) & 1);   // BMI1, BMI2
    if (f->avx2 && f->fma && f->f16c && bmi) return;
    static const char message[] = "medrepl: this CPU lacks AVX2, FMA, F16C or BMI2 (x86-64-v3), which this build of "
        "medrepl needs; every x86-64 CPU since Intel Haswell (2013) and AMD Zen (2017) has them.\n";
    (void)!write(2, message, sizeof message - 1);
    _exit(70);
#else
    (void)f;
#endif
}

__attribute__((constructor)) static void isa_init(void) {
    mk_cpu_features f;
    mk_cpu_detect(&f);
    require_x86_64_v3(&f);
    cpu_level = mk_isa_of(&f);
    cpu_vnni = f.avx512_vnni && cpu_level >= MK_ISA_AVX512;
    cpu_stream_prefetch = mk_cpu_prefers_stream_prefetch(&f);
    mk_set_stream_prefetch(cpu_stream_prefetch);
    const char *env = getenv("MEDREPL_ISA");
    int requested = env && *env ? mk_isa_parse(env) : -1;
    process_level = requested >= 0 && requested < cpu_level ? requested : cpu_level;
}

// AMD's cores (and Hygon's, the same design) stream f32/bf16 weights faster without software prefetch
// (kernels.h has the figures); Intel's need it at each 4 KiB page.
int mk_cpu_prefers_stream_prefetch(const mk_cpu_features *f) {
    return strcmp(f->vendor, "AuthenticAMD") != 0 && strcmp(f->vendor, "HygonGenuine") != 0;
}

int mk_cpu_stream_prefetch(void) { return cpu_stream_prefetch; }
int mk_stream_prefetch(void) { return atomic_load_explicit(&stream_prefetch, memory_order_relaxed); }
void mk_set_stream_prefetch(int on) { atomic_store_explicit(&stream_prefetch, on != 0, memory_order_relaxed); }

int mk_isa_cpu(void) { return cpu_level; }
int mk_cpu_avx512_vnni(void) { return cpu_vnni; }
int mk_isa_process(void) { return process_level; }
int mk_isa_level(void) { return thread_level >= 0 ? thread_level : process_level; }

int mk_isa_override_thread(int level) {
    int previous = thread_level;
    thread_level = level < 0 ? -1 : level < process_level ? level : process_level;
    return previous;
}
