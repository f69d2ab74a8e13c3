/* hugemem.c - transparent huge page advice for large arrays (see hugemem.h). */
#include "hugemem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

void hugemem_advise(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(HUGE_PAGE - 1);
    if (p && hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* advice only: failure is harmless */
#else
    (void)p;
    (void)bytes;
#endif
}

void *hugemem_alloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (p && bytes >= 2 * HUGE_PAGE)
        hugemem_advise(p, bytes);
    return p;
}

void *hugemem_zalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = hugemem_alloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}
