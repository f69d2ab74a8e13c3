/* hs_search.h - binary search over sorted arrays of records.
 *
 * The arrays searched across the tree (relocations, symbols, objects, seeds) differ only in
 * where the key sits in a record; these take the array, the record size and the key's offset
 * in a record, so one loop serves them all. Keys are unsigned 32- or 64-bit integers in ascending
 * order.
 */
#ifndef HS_SEARCH_H
#define HS_SEARCH_H

#include <stddef.h>
#include <stdint.h>

/* Key of record i: `width` is 4 or 8 bytes. */
static inline uint64_t hs_search_key(const void *base, size_t stride, size_t off, unsigned width,
                                     size_t i)
{
    const char *p = (const char *)base + i * stride + off;
    return width == 4 ? *(const uint32_t *)(const void *)p : *(const uint64_t *)(const void *)p;
}

/* Index of the first of the n records at base whose key is >= key (upper: > key); n when
 * there is none. stride is the record size, off the key's offset in a record. */
static inline size_t hs_search_bound(const void *base, size_t n, size_t stride, size_t off,
                                     unsigned width, uint64_t key, int upper)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t k = hs_search_key(base, stride, off, width, mid);
        if (k < key || (upper && k == key))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First record with a 64-bit key >= key, or n. */
static inline size_t hs_lower_bound64(const void *base, size_t n, size_t stride, size_t off, uint64_t key)
{
    return hs_search_bound(base, n, stride, off, 8, key, 0);
}

/* First record with a 64-bit key > key, or n. */
static inline size_t hs_upper_bound64(const void *base, size_t n, size_t stride, size_t off, uint64_t key)
{
    return hs_search_bound(base, n, stride, off, 8, key, 1);
}

/* First record with a 32-bit key >= key, or n. */
static inline size_t hs_lower_bound32(const void *base, size_t n, size_t stride, size_t off, uint32_t key)
{
    return hs_search_bound(base, n, stride, off, 4, key, 0);
}

#endif
