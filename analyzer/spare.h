/* spare.h - a small pool of dead arrays kept for reuse, so that the next big arrays of the
 * analysis land on pages that are already mapped and touched.
 *
 * Fresh memory costs a page fault per page on first touch. The heap build leaves large arrays
 * behind (the raw edges, the per-object edge starts, the sort's permutations) whose pages were
 * all touched; the next big arrays (the reverse adjacency, the dominator tree) are about as
 * large, so handing them those blocks instead of fresh ones saves the faults.
 *
 * Ownership (the model is zstd's workspace, zstd_cwksp.h):
 *   - A block enters the pool with spare_add. It must come from malloc/realloc, hold
 *     nothing anyone still reads, and its giver stops using it: the pool owns it from then
 *     on (when every slot is taken, spare_add frees it at once).
 *   - A block may be handed out at any time after it entered, and only once: spare_take hands
 *     over the smallest block of at least the bytes asked for, shrunk to that size. The taker
 *     then owns it like any malloc'd block: it must free() it (or pass it on to a function
 *     that takes ownership, such as graph_build_reverse or dom_start), and must not assume
 *     anything about its contents (old data, not zeros).
 *   - spare_release frees every block still in the pool; the owner of the pool calls it once
 *     the big allocations are over (the analysis, after the reverse adjacency) and when it is
 *     freed. A released pool is empty and may be filled again.
 * The pool is not thread-safe: add, take and drop from one thread at a time.
 */
#ifndef SPARE_H
#define SPARE_H

#include <stddef.h>

#define SPARE_SLOTS 5

typedef struct spare_pool {
    void *block[SPARE_SLOTS]; /* owned by the pool; NULL: a free slot */
    size_t bytes[SPARE_SLOTS];
} spare_pool;

/* Gives the malloc'd block p (at least `bytes` long, NULL is accepted) to the pool; frees it
 * when the pool is full. */
void spare_add(spare_pool *pool, void *p, size_t bytes);

/* Hands over the smallest block of at least `bytes`, shrunk to that (the caller owns it),
 * or NULL when none is that large. */
void *spare_take(spare_pool *pool, size_t bytes);

/* Frees every block the pool still holds and empties it (NULL and a zeroed pool are
 * accepted). */
void spare_release(spare_pool *pool);

#endif
