/* hugemem.h - asks the kernel to back a large array with transparent huge pages.
 *
 * The analyzer's big per-node and per-edge arrays are filled once and then read at random
 * (address lookups, graph walks, type lookups), and the .hsd stream's chunk buffers are
 * written whole by every chunk inflated (hence in formats/, the lowest layer that needs it):
 * with 4 KiB pages every first touch costs a page fault (about 3 us each on the benchmark VM:
 * a fifth of the analysis's CPU time at 1M objects) and nearly every random read also misses
 * the TLB. Advising 2 MiB pages before an array is first touched removes most of both
 * (tests/bench/README.md "Huge pages, Adler-32 and CRC-32" has the figures, and why an earlier
 * attempt, a3eae42, was dropped). Advice only: where the kernel lacks transparent huge pages
 * or has them off ("never"), nothing changes.
 */
#ifndef HUGEMEM_H
#define HUGEMEM_H

#include <stddef.h>

/* Below this many bytes an array is not advised (no whole 2 MiB page fits reliably). */
#define HUGEMEM_MIN ((size_t)4 << 20)

/* Advises huge pages for the pages of [p, p + bytes) (a no-op when bytes < HUGEMEM_MIN); the
 * kernel backs their 2 MiB-aligned part with huge pages. Call before that memory is first
 * written; a huge page is resident as a whole once any of it is touched. */
void hugemem_advise(void *p, size_t bytes);

/* malloc(bytes) (at least 1 byte), advised as above. Free with free(). */
void *hugemem_alloc(size_t bytes);

/* calloc(n, size) (at least 1 byte), advised as above (a large block comes from mmap
 * untouched). NULL on overflow. Free with free(). */
void *hugemem_zalloc(size_t n, size_t size);

/* A block of `bytes` (at least 1) zeroed bytes mapped for itself, not by malloc, advised as
 * above; NULL when out of memory. For a large buffer that lives a while and goes away whole:
 * freeing a malloc'd block that large would raise malloc's mmap threshold, after which the
 * process keeps its freed blocks resident. Unmap it with hugemem_unmap(p, bytes). */
void *hugemem_map(size_t bytes);

/* Unmaps a block of hugemem_map (NULL is accepted). */
void hugemem_unmap(void *p, size_t bytes);

#endif
