/* hugemem.c - transparent huge page advice for large arrays (see hugemem.h). */
#include "hugemem.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE ((uintptr_t)4096)

void hugemem_advise(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    if (!p || bytes < HUGEMEM_MIN)
        return;
    /* Every page the block touches, not only its 2 MiB-aligned middle (the kernel uses huge
     * pages there anyway): a large block is malloc's own mapping, and advice on part of it
     * would split it in two, after which realloc cannot mremap it and copies it instead. */
    uintptr_t lo = (uintptr_t)p & ~(PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + bytes + PAGE - 1) & ~(PAGE - 1);
    (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* advice only: failure is harmless */
#else
    (void)p;
    (void)bytes;
#endif
}

void *hugemem_map(size_t bytes)
{
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    hugemem_advise(p, bytes);
    return p;
}

void hugemem_unmap(void *p, size_t bytes)
{
    if (p)
        (void)munmap(p, bytes ? bytes : 1);
}

void *hugemem_alloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    hugemem_advise(p, bytes);
    return p;
}

void *hugemem_zalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    /* calloc takes a large block fresh from mmap, zero and untouched: the advice still
     * applies to all of it, and pages never written cost nothing */
    void *p = calloc(n ? n : 1, size ? size : 1);
    hugemem_advise(p, n * size);
    return p;
}
