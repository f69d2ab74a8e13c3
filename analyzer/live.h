/* live.h - Go-faithful liveness: which nodes the GC keeps, and why finalizer objects are
 * pinned.
 *
 * Go's GC (mgcmark.go markroot / markrootSpans) marks from the program roots and, for every
 * object X with a finalizer special, scans X - marks everything X points to, but not X - and
 * marks the finalizer's funcval F. scanobject skips pointers back into the object being
 * scanned, so a self-pointer never marks anything. Per node this gives:
 *
 *   LIVE_IN_USE         reachable from the program roots;
 *   LIVE_PINNED         X with a finalizer, not in use, marked through finalizer roots: the GC
 *                       can never finalize or free it (reason below);
 *   LIVE_PENDING        X with a finalizer, not in use, reached by nothing but its own
 *                       self-pointers: finalized at the next GC;
 *   LIVE_FIN_REACHABLE  not a finalizer object, not in use, marked through finalizer roots
 *                       (kept alive for a finalizer: by a pending one until it runs, forever
 *                       by a pinned one);
 *   LIVE_GARBAGE        marked by nothing.
 *
 * Pin reasons (one per pinned X, in this precedence):
 *   LIVE_PIN_OWN_CLOSURE      X is reachable from its own finalizer's funcval F;
 *   LIVE_PIN_CYCLE            X is reachable from its own referents: a cycle of length >= 2
 *                             through X (a self-pointer alone does not pin);
 *   LIVE_PIN_OTHER_FINALIZER  only another finalizer object's referents or funcval reach X.
 *
 * Inputs, as the heap-model builder produces them:
 *   - program roots: data/bss, stack frames, other roots, goroutine contexts, defer/panic
 *     records and queued finalizers (fn and obj: they are ordinary roots; flag them
 *     GRAPH_ROOT_FINALIZER so paths/dominators can exclude them). Do NOT put finalizer-special
 *     roots here: liveness derives them from the specials.
 *   - specials: one live_special per finalizer record (tag 7): obj = node of X (the slot the
 *     special's address rounds down to), fn = node of the funcval, or GRAPH_NONE when the
 *     funcval is not a heap node (static closure) or unknown.
 * For paths and dominators, append live_special_roots() to the program roots.
 *
 * Cost: a BFS from the program roots over the whole graph; everything after it runs on the
 * subgraph induced by the not-in-use nodes (usually a tiny part of a heap): a BFS from the
 * finalizer roots, an SCC over the finalizer-marked nodes when something is pinned, and for
 * each pinned X not already decided a BFS from its own funcval; those searches share a budget
 * of ~4 (n + m) edge visits, after which undecided X fall back to CYCLE/OTHER and
 * live_reasons_exact() returns 0.
 * Memory: 1 byte (state) + 4 (program BFS tree) per node, plus ~30 bytes per not-in-use node
 * and 12 per edge among them.
 */
#ifndef LIVE_H
#define LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "hs_error.h"
#include "paths.h"

typedef enum live_state { /* 0 is garbage: a zeroed state array marks nothing */
    LIVE_GARBAGE,
    LIVE_IN_USE,
    LIVE_PENDING,
    LIVE_PINNED,
    LIVE_FIN_REACHABLE,
} live_state;
#define LIVE_NSTATES 5

typedef enum live_pin_reason {
    LIVE_PIN_NONE = 0, /* not pinned */
    LIVE_PIN_OWN_CLOSURE = 1,
    LIVE_PIN_CYCLE = 2,
    LIVE_PIN_OTHER_FINALIZER = 3,
} live_pin_reason;

/* One finalizer special: X = obj has a finalizer whose funcval is fn (GRAPH_NONE if none). */
typedef struct live_special {
    uint32_t obj;
    uint32_t fn;
} live_special;

typedef struct live_result live_result;

/* Writes the finalizer-special roots into out (room for 2 * nspecials): for special i, the
 * funcval {fn, kind_fn, GRAPH_ROOT_FINALIZER} when fn != GRAPH_NONE, then the scan of X
 * {obj, kind_obj, GRAPH_ROOT_FINALIZER | GRAPH_ROOT_SCAN}. Returns the count written. */
size_t live_special_roots(const live_special *specials, size_t nspecials, uint32_t kind_fn,
                          uint32_t kind_obj, graph_root *out);

/* Computes liveness (see above). g is borrowed and must outlive the result; roots and specials
 * are copied. HS_ERR_ARG for a node out of range. Free with live_free. */
int live_compute(const graph *g, const graph_root *roots, size_t nroots,
                 const live_special *specials, size_t nspecials, live_result **out,
                 hs_error *err);

/* Frees a result (NULL is accepted). */
void live_free(live_result *r);

/* State of v (LIVE_GARBAGE when out of range). */
live_state live_state_of(const live_result *r, uint32_t v);

/* Pin reason of v (LIVE_PIN_NONE unless v is LIVE_PINNED). */
live_pin_reason live_pin_reason_of(const live_result *r, uint32_t v);

/* 1 when every pin reason was decided exactly (the search budget sufficed). */
int live_reasons_exact(const live_result *r);

/* Node count and total bytes in a state. */
uint32_t live_count(const live_result *r, live_state s);
uint64_t live_bytes(const live_result *r, live_state s);

/* BFS tree from the program roots (root indices refer to the caller's roots array): parent,
 * field and root of every LIVE_IN_USE node. Owned by r. */
const paths_tree *live_program_tree(const live_result *r);

/* Index of the special that keeps v alive: for a pinned X with reason OWN_CLOSURE or CYCLE,
 * X's own special; otherwise the special at the root of v's finalizer-tree path. GRAPH_NONE
 * when v is not PINNED or FIN_REACHABLE. */
uint32_t live_keeper(const live_result *r, uint32_t v);

/* The pinning path of a PINNED x, matching its reason, as steps that start at the holder:
 *   OWN_CLOSURE: (F, GRAPH_NONE) ... (x, field)          F = x's funcval
 *   CYCLE:       (x, GRAPH_NONE), (y, field) ... (x, field)
 *   OTHER:       (F', GRAPH_NONE) ... (x, field)  or  (X', GRAPH_NONE), (y, field) ... (x, f)
 * For a FIN_REACHABLE v, the finalizer-tree path in the same form. *special (may be NULL)
 * receives the index of the holding special. Returns the step count (0 when v is neither)
 * and fills steps only when it is <= cap. A BFS over the finalizer-marked nodes per call,
 * using scratch memory kept in r (hence not const; not thread-safe on one r). */
size_t live_pin_path(live_result *r, uint32_t v, graph_step *steps, size_t cap,
                     uint32_t *special);

#endif
