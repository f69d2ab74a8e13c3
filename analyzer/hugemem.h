/* hugemem.h - asks the kernel to back a large array with transparent huge pages.
 *
 * The analyzer's big per-node and per-edge arrays are read at random (address lookups, graph
 * walks): with 4 KiB pages nearly every access also misses the TLB, and filling them takes a
 * page fault per 4 KiB. Advising 2 MiB pages before the array is first touched removes most
 * of both. Only for arrays that will be filled entirely (a huge page is resident as a whole).
 */
#ifndef HUGEMEM_H
#define HUGEMEM_H

#include <stddef.h>

/* Advises huge pages for the 2 MiB-aligned part of [p, p + bytes) (a no-op for small arrays
 * and where the kernel lacks the feature). Call before the memory is first written. */
void hugemem_advise(void *p, size_t bytes);

/* malloc(bytes), advised huge pages when large. Free with free(). */
void *hugemem_alloc(size_t bytes);

/* calloc(n, size) for arrays that will be written whole: advised, then zeroed. */
void *hugemem_zalloc(size_t n, size_t size);

#endif
