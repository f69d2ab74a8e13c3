/* hs_grow.h - the one array grower of the tree: a flat array's capacity doubles from a first
 * size until it holds what is needed. The tables of formats/ (symbols, types, their codecs),
 * the in-memory sink of hs_io and analyzer/vec.h grow through it. */
#ifndef HS_GROW_H
#define HS_GROW_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The array p (capacity *cap elements of `elem` bytes) with room for `need` elements, the
 * capacity doubling from `first` (at least 1). When out of memory or the size overflows,
 * returns p and *cap unchanged and sets *fail; so several arrays can grow before one check. */
static inline void *hs_grow(void *p, size_t *cap, size_t need, size_t elem, size_t first,
                            int *fail)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : first;
    while (c < need && c <= SIZE_MAX / 2)
        c *= 2;
    void *q = c >= need && c <= SIZE_MAX / elem ? realloc(p, c * elem) : NULL;
    if (!q) {
        *fail = 1;
        return p;
    }
    *cap = c;
    return q;
}

#endif
