// A small pool of worker threads that spin briefly between jobs.
//
// Why not Dispatch: a one-token decode step runs ~250 products of a few microseconds each, and
// DispatchQueue.concurrentPerform wakes its worker through a futex every time (sem_post, then the
// wake-up latency): on SmolLM2 that was ~20% of decode time in the kernel's scheduler. Here a worker
// that has just finished a job spins for a short while on the next job's ticket, so back-to-back
// jobs start without a system call; after MK_POOL_SPIN_NS of nothing it sleeps on a condition
// variable, so an idle pool costs nothing. OpenBLAS runs each call on one thread and BLAS.sgemm
// splits large products into bands on this pool, so the two never spin against each other.
//
// The ticket packs (generation << 32 | next chunk): a worker claims a chunk by a compare-and-swap
// that also checks the generation, so a worker that wakes late can never run a chunk of a job that
// is not the one whose function and context it read. Before the caller writes a new job's function,
// context and chunk count it closes the old generation (next chunk = MK_POOL_CLOSED): a worker that
// read some of the new job's fields while the old ticket still looked open would otherwise claim a
// chunk of the new job under the old generation, run it before it was published and count it as
// done, so the caller could return while that worker still ran the caller's closure (Swift's
// withoutActuallyEscaping check stopped the process: "non-escaping closure has escaped", seen in
// batched decode on a loaded 2-core machine).
#include "ckernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#define MK_POOL_MAX_WORKERS 63
#define MK_POOL_SPIN_NS 40000   // 40 µs: longer than the gaps inside a decode step, short beside a GEMM
#define MK_POOL_CLOSED 0xffffffffu   // the `next chunk` of a generation that hands out no more chunks

static struct {
    atomic_flag busy;                 // held by the one caller using the pool
    _Atomic uint64_t ticket;          // generation << 32 | next unclaimed chunk
    _Atomic(mk_pool_fn) fn;           // the current job
    _Atomic(void *) ctx;
    _Atomic long chunks;
    _Atomic long done;                // chunks of the current job finished
    _Atomic int level;                // the kernel level of the thread that started the job
    _Atomic int sleepers;             // workers blocked on `wake`
    int workers;                      // started so far
    pthread_mutex_t lock;
    pthread_cond_t wake;
} pool = { .busy = ATOMIC_FLAG_INIT, .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// Set while this thread runs a chunk, so a product called from inside a job runs on its own thread
// instead of asking for the pool it is already part of.
static _Thread_local int running_chunk;

int mk_pool_in_job(void) { return running_chunk; }

/// Claims and runs chunks of generation `gen` until none is left or the job has changed.
static void run_chunks(uint32_t gen) {
    mk_pool_fn fn = atomic_load(&pool.fn);
    void *ctx = atomic_load(&pool.ctx);
    long chunks = atomic_load(&pool.chunks);
    int level = atomic_load(&pool.level);
    uint64_t t = atomic_load(&pool.ticket);
    for (;;) {
        if ((uint32_t)(t >> 32) != gen || (long)(t & 0xffffffffu) >= chunks) return;
        if (!atomic_compare_exchange_weak(&pool.ticket, &t, t + 1)) continue;   // t reloaded
        int outer = running_chunk;
        running_chunk = 1;
        int outer_level = mk_isa_override_thread(level);   // the job runs at its caller's kernel level
        fn(ctx, (long)(t & 0xffffffffu));
        mk_isa_override_thread(outer_level);
        running_chunk = outer;
        atomic_fetch_add(&pool.done, 1);
        t = atomic_load(&pool.ticket);
    }
}

static void *worker_main(void *unused) {
    (void)unused;
    uint32_t seen = (uint32_t)(atomic_load(&pool.ticket) >> 32);
    for (;;) {
        uint64_t start = now_ns();
        unsigned spins = 0;
        uint32_t gen;
        while ((gen = (uint32_t)(atomic_load(&pool.ticket) >> 32)) == seen) {
            cpu_relax();
            if (++spins % 256 == 0 && now_ns() - start > MK_POOL_SPIN_NS) {
                pthread_mutex_lock(&pool.lock);
                atomic_fetch_add(&pool.sleepers, 1);
                while ((uint32_t)(atomic_load(&pool.ticket) >> 32) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
                atomic_fetch_sub(&pool.sleepers, 1);
                pthread_mutex_unlock(&pool.lock);
                start = now_ns();
            }
        }
        seen = gen;
        run_chunks(gen);
    }
    return NULL;
}

int mk_pool_run(long chunks, int threads, mk_pool_fn fn, void *ctx) {
    if (chunks <= 0) return 1;
    if (chunks >= (long)MK_POOL_CLOSED) return 0;
    if (atomic_flag_test_and_set(&pool.busy)) return 0;   // another thread has the pool: caller falls back
    int wanted = threads - 1;
    if (wanted > MK_POOL_MAX_WORKERS) wanted = MK_POOL_MAX_WORKERS;
    while (pool.workers < wanted) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attr, worker_main, NULL);
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool.workers++;
    }

    uint32_t old = (uint32_t)(atomic_load(&pool.ticket) >> 32);
    atomic_store(&pool.ticket, (uint64_t)old << 32 | MK_POOL_CLOSED);   // no claim of the old job from here on
    atomic_store(&pool.fn, fn);
    atomic_store(&pool.ctx, ctx);
    atomic_store(&pool.chunks, chunks);
    atomic_store(&pool.done, 0);
    atomic_store(&pool.level, mk_isa_level());
    uint32_t gen = old + 1;
    atomic_store(&pool.ticket, (uint64_t)gen << 32);   // publishes the job
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }

    run_chunks(gen);   // the caller works too
    unsigned spins = 0;
    while (atomic_load(&pool.done) < chunks) {
        cpu_relax();
        if (++spins % 4096 == 0) sched_yield();   // a descheduled worker needs the core back
    }
    atomic_flag_clear(&pool.busy);
    return 1;
}
