// Large buffers on 2 MiB pages. Debian's kernels (and most distributions') give transparent huge pages only
// to memory that asks for them (transparent_hugepage=madvise), so weights, activations and the KV cache
// came in 4 KiB pages: every 4 KiB a page fault when first written and a TLB miss when streamed.
#include "ckernels.h"
#include <stdlib.h>
#include <stdint.h>
#include <sys/mman.h>

#define MK_HUGE_PAGE ((size_t)2 << 20)

static int huge_pages = 1;

int mk_huge_pages(void) { return huge_pages; }

void mk_set_huge_pages(int on) { huge_pages = on ? 1 : 0; }

void *mk_alloc(size_t bytes) {
    if (bytes == 0) bytes = 1;
    void *p = NULL;
    if (bytes >= 2 * MK_HUGE_PAGE && mk_huge_pages()) {
        if (posix_memalign(&p, MK_HUGE_PAGE, bytes) != 0) return NULL;
        // only the whole huge pages inside the buffer: the tail keeps small pages, so nothing is resident
        // that the caller did not ask for
        madvise(p, bytes & ~(MK_HUGE_PAGE - 1), MADV_HUGEPAGE);
        return p;
    }
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    return p;
}

void mk_free(void *p) { free(p); }
