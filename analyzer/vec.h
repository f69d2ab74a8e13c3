/* vec.h - growable flat arrays: `VEC_PUSH(arr, len, cap, value)` appends, doubling the
 * allocation; returns 0, or -1 when out of memory (the array is then unchanged). */
#ifndef VEC_H
#define VEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "hs_grow.h"
#include "hugemem.h"

/* Ensures room for `need` elements of `elem` bytes in *arr; returns 0 or -1 on overflow/OOM. */
static inline int vec_reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    int fail = 0;
    size_t old = *cap;
    *arr = hs_grow(*arr, cap, need, elem, 16, &fail);
    if (!fail && *cap > old) /* the whole block (hugemem_advise: part of it would split it) */
        hugemem_advise(*arr, *cap * elem);
    return fail ? -1 : 0;
}

/* Shrinks a malloc'd block to `bytes` (at least 1), keeping the old block when realloc fails:
 * a shrink cannot need the memory it fails for, and large blocks shrink in place. */
static inline void *vec_shrink(void *p, size_t bytes)
{
    void *q = realloc(p, bytes ? bytes : 1);
    return q ? q : p;
}

/* Resizes n parallel arrays (*arrays[i], elements of elem[i] bytes) to cap elements each.
 * Returns 0, or -1 on overflow/OOM; arrays resized before a failure stay valid. */
static inline int vec_resize_parallel(void **const arrays[], const size_t elem[], size_t n,
                                      size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        if (cap > SIZE_MAX / elem[i])
            return -1;
        void *p = realloc(*arrays[i], cap * elem[i] + 1);
        if (!p)
            return -1;
        *arrays[i] = p;
        hugemem_advise(p, cap * elem[i]);
    }
    return 0;
}

#define VEC_PUSH(arr, len, cap, value)                                                      \
    (vec_reserve((void **)&(arr), &(cap), (len) + 1, sizeof *(arr)) < 0                     \
         ? -1                                                                               \
         : ((arr)[(len)++] = (value), 0))

#endif
