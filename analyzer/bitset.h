/* bitset.h - flat bit arrays over node ids: one bit per node keeps visited sets and masks of
 * millions of nodes small enough to stay in cache, where a byte or a word per node would not.
 * Bit i lives in word i / 64 at position i % 64. Allocate with bitset_new, free with free(). */
#ifndef BITSET_H
#define BITSET_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Words holding n bits (at least one, so that an empty set is still a valid allocation). */
static inline size_t bitset_words(size_t n)
{
    return n / 64 + 1;
}

/* A zeroed set of n bits, or NULL when out of memory. */
static inline uint64_t *bitset_new(size_t n)
{
    return calloc(bitset_words(n), sizeof(uint64_t));
}

/* Bit i (0 or 1). */
static inline int bitset_get(const uint64_t *b, uint32_t i)
{
    return (int)(b[i >> 6] >> (i & 63) & 1);
}

/* Sets bit i. */
static inline void bitset_set(uint64_t *b, uint32_t i)
{
    b[i >> 6] |= 1ull << (i & 63);
}

#endif
