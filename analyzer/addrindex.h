/* addrindex.h - which object contains an address: a rank bitmap over the heap's 8-byte words.
 *
 * Go objects start at 8-byte aligned addresses and span whole words (every size class is a
 * multiple of 8). For such heaps two bits per word answer the question with one cache line:
 * a "start" bit (an object begins at this word) and a "cover" bit (some object spans it). The
 * object containing an address is then the number of starts up to its word, minus one: a
 * per-block count plus a few popcounts. No object array is touched, which is what makes
 * resolving tens of millions of pointers cheap (one random memory access per pointer instead
 * of a binary search over object addresses and sizes).
 *
 * Memory: 64 bytes per 2 KiB of address space between the lowest and the highest object, plus
 * 4 bytes of counts per such block, i.e. 1/31 of the heap's span.
 */
#ifndef ADDRINDEX_H
#define ADDRINDEX_H

#include <stddef.h>
#include <stdint.h>

#define ADDRINDEX_NONE UINT32_MAX

typedef struct addrindex addrindex;

/* Builds the index over n objects sorted by address and not overlapping. Sets *out to NULL
 * (and returns 0) when the heap does not qualify: an object not aligned to 8 bytes or of a
 * size that is 0 or not a multiple of 8, or a span of addresses so sparse that the bitmap
 * would cost more than max_bytes. Returns -1 when out of memory. */
int addrindex_build(const uint64_t *addr, const uint64_t *size, uint32_t n, size_t max_bytes,
                    addrindex **out);

/* Index of the object containing address a, or ADDRINDEX_NONE. */
uint32_t addrindex_find(const addrindex *x, uint64_t a);

/* 1 when an object starts exactly at address a (cheap right after addrindex_find(x, a)). */
int addrindex_is_start(const addrindex *x, uint64_t a);

/* Starts loading the memory addrindex_find(x, a) will read. */
void addrindex_prefetch(const addrindex *x, uint64_t a);

/* Frees the index (NULL is accepted). */
void addrindex_free(addrindex *x);

#endif
