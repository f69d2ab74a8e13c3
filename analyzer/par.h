/* par.h - a loop over [0, n) split into contiguous parts that run on their own threads.
 *
 * For the model's passes over every edge or node that need no ordering between parts
 * (resolving pointers, laying out CSR arrays). The caller's thread runs the first part. When
 * a thread cannot be started the part runs on the caller's thread instead: the result is the
 * same, only slower.
 */
#ifndef PAR_H
#define PAR_H

#include <stddef.h>

/* Calls fn(ctx, part, lo, hi) for the parts of [0, n), concurrently when n is at least
 * min_split (below that, one call covers everything). part numbers the parts from 0; there
 * are at most PAR_MAX_PARTS, one per online CPU. Returns when every part is done. */
#define PAR_MAX_PARTS 8
void par_for(size_t n, size_t min_split, void (*fn)(void *ctx, unsigned part, size_t lo, size_t hi),
             void *ctx);

#endif
